//! MCP sessions bound to the principal that created them (REQUIREMENTS SEC-17).
//!
//! An MCP streamable-HTTP server names a session in the `Mcp-Session-Id` response header and
//! accepts any request that carries the id afterwards, whoever sends it. [`SessionTable`] remembers,
//! for each id the protected service handed out, the (issuer, subject, client) of the verified token
//! it was handed to; the layer refuses a request that carries the id with another principal's token,
//! or an id it does not know, with 404 (what MCP answers for an unknown session, so a client starts
//! a new one).
//!
//! Memory is bounded: at most [`MAX_SESSIONS`] ids in all and [`MAX_SESSIONS_PER_PRINCIPAL`] per
//! principal, and an id unused for [`SESSION_IDLE_TIMEOUT`] is forgotten. When a bound is reached
//! the least recently used id (of that principal, or of all) is evicted, one at a time. An id the
//! table drops is reported to the layer, which ends that session at the protected service (an MCP
//! `DELETE`), so the service's own session state is bounded by the same numbers: without that, a
//! principal creating sessions in a loop would leave the service holding every one of them until its
//! own idle timeout.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderName, HeaderValue, Response, StatusCode};
use http_body_util::Full;

use crate::VerifiedClaims;

/// The MCP session header (streamable HTTP transport).
pub(crate) const MCP_SESSION_ID: HeaderName = HeaderName::from_static("mcp-session-id");

/// The most session ids remembered in all: 10 000.
pub(crate) const MAX_SESSIONS: usize = 10_000;

/// The most session ids remembered per principal: 64.
pub(crate) const MAX_SESSIONS_PER_PRINCIPAL: usize = 64;

/// A session id unused this long is forgotten (its next request gets 404): one hour.
pub(crate) const SESSION_IDLE_TIMEOUT: Duration = Duration::from_secs(3600);

/// Who a session belongs to: the issuer, subject and client of the token that created it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Principal {
    issuer: Option<String>,
    subject: Option<String>,
    client: Option<String>,
}

impl Principal {
    /// The principal of a verified token.
    pub(crate) fn of(claims: &VerifiedClaims) -> Self {
        Self {
            issuer: claims.issuer().map(|i| i.as_str().to_owned()),
            subject: claims.subject().map(str::to_owned),
            client: claims.client_id().map(|c| c.as_str().to_owned()),
        }
    }
}

/// What the table says about a presented session id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Standing {
    /// Bound to this principal.
    Owner,
    /// Bound to another principal.
    Other,
    /// Not bound (never handed out through the layer, evicted, or idle too long).
    Unknown,
}

#[derive(Debug)]
struct Entry {
    principal: Arc<Principal>,
    last_used: Instant,
    tick: u64,
}

#[derive(Debug, Default)]
struct Table {
    sessions: HashMap<String, Entry>,
    /// Least recently used first: tick -> session id.
    order: BTreeMap<u64, String>,
    /// Per principal, least recently used first.
    per_principal: HashMap<Arc<Principal>, BTreeMap<u64, String>>,
    next_tick: u64,
}

impl Table {
    fn tick(&mut self) -> u64 {
        self.next_tick = self.next_tick.wrapping_add(1);
        self.next_tick
    }

    fn remove(&mut self, id: &str) {
        let Some(entry) = self.sessions.remove(id) else {
            return;
        };
        self.order.remove(&entry.tick);
        if let Some(own) = self.per_principal.get_mut(&entry.principal) {
            own.remove(&entry.tick);
            if own.is_empty() {
                self.per_principal.remove(&entry.principal);
            }
        }
    }

    fn touch(&mut self, id: &str, now: Instant) {
        let tick = self.tick();
        let Some(entry) = self.sessions.get_mut(id) else {
            return;
        };
        let old = std::mem::replace(&mut entry.tick, tick);
        entry.last_used = now;
        let principal = Arc::clone(&entry.principal);
        self.order.remove(&old);
        self.order.insert(tick, id.to_owned());
        if let Some(own) = self.per_principal.get_mut(&principal) {
            own.remove(&old);
            own.insert(tick, id.to_owned());
        }
    }

    /// Forgets the least recently used id if it has been idle too long; returns it.
    fn expire_one(&mut self, now: Instant) -> Option<String> {
        let oldest = self.order.values().next().cloned()?;
        if self
            .sessions
            .get(&oldest)
            .is_some_and(|e| now.saturating_duration_since(e.last_used) >= SESSION_IDLE_TIMEOUT)
        {
            self.remove(&oldest);
            Some(oldest)
        } else {
            None
        }
    }
}

/// The session ids handed out through one layer and their principals. Shared by the layer's clones.
#[derive(Debug, Default)]
pub(crate) struct SessionTable {
    table: Mutex<Table>,
}

impl SessionTable {
    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        // A panic elsewhere leaves the maps consistent (every update is a few inserts/removes).
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `id` belongs to `principal`; a use by its owner counts as activity.
    pub(crate) fn check(&self, id: &str, principal: &Principal, now: Instant) -> Standing {
        let mut table = self.lock();
        let Some(entry) = table.sessions.get(id) else {
            return Standing::Unknown;
        };
        if now.saturating_duration_since(entry.last_used) >= SESSION_IDLE_TIMEOUT {
            table.remove(id);
            return Standing::Unknown;
        }
        if *entry.principal != *principal {
            return Standing::Other;
        }
        table.touch(id, now);
        Standing::Owner
    }

