//! Signing keys: bootstrap, cache, JWKS and rotation (REQUIREMENTS AS-9, SEC-15).
//!
//! A rotation publishes the next key at once and lets it sign only from its `activates_at`, a
//! publication delay later, so that resource servers have refetched the JWKS (it is served with
//! `Cache-Control: max-age` of [`JWKS_MAX_AGE`], shorter than the delay) before the first token
//! signed with it reaches them.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use mcp_authz_store::{IdGenerator, KeyId, KeyState, NumericDate, Store, StoreError};
use mcp_authz_token::{CompactJws, Jwk, JwkSet, JwtAccessTokenClaims, VerifyingKey, is_at_jwt_typ};
use ring::rand::SystemRandom;

pub use crate::key_error::KeyError;
use crate::session::BoundedMap;
use crate::signing::{Signer, SigningAlgorithm, generate};

/// How long the active key is trusted from the in-memory cache before the store is asked again (so
/// a rotation on another instance is picked up).
const ACTIVE_KEY_CACHE: Duration = Duration::from_secs(10);

/// How long the serialized JWKS is served from memory before the store is asked again: a
/// rotation made by another process (another instance, `mcp-authz keys rotate`) is published within
/// this time; one made through this instance at once.
const JWKS_CACHE: Duration = Duration::from_secs(1);

/// How many tokens whose signature [`Keys::verify_own`] checked it remembers, and for how long at
/// most (never past the token's `exp`): introspecting the same token again (a resource server asking
/// per request) costs a map lookup instead of a signature verification (~50 µs for ES256). Only the
/// signature is remembered: the key's publication, `exp` and revocation are checked on every call.
/// About 1 KB per entry (the token and its claims): at most ~1 MiB.
const VERIFIED_CAPACITY: usize = 1_024;
/// The longest a verified token is remembered (see [`VERIFIED_CAPACITY`]).
const VERIFIED_TTL: Duration = Duration::from_secs(5 * 60);

/// The `Cache-Control: max-age` of the JWKS: 5 minutes. Resource servers that honour it refetch
/// the key set at least this often.
pub const JWKS_MAX_AGE: Duration = Duration::from_secs(5 * 60);

/// The default publication delay of a rotation: 10 minutes between publishing a new key in the
/// JWKS and signing with it (longer than [`JWKS_MAX_AGE`] plus the resource layer's refetch
/// interval, so that verifiers know the key before its first token).
pub const DEFAULT_KEY_PUBLICATION_DELAY: Duration = Duration::from_secs(10 * 60);

/// The `Cache-Control` of the JWKS: [`JWKS_MAX_AGE`] (checked by a test).
pub(crate) const JWKS_CACHE_CONTROL: &str = "public, max-age=300";

const _: () = assert!(DEFAULT_KEY_PUBLICATION_DELAY.as_secs() > JWKS_MAX_AGE.as_secs() + 30);

/// The outcome of a rotation: the new key and when it starts signing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyRotation {
    /// The new key's `kid`, in the JWKS from now on.
    pub kid: KeyId,
    /// When tokens start being signed with it (now for an immediate rotation).
    pub signs_from: NumericDate,
}

/// The active key, parsed once: the signing key and the encoded JWS header.
#[derive(Clone)]
struct ActiveKey {
    key: Arc<Signer>,
    header_b64: Arc<str>,
    /// When the store must be asked again: the cache time, or the next key's activation if sooner.
    reload_at: NumericDate,
}

/// A published verification key, parsed once, with the one algorithm it verifies (from the store,
/// never from a token's header).
pub(crate) type VerificationKey = (SigningAlgorithm, Arc<VerifyingKey>);

/// The server's keys: the store is the truth, this is a cache.
pub(crate) struct Keys {
    store: Arc<dyn Store>,
    ids: Arc<dyn IdGenerator>,
    /// The algorithm of keys created from now on (existing keys keep theirs).
    algorithm: SigningAlgorithm,
    /// How long a key stays published after it stops signing (the longest token life and a margin).
    retire_after: Duration,
    active: RwLock<Option<ActiveKey>>,
    rng: SystemRandom,
    /// Verification keys with the time until which they may be used without asking the store
    /// again (so that a key that left the JWKS stops verifying, SEC-15).
    decoding: RwLock<HashMap<KeyId, (VerificationKey, NumericDate)>>,
    /// The serialized JWKS and the time until which it is served without asking the store again:
    /// [`JWKS_CACHE`], cut short by the active key's reload time (so the JWKS is never older than
    /// the key that signs) or a retired key's expiry. A rotation on this instance drops it.
    jwks: RwLock<Option<(Bytes, NumericDate)>>,
    /// Tokens whose signature verified, by their exact text (see [`VERIFIED_CAPACITY`]).
    verified: BoundedMap<Verified>,
}

/// A token whose signature verified with the key `kid` of `algorithm`: the immutable fact
/// [`Keys::verify_own`] remembers.
#[derive(Clone)]
struct Verified {
    kid: Arc<str>,
    algorithm: SigningAlgorithm,
    /// The header's `typ` is `at+jwt`.
    at_jwt: bool,
    claims: Arc<JwtAccessTokenClaims>,
}

