//! Signing algorithms and their keys: generation, PKCS#8 PEM storage, public JWKs and JWS signatures
//! (ES256: RFC 7518 §3.4; EdDSA with Ed25519: RFC 8037).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mcp_authz_store::{KeyAlgorithm, KeyId, KeyState, NumericDate, PrivateKeyMaterial, SigningKey};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding, SecretDocument};
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, Signature,
};

use crate::keys::KeyError;

/// The PEM label of a PKCS#8 private key (RFC 7468 §10).
const PKCS8_PEM_LABEL: &str = "PRIVATE KEY";

/// The JWS algorithm of the server's signing keys. Only asymmetric algorithms: the JWKS publishes
/// every verification key.
///
/// ```
/// use mcp_authz_server::SigningAlgorithm;
/// assert_eq!(SigningAlgorithm::default(), SigningAlgorithm::Es256);
/// assert_eq!("EdDSA".parse::<SigningAlgorithm>().unwrap(), SigningAlgorithm::EdDsa);
/// assert_eq!(SigningAlgorithm::EdDsa.as_str(), "EdDSA");
/// assert!("HS256".parse::<SigningAlgorithm>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SigningAlgorithm {
    /// ECDSA on P-256 with SHA-256 (`ES256`, RFC 7518 §3.4): the default, the one algorithm every
    /// RFC 9068 resource server must support.
    #[default]
    Es256,
    /// EdDSA with Ed25519 (`EdDSA`, RFC 8037): smaller keys, deterministic signatures.
    EdDsa,
}

/// A JWS algorithm name that is not one of [`SigningAlgorithm`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported signing algorithm {0:?}: expected ES256 or EdDSA")]
pub struct UnsupportedAlgorithm(String);

impl SigningAlgorithm {
    /// Every supported algorithm.
    pub const ALL: [Self; 2] = [Self::Es256, Self::EdDsa];

    /// The JOSE name (`ES256`, `EdDSA`), as in the JWT header and the JWK's `alg`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
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

    /// The `jsonwebtoken` algorithm (for verification).
    pub(crate) fn jose(self) -> jsonwebtoken::Algorithm {
        match self {
            Self::Es256 => jsonwebtoken::Algorithm::ES256,
            Self::EdDsa => jsonwebtoken::Algorithm::EdDSA,
        }
    }

    /// The stored algorithm name.
    fn key_algorithm(self) -> Result<KeyAlgorithm, KeyError> {
        KeyAlgorithm::parse(self.as_str()).map_err(|e| KeyError::Crypto(e.to_string()))
    }
}

impl std::fmt::Display for SigningAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for SigningAlgorithm {
    type Err = UnsupportedAlgorithm;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// A stored private key, parsed for signing. ES256 signs with ring's constant-time assembly P-256
/// (several times faster than a pure-Rust implementation: the token endpoint's throughput is bounded
/// by it); Ed25519 with ring too.
pub(crate) enum Signer {
    Es256(EcdsaKeyPair),
    EdDsa(Ed25519KeyPair),
}

impl Signer {
    /// Parses the PKCS#8 PEM private key of a stored key of algorithm `algorithm`.
    pub(crate) fn load(algorithm: SigningAlgorithm, pem: &[u8]) -> Result<Self, KeyError> {
        let crypto = |e: &dyn std::fmt::Display| KeyError::Crypto(e.to_string());
        let pem = std::str::from_utf8(pem).map_err(|e| crypto(&e))?;
        match algorithm {
            SigningAlgorithm::Es256 => {
                let secret = p256::SecretKey::from_pkcs8_pem(pem).map_err(|e| crypto(&e))?;
                let der = secret.to_pkcs8_der().map_err(|e| crypto(&e))?;
                EcdsaKeyPair::from_pkcs8(
                    &ECDSA_P256_SHA256_FIXED_SIGNING,
                    der.as_bytes(),
                    &SystemRandom::new(),
                )
                .map(Self::Es256)
                .map_err(|e| crypto(&e))
            }
            SigningAlgorithm::EdDsa => {
                let (label, der) = SecretDocument::from_pem(pem).map_err(|e| crypto(&e))?;
                if label != PKCS8_PEM_LABEL {
                    return Err(KeyError::Crypto(format!("unexpected PEM label {label:?}")));
                }
                Ed25519KeyPair::from_pkcs8(der.as_bytes())
                    .map(Self::EdDsa)
                    .map_err(|e| crypto(&e))
            }
        }
    }

