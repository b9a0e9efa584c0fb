//! The background purge task on a real SQLite file: expired records go within a few ticks of the
//! injected clock passing their expiry, store failures are survived, the task stops when dropped.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use mcp_authz_metadata::{ClientId, RedirectUri, ResourceUri, Scope};
use mcp_authz_server::{
    AuthorizationServer, MIN_PURGE_INTERVAL, PurgeProgress, PurgeTask, ServerConfig,
};
use mcp_authz_store::{
    AuthorizationCode, Clock, CodeStore, FamilyId, ManualClock, NumericDate, PurgeCounts,
    PurgeStore, RevokedTokenStore, SecretHash, StoreError, Subject, TokenId,
};
use mcp_authz_store_sqlite::SqliteStore;
use tokio::sync::watch;

const T0: NumericDate = NumericDate::from_secs(1_700_000_000);
/// How many ticks a test waits at most for the passes it expects (a safety net, not a measure).
const MAX_TICKS: u32 = 3_000;

fn code(seed: &str, expires_at: NumericDate) -> AuthorizationCode {
    AuthorizationCode {
        hash: SecretHash::of(seed),
        client_id: ClientId::parse("client-a").unwrap(),
        redirect_uri: RedirectUri::parse("http://127.0.0.1:33418/callback").unwrap(),
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
            .parse()
            .unwrap(),
        resources: vec![ResourceUri::parse("https://mcp.example.com/mcp").unwrap()],
        scope: Scope::parse("tools:read").unwrap(),
        subject: Subject::parse("alice").unwrap(),
        family_id: FamilyId::parse(&format!("fam-{seed}")).unwrap(),
        issued_at: T0,
        expires_at,
        consumed_at: None,
    }
}

async fn sqlite(dir: &tempfile::TempDir) -> Arc<SqliteStore> {
    Arc::new(
        SqliteStore::open(dir.path().join("purge.db"))
            .await
            .unwrap(),
    )
}

/// Waits until the task has finished at least `passes` passes; panics after [`MAX_TICKS`] ticks.
async fn wait_passes(progress: &mut watch::Receiver<PurgeProgress>, passes: u64) -> PurgeProgress {
    let limit = MIN_PURGE_INTERVAL * MAX_TICKS;
    let reached = tokio::time::timeout(limit, progress.wait_for(|p| p.passes >= passes))
        .await
        .unwrap_or_else(|_| panic!("fewer than {passes} purge passes within {MAX_TICKS} ticks"))
        .expect("the purge task is running");
    *reached
}

/// Two more passes than now: the second of them started after this call, so it saw the store and
/// the clock as they are now.
async fn two_more_passes(progress: &mut watch::Receiver<PurgeProgress>) -> PurgeProgress {
    let now = progress.borrow().passes;
    wait_passes(progress, now + 2).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_task_removes_expired_records_at_the_servers_clock() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(&dir).await;
    let clock = Arc::new(ManualClock::new(T0));
    let config = ServerConfig::builder_from_str("http://127.0.0.1:1")
        .unwrap()
        .allow_http_loopback()
        .resource(
            ResourceUri::parse("https://mcp.example.com/mcp").unwrap(),
            Scope::parse("tools:read").unwrap(),
        )
        .clock(clock.clone())
        .build()
        .unwrap();
    let server = AuthorizationServer::new(config, store.clone()).unwrap();
    store
        .insert_code(code("short", T0.saturating_add(Duration::from_secs(60))))
        .await
        .unwrap();
    let jti = TokenId::parse("fam-x.jti-1").unwrap();
    store
        .revoke_access_token(&jti, T0.saturating_add(Duration::from_secs(600)))
        .await
        .unwrap();

    let task = server.spawn_purge(Duration::ZERO);
    let mut progress = task.progress();
    let seen = wait_passes(&mut progress, 2).await;
    assert_eq!((seen.failures, seen.removed), (0, 0), "{seen:?}");
    assert!(
        store
            .find_code(&SecretHash::of("short"))
            .await
            .unwrap()
            .is_some()
    );

    // The injected clock passes the code's expiry: a later pass removes it, and only it.
    clock.set(T0.saturating_add(Duration::from_secs(61)));
    let seen = two_more_passes(&mut progress).await;
    assert_eq!((seen.failures, seen.removed), (0, 1), "{seen:?}");
    assert_eq!(
        store.find_code(&SecretHash::of("short")).await.unwrap(),
        None
    );
    assert!(
        store
            .is_access_token_revoked(&jti, clock.now())
            .await
            .unwrap()
    );

    // Then the revoked access-token id's expiry.
    clock.set(T0.saturating_add(Duration::from_secs(600)));
    let seen = two_more_passes(&mut progress).await;
    assert_eq!((seen.failures, seen.removed), (0, 2), "{seen:?}");
    assert!(seen.last.is_some());
    task.stop().await;
}

