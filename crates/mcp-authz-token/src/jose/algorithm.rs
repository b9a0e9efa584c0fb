//! JWS algorithms ([RFC 7518 §3.1], [RFC 8037 §3.1]).
//!
//! [RFC 7518 §3.1]: https://www.rfc-editor.org/rfc/rfc7518#section-3.1
//! [RFC 8037 §3.1]: https://www.rfc-editor.org/rfc/rfc8037#section-3.1

use std::fmt;
use std::str::FromStr;

/// A JWS algorithm this workspace signs or verifies with: the asymmetric algorithms of the IANA
/// "JSON Web Signature and Encryption Algorithms" registry that a JWKS can publish a key for. `none`
/// and the HMAC algorithms are not representable: a public key from a JWKS is never an HMAC secret.
///
/// The registry is open, but an algorithm outside this set is refused at parse
/// ([`UnsupportedAlgorithm`], which keeps the name) rather than kept: nothing here can verify with it,
/// and a key or token naming it is unusable. The authorization server signs with
/// [`Es256`](Self::Es256) (the default) or [`EdDsa`](Self::EdDsa); the resource server verifies
/// every one.
///
/// ```
/// use mcp_authz_token::JwsAlgorithm;
/// assert_eq!(JwsAlgorithm::default(), JwsAlgorithm::Es256);
/// assert_eq!("EdDSA".parse::<JwsAlgorithm>()?, JwsAlgorithm::EdDsa);
/// assert_eq!(JwsAlgorithm::EdDsa.as_str(), "EdDSA");
/// assert!("HS256".parse::<JwsAlgorithm>().is_err());
/// assert!("none".parse::<JwsAlgorithm>().is_err());
/// # Ok::<(), mcp_authz_token::UnsupportedAlgorithm>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum JwsAlgorithm {
    /// ECDSA on P-256 with SHA-256 (`ES256`, RFC 7518 §3.4): the default.
    #[default]
    Es256,
    /// ECDSA on P-384 with SHA-384 (`ES384`, RFC 7518 §3.4).
    Es384,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (`RS256`, RFC 7518 §3.3).
    Rs256,
    /// RSASSA-PSS with SHA-256 (`PS256`, RFC 7518 §3.5).
    Ps256,
    /// EdDSA with Ed25519 (`EdDSA`, RFC 8037 §3.1): small keys, deterministic signatures.
    EdDsa,
}

/// A JWS algorithm name that is not one of [`JwsAlgorithm`]'s (at most its first 32 characters).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported signing algorithm {0:?}: expected ES256, ES384, RS256, PS256 or EdDSA")]
pub struct UnsupportedAlgorithm(String);

impl UnsupportedAlgorithm {
    /// The refused name (at most its first 32 characters).
    pub fn name(&self) -> &str {
        &self.0
    }
}

impl JwsAlgorithm {
    /// Every algorithm: the resource server's default allow-list.
    pub const ALL: [Self; 5] = [
        Self::Es256,
        Self::Es384,
        Self::Rs256,
        Self::Ps256,
        Self::EdDsa,
    ];

    /// The JOSE name (`ES256`, `EdDSA`, ...), as in the JWS header and the JWK's `alg`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
            Self::Rs256 => "RS256",
            Self::Ps256 => "PS256",
            Self::EdDsa => "EdDSA",
        }
    }

    /// Parses a JOSE algorithm name (case-sensitive, RFC 7515 §4.1.1).
    pub fn parse(name: &str) -> Result<Self, UnsupportedAlgorithm> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == name)
            .ok_or_else(|| UnsupportedAlgorithm(name.chars().take(32).collect()))
    }
}

impl fmt::Display for JwsAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JwsAlgorithm {
    type Err = UnsupportedAlgorithm;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl serde::Serialize for JwsAlgorithm {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for JwsAlgorithm {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&name).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_are_case_sensitive_jose_names() {
        for alg in JwsAlgorithm::ALL {
            assert_eq!(JwsAlgorithm::parse(alg.as_str()).unwrap(), alg);
            assert_eq!(alg.to_string(), alg.as_str());
        }
        assert!(JwsAlgorithm::parse("eddsa").is_err());
        assert!(JwsAlgorithm::parse("none").is_err());
        assert_eq!(
            JwsAlgorithm::parse(&"X".repeat(100))
                .unwrap_err()
                .name()
                .len(),
            32
        );
    }

    proptest::proptest! {
        /// Any name is an algorithm or an error, never a panic; an accepted name renders back exactly.
        #[test]
        fn any_name_parses_or_errs(name in "\\PC{0,40}|ES256|ES384|RS256|PS256|EdDSA") {
            if let Ok(alg) = JwsAlgorithm::parse(&name) {
                proptest::prop_assert_eq!(alg.as_str(), name.as_str());
            }
        }
    }
}