    /// Binds `id` to `principal` (the first response naming it). An id bound to another principal
    /// keeps its owner. Returns the ids dropped to make room or for idleness (at most three), whose
    /// sessions the caller ends at the service.
    #[must_use = "the dropped sessions must be ended at the service"]
    pub(crate) fn bind(&self, id: &str, principal: &Principal, now: Instant) -> Vec<String> {
        let mut table = self.lock();
        let mut dropped: Vec<String> = table.expire_one(now).into_iter().collect();
        if let Some(entry) = table.sessions.get(id) {
            if *entry.principal == *principal {
                table.touch(id, now);
            }
            return dropped;
        }
        let principal = match table.per_principal.get_key_value(principal) {
            Some((shared, _)) => Arc::clone(shared),
            None => Arc::new(principal.clone()),
        };
        // Make room, one eviction at a time: the principal's own oldest, then the oldest of all.
        let own_oldest = table
            .per_principal
            .get(&principal)
            .filter(|own| own.len() >= MAX_SESSIONS_PER_PRINCIPAL)
            .and_then(|own| own.values().next().cloned());
        if let Some(oldest) = own_oldest {
            table.remove(&oldest);
            dropped.push(oldest);
        }
        if table.sessions.len() >= MAX_SESSIONS
            && let Some(oldest) = table.order.values().next().cloned()
        {
            table.remove(&oldest);
            dropped.push(oldest);
        }
        let tick = table.tick();
        table.order.insert(tick, id.to_owned());
        table
            .per_principal
            .entry(Arc::clone(&principal))
            .or_default()
            .insert(tick, id.to_owned());
        table.sessions.insert(
            id.to_owned(),
            Entry {
                principal,
                last_used: now,
                tick,
            },
        );
        dropped
    }

    /// Forgets `id` (its owner ended the session).
    pub(crate) fn forget(&self, id: &str) {
        self.lock().remove(id);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().sessions.len()
    }
}

/// The 404 for a session id the principal may not use.
pub(crate) fn not_found() -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(
        b"{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32001,\"message\":\"Session not found\"}}",
    )));
    *response.status_mut() = StatusCode::NOT_FOUND;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn who(subject: &str) -> Principal {
        Principal {
            issuer: Some("https://as.example".into()),
            subject: Some(subject.into()),
            client: Some("app".into()),
        }
    }

    #[test]
    fn a_session_belongs_to_its_creator_only() {
        let table = SessionTable::default();
        let now = Instant::now();
        let _ = table.bind("s1", &who("alice"), now);
        assert_eq!(table.check("s1", &who("alice"), now), Standing::Owner);
        assert_eq!(table.check("s1", &who("bob"), now), Standing::Other);
        assert_eq!(table.check("s2", &who("alice"), now), Standing::Unknown);
        // Bob cannot take it over by getting the id into a response of his.
        let _ = table.bind("s1", &who("bob"), now);
        assert_eq!(table.check("s1", &who("bob"), now), Standing::Other);
        let other_client = Principal {
            client: Some("evil".into()),
            ..who("alice")
        };
        assert_eq!(table.check("s1", &other_client, now), Standing::Other);
        table.forget("s1");
        assert_eq!(table.check("s1", &who("alice"), now), Standing::Unknown);
    }

    #[test]
    fn idle_sessions_are_forgotten() {
        let table = SessionTable::default();
        let start = Instant::now();
        let _ = table.bind("s1", &who("alice"), start);
        let later = start + SESSION_IDLE_TIMEOUT - Duration::from_secs(1);
        assert_eq!(table.check("s1", &who("alice"), later), Standing::Owner);
        // Activity restarted the clock.
        let still = later + SESSION_IDLE_TIMEOUT - Duration::from_secs(1);
        assert_eq!(table.check("s1", &who("alice"), still), Standing::Owner);
        let gone = still + SESSION_IDLE_TIMEOUT;
        assert_eq!(table.check("s1", &who("alice"), gone), Standing::Unknown);
        assert_eq!(table.len(), 0);
    }

    #[test]
    fn one_principal_cannot_fill_the_table() {
        let table = SessionTable::default();
        let now = Instant::now();
        let _ = table.bind("alice-1", &who("alice"), now);
        let mut dropped = Vec::new();
        for i in 0..1000 {
            dropped.extend(table.bind(&format!("mallory-{i}"), &who("mallory"), now));
        }
        // Every id evicted is reported, oldest first, so the layer can end those sessions.
        let expected: Vec<String> = (0..1000 - MAX_SESSIONS_PER_PRINCIPAL)
            .map(|i| format!("mallory-{i}"))
            .collect();
        assert_eq!(dropped, expected);
        assert_eq!(table.len(), 1 + MAX_SESSIONS_PER_PRINCIPAL);
        assert_eq!(table.check("alice-1", &who("alice"), now), Standing::Owner);
        // Mallory's least recently used went first.
        assert_eq!(
            table.check("mallory-0", &who("mallory"), now),
            Standing::Unknown
        );
        assert_eq!(
            table.check("mallory-999", &who("mallory"), now),
            Standing::Owner
        );
    }

    #[test]
    fn the_table_is_bounded_and_evicts_the_least_recently_used() {
        let table = SessionTable::default();
        let now = Instant::now();
        for i in 0..MAX_SESSIONS + 10 {
            let _ = table.bind(&format!("s{i}"), &who(&format!("user-{i}")), now);
            if i == 5 {
                // s0 is used again, so s1 is the oldest now.
                assert_eq!(table.check("s0", &who("user-0"), now), Standing::Owner);
            }
        }
        assert_eq!(table.len(), MAX_SESSIONS);
        assert_eq!(table.check("s0", &who("user-0"), now), Standing::Unknown);
        assert_eq!(table.check("s1", &who("user-1"), now), Standing::Unknown);
        let last = MAX_SESSIONS + 9;
        assert_eq!(
            table.check(&format!("s{last}"), &who(&format!("user-{last}")), now),
            Standing::Owner
        );
    }
}
