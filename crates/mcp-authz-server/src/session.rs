//! Browser sessions and pending authorization requests: what they hold, their lifetimes, the random
//! ids that name them, and their stored form (REQUIREMENTS AS-11, SEC-4, SEC-8, SEC-17, SC-1).
//!
//! A session exists only once a user signed in: an anonymous browser is just a random id in its
//! cookie, with no record. Records live in a [`BrowserStateStore`](mcp_authz_store::BrowserStateStore)
//! (this process's memory, or PostgreSQL shared by every instance), keyed by the SHA-256 of the id;
//! the stored value is the JSON of [`StoredSession`] / [`StoredPending`], read back through the
//! same parsers as a request (a record that does not parse is treated as expired).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mcp_authz_metadata::{ClientId, RedirectUri, ResourceUri, Scope};
use mcp_authz_pkce::CodeChallenge;
use mcp_authz_store::{SecretHash, Subject};
use mcp_authz_token::State;
use serde::{Deserialize, Serialize};

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
    /// SHA-256 of the browser that started it (its cookie: an anonymous browser id, or the
    /// signed-in session id once the user logged in): only that browser may continue it.
    pub(crate) browser: SecretHash,
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

/// The stored form of a [`Session`].
#[derive(Debug, Serialize, Deserialize)]
struct StoredSession {
    subject: String,
    name: String,
    csrf: String,
}

impl Session {
    /// The JSON stored for this session.
    pub(crate) fn to_stored(&self) -> Vec<u8> {
        serde_json::to_vec(&StoredSession {
            subject: self.subject.as_str().to_owned(),
            name: self.name.clone(),
            csrf: self.csrf.clone(),
        })
        .unwrap_or_default()
    }

    /// The session stored as `bytes`, if they parse.
    pub(crate) fn from_stored(bytes: &[u8]) -> Option<Self> {
        let stored: StoredSession = serde_json::from_slice(bytes).ok()?;
        Some(Self {
            subject: Subject::parse(&stored.subject).ok()?,
            name: stored.name,
            csrf: stored.csrf,
        })
    }
}

/// The stored form of a [`Provenance`].
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum StoredProvenance {
    Operator,
    MetadataDocument { host: String },
    Dynamic,
}

/// The stored form of a [`Pending`] request: every field as the text it was parsed from.
#[derive(Debug, Serialize, Deserialize)]
struct StoredPending {
    browser: String,
    csrf: String,
    client_id: String,
    client_name: String,
    provenance: StoredProvenance,
    localhost_warning: bool,
    redirect_uri: String,
    state: Option<String>,
    code_challenge: String,
    resources: Vec<String>,
    scope: String,
}

impl Pending {
    /// The JSON stored for this request.
    pub(crate) fn to_stored(&self) -> Vec<u8> {
        let stored = StoredPending {
            browser: self.browser.to_string(),
            csrf: self.csrf.clone(),
            client_id: self.client_id.as_str().to_owned(),
            client_name: self.client_name.clone(),
            provenance: match &self.provenance {
                Provenance::Operator => StoredProvenance::Operator,
                Provenance::MetadataDocument { host } => {
                    StoredProvenance::MetadataDocument { host: host.clone() }
                }
                Provenance::Dynamic => StoredProvenance::Dynamic,
            },
            localhost_warning: self.localhost_warning,
            redirect_uri: self.redirect_uri.as_str().to_owned(),
            state: self.state.as_ref().map(|s| s.as_str().to_owned()),
            code_challenge: self.code_challenge.to_string(),
            resources: self
                .resources
                .iter()
                .map(|r| r.as_str().to_owned())
                .collect(),
            scope: self.scope.to_string(),
        };
        serde_json::to_vec(&stored).unwrap_or_default()
    }

    /// The request stored as `bytes`, if every field parses as it did in the request.
    pub(crate) fn from_stored(bytes: &[u8]) -> Option<Self> {
        let stored: StoredPending = serde_json::from_slice(bytes).ok()?;
        Some(Self {
            browser: stored.browser.parse().ok()?,
            csrf: stored.csrf,
            client_id: ClientId::parse(&stored.client_id).ok()?,
            client_name: stored.client_name,
            provenance: match stored.provenance {
                StoredProvenance::Operator => Provenance::Operator,
                StoredProvenance::MetadataDocument { host } => {
                    Provenance::MetadataDocument { host }
                }
                StoredProvenance::Dynamic => Provenance::Dynamic,
            },
            localhost_warning: stored.localhost_warning,
            redirect_uri: RedirectUri::parse(&stored.redirect_uri).ok()?,
            state: match stored.state {
                Some(state) => Some(State::parse(&state).ok()?),
                None => None,
            },
            code_challenge: stored.code_challenge.parse().ok()?,
            resources: stored
                .resources
                .iter()
                .map(|r| ResourceUri::parse(r).ok())
                .collect::<Option<Vec<_>>>()?,
            scope: Scope::parse(&stored.scope).ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
