//! The background purge of expired records: authorization codes, grants and their refresh tokens,
//! revoked access-token ids, cached metadata documents, retired signing keys
//! ([`PurgeStore::purge_expired`]); and, for a server, audit events older than its retention
//! ([`AuditStore::purge_audit_events`]).

use std::sync::Arc;
use std::time::Duration;

use mcp_authz_store::{
    AttemptStore, AuditStore, BrowserStateStore, Clock, PurgeCounts, PurgeStore, Store,
};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

/// The shortest interval [`PurgeTask::spawn`] uses: a shorter one is raised to this.
pub const MIN_PURGE_INTERVAL: Duration = Duration::from_millis(10);

/// What the purge task has done so far, published after every pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PurgeProgress {
    /// Passes finished, successful or not.
    pub passes: u64,
    /// Passes whose store call failed (logged; retried at the next tick).
    pub failures: u64,
    /// What the last successful pass removed.
    pub last: Option<PurgeCounts>,
    /// Records removed by every pass so far.
    pub removed: u64,
    /// Audit events removed by every pass so far (past the server's audit retention).
    pub audit_events_removed: u64,
}

/// Audit events to purge with each pass: those older than `retention`.
struct AuditRetention {
    store: Arc<dyn AuditStore>,
    retention: Duration,
}

/// A running background purge: every `interval` it calls the store's
/// [`purge_expired`](PurgeStore::purge_expired) at the injected clock's `now`, logs what was removed
/// (`tracing`, target `mcp_authz_server::purge`) and goes on after a failure (logged as a warning;
/// the next tick tries again).
///
/// The first pass runs at once. A pass that takes longer than the interval delays the next one (no
/// burst of catch-up passes). The task stops when this handle is dropped or [`stop`](Self::stop)ped,
/// and with the Tokio runtime it runs on.
///
/// ```no_run
/// # async fn demo(server: mcp_authz_server::AuthorizationServer) {
/// let purge = server.spawn_purge(std::time::Duration::from_secs(60));
/// // ... serve ...
/// purge.stop().await;
/// # }
/// ```
#[derive(Debug)]
#[must_use = "the purge task stops when its handle is dropped"]
pub struct PurgeTask {
    /// `None` only once [`stop`](Self::stop) has taken it.
    handle: Option<JoinHandle<()>>,
    progress: watch::Receiver<PurgeProgress>,
}

impl PurgeTask {
    /// Spawns the purge of `store` on the current Tokio runtime, every `interval` (at least
    /// [`MIN_PURGE_INTERVAL`]), at `clock`'s time.
    ///
    /// # Panics
    /// Outside a Tokio runtime (as `tokio::spawn` does).
    pub fn spawn(store: Arc<dyn PurgeStore>, clock: Arc<dyn Clock>, interval: Duration) -> Self {
        Self::spawn_with(store, None, None, None, clock, interval)
    }

