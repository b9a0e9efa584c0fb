//! The code verifier ([RFC 7636 §4.1]).
//!
//! [RFC 7636 §4.1]: https://www.rfc-editor.org/rfc/rfc7636#section-4.1

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::{CodeChallenge, PkceError};

/// Shortest verifier RFC 7636 §4.1 allows.
pub const MIN_VERIFIER_LEN: usize = 43;
/// Longest verifier RFC 7636 §4.1 allows.
pub const MAX_VERIFIER_LEN: usize = 128;

/// A PKCE code verifier: 43..=128 characters of `[A-Za-z0-9-._~]`.
///
/// A secret for the length of one authorization attempt: `Debug` is redacted, there is no `Display`
/// and no `Clone` (a verifier is used for exactly one token request). Read it with [`CodeVerifier::secret`].
pub struct CodeVerifier(String);

impl CodeVerifier {
    /// A fresh verifier with 256 bits of entropy from the operating system's CSPRNG (REQUIREMENTS PK-1):
    /// 32 random bytes, base64url-encoded without padding, 43 characters.
    ///
    /// Fails only if the operating system cannot supply randomness.
    pub fn generate() -> Result<Self, PkceError> {
        let mut entropy = [0u8; 32];
        getrandom::fill(&mut entropy).map_err(|_| PkceError::RandomnessUnavailable)?;
        Ok(Self::from_entropy(&entropy))
    }

    /// The verifier for the given 32 bytes of entropy (base64url, no padding).
    ///
    /// For deterministic tests and for callers with their own CSPRNG; production code should use
    /// [`CodeVerifier::generate`].
    pub fn from_entropy(entropy: &[u8; 32]) -> Self {
        Self(URL_SAFE_NO_PAD.encode(entropy))
    }

    /// Parses a verifier received on the wire, e.g. the `code_verifier` of a token request.
    ///
    /// ```
    /// use mcp_authz_pkce::{CodeVerifier, PkceError};
    /// assert!(CodeVerifier::parse("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").is_ok());
    /// assert_eq!(CodeVerifier::parse("too-short").err(), Some(PkceError::VerifierLength(9)));
    /// ```
    pub fn parse(s: &str) -> Result<Self, PkceError> {
        if !(MIN_VERIFIER_LEN..=MAX_VERIFIER_LEN).contains(&s.len()) {
            return Err(PkceError::VerifierLength(s.len()));
        }
        if let Some(at) = s.bytes().position(|b| !is_unreserved(b)) {
            return Err(PkceError::VerifierCharset(at));
        }
        Ok(Self(s.to_owned()))
    }

    /// The verifier's characters, for the `code_verifier` parameter of a token request.
    pub fn secret(&self) -> &str {
        &self.0
    }

    /// The S256 challenge of this verifier (REQUIREMENTS PK-2).
    pub fn challenge(&self) -> CodeChallenge {
        CodeChallenge::s256_of(self)
    }
}

impl fmt::Debug for CodeVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CodeVerifier(<redacted>)")
    }
}

/// `unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~"` (RFC 3986 §2.3, RFC 7636 §4.1).
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}
