//! The S256 code challenge ([RFC 7636 §4.2]) and its verification ([RFC 7636 §4.6]).
//!
//! [RFC 7636 §4.2]: https://www.rfc-editor.org/rfc/rfc7636#section-4.2
//! [RFC 7636 §4.6]: https://www.rfc-editor.org/rfc/rfc7636#section-4.6

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{CodeChallengeMethod, CodeVerifier, PkceError};

/// Length of a base64url-encoded (no padding) SHA-256 digest.
const S256_CHALLENGE_LEN: usize = 43;

/// An S256 code challenge: the SHA-256 digest of a verifier, base64url-encoded without padding.
///
/// Kept as the 32-byte digest, so that verification compares digests, in constant time. Parsing accepts
/// only the canonical 43-character encoding (trailing bits zero), so `parse(s).to_string() == s`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CodeChallenge([u8; 32]);

impl CodeChallenge {
    /// `BASE64URL-NOPAD(SHA256(ascii(verifier)))` (REQUIREMENTS PK-2).
    pub fn s256_of(verifier: &CodeVerifier) -> Self {
        Self(Sha256::digest(verifier.secret().as_bytes()).into())
    }

    /// Parses the `code_challenge` of an authorization request together with its
    /// `code_challenge_method`; anything but `S256` is refused (REQUIREMENTS PK-3). An absent method means
    /// `plain` (RFC 7636 §4.3) and is refused too.
    ///
    /// ```
    /// use mcp_authz_pkce::{CodeChallenge, CodeChallengeMethod, PkceError};
    /// let s256 = CodeChallengeMethod::S256;
    /// assert!(CodeChallenge::parse_with_method("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", Some(&s256)).is_ok());
    /// assert_eq!(
    ///     CodeChallenge::parse_with_method("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", None).err(),
    ///     Some(PkceError::UnsupportedMethod("plain".into())),
    /// );
    /// ```
    pub fn parse_with_method(
        challenge: &str,
        method: Option<&CodeChallengeMethod>,
    ) -> Result<Self, PkceError> {
        method
            .unwrap_or(&CodeChallengeMethod::Plain)
            .require_s256()?;
        challenge.parse()
    }

    /// Checks a presented verifier against this challenge in constant time (REQUIREMENTS PK-4).
    pub fn verify(&self, verifier: &CodeVerifier) -> Result<(), PkceError> {
        let presented = Self::s256_of(verifier);
        if bool::from(self.0.ct_eq(&presented.0)) {
            Ok(())
        } else {
            Err(PkceError::Mismatch)
        }
    }

    /// The method of every challenge this type holds: `S256`.
    pub fn method(&self) -> CodeChallengeMethod {
        CodeChallengeMethod::S256
    }

    /// The raw SHA-256 digest.
    pub fn digest(&self) -> &[u8; 32] {
        &self.0
    }
}

impl FromStr for CodeChallenge {
    type Err = PkceError;

    /// Parses the 43-character base64url form of an S256 challenge.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != S256_CHALLENGE_LEN {
            return Err(PkceError::MalformedChallenge);
        }
        let mut digest = [0u8; 33];
        // The base64 engine rejects non-canonical trailing bits, so the encoding round-trips exactly.
        match URL_SAFE_NO_PAD.decode_slice(s, &mut digest) {
            Ok(32) => {
                let mut exact = [0u8; 32];
                exact.copy_from_slice(digest.get(..32).ok_or(PkceError::MalformedChallenge)?);
                Ok(Self(exact))
            }
            _ => Err(PkceError::MalformedChallenge),
        }
    }
}

impl fmt::Display for CodeChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&URL_SAFE_NO_PAD.encode(self.0))
    }
}

impl fmt::Debug for CodeChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CodeChallenge({self})")
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for CodeChallenge {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for CodeChallenge {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}
