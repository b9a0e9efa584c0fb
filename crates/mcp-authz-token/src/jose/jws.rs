//! JWS compact serialization ([RFC 7515 §7.1]) and signature verification with `ring`.
//!
//! [RFC 7515 §7.1]: https://www.rfc-editor.org/rfc/rfc7515#section-7.1

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P384_SHA384_FIXED, ED25519, RSA_PKCS1_2048_8192_SHA256,
    RSA_PSS_2048_8192_SHA256, RsaPublicKeyComponents, UnparsedPublicKey,
};

use super::algorithm::{JwsAlgorithm, UnsupportedAlgorithm};
use super::jwk::{Jwk, JwkError, JwkKey, KeyUse};

/// Why a JWS is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwsError {
    /// Not three base64url segments, or a header that is not a JSON object with a string `alg`.
    #[error("not a JWS compact serialization")]
    Malformed,
    /// The header has `crit`: no header extension is understood here (RFC 7515 §4.1.11).
    #[error("the JWS header has critical extensions")]
    CriticalHeader,
    /// The header's `alg` is not supported (`none`, HMAC, unknown).
    #[error(transparent)]
    UnsupportedAlgorithm(#[from] UnsupportedAlgorithm),
    /// The key cannot verify the header's `alg` (another key type, or a JWK `alg` naming another).
    #[error("the key cannot verify {0} signatures")]
    KeyMismatch(JwsAlgorithm),
    /// The signature does not verify.
    #[error("the JWS signature is invalid")]
    BadSignature,
}

/// The JOSE header of a JWS (RFC 7515 §4): `alg`, `kid`, `typ`. Other members are ignored, except
/// `crit`, which is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwsHeader {
    alg: Result<JwsAlgorithm, UnsupportedAlgorithm>,
    kid: Option<String>,
    typ: Option<String>,
}

#[derive(serde::Deserialize)]
struct RawHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    crit: Option<serde::de::IgnoredAny>,
}

impl JwsHeader {
    /// `alg`, or the unsupported name it holds.
    pub fn alg(&self) -> Result<JwsAlgorithm, UnsupportedAlgorithm> {
        self.alg.clone()
    }

    /// `kid`.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// `typ`.
    pub fn typ(&self) -> Option<&str> {
        self.typ.as_deref()
    }
}

/// A JWS in compact serialization, split and decoded but not verified: read the header, pick a
/// key, then [`VerifyingKey::verify`] it before trusting [`payload`](Self::payload).
///
/// ```
/// use mcp_authz_token::{CompactJws, Jwk, JwsAlgorithm, VerifyingKey};
/// // RFC 8037 Appendix A.4.
/// let jws = CompactJws::parse("eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.\
///     hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg")?;
/// assert_eq!(jws.header().alg(), Ok(JwsAlgorithm::EdDsa));
/// let jwk = Jwk::from_json(br#"{"kty":"OKP","crv":"Ed25519",
///     "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#)?;
/// let key = VerifyingKey::from_jwk(&jwk)?;
/// key.verify(&jws)?;
/// assert_eq!(jws.payload(), b"Example of Ed25519 signing");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct CompactJws<'a> {
    header: JwsHeader,
    signing_input: &'a str,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

impl<'a> CompactJws<'a> {
    /// Splits `jws` into its three segments and decodes them; the header must be a JSON object with a
    /// string `alg` and no `crit`.
    pub fn parse(jws: &'a str) -> Result<Self, JwsError> {
        let (signing_input, signature) = jws.rsplit_once('.').ok_or(JwsError::Malformed)?;
        let (header, payload) = signing_input.split_once('.').ok_or(JwsError::Malformed)?;
        let decode = |segment: &str| {
            URL_SAFE_NO_PAD
                .decode(segment)
                .map_err(|_| JwsError::Malformed)
        };
        let raw: RawHeader =
            serde_json::from_slice(&decode(header)?).map_err(|_| JwsError::Malformed)?;
        if raw.crit.is_some() {
            return Err(JwsError::CriticalHeader);
        }
        Ok(Self {
            header: JwsHeader {
                alg: JwsAlgorithm::parse(&raw.alg),
                kid: raw.kid,
                typ: raw.typ,
            },
            signing_input,
            // A '.' in the payload segment is not base64url: three segments exactly.
            payload: decode(payload)?,
            signature: decode(signature)?,
        })
    }

    /// The JOSE header.
    pub fn header(&self) -> &JwsHeader {
        &self.header
    }

    /// The decoded payload: not to be trusted before [`VerifyingKey::verify`] succeeded.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }
}

