//! Browser sessions and pending authorization requests: opaque random ids in bounded, expiring
//! in-memory tables (REQUIREMENTS AS-11, SEC-4, SEC-8).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mcp_authz_metadata::{ClientId, RedirectUri, ResourceUri, Scope};
use mcp_authz_pkce::CodeChallenge;
use mcp_authz_store::Subject;
use mcp_authz_token::State;

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

/// A browser session: anonymous until login.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// The logged-in user.
    pub(crate) subject: Option<Subject>,
    /// The CSRF token of every form of this session (SEC-4).
    pub(crate) csrf: String,
}

/// A validated authorization request waiting for login and consent.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    /// The session that started it: only that browser may continue it.
    pub(crate) session_id: String,
    pub(crate) client_id: ClientId,
    pub(crate) client_name: String,
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

#[cfg(test)]
mod tests {
    use super::*;

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
