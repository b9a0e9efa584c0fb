//! A second opinion after verification: has the authorization server revoked this token since it
//! was issued? (REQUIREMENTS SEC-16.)

use std::future::Future;
use std::pin::Pin;

use crate::VerifiedClaims;

/// The future a [`RevocationCheck`] returns.
pub type RevocationFuture<'a> =
    Pin<Box<dyn Future<Output = Result<bool, RevocationUnavailable>> + Send + 'a>>;

/// Asks whether a token that verified (signature, issuer, audience, expiry) has been revoked since.
///
/// A self-contained JWT stays valid until it expires; a resource server that shares state with its
/// authorization server (the same process, the same store) can refuse revoked tokens at once by
/// consulting that state here. Install one with
/// [`ResourceServer::with_revocation_check`](crate::ResourceServer::with_revocation_check); it runs
/// on every request, after the verifier and before the scope check, so it must be cheap (an
/// in-process lookup, not an HTTP call: a separate resource server uses
/// [`IntrospectionVerifier`](crate::IntrospectionVerifier) or short token lifetimes instead).
///
/// ```
/// use mcp_authz_resource::{RevocationCheck, RevocationFuture, VerifiedClaims};
///
/// /// Refuses the tokens whose `jti` is on a list.
/// struct DenyList(Vec<String>);
///
/// impl RevocationCheck for DenyList {
///     fn is_revoked<'a>(&'a self, claims: &'a VerifiedClaims) -> RevocationFuture<'a> {
///         let revoked = claims.token_id().is_some_and(|jti| self.0.iter().any(|d| d == jti));
///         Box::pin(async move { Ok(revoked) })
///     }
/// }
/// ```
pub trait RevocationCheck: Send + Sync + 'static {
    /// `Ok(true)` when the token must be refused (401 `invalid_token`), `Ok(false)` when it stands,
    /// `Err` when the answer cannot be had now (503 with `Retry-After`; never accepted).
    fn is_revoked<'a>(&'a self, claims: &'a VerifiedClaims) -> RevocationFuture<'a>;
}

/// The revocation state could not be read (e.g. the store is down): the request gets 503.
#[derive(Debug, thiserror::Error)]
#[error("the revocation state cannot be read now: {source}")]
pub struct RevocationUnavailable {
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl RevocationUnavailable {
    /// Wraps the underlying failure.
    pub fn new(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self {
            source: source.into(),
        }
    }
}
