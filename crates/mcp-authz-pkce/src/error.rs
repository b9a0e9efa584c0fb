//! Errors of the PKCE crate.

/// Why a PKCE value was refused.
///
/// An authorization server maps every variant to `invalid_request` on the authorization endpoint and to
/// `invalid_grant` on the token endpoint (OAuth 2.1 §4.1.3, REQUIREMENTS PK-4).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PkceError {
    /// A code verifier shorter than 43 or longer than 128 characters (RFC 7636 §4.1).
    #[error("code verifier must be 43 to 128 characters long, got {0} bytes")]
    VerifierLength(usize),
    /// A code verifier with a character outside `[A-Za-z0-9-._~]` (RFC 7636 §4.1).
    #[error("code verifier contains a character outside [A-Za-z0-9-._~] at byte {0}")]
    VerifierCharset(usize),
    /// A code challenge that is not the 43-character base64url (no padding) form of a SHA-256 digest.
    #[error(
        "code challenge is not a base64url-encoded SHA-256 digest (43 characters of [A-Za-z0-9-_])"
    )]
    MalformedChallenge,
    /// A `code_challenge_method` other than `S256`; `plain` is refused (REQUIREMENTS PK-3).
    #[error("code challenge method {0:?} is not supported: only S256 is allowed")]
    UnsupportedMethod(String),
    /// The presented verifier does not hash to the stored challenge.
    #[error("code verifier does not match the code challenge")]
    Mismatch,
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator is unavailable")]
    RandomnessUnavailable,
}
