//! Public JSON Web Keys ([RFC 7517]): EC P-256 and P-384 ([RFC 7518 §6.2]), RSA ([RFC 7518 §6.3])
//! and OKP Ed25519 ([RFC 8037 §2]).
//!
//! [RFC 7517]: https://www.rfc-editor.org/rfc/rfc7517
//! [RFC 7518 §6.2]: https://www.rfc-editor.org/rfc/rfc7518#section-6.2
//! [RFC 7518 §6.3]: https://www.rfc-editor.org/rfc/rfc7518#section-6.3
//! [RFC 8037 §2]: https://www.rfc-editor.org/rfc/rfc8037#section-2

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::algorithm::{JwsAlgorithm, UnsupportedAlgorithm};

/// Members that carry private or secret key material (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2):
/// refused in a public key.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// The key material of a public [`Jwk`]: its `kty`, `crv` and coordinates, decoded and checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JwkKey {
    /// `kty` `EC`, `crv` `P-256` (RFC 7518 §6.2.1): the affine coordinates, 32 bytes each.
    P256 {
        /// `x`.
        x: [u8; 32],
        /// `y`.
        y: [u8; 32],
    },
    /// `kty` `EC`, `crv` `P-384` (RFC 7518 §6.2.1): the affine coordinates, 48 bytes each.
    P384 {
        /// `x`.
        x: [u8; 48],
        /// `y`.
        y: [u8; 48],
    },
    /// `kty` `RSA` (RFC 7518 §6.3.1): modulus and exponent, big-endian without leading zero octets.
    Rsa {
        /// `n`.
        n: Vec<u8>,
        /// `e`.
        e: Vec<u8>,
    },
    /// `kty` `OKP`, `crv` `Ed25519` (RFC 8037 §2): the 32-byte public key.
    Ed25519 {
        /// `x`.
        x: [u8; 32],
    },
}

impl JwkKey {
    /// Whether a key of this type may verify signatures of `alg`.
    pub fn fits(&self, alg: JwsAlgorithm) -> bool {
        matches!(
            (self, alg),
            (Self::P256 { .. }, JwsAlgorithm::Es256)
                | (Self::P384 { .. }, JwsAlgorithm::Es384)
                | (Self::Rsa { .. }, JwsAlgorithm::Rs256 | JwsAlgorithm::Ps256)
                | (Self::Ed25519 { .. }, JwsAlgorithm::EdDsa)
        )
    }

    fn describe(&self) -> &'static str {
        match self {
            Self::P256 { .. } => "EC P-256",
            Self::P384 { .. } => "EC P-384",
            Self::Rsa { .. } => "RSA",
            Self::Ed25519 { .. } => "OKP Ed25519",
        }
    }
}

/// The `use` member (RFC 7517 §4.2): an open registry, so unknown values are kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyUse {
    /// `sig`: signatures.
    Signature,
    /// `enc`: encryption.
    Encryption,
    /// Any other (non-empty) value, kept as it was.
    Other(String),
}

impl KeyUse {
    /// The member's value.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Signature => "sig",
            Self::Encryption => "enc",
            Self::Other(other) => other,
        }
    }

    fn parse(value: String) -> Result<Self, JwkError> {
        match value.as_str() {
            "sig" => Ok(Self::Signature),
            "enc" => Ok(Self::Encryption),
            "" => Err(JwkError::EmptyMember("use")),
            _ => Ok(Self::Other(value)),
        }
    }
}

