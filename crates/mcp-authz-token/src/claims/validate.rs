//! The pure checks of a JWT access token's claims (RFC 9068 §4, OAuth 2.1 §5.2, REQUIREMENTS RS-3,
//! RS-4): issuer, audience and validity window. Signature verification happens before, elsewhere.

use std::time::Duration;

use mcp_authz_metadata::{Issuer, ResourceUri};

use super::{JwtAccessTokenClaims, NumericDate};

/// The clock skew tolerated by default: 60 seconds.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);

/// What a resource server expects of every token it accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimsExpectations {
    /// The authorization server's issuer, compared with `iss` as an exact string.
    pub issuer: Issuer,
    /// This server's canonical resource URI, which `aud` must contain.
    pub audience: ResourceUri,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`.
    pub leeway: Duration,
}

impl ClaimsExpectations {
    /// Expectations with the [`DEFAULT_LEEWAY`].
    pub fn new(issuer: Issuer, audience: ResourceUri) -> Self {
        Self {
            issuer,
            audience,
            leeway: DEFAULT_LEEWAY,
        }
    }

    /// Sets the leeway (default [`DEFAULT_LEEWAY`]).
    #[must_use]
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }
}

/// Why a JWT access token's claims were refused. Every variant means `invalid_token` (HTTP 401) at a
/// resource server (RFC 6750 §3.1, REQUIREMENTS RS-3, RS-4).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimsError {
    /// The claims set is not JSON, or lacks or mistypes a required claim.
    #[error("malformed claims: {0}")]
    Malformed(String),
    /// `iss` is not the expected issuer.
    #[error("the token was issued by {found:?}, not {expected:?}")]
    IssuerMismatch {
        /// The expected issuer.
        expected: String,
        /// The token's `iss`.
        found: String,
    },
    /// `aud` does not contain this resource.
    #[error("the token's audience does not include {expected:?}")]
    AudienceMismatch {
        /// This resource's canonical URI.
        expected: String,
    },
    /// `exp` (plus leeway) is not after `now`.
    #[error("the token expired at {exp} (now {now})")]
    Expired {
        /// The token's `exp`.
        exp: NumericDate,
        /// The time of the check.
        now: NumericDate,
    },
    /// `nbf` (minus leeway) is after `now`.
    #[error("the token is not valid before {nbf} (now {now})")]
    NotYetValid {
        /// The token's `nbf`.
        nbf: NumericDate,
        /// The time of the check.
        now: NumericDate,
    },
    /// `iat` (minus leeway) is after `now`.
    #[error("the token claims to be issued at {iat}, in the future (now {now})")]
    IssuedInFuture {
        /// The token's `iat`.
        iat: NumericDate,
        /// The time of the check.
        now: NumericDate,
    },
}

pub(super) fn validate(
    claims: &JwtAccessTokenClaims,
    expected: &ClaimsExpectations,
    now: NumericDate,
) -> Result<(), ClaimsError> {
    if claims.iss.as_str() != expected.issuer.as_str() {
        return Err(ClaimsError::IssuerMismatch {
            expected: expected.issuer.as_str().to_owned(),
            found: claims.iss.as_str().to_owned(),
        });
    }
    if !claims.aud.contains_resource(&expected.audience) {
        return Err(ClaimsError::AudienceMismatch {
            expected: expected.audience.as_str().to_owned(),
        });
    }
    // RFC 7519 §4.1.4: the current time MUST be before exp.
    if now >= claims.exp.saturating_add(expected.leeway) {
        return Err(ClaimsError::Expired {
            exp: claims.exp,
            now,
        });
    }
    if let Some(nbf) = claims.nbf
        && now < nbf.saturating_sub(expected.leeway)
    {
        return Err(ClaimsError::NotYetValid { nbf, now });
    }
    if now < claims.iat.saturating_sub(expected.leeway) {
        return Err(ClaimsError::IssuedInFuture {
            iat: claims.iat,
            now,
        });
    }
    Ok(())
}

impl ClaimsError {
    /// The resource server's answer: `invalid_token` (401) with this error as the description.
    pub fn challenge(&self) -> crate::BearerChallenge {
        crate::BearerError::InvalidToken.challenge(self.to_string())
    }
}
