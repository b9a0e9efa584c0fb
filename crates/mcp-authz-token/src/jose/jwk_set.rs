//! JWK Sets ([RFC 7517 §5]).
//!
//! [RFC 7517 §5]: https://www.rfc-editor.org/rfc/rfc7517#section-5

use std::collections::BTreeMap;

use super::jwk::{Jwk, JwkError, RawJwk};

/// Why a document is not a public JWK Set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwkSetError {
    /// Not a JSON object with a `keys` array.
    #[error("not a JWK Set: a JSON object with a keys array is expected")]
    Syntax,
    /// A key carries private key material: the set is refused as a whole, since whoever published
    /// it has leaked the key.
    #[error("key {index} of the JWK Set is a private key ({member:?} member)")]
    PrivateKey {
        /// The key's position in `keys`.
        index: usize,
        /// The private member.
        member: &'static str,
    },
}

/// A public JWK Set (RFC 7517 §5): `keys` and every other member preserved.
///
/// Parsing follows RFC 7517 §5: a key of an unsupported type or curve, or with a malformed or missing
/// member, is skipped (counted in [`skipped`](Self::skipped)) so that any standards-compliant set
/// works; a key carrying a private member (`d`, ...) refuses the whole set.
///
/// ```
/// use mcp_authz_token::{JwkSet, JwsAlgorithm};
/// let set = JwkSet::from_json(br#"{"keys":[
///     {"kty":"oct","k":"c2VjcmV0"},
///     {"kty":"OKP","crv":"Ed25519","kid":"k1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
/// ]}"#)?;
/// assert_eq!(set.keys().len(), 1);
/// assert_eq!(set.skipped(), 1);
/// assert!(set.find("k1").is_some_and(|k| k.fits(JwsAlgorithm::EdDsa)));
/// # Ok::<(), mcp_authz_token::JwkSetError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JwkSet {
    keys: Vec<Jwk>,
    skipped: usize,
    extra: BTreeMap<String, serde_json::Value>,
}

#[derive(serde::Deserialize)]
struct RawSet<K> {
    keys: Vec<K>,
    #[serde(flatten)]
    extra: BTreeMap<String, serde_json::Value>,
}

impl JwkSet {
    /// A set of `keys`.
    pub fn new(keys: Vec<Jwk>) -> Self {
        Self {
            keys,
            skipped: 0,
            extra: BTreeMap::new(),
        }
    }

    /// Parses a JWK Set from JSON (see the type's documentation for what is skipped and refused).
    pub fn from_json(json: &[u8]) -> Result<Self, JwkSetError> {
        let raw: RawSet<serde_json::Value> =
            serde_json::from_slice(json).map_err(|_| JwkSetError::Syntax)?;
        Self::from_raw(raw)
    }

    fn from_raw(raw: RawSet<serde_json::Value>) -> Result<Self, JwkSetError> {
        let mut keys = Vec::with_capacity(raw.keys.len());
        let mut skipped = 0;
        for (index, value) in raw.keys.into_iter().enumerate() {
            let parsed = serde_json::from_value::<RawJwk>(value)
                .map_err(|_| JwkError::Syntax)
                .and_then(Jwk::try_from);
            match parsed {
                Ok(jwk) => keys.push(jwk),
                Err(JwkError::PrivateMember(member)) => {
                    return Err(JwkSetError::PrivateKey { index, member });
                }
                Err(_) => skipped += 1,
            }
        }
        Ok(Self {
            keys,
            skipped,
            extra: raw.extra,
        })
    }

    /// Renders the set as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The usable keys, in document order.
    pub fn keys(&self) -> &[Jwk] {
        &self.keys
    }

    /// How many entries of the parsed document were skipped as unusable (0 for a built set).
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// Every member other than `keys`, as it was.
    pub fn extra(&self) -> &BTreeMap<String, serde_json::Value> {
        &self.extra
    }

    /// The key with this `kid`, if any (the first, should the set repeat it).
    pub fn find(&self, kid: &str) -> Option<&Jwk> {
        self.keys.iter().find(|k| k.kid() == Some(kid))
    }
}

impl FromIterator<Jwk> for JwkSet {
    fn from_iter<I: IntoIterator<Item = Jwk>>(iter: I) -> Self {
        Self::new(iter.into_iter().collect())
    }
}

impl serde::Serialize for JwkSet {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            keys: &'a [Jwk],
            #[serde(flatten)]
            extra: &'a BTreeMap<String, serde_json::Value>,
        }
        Out {
            keys: &self.keys,
            extra: &self.extra,
        }
        .serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for JwkSet {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = RawSet::<serde_json::Value>::deserialize(deserializer)?;
        Self::from_raw(raw).map_err(serde::de::Error::custom)
    }
}
