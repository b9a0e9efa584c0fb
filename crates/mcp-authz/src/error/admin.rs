//! Why an admin command (`clients`, `users`, `keys`, `tokens`, `grants`, `consents`) failed.

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
    /// No grant with this id (or already revoked).
    #[error("no active grant {0}")]
    UnknownGrant(String),
    /// No consent of this user for this client.
    #[error("user {user} has no remembered consent for client {client}")]
    UnknownConsent {
        /// The user as given.
        user: String,
        /// The client id.
        client: String,
    },
    /// The password was refused or could not be read.
    #[error("password: {0}")]
    Password(String),
    /// Provisioning a confidential client failed otherwise.
    #[error("client: {0}")]
    Client(mcp_authz_server::ProvisionError),
    /// Setting a password failed (hashing, or the store).
    #[error("password: {0}")]
    SetPassword(#[from] mcp_authz_server::SetPasswordError),
    /// Signing key generation or storage failed.
    #[error("signing key: {0}")]
    Key(#[from] mcp_authz_server::KeyError),
}

impl From<mcp_authz_server::ProvisionError> for AdminError {
    fn from(e: mcp_authz_server::ProvisionError) -> Self {
        use mcp_authz_server::ProvisionError as P;
        match e {
            P::AlreadyRegistered { client_id } => Self::ClientExists(client_id.as_str().to_owned()),
            P::NotRegistered { client_id } => Self::UnknownClient(client_id.as_str().to_owned()),
            e => Self::Client(e),
        }
    }
}
