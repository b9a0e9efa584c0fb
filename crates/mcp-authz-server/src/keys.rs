//! Signing keys: bootstrap, cache, JWKS and rotation (REQUIREMENTS AS-9).

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::Jwk;
use mcp_authz_store::{
    IdGenerator, KeyAlgorithm, KeyId, KeyState, PrivateKeyMaterial, SigningKey, Store, StoreError,
    UnixTime,
};
use p256::pkcs8::DecodePrivateKey;
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};

/// How long the active key is trusted from the in-memory cache before the store is asked again (so
/// a rotation on another instance is picked up).
const ACTIVE_KEY_CACHE: Duration = Duration::from_secs(10);

/// Why a key operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Key generation, parsing or signing failed.
    #[error("signing key error: {0}")]
    Crypto(String),
}

/// The active key, parsed once: the signing key and the encoded JWS header. Signing uses ring's
/// constant-time assembly P-256 (several times faster than a pure-Rust implementation: the token
/// endpoint's throughput is bounded by it); keys are generated and stored with `p256`.
#[derive(Clone)]
struct ActiveKey {
    key: Arc<EcdsaKeyPair>,
    header_b64: Arc<str>,
    loaded_at: UnixTime,
}

/// The server's keys: the store is the truth, this is a cache.
pub(crate) struct Keys {
    store: Arc<dyn Store>,
    ids: Arc<dyn IdGenerator>,
    active: RwLock<Option<ActiveKey>>,
    rng: SystemRandom,
    decoding: RwLock<HashMap<KeyId, Arc<DecodingKey>>>,
}

impl Keys {
    pub(crate) fn new(store: Arc<dyn Store>, ids: Arc<dyn IdGenerator>) -> Self {
        Self {
            store,
            ids,
            active: RwLock::new(None),
            rng: SystemRandom::new(),
            decoding: RwLock::new(HashMap::new()),
        }
    }

