//! `private_key_jwt` client authentication ([RFC 7523 §2.2], OpenID Connect Core §9): the claims of a
//! client assertion, and the signer the application supplies (this crate holds no keys and no JOSE
//! implementation).
//!
//! [RFC 7523 §2.2]: https://www.rfc-editor.org/rfc/rfc7523#section-2.2

use serde::Serialize;

/// The claims of a client assertion JWT: `iss` = `sub` = the client id, `aud` = the authorization
/// server's issuer, a short lifetime and a unique `jti`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClientAssertionClaims {
    /// The client id.
    pub iss: String,
    /// The client id.
    pub sub: String,
    /// The authorization server's issuer identifier.
    pub aud: String,
    /// Issued at, seconds since the Unix epoch.
    pub iat: u64,
    /// Expiry (`iat` + 300 s).
    pub exp: u64,
    /// A unique identifier (256 random bits).
    pub jti: String,
}

/// Signs client assertions (`private_key_jwt`). When one is configured, every token request
/// authenticates with a fresh assertion instead of a client secret.
pub trait ClientAssertionSigner: Send + Sync {
    /// The compact JWS of `claims`.
    fn sign(
        &self,
        claims: &ClientAssertionClaims,
    ) -> Result<String, Box<dyn std::error::Error + Send + Sync>>;
}
