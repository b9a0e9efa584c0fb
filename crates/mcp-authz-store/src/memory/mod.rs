//! The in-memory store: every trait, one mutex, for tests and single-process deployments.

mod accounts;
mod attempts;
mod audit;
mod browser_states;
mod tokens;

pub use attempts::MemoryAttempts;
pub use browser_states::MemoryBrowserStates;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use mcp_authz_metadata::ClientId;

use crate::{
    AuditEvent, AuthorizationCode, ClientKind, ClientRecord, Consent, FamilyId, Grant, KeyId,
    KeyState, NumericDate, PurgeCounts, PurgeStore, RefreshToken, SecretHash, SigningKey,
    StoreError, Subject, TokenId, User, Username,
};

/// Every storage trait in memory.
///
/// All state sits behind one [`Mutex`], held only for the duration of a single operation and never
/// across an `.await`, so every operation is atomic and the store is **linearizable**: the guarantees
/// documented on each trait hold trivially, and the test kit checks them.
///
/// Meant for tests and single-process use: state is lost on restart and not shared between processes,
/// so two server instances would not agree. Memory is **not bounded** by a record count; it stays
/// bounded by lifetimes only if [`purge_expired`](PurgeStore::purge_expired) runs periodically (the
/// registration and authorization endpoints must be rate limited, REQUIREMENTS SEC-8). Operations never
/// fail with [`StoreError::Unavailable`].
///
/// Every authorization keeps its code (spent codes too, for replay detection until they expire), its
/// grant and its current refresh token: about 1.5–2.5 KiB of heap per authorization code flow,
/// measured as the server's resident memory growing with the flows of a load run
/// (`docs/performance.md`). Purge returns codes after their lifetime (60 s at most) and grants after
/// theirs.
///
/// ```
/// use mcp_authz_store::{MemoryStore, Store};
/// use std::sync::Arc;
/// let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
/// # let _ = store;
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

/// The tables. Codes and grants, which every authorization adds, are boxed: a table then holds a
/// key and a pointer per entry, so growing it (which briefly holds the old and the new table) copies
/// and doubles little (about 2 KiB less per authorization at the peak of a growth).
#[derive(Debug, Default)]
struct Inner {
    clients: HashMap<ClientId, ClientRecord>,
    codes: HashMap<SecretHash, Box<AuthorizationCode>>,
    grants: HashMap<FamilyId, Box<Grant>>,
    refresh_tokens: HashMap<SecretHash, RefreshToken>,
    revoked_access_tokens: HashMap<TokenId, NumericDate>,
    consents: BTreeMap<(Subject, ClientId), Consent>,
    keys: BTreeMap<KeyId, SigningKey>,
    users: HashMap<Subject, User>,
    usernames: HashMap<Username, Subject>,
    /// Audit events in the order they were appended.
    audit: Vec<AuditEvent>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Locks the tables. A panic while holding the lock cannot leave a half-applied operation behind
    /// (every operation checks before it writes), so a poisoned lock is recovered.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `usize` to `u64` for counts (lossless on every supported platform; saturates otherwise).
fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

#[async_trait]
impl PurgeStore for MemoryStore {
    async fn purge_expired(&self, now: NumericDate) -> Result<PurgeCounts, StoreError> {
        let mut inner = self.lock();
        let mut counts = PurgeCounts::default();

        let codes_before = inner.codes.len();
        inner.codes.retain(|_, code| now < code.expires_at);
        counts.codes = count(codes_before - inner.codes.len());

        let grants_before = inner.grants.len();
        inner.grants.retain(|_, grant| now < grant.expires_at);
        counts.grants = count(grants_before - inner.grants.len());

        let tokens_before = inner.refresh_tokens.len();
        let Inner {
            refresh_tokens,
            grants,
            ..
        } = &mut *inner;
        refresh_tokens
            .retain(|_, token| now < token.expires_at && grants.contains_key(&token.family_id));
        counts.refresh_tokens = count(tokens_before - inner.refresh_tokens.len());

        let jtis_before = inner.revoked_access_tokens.len();
        inner
            .revoked_access_tokens
            .retain(|_, expires_at| now < *expires_at);
        counts.revoked_access_tokens = count(jtis_before - inner.revoked_access_tokens.len());

        let clients_before = inner.clients.len();
        inner.clients.retain(|_, client| match client.kind {
            ClientKind::MetadataDocument { expires_at, .. } => now < expires_at,
            _ => true,
        });
        counts.metadata_document_clients = count(clients_before - inner.clients.len());

        let keys_before = inner.keys.len();
        inner.keys.retain(|_, key| match key.state {
            KeyState::Retired { until } => now < until,
            _ => true,
        });
        counts.signing_keys = count(keys_before - inner.keys.len());

        Ok(counts)
    }
}
