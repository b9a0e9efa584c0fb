//! Bounds on outbound Client ID Metadata Document fetches (REQUIREMENTS SEC-12): per requesting peer,
//! per document host and overall, so that a request naming a URL cannot be turned into an unbounded
//! number of outbound requests.
//!
//! - Every failure of a URL is cached for [`FAILURE_TTL`]: the URL is not fetched again meanwhile.
//! - A host whose fetches failed at the network level (unreachable, timeout, TLS, resolving to no
//!   allowed address) [`HOST_FAILURE_LIMIT`] times within [`FAILURE_TTL`] is not contacted until the
//!   window ends. Answers that prove the host is up (a status, an invalid or oversized document) count
//!   against the URL only: otherwise anyone could shut a legitimate document host out by naming a few
//!   missing paths on it.
//! - Each peer may start [`PEER_FETCHES`] fetches; at most [`MAX_CONCURRENT_FETCHES`] run at once and
//!   further ones are refused, not queued.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::cimd_error::CimdError;
use crate::rate_limit::{RateLimit, RateLimiter};
use crate::session::BoundedMap;

/// How long a failed document URL is answered from the failure cache without fetching again.
pub(crate) const FAILURE_TTL: Duration = Duration::from_secs(60);
/// A host with this many failed fetches within [`FAILURE_TTL`] is not fetched from until the window ends.
pub(crate) const HOST_FAILURE_LIMIT: u32 = 5;
/// Fetches started on behalf of one peer: burst 10, then one every 2 s.
pub(crate) const PEER_FETCHES: RateLimit = RateLimit::per_minute(30, 10);
/// Fetches in flight at once, over all peers and hosts; further ones are refused, not queued.
pub(crate) const MAX_CONCURRENT_FETCHES: usize = 8;
/// The most URLs, hosts and peers each table remembers.
pub(crate) const TABLE_CAPACITY: usize = 4096;

/// The longest piece of attacker-influenced text (a client id, an error) written to a log line.
const MAX_LOGGED: usize = 200;

/// `text` made safe for a log line: at most [`MAX_LOGGED`] characters, control and non-ASCII
/// characters escaped, and a marker when it was cut.
pub(crate) fn loggable(text: &str) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == MAX_LOGGED {
            out.push_str("…[truncated]");
            break;
        }
        out.extend(c.escape_default());
    }
    out
}

/// Failures of one host within a window.
#[derive(Debug, Clone, Copy)]
struct HostFailures {
    count: u32,
    until: Instant,
}

/// The budget every outbound fetch must pass (see the module documentation).
pub(crate) struct FetchBudget {
    failed_urls: BoundedMap<CimdError>,
    failed_hosts: BoundedMap<HostFailures>,
    peers: RateLimiter,
    in_flight: Arc<Semaphore>,
    started: AtomicU64,
}

