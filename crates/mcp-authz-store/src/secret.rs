//! How secrets are stored: tokens and codes as SHA-256 digests, client secrets and passwords as PHC
//! strings, private keys as opaque redacted bytes. The store never sees a token or code in clear.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Why a stored secret representation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretFormatError {
    /// Not 64 hex digits (a [`SecretHash`]).
    #[error("a secret hash is 64 hex digits")]
    MalformedHash,
    /// Not a PHC string: empty, too long, not starting with `$`, or with a character outside visible ASCII.
    #[error("not a PHC string ($id$... of at most 512 visible ASCII characters)")]
    MalformedPhc,
}

/// The SHA-256 digest of a high-entropy token or code: how authorization codes and refresh tokens are
/// stored and looked up (REQUIREMENTS AS-7, AS-8, SEC-5).
///
/// Lookups by digest are safe with ordinary indexes because the preimage has ≥ 128 bits of entropy;
/// comparisons of two digests are nevertheless constant-time. `Display` is lower-case hex, the form a
/// SQL backend may store in a text column (or store [`as_bytes`](Self::as_bytes) in a binary one).
///
/// ```
/// use mcp_authz_store::SecretHash;
/// let hash = SecretHash::of(b"abc");
/// assert_eq!(hash.to_string(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
/// assert_eq!(hash.to_string().parse::<SecretHash>(), Ok(hash));
/// ```
#[derive(Clone, Copy)]
pub struct SecretHash([u8; 32]);

impl SecretHash {
    /// The SHA-256 digest of `secret` (the token or code as sent on the wire).
    pub fn of(secret: impl AsRef<[u8]>) -> Self {
        Self(Sha256::digest(secret.as_ref()).into())
    }

    /// A digest computed elsewhere (for example read back from a binary column).
    pub const fn from_bytes(digest: [u8; 32]) -> Self {
        Self(digest)
    }

    /// The raw digest.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl PartialEq for SecretHash {
    fn eq(&self, other: &Self) -> bool {
        bool::from(self.0.ct_eq(&other.0))
    }
}

impl Eq for SecretHash {}

impl std::hash::Hash for SecretHash {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl fmt::Display for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for SecretHash {
    /// Shows the first 8 hex digits only: enough to correlate log lines, not a full lookup key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = self.0.get(..4).unwrap_or_default();
        f.write_str("SecretHash(")?;
        prefix.iter().try_for_each(|b| write!(f, "{b:02x}"))?;
        f.write_str("…)")
    }
}

impl std::str::FromStr for SecretHash {
    type Err = SecretFormatError;

    /// Parses 64 hex digits (either case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = s.as_bytes();
        if bytes.len() != 64 {
            return Err(SecretFormatError::MalformedHash);
        }
        let mut digest = [0u8; 32];
        for (out, pair) in digest.iter_mut().zip(bytes.chunks_exact(2)) {
            let hex = std::str::from_utf8(pair).map_err(|_| SecretFormatError::MalformedHash)?;
            *out = u8::from_str_radix(hex, 16).map_err(|_| SecretFormatError::MalformedHash)?;
        }
        Ok(Self(digest))
    }
}

/// A password or client-secret hash in PHC string format (`$argon2id$v=19$m=…$salt$hash`), produced by
/// the server's password hasher and stored opaquely (REQUIREMENTS AS-13: secrets stored hashed).
///
/// Not a secret in the strict sense, but it enables offline guessing: redacted `Debug`, no `Display`,
/// constant-time equality, explicit [`secret`](Self::secret) accessor.
#[derive(Clone)]
pub struct SecretHashString(String);

impl SecretHashString {
    /// The longest accepted PHC string, in bytes.
    pub const MAX_LEN: usize = 512;

