//! Signing keys: bootstrap, cache, JWKS and rotation (REQUIREMENTS AS-9).

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::Jwk;
use mcp_authz_store::{IdGenerator, KeyId, KeyState, Store, StoreError, UnixTime};
use ring::rand::SystemRandom;

use crate::signing::{Signer, SigningAlgorithm, generate};

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

/// The active key, parsed once: the signing key and the encoded JWS header.
#[derive(Clone)]
struct ActiveKey {
    key: Arc<Signer>,
    header_b64: Arc<str>,
    loaded_at: UnixTime,
}

/// A published verification key with the one algorithm it verifies (from the store, never from a
/// token's header).
pub(crate) type VerificationKey = (SigningAlgorithm, Arc<DecodingKey>);

/// The server's keys: the store is the truth, this is a cache.
pub(crate) struct Keys {
    store: Arc<dyn Store>,
    ids: Arc<dyn IdGenerator>,
    /// The algorithm of keys created from now on (existing keys keep theirs).
    algorithm: SigningAlgorithm,
    active: RwLock<Option<ActiveKey>>,
    rng: SystemRandom,
    decoding: RwLock<HashMap<KeyId, VerificationKey>>,
}

impl Keys {
    pub(crate) fn new(
        store: Arc<dyn Store>,
        ids: Arc<dyn IdGenerator>,
        algorithm: SigningAlgorithm,
    ) -> Self {
        Self {
            store,
            ids,
            algorithm,
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
                let key = generate(self.algorithm, self.ids.key_id()?, now, KeyState::Active)?;
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
        let algorithm = SigningAlgorithm::parse(stored.algorithm.as_str())
            .map_err(|e| KeyError::Crypto(e.to_string()))?;
        let key = Signer::load(algorithm, stored.private_key.secret())?;
        let header = serde_json::json!({
            "alg": key.algorithm().as_str(),
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

    /// Signs `claims` as an RFC 9068 JWT (`typ: at+jwt`, the active key's algorithm, RFC 7515 compact
    /// serialization) with the active key.
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
        let signature = active.key.sign(&self.rng, jwt.as_bytes())?;
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

    /// The verification key of `kid` and its algorithm, if the key is still published.
    pub(crate) async fn decoding_key(
        &self,
        kid: &str,
        now: UnixTime,
    ) -> Result<Option<VerificationKey>, KeyError> {
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
        let algorithm = SigningAlgorithm::parse(stored.algorithm.as_str())
            .map_err(|e| KeyError::Crypto(e.to_string()))?;
        let jwk: Jwk = serde_json::from_str(&stored.public_jwk_json)
            .map_err(|e| KeyError::Crypto(e.to_string()))?;
        let key = (
            algorithm,
            Arc::new(DecodingKey::from_jwk(&jwk).map_err(|e| KeyError::Crypto(e.to_string()))?),
        );
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

    /// Generates a new key of `algorithm`, makes it active and keeps the previous one (of any
    /// algorithm) published until `retire_previous_until`. Returns the new kid.
    pub(crate) async fn rotate(
        &self,
        algorithm: SigningAlgorithm,
        now: UnixTime,
        retire_previous_until: UnixTime,
    ) -> Result<KeyId, KeyError> {
        let key = generate(algorithm, self.ids.key_id()?, now, KeyState::Published)?;
        let kid = key.kid.clone();
        self.store.insert_key(key).await?;
        self.store.activate_key(&kid, retire_previous_until).await?;
        *self.active.write().unwrap_or_else(PoisonError::into_inner) = None;
        Ok(kid)
    }
}