/// A purge store over SQLite whose first `failures` calls fail as an outage would.
struct Failing {
    inner: Arc<SqliteStore>,
    failures: AtomicU32,
}

#[async_trait]
impl PurgeStore for Failing {
    async fn purge_expired(&self, now: NumericDate) -> Result<PurgeCounts, StoreError> {
        let left = self.failures.load(Ordering::SeqCst);
        if left > 0 {
            self.failures.store(left - 1, Ordering::SeqCst);
            return Err(StoreError::unavailable("switched off by the test"));
        }
        self.inner.purge_expired(now).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_task_survives_store_failures_and_stops_when_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(&dir).await;
    store
        .insert_code(code("old", T0.saturating_add(Duration::from_secs(60))))
        .await
        .unwrap();
    let clock = Arc::new(ManualClock::new(
        T0.saturating_add(Duration::from_secs(3_600)),
    ));
    let failing = Arc::new(Failing {
        inner: store.clone(),
        failures: AtomicU32::new(2),
    });
    let task = PurgeTask::spawn(failing, clock, MIN_PURGE_INTERVAL);
    let mut progress = task.progress();
    let seen = wait_passes(&mut progress, 3).await;
    assert_eq!(seen.failures, 2, "{seen:?}");
    assert_eq!(seen.removed, 1, "{seen:?}");
    assert_eq!(store.find_code(&SecretHash::of("old")).await.unwrap(), None);

    // Dropping the handle ends the task: its progress sender goes away.
    drop(task);
    let ended = tokio::time::timeout(MIN_PURGE_INTERVAL * MAX_TICKS, async {
        while progress.changed().await.is_ok() {}
    })
    .await;
    assert!(
        ended.is_ok(),
        "the purge task still runs after its handle was dropped"
    );
}

/// OB-1: audit events stay for the server's audit retention, then a purge pass removes them, and only
/// those older than the retention.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_task_removes_audit_events_past_the_retention() {
    use mcp_authz_server::{AuditEvent, AuditKind, AuditOutcome, AuditQuery};
    use mcp_authz_store::AuditStore;

    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(&dir).await;
    let clock = Arc::new(ManualClock::new(T0));
    let day = Duration::from_secs(86_400);
    let config = ServerConfig::builder_from_str("http://127.0.0.1:1")
        .unwrap()
        .allow_http_loopback()
        .resource(
            ResourceUri::parse("https://mcp.example.com/mcp").unwrap(),
            Scope::parse("tools:read").unwrap(),
        )
        .clock(clock.clone())
        .audit_retention(day * 7)
        .build()
        .unwrap();
    let server = AuthorizationServer::new(config, store.clone()).unwrap();
    let event = |at| AuditEvent::new(AuditKind::SignIn, AuditOutcome::Failure, at);
    server.record_audit_event(event(T0)).await;
    server
        .record_audit_event(event(T0.saturating_add(day * 2)))
        .await;

    let task = server.spawn_purge(Duration::ZERO);
    let mut progress = task.progress();
    let seen = wait_passes(&mut progress, 2).await;
    assert_eq!(seen.audit_events_removed, 0, "{seen:?}");

    // Eight days on: the first event is older than seven days, the second is not.
    clock.set(T0.saturating_add(day * 8));
    let seen = two_more_passes(&mut progress).await;
    assert_eq!(
        (seen.failures, seen.audit_events_removed),
        (0, 1),
        "{seen:?}"
    );
    let left = store.audit_events(&AuditQuery::default()).await.unwrap();
    assert_eq!(left, [event(T0.saturating_add(day * 2))]);
    task.stop().await;
}
