//! `code_challenge_method` values ([RFC 7636 §4.3]).
//!
//! [RFC 7636 §4.3]: https://www.rfc-editor.org/rfc/rfc7636#section-4.3

use std::fmt;
use std::str::FromStr;

use crate::PkceError;

/// A `code_challenge_method` as it appears on the wire.
///
/// Every value parses, so that a server can tell `plain` apart from garbage in its error; only
/// [`CodeChallengeMethod::S256`] is ever accepted ([`CodeChallengeMethod::require_s256`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CodeChallengeMethod {
    /// `S256`: `BASE64URL-NOPAD(SHA256(ascii(code_verifier)))`.
    S256,
    /// `plain`: the verifier itself. Parsed so it can be refused precisely; never produced by this crate.
    Plain,
    /// Any other value, kept verbatim.
    Unknown(String),
}

impl CodeChallengeMethod {
    /// The wire form.
    pub fn as_str(&self) -> &str {
        match self {
            Self::S256 => "S256",
            Self::Plain => "plain",
            Self::Unknown(other) => other,
        }
    }

    /// `Ok` for `S256`, [`PkceError::UnsupportedMethod`] for anything else (REQUIREMENTS PK-3).
    ///
    /// ```
    /// use mcp_authz_pkce::CodeChallengeMethod;
    /// assert!("S256".parse::<CodeChallengeMethod>().unwrap().require_s256().is_ok());
    /// assert!("plain".parse::<CodeChallengeMethod>().unwrap().require_s256().is_err());
    /// ```
    pub fn require_s256(&self) -> Result<(), PkceError> {
        match self {
            Self::S256 => Ok(()),
            other => Err(PkceError::UnsupportedMethod(other.as_str().to_owned())),
        }
    }
}

impl FromStr for CodeChallengeMethod {
    type Err = std::convert::Infallible;

    /// Method names are case-sensitive (RFC 7636 §4.3 defines `S256` and `plain` exactly).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "S256" => Self::S256,
            "plain" => Self::Plain,
            other => Self::Unknown(other.to_owned()),
        })
    }
}

impl fmt::Display for CodeChallengeMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for CodeChallengeMethod {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for CodeChallengeMethod {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Ok(match s.parse() {
            Ok(method) => method,
            Err(never) => match never {},
        })
    }
}