    /// [`spawn`](Self::spawn), also purging audit events past `audit`'s retention and expired
    /// browser sessions and requests of `browser`, and failure counters of `attempts` whose last
    /// failure is older than its window.
    fn spawn_with(
        store: Arc<dyn PurgeStore>,
        audit: Option<AuditRetention>,
        browser: Option<Arc<dyn BrowserStateStore>>,
        attempts: Option<(Arc<dyn AttemptStore>, Duration)>,
        clock: Arc<dyn Clock>,
        interval: Duration,
    ) -> Self {
        let (publish, progress) = watch::channel(PurgeProgress::default());
        let interval = interval.max(MIN_PURGE_INTERVAL);
        let handle = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                let now = clock.now();
                let outcome = store.purge_expired(now).await;
                if let Some(browser) = &browser {
                    match browser.purge_browser_states(now).await {
                        Ok(0) => {}
                        Ok(n) => {
                            tracing::debug!(browser_states = n, "purged expired browser state");
                        }
                        Err(error) => tracing::warn!(%error, "purge of browser state failed"),
                    }
                }
                if let Some((attempts, window)) = &attempts {
                    match attempts.purge_attempts(now.saturating_sub(*window)).await {
                        Ok(0) => {}
                        Ok(n) => tracing::debug!(login_attempts = n, "purged old login counters"),
                        Err(error) => tracing::warn!(%error, "purge of login counters failed"),
                    }
                }
                let audited = match &audit {
                    Some(audit) => Some(
                        audit
                            .store
                            .purge_audit_events(now.saturating_sub(audit.retention))
                            .await,
                    ),
                    None => None,
                };
                publish.send_modify(|p| {
                    if let Some(Ok(n)) = audited {
                        p.audit_events_removed = p.audit_events_removed.saturating_add(n);
                    }
                    if let Some(Err(_)) = audited {
                        p.failures += 1;
                    }
                    p.passes += 1;
                    match outcome {
                        Ok(counts) => {
                            p.last = Some(counts);
                            p.removed = p.removed.saturating_add(counts.total());
                        }
                        Err(_) => p.failures += 1,
                    }
                });
                match audited {
                    Some(Ok(n)) if n > 0 => {
                        tracing::info!(audit_events = n, "purged audit events past retention");
                    }
                    Some(Err(error)) => tracing::warn!(
                        %error,
                        retry_in = ?interval,
                        "purge of old audit events failed; retrying at the next tick"
                    ),
                    _ => {}
                }
                match outcome {
                    Ok(counts) if counts.total() > 0 => tracing::info!(
                        codes = counts.codes,
                        grants = counts.grants,
                        refresh_tokens = counts.refresh_tokens,
                        revoked_access_tokens = counts.revoked_access_tokens,
                        metadata_document_clients = counts.metadata_document_clients,
                        signing_keys = counts.signing_keys,
                        "purged expired records"
                    ),
                    Ok(_) => tracing::debug!("purge: nothing expired"),
                    Err(error) => tracing::warn!(
                        %error,
                        retry_in = ?interval,
                        "purge of expired records failed; retrying at the next tick"
                    ),
                }
            }
        });
        Self {
            handle: Some(handle),
            progress,
        }
    }

    /// A receiver of the task's [`PurgeProgress`], updated after every pass (for health checks and
    /// tests: `progress().wait_for(|p| p.passes >= n)`).
    pub fn progress(&self) -> watch::Receiver<PurgeProgress> {
        self.progress.clone()
    }

    /// Stops the task and waits until it has stopped (a pass in progress is abandoned; each store
    /// deletion is atomic on its own, so nothing is left half done).
    pub async fn stop(mut self) {
        if let Some(handle) = self.handle.take() {
            handle.abort();
            // `Err(cancelled)` is the expected outcome.
            let _ = handle.await;
        }
    }
}

impl Drop for PurgeTask {
    fn drop(&mut self) {
        if let Some(handle) = &self.handle {
            handle.abort();
        }
    }
}

/// What the purge needs from a server, and nothing else: its store, its clock and its audit
/// retention.
#[derive(Clone)]
pub(crate) struct Purger {
    store: Arc<dyn Store>,
    browser: Arc<dyn BrowserStateStore>,
    /// Shared login failure counters and how long they are kept after their last failure.
    attempts: Option<(Arc<dyn AttemptStore>, Duration)>,
    clock: Arc<dyn Clock>,
    audit_retention: Duration,
}

impl Purger {
    /// The purge of `store`, `browser` and `attempts` at `clock`'s time, audit events kept for
    /// `audit_retention`.
    pub(crate) fn new(
        store: Arc<dyn Store>,
        browser: Arc<dyn BrowserStateStore>,
        attempts: Option<(Arc<dyn AttemptStore>, Duration)>,
        clock: Arc<dyn Clock>,
        audit_retention: Duration,
    ) -> Self {
        Self {
            store,
            browser,
            attempts,
            clock,
            audit_retention,
        }
    }

    /// Spawns the purge every `interval`; see [`PurgeTask::spawn`].
    pub(crate) fn spawn(&self, interval: Duration) -> PurgeTask {
        let audit = AuditRetention {
            store: self.store.clone(),
            retention: self.audit_retention,
        };
        PurgeTask::spawn_with(
            self.store.clone(),
            Some(audit),
            Some(self.browser.clone()),
            self.attempts.clone(),
            self.clock.clone(),
            interval,
        )
    }
}