    /// The key's algorithm.
    pub(crate) fn algorithm(&self) -> SigningAlgorithm {
        match self {
            Self::Es256(_) => SigningAlgorithm::Es256,
            Self::EdDsa(_) => SigningAlgorithm::EdDsa,
        }
    }

    /// The JWS signature of `message` (the signing input `header.payload`).
    pub(crate) fn sign(&self, rng: &SystemRandom, message: &[u8]) -> Result<Signature, KeyError> {
        match self {
            Self::Es256(key) => key
                .sign(rng, message)
                .map_err(|e| KeyError::Crypto(e.to_string())),
            Self::EdDsa(key) => Ok(key.sign(message)),
        }
    }
}

/// A fresh key of `algorithm`: the private key as PKCS#8 PEM, the public key as a JWK with `kid`,
/// `alg` and `use`.
pub(crate) fn generate(
    algorithm: SigningAlgorithm,
    kid: KeyId,
    now: NumericDate,
    state: KeyState,
) -> Result<SigningKey, KeyError> {
    let (pem, jwk) = match algorithm {
        SigningAlgorithm::Es256 => generate_p256(&kid)?,
        SigningAlgorithm::EdDsa => generate_ed25519(&kid)?,
    };
    Ok(SigningKey {
        kid,
        algorithm: algorithm.key_algorithm()?,
        private_key: PrivateKeyMaterial::new(pem),
        public_jwk_json: jwk.to_string(),
        created_at: now,
        state,
        activates_at: None,
    })
}

fn generate_p256(kid: &KeyId) -> Result<(Vec<u8>, serde_json::Value), KeyError> {
    let secret = loop {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|_| KeyError::Crypto("no randomness".into()))?;
        // Out-of-range scalars (probability ~2^-32) are drawn again.
        if let Ok(secret) = p256::SecretKey::from_slice(&bytes) {
            break secret;
        }
    };
    let pem = secret
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| KeyError::Crypto(e.to_string()))?;
    let mut jwk = serde_json::to_value(secret.public_key().to_jwk())
        .map_err(|e| KeyError::Crypto(e.to_string()))?;
    if let Some(object) = jwk.as_object_mut() {
        object.insert("kid".into(), kid.as_str().into());
        object.insert("alg".into(), SigningAlgorithm::Es256.as_str().into());
        object.insert("use".into(), "sig".into());
    }
    Ok((pem.as_bytes().to_vec(), jwk))
}

fn generate_ed25519(kid: &KeyId) -> Result<(Vec<u8>, serde_json::Value), KeyError> {
    let crypto = |e: &dyn std::fmt::Display| KeyError::Crypto(e.to_string());
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|e| crypto(&e))?;
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|e| crypto(&e))?;
    let der = SecretDocument::try_from(pkcs8.as_ref()).map_err(|e| crypto(&e))?;
    let pem = der
        .to_pem(PKCS8_PEM_LABEL, LineEnding::LF)
        .map_err(|e| crypto(&e))?;
    Ok((
        pem.as_bytes().to_vec(),
        ed25519_jwk(pair.public_key().as_ref(), kid),
    ))
}

