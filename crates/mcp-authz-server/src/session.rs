//! Browser sessions and pending authorization requests: opaque random ids in bounded, expiring
//! in-memory tables (REQUIREMENTS AS-11, SEC-4, SEC-8, SEC-17).
//!
//! A session exists only once a user signed in: an anonymous browser is just a random id in its
//! cookie, with no table entry. Pending requests of anonymous browsers and of signed-in sessions live
//! in separate tables, each bounded per owner (peer address or session), so that anonymous traffic
//! can never evict a signed-in session or its requests (SEC-17).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mcp_authz_metadata::{ClientId, RedirectUri, ResourceUri, Scope};
use mcp_authz_pkce::CodeChallenge;
use mcp_authz_store::Subject;
use mcp_authz_token::State;

use crate::provenance::Provenance;

/// How long a browser session lasts.
pub(crate) const SESSION_TTL: Duration = Duration::from_secs(3600);
/// How long a user has to log in and consent.
pub(crate) const PENDING_TTL: Duration = Duration::from_secs(600);

/// 256 random bits, base64url: session ids, CSRF tokens, pending-request ids.
pub(crate) fn random_id() -> Option<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).ok()?;
    Some(URL_SAFE_NO_PAD.encode(bytes))
}

/// `true` for a value shaped like [`random_id`]'s (43 base64url characters).
pub(crate) fn is_random_id(id: &str) -> bool {
    id.len() == 43
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A signed-in browser session (created at login, never for anonymous browsers).
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// The logged-in user.
    pub(crate) subject: Subject,
    /// What the pages call the user: the username typed at sign-in, or the upstream identity
    /// provider's subject; never shown as anything but escaped text.
    pub(crate) name: String,
    /// The CSRF token of the forms of the account pages (revoke an application, sign out), made
    /// at sign-in; the authorization pages' forms carry their pending request's own (SEC-4).
    pub(crate) csrf: String,
}

/// A validated authorization request waiting for login and consent.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    /// The browser that started it (its cookie: an anonymous browser id, or the signed-in session
    /// id once the user logged in): only that browser may continue it.
    pub(crate) session_id: String,
    /// The CSRF token of the forms of this request (SEC-4); renewed at login.
    pub(crate) csrf: String,
    pub(crate) client_id: ClientId,
    pub(crate) client_name: String,
    /// Where the client's name comes from, shown with it (AS-11).
    pub(crate) provenance: Provenance,
    /// The client's redirect URIs are all loopback and it is a metadata-document client (AS-11).
    pub(crate) localhost_warning: bool,
    pub(crate) redirect_uri: RedirectUri,
    pub(crate) state: Option<State>,
    pub(crate) code_challenge: CodeChallenge,
    pub(crate) resources: Vec<ResourceUri>,
    pub(crate) scope: Scope,
}

struct Entry<V> {
    value: V,
    expires: Instant,
}

/// A map with a size bound and per-entry expiry.
pub(crate) struct BoundedMap<V> {
    capacity: usize,
    entries: Mutex<HashMap<String, Entry<V>>>,
}

impl<V: Clone> BoundedMap<V> {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn insert(&self, key: String, value: V, ttl: Duration) {
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.capacity {
            entries.retain(|_, e| e.expires > now);
        }
        if entries.len() >= self.capacity {
            // Still full of live entries: evict the one closest to expiry.
            if let Some(oldest) = entries
                .iter()
                .min_by_key(|(_, e)| e.expires)
                .map(|(k, _)| k.clone())
            {
                entries.remove(&oldest);
            }
        }
        entries.insert(
            key,
            Entry {
                value,
                expires: now + ttl,
            },
        );
    }

    pub(crate) fn get(&self, key: &str) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(key)
            .filter(|e| e.expires > Instant::now())
            .map(|e| e.value.clone())
    }

    pub(crate) fn remove(&self, key: &str) -> Option<V> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .remove(key)
            .filter(|e| e.expires > Instant::now())
            .map(|e| e.value)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

struct Owned<V> {
    value: V,
    owner: String,
    expires: Instant,
}

struct OwnedEntries<V> {
    entries: HashMap<String, Owned<V>>,
    /// Live entry count per owner.
    owners: HashMap<String, usize>,
}

impl<V> OwnedEntries<V> {
    fn take(&mut self, key: &str) -> Option<Owned<V>> {
        let entry = self.entries.remove(key)?;
        if let Some(count) = self.owners.get_mut(&entry.owner) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.owners.remove(&entry.owner);
            }
        }
        Some(entry)
    }

    /// The key of `owner`'s entry closest to expiry.
    fn oldest_of(&self, owner: &str) -> Option<String> {
        self.entries
            .iter()
            .filter(|(_, e)| e.owner == owner)
            .min_by_key(|(_, e)| e.expires)
            .map(|(k, _)| k.clone())
    }
}

/// A map with a size bound, per-entry expiry and a bound per owner (a peer address, a session).
///
/// An owner at its bound loses its own oldest entry; a full map drops expired entries, then the
/// oldest entry of the owner with the most entries. So one owner flooding the map evicts its own
/// entries, never another owner's (SEC-17).
pub(crate) struct OwnedMap<V> {
    capacity: usize,
    per_owner: usize,
    inner: Mutex<OwnedEntries<V>>,
}