impl Keys {
    pub(crate) fn new(
        store: Arc<dyn Store>,
        ids: Arc<dyn IdGenerator>,
        algorithm: SigningAlgorithm,
        retire_after: Duration,
    ) -> Self {
        Self {
            store,
            ids,
            algorithm,
            retire_after,
            active: RwLock::new(None),
            rng: SystemRandom::new(),
            decoding: RwLock::new(HashMap::new()),
            jwks: RwLock::new(None),
            verified: BoundedMap::new(VERIFIED_CAPACITY),
        }
    }

    /// The active key, creating a first one if the store has none. A published key whose activation
    /// time has come is activated first (the newest one signs).
    async fn active(&self, now: NumericDate) -> Result<ActiveKey, KeyError> {
        if let Some(active) = self
            .active
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            && now < active.reload_at
        {
            return Ok(active.clone());
        }
        let next_activation = self.activate_due_keys(now).await?;
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
        let cache_until = now.saturating_add(ACTIVE_KEY_CACHE);
        let active = ActiveKey {
            key: Arc::new(key),
            header_b64: URL_SAFE_NO_PAD.encode(header.to_string()).into(),
            reload_at: next_activation.map_or(cache_until, |at| at.min(cache_until)),
        };
        *self.active.write().unwrap_or_else(PoisonError::into_inner) = Some(active.clone());
        Ok(active)
    }

