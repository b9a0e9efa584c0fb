//! Signing keys and their rotation (REQUIREMENTS AS-9: old keys stay published until their tokens expire).

use async_trait::async_trait;

use crate::{KeyAlgorithm, KeyId, NumericDate, PrivateKeyMaterial, StoreError};

/// Where a key is in its life: `Published` (next) → `Active` → `Retired { until }` → purged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyState {
    /// In the JWKS ahead of use, so that resource servers have it cached before the first token.
    Published,
    /// The one key that signs new tokens.
    Active,
    /// No longer signs; stays in the JWKS while tokens it signed may still be valid.
    Retired {
        /// Leaves the JWKS (and becomes purgeable) at this time.
        until: NumericDate,
    },
}

/// A signing key as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKey {
    /// The `kid` (primary key).
    pub kid: KeyId,
    /// The JWS algorithm.
    pub algorithm: KeyAlgorithm,
    /// The private key, opaque to the store.
    pub private_key: PrivateKeyMaterial,
    /// The public key as a JWK JSON object, served verbatim in the JWKS.
    pub public_jwk_json: String,
    /// When the key was created.
    pub created_at: NumericDate,
    /// Its state.
    pub state: KeyState,
    /// For a [`Published`](KeyState::Published) key: when it starts signing. It is in the JWKS from
    /// its creation, and the server activates it once this time has passed, so that resource servers
    /// have fetched it before its first token (REQUIREMENTS SEC-15). `None`: activated only
    /// explicitly ([`KeyStore::activate_key`]). Kept, for the record, once the key is active or
    /// retired.
    pub activates_at: Option<NumericDate>,
}

impl SigningKey {
    /// `true` when the key belongs in the JWKS at `now`: published, active, or retired until later.
    pub fn is_published(&self, now: NumericDate) -> bool {
        match self.state {
            KeyState::Published | KeyState::Active => true,
            KeyState::Retired { until } => now < until,
        }
    }

    /// `true` for a [`Published`](KeyState::Published) key whose
    /// [`activates_at`](Self::activates_at) has come at `now`: the server should activate it.
    pub fn is_due(&self, now: NumericDate) -> bool {
        self.state == KeyState::Published && self.activates_at.is_some_and(|at| at <= now)
    }
}

/// Storage of signing keys.
///
/// **Invariant.** At most one key is `Active` at any time, on every instance sharing the backend; after
/// the server's bootstrap (insert a first key as `Active`) exactly one is.
///
/// **Concurrency.** `activate_key` is atomic: the previous active key becomes `Retired { until }` and the
/// new one `Active` in one step, so no reader ever sees zero or two active keys. Two concurrent
/// activations serialize; the later one retires the earlier one's key.
///
/// **SQL approach.** A partial unique index enforces the invariant
/// (`CREATE UNIQUE INDEX one_active_key ON signing_keys ((state)) WHERE state = 'active'`); activation
/// is one transaction: `UPDATE signing_keys SET state = 'retired', retired_until = $until WHERE state =
/// 'active'` then `UPDATE signing_keys SET state = 'active' WHERE kid = $kid AND state = 'published'`.
///
/// **Errors.** Every method may fail with [`StoreError::Unavailable`] (the token endpoint cannot sign:
/// 503). `insert_key` gives [`StoreError::Conflict`] for a duplicate kid or a second `Active` key.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// Stores a key. A key inserted as `Active` requires that no key is active.
    async fn insert_key(&self, key: SigningKey) -> Result<(), StoreError>;

    /// The key with this kid, in any state.
    async fn get_key(&self, kid: &KeyId) -> Result<Option<SigningKey>, StoreError>;

    /// The active key, if any.
    async fn active_key(&self) -> Result<Option<SigningKey>, StoreError>;

    /// The keys for the JWKS at `now` ([`SigningKey::is_published`]), oldest first (then by kid).
    async fn published_keys(&self, now: NumericDate) -> Result<Vec<SigningKey>, StoreError>;

    /// Every stored key in any state (also retired keys not yet purged), oldest first (then by kid):
    /// for operators.
    async fn list_keys(&self) -> Result<Vec<SigningKey>, StoreError>;

    /// Makes `kid` (which must be `Published`) the active key and retires the previous active key until
    /// `retire_previous_until`, atomically. Returns the retired key's kid, if there was one. Activating the
    /// active key changes nothing and returns `None`. [`StoreError::NotFound`] for an unknown kid,
    /// [`StoreError::InvalidTransition`] for a retired one.
    async fn activate_key(
        &self,
        kid: &KeyId,
        retire_previous_until: NumericDate,
    ) -> Result<Option<KeyId>, StoreError>;
}