impl<V: Clone> OwnedMap<V> {
    pub(crate) fn new(capacity: usize, per_owner: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            per_owner: per_owner.max(1),
            inner: Mutex::new(OwnedEntries {
                entries: HashMap::new(),
                owners: HashMap::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, OwnedEntries<V>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn insert(&self, key: String, owner: &str, value: V, ttl: Duration) {
        let now = Instant::now();
        let mut map = self.lock();
        map.take(&key);
        if map.owners.get(owner).copied().unwrap_or(0) >= self.per_owner
            && let Some(oldest) = map.oldest_of(owner)
        {
            map.take(&oldest);
        }
        if map.entries.len() >= self.capacity {
            let expired: Vec<String> = map
                .entries
                .iter()
                .filter(|(_, e)| e.expires <= now)
                .map(|(k, _)| k.clone())
                .collect();
            for k in expired {
                map.take(&k);
            }
        }
        if map.entries.len() >= self.capacity {
            let busiest = map
                .owners
                .iter()
                .max_by_key(|(_, n)| **n)
                .map(|(o, _)| o.clone());
            if let Some(oldest) = busiest.and_then(|o| map.oldest_of(&o)) {
                map.take(&oldest);
            }
        }
        *map.owners.entry(owner.to_owned()).or_insert(0) += 1;
        map.entries.insert(
            key,
            Owned {
                value,
                owner: owner.to_owned(),
                expires: now + ttl,
            },
        );
    }

    pub(crate) fn get(&self, key: &str) -> Option<V> {
        let map = self.lock();
        map.entries
            .get(key)
            .filter(|e| e.expires > Instant::now())
            .map(|e| e.value.clone())
    }

    pub(crate) fn remove(&self, key: &str) -> Option<V> {
        self.lock()
            .take(key)
            .filter(|e| e.expires > Instant::now())
            .map(|e| e.value)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().entries.len()
    }
}

/// The pending authorization requests: those of anonymous browsers (owned by their peer address)
/// apart from those of signed-in sessions (owned by the session), so that anonymous traffic cannot
/// evict a signed-in user's request (SEC-17).
pub(crate) struct PendingRequests {
    anonymous: OwnedMap<Pending>,
    signed_in: OwnedMap<Pending>,
}

impl PendingRequests {
    /// Each table holds `capacity` requests, at most `per_owner` of one peer or session.
    pub(crate) fn new(capacity: usize, per_owner: usize) -> Self {
        Self {
            anonymous: OwnedMap::new(capacity, per_owner),
            signed_in: OwnedMap::new(capacity, per_owner),
        }
    }

    /// Stores the request of an anonymous browser at `peer`.
    pub(crate) fn insert_anonymous(&self, id: String, peer: &str, pending: Pending) {
        self.signed_in.remove(&id);
        self.anonymous.insert(id, peer, pending, PENDING_TTL);
    }

    /// Stores the request of the signed-in session `pending.session_id`.
    pub(crate) fn insert_signed_in(&self, id: String, pending: Pending) {
        self.anonymous.remove(&id);
        let owner = pending.session_id.clone();
        self.signed_in.insert(id, &owner, pending, PENDING_TTL);
    }

    /// The live request `id`.
    pub(crate) fn get(&self, id: &str) -> Option<Pending> {
        self.signed_in.get(id).or_else(|| self.anonymous.get(id))
    }

    /// Removes the request `id`; the request if it was live.
    pub(crate) fn remove(&self, id: &str) -> Option<Pending> {
        let signed_in = self.signed_in.remove(id);
        let anonymous = self.anonymous.remove(id);
        signed_in.or(anonymous)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owned_map_bounds_each_owner_and_evicts_the_busiest() {
        let map = OwnedMap::new(6, 3);
        map.insert("victim".into(), "v", 0, Duration::from_secs(60));
        for i in 0..100 {
            map.insert(format!("flood{i}"), "attacker", i, Duration::from_secs(60));
        }
        assert_eq!(map.len(), 4);
        assert_eq!(map.get("victim"), Some(0));
        assert_eq!(map.get("flood99"), Some(99));
        assert_eq!(map.get("flood0"), None);
        // Many owners: the map stays bounded and the busiest owner pays.
        for i in 0..20 {
            map.insert(
                format!("o{i}"),
                &format!("owner{i}"),
                i,
                Duration::from_secs(60),
            );
        }
        assert!(map.len() <= 6);
        assert_eq!(map.remove("o19"), Some(19));
        assert_eq!(map.remove("o19"), None);
    }

    #[test]
    fn is_random_id_accepts_only_random_ids() {
        assert!(is_random_id(&random_id().unwrap()));
        assert!(!is_random_id("short"));
        assert!(!is_random_id(&format!("{}=", "a".repeat(42))));
    }

    #[test]
    fn bounded_and_expiring() {
        let map = BoundedMap::new(3);
        for i in 0..10 {
            map.insert(format!("k{i}"), i, Duration::from_secs(60));
        }
        assert_eq!(map.len(), 3);
        assert_eq!(map.get("k9"), Some(9));
        assert_eq!(map.get("k0"), None);
        map.insert("gone".into(), 1, Duration::ZERO);
        assert_eq!(map.get("gone"), None);
        assert_eq!(map.remove("k9"), Some(9));
        assert_eq!(map.get("k9"), None);
    }

    #[test]
    fn random_ids_are_long_and_distinct() {
        let a = random_id().unwrap();
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_id().unwrap());
    }
}