/// The RFC 8037 §2 public JWK of an Ed25519 key: `kty` `OKP`, `crv` `Ed25519`, `x` the 32-byte
/// public key in base64url.
fn ed25519_jwk(public_key: &[u8], kid: &KeyId) -> serde_json::Value {
    serde_json::json!({
        "kty": "OKP",
        "crv": "Ed25519",
        "x": URL_SAFE_NO_PAD.encode(public_key),
        "kid": kid.as_str(),
        "alg": SigningAlgorithm::EdDsa.as_str(),
        "use": "sig",
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// RFC 8037 Appendix A.1: the Ed25519 private key `d` (the seed) and public key `x`.
    const RFC8037_D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
    const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

    fn kid(s: &str) -> KeyId {
        KeyId::parse(s).unwrap()
    }

    #[test]
    fn ed25519_jwk_matches_rfc8037_appendix_a() {
        let seed = URL_SAFE_NO_PAD.decode(RFC8037_D).unwrap();
        let pair = Ed25519KeyPair::from_seed_unchecked(&seed).unwrap();
        let jwk = ed25519_jwk(pair.public_key().as_ref(), &kid("k1"));
        assert_eq!(
            jwk,
            serde_json::json!({
                "kty": "OKP", "crv": "Ed25519", "x": RFC8037_X,
                "kid": "k1", "alg": "EdDSA", "use": "sig",
            })
        );
        // jsonwebtoken reads it as a typed OKP key.
        let parsed: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk).unwrap();
        assert!(matches!(
            parsed.algorithm,
            jsonwebtoken::jwk::AlgorithmParameters::OctetKeyPair(_)
        ));
        jsonwebtoken::DecodingKey::from_jwk(&parsed).unwrap();
    }

    #[test]
    fn ed25519_signature_matches_rfc8037_appendix_a4() {
        // A.4: the JWS of "Example of Ed25519 signing" with header {"alg":"EdDSA"}.
        let seed = URL_SAFE_NO_PAD.decode(RFC8037_D).unwrap();
        let x = URL_SAFE_NO_PAD.decode(RFC8037_X).unwrap();
        let signer = Signer::EdDsa(Ed25519KeyPair::from_seed_and_public_key(&seed, &x).unwrap());
        let input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
        assert_eq!(
            URL_SAFE_NO_PAD
                .decode("RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc")
                .unwrap(),
            b"Example of Ed25519 signing"
        );
        let signature = signer.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
        assert_eq!(
            URL_SAFE_NO_PAD.encode(signature.as_ref()),
            "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
        );
        // And jsonwebtoken verifies it with the JWK.
        let jwk: jsonwebtoken::jwk::Jwk =
            serde_json::from_value(ed25519_jwk(&x, &kid("k1"))).unwrap();
        let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
        let valid = jsonwebtoken::crypto::verify(
            "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg",
            input.as_bytes(),
            &key,
            jsonwebtoken::Algorithm::EdDSA,
        )
        .unwrap();
        assert!(valid);
    }

    #[test]
    fn generated_keys_round_trip_through_their_stored_pem() {
        for algorithm in SigningAlgorithm::ALL {
            let key = generate(
                algorithm,
                kid("k2"),
                NumericDate::from_secs(1),
                KeyState::Active,
            )
            .unwrap();
            assert_eq!(key.algorithm.as_str(), algorithm.as_str());
            let pem = std::str::from_utf8(key.private_key.secret()).unwrap();
            assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{pem}");
            let signer = Signer::load(algorithm, key.private_key.secret()).unwrap();
            assert_eq!(signer.algorithm(), algorithm);
            let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_str(&key.public_jwk_json).unwrap();
            assert_eq!(jwk.common.key_id.as_deref(), Some("k2"));
            let signature = signer.sign(&SystemRandom::new(), b"a.b").unwrap();
            let verified = jsonwebtoken::crypto::verify(
                &URL_SAFE_NO_PAD.encode(signature.as_ref()),
                b"a.b",
                &jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap(),
                algorithm.jose(),
            )
            .unwrap();
            assert!(verified, "{algorithm}");
            // A key is never read as the other algorithm.
            let other = if algorithm == SigningAlgorithm::Es256 {
                SigningAlgorithm::EdDsa
            } else {
                SigningAlgorithm::Es256
            };
            assert!(Signer::load(other, key.private_key.secret()).is_err());
        }
    }

    #[test]
    fn algorithm_names_are_case_sensitive_jose_names() {
        assert_eq!(
            SigningAlgorithm::parse("ES256").unwrap(),
            SigningAlgorithm::Es256
        );
        assert!(SigningAlgorithm::parse("eddsa").is_err());
        assert!(SigningAlgorithm::parse("none").is_err());
        assert_eq!(SigningAlgorithm::EdDsa.to_string(), "EdDSA");
    }

    proptest::proptest! {
        /// Any name is an algorithm or an error, never a panic; an accepted name renders back exactly.
        #[test]
        fn any_algorithm_name_parses_or_errs(name in "\\PC{0,40}|ES256|EdDSA") {
            if let Ok(alg) = SigningAlgorithm::parse(&name) {
                proptest::prop_assert_eq!(alg.as_str(), name.as_str());
            }
        }
    }
}
