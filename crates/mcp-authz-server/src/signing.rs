//! Signing algorithms and their keys: generation, PKCS#8 PEM storage, public JWKs and JWS signatures
//! (ES256: RFC 7518 §3.4; EdDSA with Ed25519: RFC 8037).

use mcp_authz_store::{KeyAlgorithm, KeyId, KeyState, NumericDate, PrivateKeyMaterial, SigningKey};
use mcp_authz_token::{Jwk, JwkKey, JwsAlgorithm, KeyUse};
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding, SecretDocument};
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, Signature,
};

use crate::key_error::KeyError;

/// The PEM label of a PKCS#8 private key (RFC 7468 §10).
const PKCS8_PEM_LABEL: &str = "PRIVATE KEY";

/// The JWS algorithm of the server's signing keys: the token crate's [`JwsAlgorithm`], under its
/// former name here. The server signs with [`Es256`](JwsAlgorithm::Es256) (the default: ECDSA on P-256,
/// RFC 7518 §3.4) or [`EdDsa`](JwsAlgorithm::EdDsa) (Ed25519, RFC 8037); the other algorithms are
/// refused by [`ServerConfigBuilder::build`](crate::ServerConfigBuilder::build) and by a rotation
/// ([`KeyError::UnsupportedAlgorithm`]).
///
/// ```
/// use mcp_authz_server::SigningAlgorithm;
/// assert_eq!(SigningAlgorithm::default(), SigningAlgorithm::Es256);
/// assert_eq!("EdDSA".parse::<SigningAlgorithm>().unwrap(), SigningAlgorithm::EdDsa);
/// assert_eq!(SigningAlgorithm::EdDsa.as_str(), "EdDSA");
/// assert!("HS256".parse::<SigningAlgorithm>().is_err());
/// ```
pub type SigningAlgorithm = JwsAlgorithm;

/// The algorithms the server signs with.
pub(crate) const SIGNING_ALGORITHMS: [JwsAlgorithm; 2] = [JwsAlgorithm::Es256, JwsAlgorithm::EdDsa];

/// Whether the server can sign with `algorithm`.
pub(crate) fn can_sign(algorithm: JwsAlgorithm) -> bool {
    SIGNING_ALGORITHMS.contains(&algorithm)
}

/// The stored algorithm name.
fn key_algorithm(algorithm: JwsAlgorithm) -> Result<KeyAlgorithm, KeyError> {
    KeyAlgorithm::parse(algorithm.as_str()).map_err(|e| KeyError::Crypto(e.to_string()))
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
    pub(crate) fn load(algorithm: JwsAlgorithm, pem: &[u8]) -> Result<Self, KeyError> {
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
            other => Err(KeyError::UnsupportedAlgorithm(other)),
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
        other => return Err(KeyError::UnsupportedAlgorithm(other)),
    };
    Ok(SigningKey {
        kid,
        algorithm: key_algorithm(algorithm)?,
        private_key: PrivateKeyMaterial::new(pem),
        public_jwk_json: jwk.to_json(),
        created_at: now,
        state,
        activates_at: None,
    })
}

fn generate_p256(kid: &KeyId) -> Result<(Vec<u8>, Jwk), KeyError> {
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
    let point = secret.public_key().to_encoded_point(false);
    let coordinate = |c: Option<&p256::FieldBytes>| -> Result<[u8; 32], KeyError> {
        c.map(|c| (*c).into())
            .ok_or_else(|| KeyError::Crypto("the public key is the identity".into()))
    };
    let key = JwkKey::P256 {
        x: coordinate(point.x())?,
        y: coordinate(point.y())?,
    };
    Ok((
        pem.as_bytes().to_vec(),
        public_jwk(key, kid, JwsAlgorithm::Es256)?,
    ))
}

fn generate_ed25519(kid: &KeyId) -> Result<(Vec<u8>, Jwk), KeyError> {
    let crypto = |e: &dyn std::fmt::Display| KeyError::Crypto(e.to_string());
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|e| crypto(&e))?;
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).map_err(|e| crypto(&e))?;
    let der = SecretDocument::try_from(pkcs8.as_ref()).map_err(|e| crypto(&e))?;
    let pem = der
        .to_pem(PKCS8_PEM_LABEL, LineEnding::LF)
        .map_err(|e| crypto(&e))?;
    Ok((
        pem.as_bytes().to_vec(),
        ed25519_jwk(pair.public_key().as_ref(), kid)?,
    ))
}

