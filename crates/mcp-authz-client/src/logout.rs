//! What logging out of a server did.

use crate::ClientError;

/// The outcome of [`OAuthClient::logout`](crate::OAuthClient::logout).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Logout {
    /// A grant was stored for the server and is now forgotten.
    pub forgot_grant: bool,
    /// How many tokens the authorization server's revocation endpoint accepted (RFC 7009): 0 when
    /// it advertises none or nothing was stored.
    pub revoked: usize,
    /// Why revocation at the server failed, if it did; the grant is forgotten locally anyway.
    pub revocation_error: Option<ClientError>,
}