/// The parsed public key of one [`Jwk`], ready to verify signatures; build it once per key (when
/// the JWK Set is loaded), not per token.
#[derive(Clone)]
pub struct VerifyingKey {
    kid: Option<String>,
    alg: Option<JwsAlgorithm>,
    key: Parsed,
}

#[derive(Clone)]
enum Parsed {
    P256(UnparsedPublicKey<Vec<u8>>),
    P384(UnparsedPublicKey<Vec<u8>>),
    Rsa(RsaPublicKeyComponents<Vec<u8>>),
    Ed25519(UnparsedPublicKey<[u8; 32]>),
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.key {
            Parsed::P256(_) => "P-256",
            Parsed::P384(_) => "P-384",
            Parsed::Rsa(_) => "RSA",
            Parsed::Ed25519(_) => "Ed25519",
        };
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("key", &kind)
            .finish()
    }
}

/// The RSA modulus sizes `ring` verifies: 2048 to 8192 bits.
const RSA_BITS: std::ops::RangeInclusive<usize> = 2048..=8192;

fn uncompressed(x: &[u8], y: &[u8]) -> Vec<u8> {
    let mut point = Vec::with_capacity(1 + x.len() + y.len());
    point.push(0x04);
    point.extend_from_slice(x);
    point.extend_from_slice(y);
    point
}

impl VerifyingKey {
    /// The verification key of `jwk`; refused when its `use` is not `sig` or an RSA modulus is
    /// outside 2048..=8192 bits.
    pub fn from_jwk(jwk: &Jwk) -> Result<Self, JwkError> {
        if jwk
            .key_use()
            .is_some_and(|key_use| *key_use != KeyUse::Signature)
        {
            return Err(JwkError::NotASignatureKey);
        }
        let key = match jwk.key() {
            JwkKey::P256 { x, y } => Parsed::P256(UnparsedPublicKey::new(
                &ECDSA_P256_SHA256_FIXED,
                uncompressed(x, y),
            )),
            JwkKey::P384 { x, y } => Parsed::P384(UnparsedPublicKey::new(
                &ECDSA_P384_SHA384_FIXED,
                uncompressed(x, y),
            )),
            JwkKey::Rsa { n, e } => {
                let bits = (n.len() * 8)
                    .saturating_sub(n.first().map_or(0, |b| b.leading_zeros() as usize));
                if !RSA_BITS.contains(&bits) {
                    return Err(JwkError::UnsupportedKeySize { bits });
                }
                Parsed::Rsa(RsaPublicKeyComponents {
                    n: n.clone(),
                    e: e.clone(),
                })
            }
            JwkKey::Ed25519 { x } => Parsed::Ed25519(UnparsedPublicKey::new(&ED25519, *x)),
        };
        Ok(Self {
            kid: jwk.kid().map(str::to_owned),
            alg: jwk.alg(),
            key,
        })
    }

    /// The JWK's `kid`.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The JWK's `alg`: the only algorithm the key verifies, when present.
    pub fn alg(&self) -> Option<JwsAlgorithm> {
        self.alg
    }

    /// Whether the key may verify signatures of `alg`: its type fits it and its JWK's `alg`, if any,
    /// names it (no algorithm confusion).
    pub fn fits(&self, alg: JwsAlgorithm) -> bool {
        let kind = matches!(
            (&self.key, alg),
            (Parsed::P256(_), JwsAlgorithm::Es256)
                | (Parsed::P384(_), JwsAlgorithm::Es384)
                | (Parsed::Rsa(_), JwsAlgorithm::Rs256 | JwsAlgorithm::Ps256)
                | (Parsed::Ed25519(_), JwsAlgorithm::EdDsa)
        );
        kind && self.alg.is_none_or(|a| a == alg)
    }

    /// Verifies the signature of `jws` with this key, for the header's `alg` (which the key must
    /// [fit](Self::fits)). Pure: no clock, no claims; read the payload afterwards.
    pub fn verify(&self, jws: &CompactJws<'_>) -> Result<(), JwsError> {
        let alg = jws.header.alg()?;
        if !self.fits(alg) {
            return Err(JwsError::KeyMismatch(alg));
        }
        let message = jws.signing_input.as_bytes();
        let signature = jws.signature.as_slice();
        let verified = match (&self.key, alg) {
            (Parsed::P256(key) | Parsed::P384(key), _) => key.verify(message, signature),
            (Parsed::Ed25519(key), _) => key.verify(message, signature),
            (Parsed::Rsa(key), JwsAlgorithm::Ps256) => {
                key.verify(&RSA_PSS_2048_8192_SHA256, message, signature)
            }
            (Parsed::Rsa(key), _) => key.verify(&RSA_PKCS1_2048_8192_SHA256, message, signature),
        };
        verified.map_err(|_| JwsError::BadSignature)
    }
}
