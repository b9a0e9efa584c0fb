//! Why an admin command (`clients`, `users`, `keys`, `tokens`) failed.

/// Why an admin command failed. One line each.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AdminError {
    /// No client with this id.
    #[error("unknown client {0}")]
    UnknownClient(String),
    /// No user with this name.
    #[error("unknown user {0}")]
    UnknownUser(String),
    /// The client id exists already.
    #[error("client {0} exists already")]
    ClientExists(String),
    /// The username exists already.
    #[error("user {0} exists already")]
    UserExists(String),
    /// The password was refused or could not be read.
    #[error("password: {0}")]
    Password(String),
    /// Signing key generation or storage failed.
    #[error("signing key: {0}")]
    Key(#[from] mcp_authz_server::KeyError),
}