    /// The active key, creating a first one if the store has none.
    async fn active(&self, now: UnixTime) -> Result<ActiveKey, KeyError> {
        if let Some(active) = self
            .active
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            && now < active.loaded_at.saturating_add(ACTIVE_KEY_CACHE)
        {
            return Ok(active.clone());
        }
        let stored = match self.store.active_key().await? {
            Some(key) => key,
            None => {
                let key = generate(self.ids.key_id()?, now, KeyState::Active)?;
                match self.store.insert_key(key.clone()).await {
                    Ok(()) => key,
                    // Another instance bootstrapped at the same time: use its key.
                    Err(StoreError::Conflict { .. }) => {
                        self.store.active_key().await?.ok_or_else(|| {
                            KeyError::Crypto("no active key after a bootstrap conflict".into())
                        })?
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        };
        let pem = std::str::from_utf8(stored.private_key.secret())
            .map_err(|e| KeyError::Crypto(e.to_string()))?;
        let secret =
            p256::SecretKey::from_pkcs8_pem(pem).map_err(|e| KeyError::Crypto(e.to_string()))?;
        let der = secret
            .to_pkcs8_der()
            .map_err(|e| KeyError::Crypto(e.to_string()))?;
        let key = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            der.as_bytes(),
            &SystemRandom::new(),
        )
        .map_err(|e| KeyError::Crypto(e.to_string()))?;
        let header = serde_json::json!({
            "alg": "ES256",
            "typ": mcp_authz_token::AT_JWT_TYP,
            "kid": stored.kid.as_str(),
        });
        let active = ActiveKey {
            key: Arc::new(key),
            header_b64: URL_SAFE_NO_PAD.encode(header.to_string()).into(),
            loaded_at: now,
        };
        *self.active.write().unwrap_or_else(PoisonError::into_inner) = Some(active.clone());
        Ok(active)
    }

    /// Signs `claims` as an RFC 9068 JWT (`typ: at+jwt`, ES256, RFC 7515 compact serialization) with
    /// the active key.
    pub(crate) async fn sign<T: serde::Serialize>(
        &self,
        claims: &T,
        now: UnixTime,
    ) -> Result<String, KeyError> {
        let active = self.active(now).await?;
        let claims = serde_json::to_vec(claims).map_err(|e| KeyError::Crypto(e.to_string()))?;
        let mut jwt = String::with_capacity(512);
        jwt.push_str(&active.header_b64);
        jwt.push('.');
        URL_SAFE_NO_PAD.encode_string(claims, &mut jwt);
        let signature = active
            .key
            .sign(&self.rng, jwt.as_bytes())
            .map_err(|e| KeyError::Crypto(e.to_string()))?;
        jwt.push('.');
        URL_SAFE_NO_PAD.encode_string(signature.as_ref(), &mut jwt);
        Ok(jwt)
    }

    /// The JWKS document: every published key (published, active, retired until expiry).
    pub(crate) async fn jwks(&self, now: UnixTime) -> Result<String, KeyError> {
        // Make sure there is a key to publish before the first token is signed.
        self.active(now).await?;
        let keys = self.store.published_keys(now).await?;
        let jwks: Vec<serde_json::Value> = keys
            .iter()
            .filter_map(|k| serde_json::from_str(&k.public_jwk_json).ok())
            .collect();
        serde_json::to_string(&serde_json::json!({ "keys": jwks }))
            .map_err(|e| KeyError::Crypto(e.to_string()))
    }

    /// The verification key of `kid`, if the key is still published.
    pub(crate) async fn decoding_key(
        &self,
        kid: &str,
        now: UnixTime,
    ) -> Result<Option<Arc<DecodingKey>>, KeyError> {
        let Ok(kid) = KeyId::parse(kid) else {
            return Ok(None);
        };
        if let Some(key) = self
            .decoding
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&kid)
        {
            return Ok(Some(key.clone()));
        }
        let Some(stored) = self.store.get_key(&kid).await? else {
            return Ok(None);
        };
        if !stored.is_published(now) {
            return Ok(None);
        }
        let jwk: Jwk = serde_json::from_str(&stored.public_jwk_json)
            .map_err(|e| KeyError::Crypto(e.to_string()))?;
        let key =
            Arc::new(DecodingKey::from_jwk(&jwk).map_err(|e| KeyError::Crypto(e.to_string()))?);
        let mut cache = self
            .decoding
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= 64 {
            cache.clear();
        }
        cache.insert(kid, key.clone());
        Ok(Some(key))
    }

    /// Generates a new key, makes it active and keeps the previous one published until
    /// `retire_previous_until`. Returns the new kid.
    pub(crate) async fn rotate(
        &self,
        now: UnixTime,
        retire_previous_until: UnixTime,
    ) -> Result<KeyId, KeyError> {
        let key = generate(self.ids.key_id()?, now, KeyState::Published)?;
        let kid = key.kid.clone();
        self.store.insert_key(key).await?;
        self.store.activate_key(&kid, retire_previous_until).await?;
        *self.active.write().unwrap_or_else(PoisonError::into_inner) = None;
        Ok(kid)
    }
}

/// A fresh P-256 key: the private key as PKCS#8 PEM, the public key as a JWK with `kid`, `alg`, `use`.
fn generate(kid: KeyId, now: UnixTime, state: KeyState) -> Result<SigningKey, KeyError> {
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
        object.insert("alg".into(), "ES256".into());
        object.insert("use".into(), "sig".into());
    }
    let algorithm = KeyAlgorithm::parse("ES256").map_err(|e| KeyError::Crypto(e.to_string()))?;
    Ok(SigningKey {
        kid,
        algorithm,
        private_key: PrivateKeyMaterial::new(pem.as_bytes().to_vec()),
        public_jwk_json: jwk.to_string(),
        created_at: now,
        state,
    })
}
