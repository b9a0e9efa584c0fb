//! A committed rotation survives a crash: a child process rotating refresh tokens on a database file
//! is killed with SIGKILL mid-load; the database, reopened, holds every rotation the child had
//! acknowledged, and each family's rotation chain is consistent.
//!
//! The test re-executes its own test binary (`current_exe() --exact <this test> --nocapture`) with
//! [`CHILD_ENV`] naming the database: in that mode the same test function is the child.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use mcp_authz_metadata::{ClientId, RedirectUri, Scope};
use mcp_authz_store::{
    AuthorizationCode, CodeConsumption, CodeExchange, CodeStore, FamilyId, GrantStore,
    NewRefreshToken, NumericDate, RefreshStatus, Rotation, SecretHash, Subject,
};
use mcp_authz_store_sqlite::SqliteStore;

/// Set in the child's environment to the database path.
const CHILD_ENV: &str = "MCP_AUTHZ_SQLITE_CRASH_CHILD_DB";
/// This test's name, for `--exact`.
const TEST_NAME: &str = "committed_rotations_survive_sigkill";
/// Families rotated concurrently by the child, one task each.
const FAMILIES: usize = 4;
/// Acknowledged rotations the parent waits for before the kill.
const ACKS_BEFORE_KILL: usize = 600;
/// The child stops by itself after this long (the parent kills it much earlier).
const CHILD_LIMIT: Duration = Duration::from_secs(60);

const NOW: NumericDate = NumericDate::from_secs(1_700_000_000);

fn family(k: usize) -> FamilyId {
    FamilyId::parse(&format!("fam-{k}")).unwrap()
}

/// The refresh token number `n` of family `k`.
fn token(k: usize, n: u64) -> SecretHash {
    SecretHash::of(format!("refresh-{k}-{n}"))
}

fn new_token(k: usize, n: u64) -> NewRefreshToken {
    NewRefreshToken {
        hash: token(k, n),
        expires_at: NOW.saturating_add(Duration::from_secs(86_400)),
    }
}

fn scope() -> Scope {
    Scope::parse("files:read").unwrap()
}

#[test]
fn committed_rotations_survive_sigkill() {
    match std::env::var(CHILD_ENV) {
        Ok(path) => child(Path::new(&path)),
        Err(_) => parent(),
    }
}

/// The child: creates `FAMILIES` grants, then rotates each family's token in a loop, printing
/// `ACK <family> <n>` after each rotation is acknowledged (committed) by the store.
fn child(path: &Path) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = SqliteStore::open(path).await.unwrap();
        for k in 0..FAMILIES {
            let code = AuthorizationCode {
                hash: SecretHash::of(format!("code-{k}")),
                client_id: ClientId::parse("crash-client").unwrap(),
                redirect_uri: RedirectUri::parse("http://127.0.0.1/callback").unwrap(),
                code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
                    .parse()
                    .unwrap(),
                resources: vec![],
                scope: scope(),
                subject: Subject::parse("alice").unwrap(),
                family_id: family(k),
                issued_at: NOW,
                expires_at: NOW.saturating_add(Duration::from_secs(60)),
                consumed_at: None,
            };
            let hash = code.hash;
            store.insert_code(code).await.unwrap();
            let exchange = CodeExchange {
                grant_expires_at: NOW.saturating_add(Duration::from_secs(30 * 86_400)),
                refresh_token: Some(new_token(k, 0)),
            };
            let consumed = store.consume_code(&hash, exchange, NOW).await.unwrap();
            assert!(matches!(consumed, CodeConsumption::Consumed { .. }));
            ack(k, 0);
        }
        let started = Instant::now();
        let mut tasks = Vec::new();
        for k in 0..FAMILIES {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut n = 0;
                while started.elapsed() < CHILD_LIMIT {
                    let outcome = store
                        .rotate_refresh_token(&token(k, n), new_token(k, n + 1), scope(), NOW)
                        .await
                        .unwrap();
                    assert!(matches!(outcome, Rotation::Rotated { .. }), "{outcome:?}");
                    n += 1;
                    ack(k, n);
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
    });
}

/// Reports an acknowledged write on stdout, flushed at once.
fn ack(k: usize, n: u64) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "ACK {k} {n}").unwrap();
    out.flush().unwrap();
}

/// The parent: runs the child, kills it after `ACKS_BEFORE_KILL` acknowledgements, reopens the
/// database and checks every acknowledged rotation and each family's chain.
fn parent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.db");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines, received) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                break;
            }
        }
    });

    let deadline = Instant::now() + Duration::from_secs(120);
    let mut acked: BTreeMap<usize, u64> = BTreeMap::new();
    let mut count = 0;
    while count < ACKS_BEFORE_KILL {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = match received.recv_timeout(left) {
            Ok(line) => line,
            Err(e) => {
                let _ = child.kill();
                panic!("child stopped or stalled after {count} acknowledgements: {e}");
            }
        };
        let Some(rest) = line.strip_prefix("ACK ") else {
            continue;
        };
        let (k, n) = rest.split_once(' ').unwrap();
        let (k, n): (usize, u64) = (k.parse().unwrap(), n.parse().unwrap());
        let max = acked.entry(k).or_insert(0);
        *max = (*max).max(n);
        count += 1;
    }

    // SIGKILL while the child is still rotating.
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(
        status.signal(),
        Some(9),
        "the child must die by SIGKILL: {status:?}"
    );
    drop(received);
    reader.join().unwrap();
    assert_eq!(
        acked.len(),
        FAMILIES,
        "every family acknowledged: {acked:?}"
    );

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(verify(&path, &acked));
}

/// Every acknowledged token is there; each family is one chain `0 → 1 → … → tail` in which every
/// token but the tail is rotated, the tail (acknowledged or committed just before the kill) is
/// active, and the grant is not revoked.
async fn verify(path: &Path, acked: &BTreeMap<usize, u64>) {
    let store = SqliteStore::open(path).await.unwrap();
    for (&k, &last_acked) in acked {
        let grant = store.get_grant(&family(k)).await.unwrap().unwrap();
        assert_eq!(grant.revoked, None, "family {k} must not be revoked");
        let mut n = 0;
        loop {
            let lookup = store.find_refresh_token(&token(k, n), NOW).await.unwrap();
            let Some(lookup) = lookup else {
                assert!(
                    n > last_acked,
                    "acknowledged token {n} of family {k} (of {last_acked}) is missing after the crash"
                );
                panic!("family {k}: token {n} missing, but its predecessor was rotated");
            };
            assert_eq!(lookup.token.family_id, family(k));
            match lookup.status {
                RefreshStatus::Rotated => n += 1,
                RefreshStatus::Active => break,
                other => panic!("family {k}: token {n} is {other:?}"),
            }
        }
        // The tail is the last acknowledged token, or at most one rotation further (committed, killed
        // before it was printed).
        assert!(
            n == last_acked || n == last_acked + 1,
            "family {k}: chain ends at {n}, last acknowledged {last_acked}"
        );
        assert_eq!(
            store
                .find_refresh_token(&token(k, n + 1), NOW)
                .await
                .unwrap(),
            None,
            "family {k}: nothing beyond the active tail"
        );
    }

    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!(
        "sqlite://{}",
        path.display()
    ))
    .await
    .unwrap();
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(integrity, "ok");
    let active: Vec<(String, i64)> = sqlx::query_as(
        "SELECT family_id, COUNT(*) FROM refresh_tokens WHERE rotated_at IS NULL GROUP BY family_id",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(active.len(), FAMILIES);
    assert!(active.iter().all(|(_, count)| *count == 1), "{active:?}");
}