    /// Accepts a PHC string: starts with `$`, at most 512 bytes of visible ASCII. Its algorithm and
    /// parameters are the hasher's business, not the store's.
    ///
    /// ```
    /// use mcp_authz_store::SecretHashString;
    /// assert!(SecretHashString::parse("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA").is_ok());
    /// assert!(SecretHashString::parse("hunter2").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Self, SecretFormatError> {
        let valid = s.starts_with('$')
            && s.len() > 1
            && s.len() <= Self::MAX_LEN
            && s.bytes().all(|b| matches!(b, 0x21..=0x7E));
        if valid {
            Ok(Self(s.to_owned()))
        } else {
            Err(SecretFormatError::MalformedPhc)
        }
    }

    /// The PHC string, for the password hasher's `verify` and for writing to storage.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl PartialEq for SecretHashString {
    fn eq(&self, other: &Self) -> bool {
        bool::from(self.0.as_bytes().ct_eq(other.0.as_bytes()))
    }
}

impl Eq for SecretHashString {}

impl fmt::Debug for SecretHashString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHashString(<redacted>)")
    }
}

/// A signing key's private material (PKCS#8 DER or PEM, as the token crate produces it), stored opaquely.
///
/// Redacted `Debug`, no `Display`, constant-time equality, explicit [`secret`](Self::secret) accessor.
/// A SQL backend stores it in a binary column; encrypting it at rest is the backend's or the deployment's
/// choice.
#[derive(Clone)]
pub struct PrivateKeyMaterial(Vec<u8>);

impl PrivateKeyMaterial {
    /// Wraps key bytes.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    /// The key bytes.
    pub fn secret(&self) -> &[u8] {
        &self.0
    }
}

impl PartialEq for PrivateKeyMaterial {
    fn eq(&self, other: &Self) -> bool {
        bool::from(self.0.as_slice().ct_eq(other.0.as_slice()))
    }
}

impl Eq for PrivateKeyMaterial {}

impl fmt::Debug for PrivateKeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKeyMaterial(<{} bytes redacted>)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secrets() {
        let phc = SecretHashString::parse("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA").unwrap();
        assert_eq!(format!("{phc:?}"), "SecretHashString(<redacted>)");
        let key = PrivateKeyMaterial::new(b"-----BEGIN PRIVATE KEY-----".to_vec());
        assert!(!format!("{key:?}").contains("PRIVATE"));
        let hash = SecretHash::of(b"abc");
        assert_eq!(format!("{hash:?}"), "SecretHash(ba7816bf…)");
    }

    #[test]
    fn hash_parse_refuses_bad_input() {
        assert_eq!(
            "ab".parse::<SecretHash>(),
            Err(SecretFormatError::MalformedHash)
        );
        let not_hex = "g".repeat(64);
        assert_eq!(
            not_hex.parse::<SecretHash>(),
            Err(SecretFormatError::MalformedHash)
        );
        let multibyte = "é".repeat(32);
        assert_eq!(
            multibyte.parse::<SecretHash>(),
            Err(SecretFormatError::MalformedHash)
        );
        let upper = SecretHash::of(b"x").to_string().to_ascii_uppercase();
        assert_eq!(upper.parse::<SecretHash>(), Ok(SecretHash::of(b"x")));
    }

    #[test]
    fn phc_refuses_non_phc() {
        assert!(SecretHashString::parse("$").is_err());
        assert!(SecretHashString::parse("$a b").is_err());
        assert!(SecretHashString::parse(&format!("${}", "a".repeat(512))).is_err());
    }

    #[test]
    fn equality_compares_content() {
        assert_eq!(SecretHash::of(b"a"), SecretHash::of(b"a"));
        assert_ne!(SecretHash::of(b"a"), SecretHash::of(b"b"));
        assert_ne!(
            PrivateKeyMaterial::new(vec![1]),
            PrivateKeyMaterial::new(vec![1, 2])
        );
    }

    proptest::proptest! {
        #[test]
        fn hex_round_trips(bytes in proptest::array::uniform32(proptest::num::u8::ANY)) {
            let hash = SecretHash::from_bytes(bytes);
            proptest::prop_assert_eq!(hash.to_string().parse::<SecretHash>(), Ok(hash));
        }

        #[test]
        fn hash_parse_never_panics(s in "\\PC{0,70}") {
            let _ = s.parse::<SecretHash>();
            let _ = SecretHashString::parse(&s);
        }
    }
}