/// Why a JSON value is not a usable public [`Jwk`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwkError {
    /// Not a JSON object, or a member of the wrong JSON type (every member read here is a string).
    #[error("not a JWK: a JSON object with string members is expected")]
    Syntax,
    /// `kty` names a key type not supported here (`oct` symmetric keys among them).
    #[error("unsupported key type {0:?}")]
    UnsupportedKeyType(String),
    /// `crv` names a curve not supported for the key type.
    #[error("unsupported curve {0:?}")]
    UnsupportedCurve(String),
    /// A member required by the key type is absent.
    #[error("the {0} member is missing")]
    MissingMember(&'static str),
    /// A member not defined for the key type is present (`y` on an OKP key, `crv` on RSA).
    #[error("the {0} member is not defined for this key type")]
    UnexpectedMember(&'static str),
    /// A member that must not be empty is.
    #[error("the {0} member is empty")]
    EmptyMember(&'static str),
    /// A member is not unpadded base64url (RFC 7515 §2).
    #[error("the {0} member is not base64url")]
    NotBase64Url(&'static str),
    /// A coordinate does not have the curve's size (RFC 7518 §6.2.1.2, RFC 8037 §2).
    #[error("the {member} member has {actual} bytes, expected {expected}")]
    WrongLength {
        /// The member.
        member: &'static str,
        /// Its decoded size.
        actual: usize,
        /// The size the curve requires.
        expected: usize,
    },
    /// A private or secret key member (`d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`, `k`) is present: a
    /// public key never carries one.
    #[error("the private key member {0:?} is present in a public key")]
    PrivateMember(&'static str),
    /// `alg` names an algorithm not supported here.
    #[error(transparent)]
    UnsupportedAlgorithm(#[from] UnsupportedAlgorithm),
    /// `use` is not `sig`: the key does not verify signatures.
    #[error("the key's use is not sig")]
    NotASignatureKey,
    /// An RSA modulus outside 2048..=8192 bits.
    #[error("unsupported RSA key size: {bits} bits")]
    UnsupportedKeySize {
        /// The modulus size.
        bits: usize,
    },
    /// `alg` names an algorithm the key type cannot verify (`EdDSA` on an EC key).
    #[error("alg {alg} does not fit a {key} key")]
    AlgorithmMismatch {
        /// The `alg` member.
        alg: JwsAlgorithm,
        /// The key type.
        key: &'static str,
    },
}

/// A public JSON Web Key (RFC 7517 §4): the key material ([`JwkKey`]), `kid`, `use`, `alg`, and every
/// other member (`key_ops`, `x5c`, extensions) preserved as it was. Checked at parse: supported
/// `kty`/`crv`, unpadded base64url, coordinate sizes, `alg` supported and fitting the key, and no
/// private member.
///
/// ```
/// use mcp_authz_token::{Jwk, JwkError, JwkKey, JwsAlgorithm};
/// // RFC 8037 Appendix A.2.
/// let jwk = Jwk::from_json(br#"{"kty":"OKP","crv":"Ed25519",
///     "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#)?;
/// assert!(matches!(jwk.key(), JwkKey::Ed25519 { .. }));
/// assert!(jwk.fits(JwsAlgorithm::EdDsa));
/// // The private key is refused.
/// assert_eq!(
///     Jwk::from_json(br#"{"kty":"OKP","crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
///         "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#),
///     Err(JwkError::PrivateMember("d")),
/// );
/// # Ok::<(), JwkError>(())
/// ```
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "RawJwk", into = "RawJwk")]
pub struct Jwk {
    key: JwkKey,
    kid: Option<String>,
    key_use: Option<KeyUse>,
    alg: Option<JwsAlgorithm>,
    extra: BTreeMap<String, serde_json::Value>,
}

impl fmt::Debug for Jwk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Jwk")
            .field("key", &self.key.describe())
            .field("kid", &self.kid)
            .field("use", &self.key_use)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl Jwk {
    /// A JWK of `key` with no other member.
    pub fn new(key: JwkKey) -> Self {
        Self {
            key,
            kid: None,
            key_use: None,
            alg: None,
            extra: BTreeMap::new(),
        }
    }

    /// Sets `kid`.
    #[must_use]
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// Sets `use`.
    #[must_use]
    pub fn with_use(mut self, key_use: KeyUse) -> Self {
        self.key_use = Some(key_use);
        self
    }

    /// Sets `alg`; refused when the key type cannot verify it.
    pub fn with_alg(mut self, alg: JwsAlgorithm) -> Result<Self, JwkError> {
        check_fits(&self.key, alg)?;
        self.alg = Some(alg);
        Ok(self)
    }

    /// Parses one JWK from JSON.
    pub fn from_json(json: &[u8]) -> Result<Self, JwkError> {
        let raw: RawJwk = serde_json::from_slice(json).map_err(|_| JwkError::Syntax)?;
        Self::try_from(raw)
    }

    /// Renders the JWK as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The key material.
    pub fn key(&self) -> &JwkKey {
        &self.key
    }

    /// `kid`.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// `use`.
    pub fn key_use(&self) -> Option<&KeyUse> {
        self.key_use.as_ref()
    }

    /// `alg`.
    pub fn alg(&self) -> Option<JwsAlgorithm> {
        self.alg
    }

    /// Every other member, as it was.
    pub fn extra(&self) -> &BTreeMap<String, serde_json::Value> {
        &self.extra
    }

    /// Whether this key may verify JWS signatures of `alg`: the key type fits it, `alg` (if present)
    /// names it, and `use` (if present) is `sig`.
    pub fn fits(&self, alg: JwsAlgorithm) -> bool {
        self.key.fits(alg)
            && self.alg.is_none_or(|a| a == alg)
            && self
                .key_use
                .as_ref()
                .is_none_or(|u| *u == KeyUse::Signature)
    }
}

fn check_fits(key: &JwkKey, alg: JwsAlgorithm) -> Result<(), JwkError> {
    if key.fits(alg) {
        Ok(())
    } else {
        Err(JwkError::AlgorithmMismatch {
            alg,
            key: key.describe(),
        })
    }
}

/// The JSON shape of a JWK; [`Jwk`] is its checked form.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct RawJwk {
    kty: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    crv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    n: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    e: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    x: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    y: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kid: Option<String>,
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    key_use: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    alg: Option<String>,
    #[serde(flatten)]
    extra: BTreeMap<String, serde_json::Value>,
}

fn decode(member: &'static str, value: Option<String>) -> Result<Vec<u8>, JwkError> {
    let value = value.ok_or(JwkError::MissingMember(member))?;
    URL_SAFE_NO_PAD
        .decode(value)
        .map_err(|_| JwkError::NotBase64Url(member))
}

fn fixed<const N: usize>(member: &'static str, value: Option<String>) -> Result<[u8; N], JwkError> {
    let bytes = decode(member, value)?;
    let actual = bytes.len();
    bytes.try_into().map_err(|_| JwkError::WrongLength {
        member,
        actual,
        expected: N,
    })
}

/// An RSA integer: leading zero octets (which RFC 7518 §6.3.1.1 forbids but some servers send) are
/// dropped; nothing may remain empty.
fn integer(member: &'static str, value: Option<String>) -> Result<Vec<u8>, JwkError> {
    let bytes = decode(member, value)?;
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    let trimmed = bytes.get(first..).unwrap_or_default().to_vec();
    if trimmed.is_empty() {
        return Err(JwkError::EmptyMember(member));
    }
    Ok(trimmed)
}

fn absent(member: &'static str, value: Option<&String>) -> Result<(), JwkError> {
    value.map_or(Ok(()), |_| Err(JwkError::UnexpectedMember(member)))
}

impl TryFrom<RawJwk> for Jwk {
    type Error = JwkError;

    fn try_from(raw: RawJwk) -> Result<Self, JwkError> {
        let key = match (raw.kty.as_str(), raw.crv.as_deref()) {
            ("EC" | "OKP", None) => return Err(JwkError::MissingMember("crv")),
            ("EC", Some(crv)) if crv != "P-256" && crv != "P-384" => {
                return Err(JwkError::UnsupportedCurve(crv.chars().take(32).collect()));
            }
            ("OKP", Some(crv)) if crv != "Ed25519" => {
                return Err(JwkError::UnsupportedCurve(crv.chars().take(32).collect()));
            }
            ("EC" | "OKP" | "RSA", _) => {
                if let Some(private) = PRIVATE_MEMBERS
                    .into_iter()
                    .find(|m| raw.extra.contains_key(*m))
                {
                    return Err(JwkError::PrivateMember(private));
                }
                match (raw.kty.as_str(), raw.crv.as_deref()) {
                    ("EC", Some("P-256")) => {
                        absent("n", raw.n.as_ref())?;
                        absent("e", raw.e.as_ref())?;
                        JwkKey::P256 {
                            x: fixed("x", raw.x)?,
                            y: fixed("y", raw.y)?,
                        }
                    }
                    ("EC", _) => {
                        absent("n", raw.n.as_ref())?;
                        absent("e", raw.e.as_ref())?;
                        JwkKey::P384 {
                            x: fixed("x", raw.x)?,
                            y: fixed("y", raw.y)?,
                        }
                    }
                    ("OKP", _) => {
                        absent("y", raw.y.as_ref())?;
                        absent("n", raw.n.as_ref())?;
                        absent("e", raw.e.as_ref())?;
                        JwkKey::Ed25519 {
                            x: fixed("x", raw.x)?,
                        }
                    }
                    _ => {
                        absent("crv", raw.crv.as_ref())?;
                        absent("x", raw.x.as_ref())?;
                        absent("y", raw.y.as_ref())?;
                        JwkKey::Rsa {
                            n: integer("n", raw.n)?,
                            e: integer("e", raw.e)?,
                        }
                    }
                }
            }
            (kty, _) => return Err(JwkError::UnsupportedKeyType(kty.chars().take(32).collect())),
        };
        let alg = match raw.alg {
            Some(alg) => {
                let alg = JwsAlgorithm::parse(&alg)?;
                check_fits(&key, alg)?;
                Some(alg)
            }
            None => None,
        };
        Ok(Self {
            key,
            kid: raw.kid,
            key_use: raw.key_use.map(KeyUse::parse).transpose()?,
            alg,
            extra: raw.extra,
        })
    }
}

impl From<Jwk> for RawJwk {
    fn from(jwk: Jwk) -> Self {
        let b64 = |bytes: &[u8]| Some(URL_SAFE_NO_PAD.encode(bytes));
        let (kty, crv, n, e, x, y) = match &jwk.key {
            JwkKey::P256 { x, y } => ("EC", Some("P-256"), None, None, b64(x), b64(y)),
            JwkKey::P384 { x, y } => ("EC", Some("P-384"), None, None, b64(x), b64(y)),
            JwkKey::Rsa { n, e } => ("RSA", None, b64(n), b64(e), None, None),
            JwkKey::Ed25519 { x } => ("OKP", Some("Ed25519"), None, None, b64(x), None),
        };
        Self {
            kty: kty.to_owned(),
            crv: crv.map(str::to_owned),
            n,
            e,
            x,
            y,
            kid: jwk.kid,
            key_use: jwk.key_use.map(|u| u.as_str().to_owned()),
            alg: jwk.alg.map(|a| a.as_str().to_owned()),
            extra: jwk.extra,
        }
    }
}