/// The RFC 8037 §2 public JWK of an Ed25519 key: `kty` `OKP`, `crv` `Ed25519`, `x` the 32-byte
/// public key in base64url.
fn ed25519_jwk(public_key: &[u8], kid: &KeyId) -> Result<Jwk, KeyError> {
    let x = public_key
        .try_into()
        .map_err(|_| KeyError::Crypto("an Ed25519 public key has 32 bytes".into()))?;
    public_jwk(JwkKey::Ed25519 { x }, kid, JwsAlgorithm::EdDsa)
}

/// The published JWK of `key`: with `kid`, `use` `sig` and `alg`.
fn public_jwk(key: JwkKey, kid: &KeyId, alg: JwsAlgorithm) -> Result<Jwk, KeyError> {
    Jwk::new(key)
        .with_kid(kid.as_str())
        .with_use(KeyUse::Signature)
        .with_alg(alg)
        .map_err(|e| KeyError::Crypto(e.to_string()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use mcp_authz_token::{CompactJws, VerifyingKey};

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
        let jwk = ed25519_jwk(pair.public_key().as_ref(), &kid("k1")).unwrap();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&jwk.to_json()).unwrap(),
            serde_json::json!({
                "kty": "OKP", "crv": "Ed25519", "x": RFC8037_X,
                "kid": "k1", "alg": "EdDSA", "use": "sig",
            })
        );
        // It reads back as the same typed OKP key, and verifies EdDSA only.
        assert_eq!(Jwk::from_json(jwk.to_json().as_bytes()).unwrap(), jwk);
        let key = VerifyingKey::from_jwk(&jwk).unwrap();
        assert!(key.fits(JwsAlgorithm::EdDsa) && !key.fits(JwsAlgorithm::Es256));
    }

    #[test]
    fn ed25519_signature_matches_rfc8037_appendix_a4() {
        // A.4: the JWS of "Example of Ed25519 signing" with header {"alg":"EdDSA"}.
        let seed = URL_SAFE_NO_PAD.decode(RFC8037_D).unwrap();
        let x = URL_SAFE_NO_PAD.decode(RFC8037_X).unwrap();
        let signer = Signer::EdDsa(Ed25519KeyPair::from_seed_and_public_key(&seed, &x).unwrap());
        let input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
        let signature = signer.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
        let signature = URL_SAFE_NO_PAD.encode(signature.as_ref());
        assert_eq!(
            signature,
            "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
        );
        // And the token crate's verifier accepts it with the JWK.
        let key = VerifyingKey::from_jwk(&ed25519_jwk(&x, &kid("k1")).unwrap()).unwrap();
        let jws = format!("{input}.{signature}");
        key.verify(&CompactJws::parse(&jws).unwrap()).unwrap();
        assert_eq!(
            CompactJws::parse(&jws).unwrap().payload(),
            b"Example of Ed25519 signing"
        );
    }

    #[test]
    fn generated_keys_round_trip_through_their_stored_pem() {
        for algorithm in SIGNING_ALGORITHMS {
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
            let jwk = Jwk::from_json(key.public_jwk_json.as_bytes()).unwrap();
            assert_eq!(jwk.kid(), Some("k2"));
            assert_eq!(jwk.alg(), Some(algorithm));
            let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{algorithm}"}}"#));
            let input = format!("{header}.e30");
            let signature = signer.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
            let jws = format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()));
            VerifyingKey::from_jwk(&jwk)
                .unwrap()
                .verify(&CompactJws::parse(&jws).unwrap())
                .unwrap();
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
    fn only_es256_and_eddsa_sign() {
        for algorithm in SigningAlgorithm::ALL {
            assert_eq!(can_sign(algorithm), SIGNING_ALGORITHMS.contains(&algorithm));
            if !can_sign(algorithm) {
                assert_eq!(
                    generate(
                        algorithm,
                        kid("k3"),
                        NumericDate::from_secs(1),
                        KeyState::Active
                    )
                    .unwrap_err(),
                    KeyError::UnsupportedAlgorithm(algorithm)
                );
                assert_eq!(
                    Signer::load(algorithm, b"").err(),
                    Some(KeyError::UnsupportedAlgorithm(algorithm))
                );
            }
        }
    }
}