impl std::fmt::Debug for FetchBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FetchBudget")
            .field("started", &self.started.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl FetchBudget {
    pub(crate) fn new() -> Self {
        Self {
            failed_urls: BoundedMap::new(TABLE_CAPACITY),
            failed_hosts: BoundedMap::new(TABLE_CAPACITY),
            peers: RateLimiter::new(PEER_FETCHES, TABLE_CAPACITY),
            in_flight: Arc::new(Semaphore::new(MAX_CONCURRENT_FETCHES)),
            started: AtomicU64::new(0),
        }
    }

    /// Admits one fetch of `url` (on `host`) for `peer`, or says why not without fetching: the URL or
    /// the host failed recently, or a budget is spent. Keep the permit until the fetch ends.
    pub(crate) fn admit(
        &self,
        url: &str,
        host: &str,
        peer: &str,
    ) -> Result<OwnedSemaphorePermit, CimdError> {
        if let Some(error) = self.failed_urls.get(url) {
            return Err(CimdError::RecentlyFailed(Box::new(error)));
        }
        if self
            .failed_hosts
            .get(host)
            .is_some_and(|f| f.count >= HOST_FAILURE_LIMIT)
        {
            return Err(CimdError::Throttled);
        }
        let permit = self
            .in_flight
            .clone()
            .try_acquire_owned()
            .map_err(|_| CimdError::Throttled)?;
        self.peers.check(peer).map_err(|_| CimdError::Throttled)?;
        self.started.fetch_add(1, Ordering::Relaxed);
        Ok(permit)
    }

    /// Records a failed fetch of `url` on `host`.
    pub(crate) fn failed(&self, url: &str, host: &str, error: &CimdError) {
        self.failed_urls
            .insert(url.to_owned(), error.clone(), FAILURE_TTL);
        if !error.is_host_failure() {
            return;
        }
        let now = Instant::now();
        let failures = match self.failed_hosts.get(host) {
            Some(f) if f.until > now => HostFailures {
                count: f.count.saturating_add(1),
                until: f.until,
            },
            _ => HostFailures {
                count: 1,
                until: now + FAILURE_TTL,
            },
        };
        let ttl = failures.until.saturating_duration_since(now);
        self.failed_hosts.insert(host.to_owned(), failures, ttl);
    }

    /// Records a successful fetch of `url`: a cached failure of it is forgotten.
    pub(crate) fn succeeded(&self, url: &str) {
        self.failed_urls.remove(url);
    }

    /// Fetches started so far.
    pub(crate) fn started(&self) -> u64 {
        self.started.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_authz_token::fetch::{FetchError, TransportError};

    #[test]
    fn log_text_is_bounded_and_escaped() {
        let text = format!("a\nb\u{1b}[31m{}", "x".repeat(1000));
        let logged = loggable(&text);
        assert!(!logged.contains('\n') && !logged.contains('\u{1b}'));
        assert!(logged.starts_with("a\\nb\\u{1b}[31m"));
        assert!(logged.len() < 300, "{}", logged.len());
        assert_eq!(
            loggable("https://a.example/c.json"),
            "https://a.example/c.json"
        );
    }

    #[test]
    fn failures_are_cached_per_url_and_per_host() {
        let budget = FetchBudget::new();
        let error = CimdError::Fetch(FetchError::Transport(TransportError::Connect(
            "refused".into(),
        )));
        assert!(budget.admit("https://h/a", "h", "p1").is_ok());
        budget.failed("https://h/a", "h", &error);
        assert!(matches!(
            budget.admit("https://h/a", "h", "p2"),
            Err(CimdError::RecentlyFailed(_))
        ));
        // Answers from a live host count against the URL only.
        for i in 0..10 {
            budget.failed(
                &format!("https://up/{i}"),
                "up",
                &CimdError::Fetch(FetchError::Status {
                    url: format!("https://up/{i}"),
                    status: 404,
                }),
            );
        }
        assert!(budget.admit("https://up/new", "up", "p4").is_ok());
        for i in 1..HOST_FAILURE_LIMIT {
            budget.failed(&format!("https://h/{i}"), "h", &error);
        }
        assert_eq!(
            budget.admit("https://h/new", "h", "p3").unwrap_err(),
            CimdError::Throttled
        );
        assert!(budget.admit("https://other/a", "other", "p3").is_ok());
        assert_eq!(budget.started(), 3);
    }

    #[test]
    fn peers_and_concurrency_are_capped() {
        let budget = FetchBudget::new();
        let mut permits = Vec::new();
        for i in 0..MAX_CONCURRENT_FETCHES {
            permits.push(
                budget
                    .admit(
                        &format!("https://h{i}/a"),
                        &format!("h{i}"),
                        &format!("p{i}"),
                    )
                    .unwrap(),
            );
        }
        assert_eq!(
            budget.admit("https://x/a", "x", "px").unwrap_err(),
            CimdError::Throttled
        );
        permits.clear();
        let mut admitted = 0;
        for i in 0..100 {
            if budget
                .admit(&format!("https://y{i}/a"), &format!("y{i}"), "one-peer")
                .is_ok()
            {
                admitted += 1;
            }
        }
        assert_eq!(admitted, 10, "the peer's burst");
    }
}