    /// Activates the newest published key whose activation time has come, unless the active key
    /// is newer (a later rotation supersedes an earlier one still waiting); returns the next
    /// activation time still ahead.
    async fn activate_due_keys(&self, now: NumericDate) -> Result<Option<NumericDate>, KeyError> {
        let active_created = self.store.active_key().await?.map(|k| k.created_at);
        let mut due = None;
        let mut next: Option<NumericDate> = None;
        for key in self.store.published_keys(now).await? {
            let Some(at) = key.activates_at else {
                continue;
            };
            if key.state != KeyState::Published
                || active_created.is_some_and(|created| key.created_at < created)
            {
                continue;
            }
            if at > now {
                next = Some(next.map_or(at, |n| n.min(at)));
            } else if due
                .as_ref()
                .is_none_or(|(created, kid)| (key.created_at, &key.kid) > (*created, kid))
            {
                due = Some((key.created_at, key.kid));
            }
        }
        if let Some((_, kid)) = due {
            let until = now.saturating_add(self.retire_after);
            match self.store.activate_key(&kid, until).await {
                // Another instance may have activated (or superseded) it in between.
                Ok(_) | Err(StoreError::InvalidTransition { .. } | StoreError::NotFound { .. }) => {
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(next)
    }

    /// Signs `claims` as an RFC 9068 JWT (`typ: at+jwt`, the active key's algorithm, RFC 7515 compact
    /// serialization) with the active key.
    pub(crate) async fn sign<T: serde::Serialize>(
        &self,
        claims: &T,
        now: NumericDate,
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

    /// The JWKS document: every published key (the next key ahead of its activation, the active
    /// key, retired keys until expiry), serialized once per key-set change (issue #21: it was
    /// rebuilt from the store on every request).
    pub(crate) async fn jwks(&self, now: NumericDate) -> Result<Bytes, KeyError> {
        let cached = self
            .jwks
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some((document, until)) = &cached
            && now < *until
        {
            return Ok(document.clone());
        }
        match self.reload_jwks(now).await {
            // The store is unreachable (issue #18): the last document stays the truth until it
            // answers again. No key can be published, activated or retired meanwhile, since that
            // takes the store too, so resource servers keep verifying the tokens issued before.
            Err(KeyError::Store(error)) if error.is_unavailable() => match cached {
                Some((document, _)) => {
                    tracing::debug!(%error, "serving the last JWKS while the store is unavailable");
                    Ok(document)
                }
                None => Err(KeyError::Store(error)),
            },
            reloaded => reloaded,
        }
    }

    /// Reads the published keys from the store and caches their JWKS document.
    async fn reload_jwks(&self, now: NumericDate) -> Result<Bytes, KeyError> {
        // Make sure there is a key to publish before the first token is signed.
        let active = self.active(now).await?;
        let keys = self.store.published_keys(now).await?;
        let until = keys
            .iter()
            .filter_map(|k| match k.state {
                KeyState::Retired { until } => Some(until),
                _ => None,
            })
            .fold(
                active.reload_at.min(now.saturating_add(JWKS_CACHE)),
                NumericDate::min,
            );
        let jwks: JwkSet = keys
            .iter()
            .filter_map(|k| Jwk::from_json(k.public_jwk_json.as_bytes()).ok())
            .collect();
        let document = Bytes::from(jwks.to_json());
        *self.jwks.write().unwrap_or_else(PoisonError::into_inner) =
            Some((document.clone(), until));
        Ok(document)
    }

    /// Verifies a JWT this server signed (compact JWS): its header's `kid` names a key that is still
    /// published, the header's `alg` is that key's stored algorithm (no algorithm confusion), the
    /// signature verifies, and the payload is an RFC 9068 claims set; with `require_at_jwt`, the
    /// header's `typ` is `at+jwt` too. `None` when any check fails; `iss`, `exp` and the rest are the
    /// caller's. Errors only when the store fails or a stored key is unreadable.
    pub(crate) async fn verify_own(
        &self,
        token: &str,
        require_at_jwt: bool,
        now: NumericDate,
    ) -> Result<Option<JwtAccessTokenClaims>, KeyError> {
        // The same text verified before: only the key's publication can have changed since.
        if let Some(seen) = self.verified.get(token) {
            let published = self.verifying_key(&seen.kid, now).await?;
            return Ok(published
                .filter(|(algorithm, _)| {
                    *algorithm == seen.algorithm && (seen.at_jwt || !require_at_jwt)
                })
                .map(|_| (*seen.claims).clone()));
        }
        let Ok(jws) = CompactJws::parse(token) else {
            return Ok(None);
        };
        let header = jws.header();
        let at_jwt = header.typ().is_some_and(is_at_jwt_typ);
        if require_at_jwt && !at_jwt {
            return Ok(None);
        }
        let Some(kid) = header.kid() else {
            return Ok(None);
        };
        let Some((algorithm, key)) = self.verifying_key(kid, now).await? else {
            return Ok(None);
        };
        if header.alg() != Ok(algorithm) || key.verify(&jws).is_err() {
            return Ok(None);
        }
        let Ok(claims) = JwtAccessTokenClaims::from_json(jws.payload()) else {
            return Ok(None);
        };
        let life = claims.exp.as_secs().saturating_sub(now.as_secs());
        if life > 0 {
            let seen = Verified {
                kid: Arc::from(kid),
                algorithm,
                at_jwt,
                claims: Arc::new(claims.clone()),
            };
            let ttl = Duration::from_secs(life).min(VERIFIED_TTL);
            self.verified.insert(token.to_owned(), seen, ttl);
        }
        Ok(Some(claims))
    }

    /// The verification key of `kid`, if the key is still published.
    async fn verifying_key(
        &self,
        kid: &str,
        now: NumericDate,
    ) -> Result<Option<VerificationKey>, KeyError> {
        let Ok(kid) = KeyId::parse(kid) else {
            return Ok(None);
        };
        if let Some((key, until)) = self
            .decoding
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&kid)
            && now < *until
        {
            return Ok(Some(key.clone()));
        }
        let Some(stored) = self.store.get_key(&kid).await? else {
            return Ok(None);
        };
        if !stored.is_published(now) {
            self.decoding
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&kid);
            return Ok(None);
        }
        // Asked again after the cache time (a rotation elsewhere may retire it), and never past
        // the end of its publication.
        let mut until = now.saturating_add(ACTIVE_KEY_CACHE);
        if let KeyState::Retired { until: end } = stored.state {
            until = until.min(end);
        }
        let algorithm = SigningAlgorithm::parse(stored.algorithm.as_str())
            .map_err(|e| KeyError::Crypto(e.to_string()))?;
        let jwk = Jwk::from_json(stored.public_jwk_json.as_bytes())
            .map_err(|e| KeyError::Crypto(e.to_string()))?;
        let key = VerifyingKey::from_jwk(&jwk).map_err(|e| KeyError::Crypto(e.to_string()))?;
        // The stored algorithm decides: a JWK that cannot verify it is not used.
        if !key.fits(algorithm) {
            return Err(KeyError::Crypto(format!(
                "the JWK of key {} cannot verify its algorithm {algorithm}",
                kid.as_str()
            )));
        }
        let key = (algorithm, Arc::new(key));
        let mut cache = self
            .decoding
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if cache.len() >= 64 {
            cache.clear();
        }
        cache.insert(kid, (key.clone(), until));
        Ok(Some(key))
    }

    /// Generates a new key of `algorithm` and publishes it; it starts signing `delay` from now (at
    /// once for a zero delay), when the previous key (of any algorithm) retires, staying published
    /// until every token it signed has expired.
    pub(crate) async fn rotate(
        &self,
        algorithm: SigningAlgorithm,
        now: NumericDate,
        delay: Duration,
    ) -> Result<KeyRotation, KeyError> {
        let signs_from = now.saturating_add(delay);
        let mut key = generate(algorithm, self.ids.key_id()?, now, KeyState::Published)?;
        key.activates_at = Some(signs_from);
        let kid = key.kid.clone();
        self.store.insert_key(key).await?;
        if delay.is_zero() {
            self.store
                .activate_key(&kid, now.saturating_add(self.retire_after))
                .await?;
        }
        *self.active.write().unwrap_or_else(PoisonError::into_inner) = None;
        *self.jwks.write().unwrap_or_else(PoisonError::into_inner) = None;
        Ok(KeyRotation { kid, signs_from })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jwks_cache_control_says_jwks_max_age() {
        assert_eq!(
            JWKS_CACHE_CONTROL,
            format!("public, max-age={}", JWKS_MAX_AGE.as_secs())
        );
    }
}
