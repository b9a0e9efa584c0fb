//! Token validation policies behind one trait: JWT access tokens against a JWKS, and opaque tokens through
//! introspection (REQUIREMENTS RS-3, RS-4, RS-10).

mod discovery;
mod introspection;
mod jwks;
mod jwt;
mod misconfiguration;
mod revocation;

pub use introspection::{
    DEFAULT_MAX_CACHE_TTL, DEFAULT_RETRY_AFTER, IntrospectionVerifier, IntrospectionVerifierBuilder,
};
pub use jwt::{
    DEFAULT_JWKS_MAX_AGE, DEFAULT_JWKS_STALE_GRACE, DEFAULT_REFETCH_INTERVAL, JwtVerifier,
    JwtVerifierBuilder, SigningAlgorithm,
};
pub use misconfiguration::{CheckError, Misconfiguration};
pub use revocation::{RevocationCheck, RevocationFuture, RevocationUnavailable};

use std::future::Future;
use std::time::Duration;

use mcp_authz_token::{AccessToken, ClaimsError};

use crate::{FetchError, VerifiedClaims};

/// Largest JWKS or metadata document read: 64 KiB.
pub const DEFAULT_MAX_DOCUMENT_SIZE: usize = 64 * 1024;
/// Default number of verified tokens cached: 10 000.
pub const DEFAULT_CACHE_CAPACITY: usize = 10_000;

/// Decides whether an access token is valid for this resource and what it grants. The plumbing
/// ([`ResourceServer`](crate::ResourceServer), [`RequireBearer`](crate::RequireBearer)) takes the token
/// out of the request and turns the outcome into a response; the policy lives here.
pub trait TokenVerifier: Send + Sync + 'static {
    /// Validates `token`: `Ok` with its claims, `Err(InvalidToken)` for a token that must be refused
    /// (401), `Err(Unavailable)` when the verifier cannot decide (503), `Err(Misconfigured)` when
    /// what it fetched contradicts its configuration (500).
    fn verify(
        &self,
        token: &AccessToken,
    ) -> impl Future<Output = Result<VerifiedClaims, VerifyError>> + Send;

    /// Checks the configuration against the authorization server now, at startup: fetches what the
    /// verifier needs (metadata, JWKS, introspection endpoint) and fails with the cause, so a wrong
    /// issuer or an unreachable server stops the program instead of refusing every token later.
    /// The default has nothing to check.
    fn check(&self) -> impl Future<Output = Result<(), CheckError>> + Send {
        std::future::ready(Ok(()))
    }
}

/// Why a token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The token is invalid: 401 `invalid_token`.
    #[error(transparent)]
    InvalidToken(#[from] InvalidToken),
    /// The verifier could not reach what it needs (JWKS, introspection) and has nothing cached that
    /// decides: 503 with `Retry-After`.
    #[error("the token cannot be checked now (retry after {retry_after:?}): {source}")]
    Unavailable {
        /// When to try again.
        retry_after: Duration,
        /// The failed fetch.
        source: FetchError,
    },
    /// What the verifier fetched contradicts its configuration (a wrong issuer, metadata without
    /// `jwks_uri`, ...): 500 without `Retry-After`, since retrying cannot help until it is fixed.
    #[error(transparent)]
    Misconfigured(#[from] Misconfiguration),
}

impl VerifyError {
    /// The verdict on a failed fetch: an outage is retryable after `retry_after`, a configuration
    /// error is not.
    pub(crate) fn from_source(error: misconfiguration::SourceError, retry_after: Duration) -> Self {
        match error {
            misconfiguration::SourceError::Fetch(source) => Self::Unavailable {
                retry_after,
                source,
            },
            misconfiguration::SourceError::Misconfigured(e) => Self::Misconfigured(e),
        }
    }
}

/// Why a token is invalid (each is `invalid_token`, REQUIREMENTS RS-3, RS-4).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidToken {
    /// Not a JWS compact serialisation, or an unreadable header or payload.
    #[error("the token is not a well-formed JWT")]
    Malformed,
    /// The JOSE header `typ` is not `at+jwt` (RFC 9068 §4).
    #[error("the token's typ is not at+jwt")]
    WrongType,
    /// The `alg` is not on the allow-list (`none`, HMAC, or an algorithm not configured).
    #[error("the token's signing algorithm {0} is not accepted")]
    AlgorithmNotAllowed(String),
    /// No key of the authorization server's JWKS matches the token's `kid` and `alg`.
    #[error("no key of the authorization server matches the token")]
    UnknownKey,
    /// The signature does not verify.
    #[error("the token's signature is invalid")]
    BadSignature,
    /// `iss`, `aud`, `exp`, `nbf` or `iat` failed (RFC 9068 §4).
    #[error(transparent)]
    Claims(#[from] ClaimsError),
    /// The introspection endpoint says the token is not active.
    #[error("the token is not active")]
    Inactive,
    /// The authorization server revoked the token (or its grant, or removed its client) after it was
    /// issued, as a [`RevocationCheck`] reported (REQUIREMENTS SEC-16).
    #[error("the token has been revoked")]
    Revoked,
    /// The introspection response lacks `aud`, so the audience cannot be checked (REQUIREMENTS RS-4).
    #[error("the introspection response names no audience")]
    MissingAudience,
}
