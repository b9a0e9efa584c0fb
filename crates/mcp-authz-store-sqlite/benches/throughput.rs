//! Throughput of the two hot atomic operations on a database file in a temporary directory: spending
//! a code (with grant and first refresh token creation) and rotating a refresh token, with 1 and 16
//! concurrent tasks. Records and hashes are prepared outside the measurement; each measurement is
//! bounded in count ([`OPS`]) and time ([`TIME_LIMIT`]).
//!
//! Prints `sqlite/<operation>: N ops/s (concurrency C, M ops in S s)` lines.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use mcp_authz_metadata::{ClientId, RedirectUri, Scope};
use mcp_authz_store::{
    AuthorizationCode, CodeConsumption, CodeExchange, CodeStore, FamilyId, GrantStore,
    NewRefreshToken, NumericDate, Rotation, SecretHash, Subject,
};
use mcp_authz_store_sqlite::SqliteStore;

const NOW: NumericDate = NumericDate::from_secs(1_700_000_000);
/// Operations per measurement.
const OPS: usize = 20_000;
/// A measurement stops early after this long.
const TIME_LIMIT: Duration = Duration::from_secs(10);
const CONCURRENCY: [usize; 2] = [1, 16];

fn code(seed: &str, family: &str) -> AuthorizationCode {
    AuthorizationCode {
        hash: SecretHash::of(seed),
        client_id: ClientId::parse("bench-client").unwrap(),
        redirect_uri: RedirectUri::parse("http://127.0.0.1/callback").unwrap(),
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
            .parse()
            .unwrap(),
        resources: vec![],
        scope: Scope::parse("files:read tools:call").unwrap(),
        subject: Subject::parse("alice").unwrap(),
        family_id: FamilyId::parse(family).unwrap(),
        issued_at: NOW,
        expires_at: NOW.saturating_add(Duration::from_secs(60)),
        consumed_at: None,
    }
}

fn refresh(seed: &str) -> NewRefreshToken {
    NewRefreshToken {
        hash: SecretHash::of(seed),
        expires_at: NOW.saturating_add(Duration::from_secs(86_400)),
    }
}

fn exchange(refresh_seed: &str) -> CodeExchange {
    CodeExchange {
        grant_expires_at: NOW.saturating_add(Duration::from_secs(86_400)),
        refresh_token: Some(refresh(refresh_seed)),
    }
}

/// CPU time (user + system) of this process so far, from `/proc/self/stat` (Linux; zero elsewhere).
fn cpu_time() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th of them.
    let Some((_, rest)) = stat.rsplit_once(") ") else {
        return Duration::ZERO;
    };
    let ticks: u64 = rest
        .split(' ')
        .skip(11)
        .take(2)
        .filter_map(|t| t.parse::<u64>().ok())
        .sum();
    // USER_HZ is 100 on every Linux configuration in practice.
    Duration::from_millis(ticks * 10)
}

/// Prints one result line. `cpu` is the process CPU time spent meanwhile: on a shared machine the
/// wall-clock rate depends on other load, `ops / cpu` bounds what two idle cores would do.
fn report(operation: &str, concurrency: usize, ops: usize, elapsed: Duration, cpu: Duration) {
    let secs = elapsed.as_secs_f64();
    let cpu = cpu.as_secs_f64();
    println!(
        "sqlite/{operation}: {:.0} ops/s (concurrency {concurrency}, {ops} ops in {secs:.2} s; \
         cpu {cpu:.2} s, {:.0} ops per cpu-second)",
        ops as f64 / secs,
        ops as f64 / cpu.max(0.01)
    );
    // The machine-readable line `cargo xtask bench` collects into docs/performance.md.
    println!(
        "PERF|storage|SQLite `{operation}`, concurrency {concurrency}|{} ops/s ({} per CPU-second)|{}|cargo bench -p mcp-authz-store-sqlite",
        thousands(ops as f64 / secs),
        thousands(ops as f64 / cpu.max(0.01)),
        if operation == "rotate_refresh_token" && concurrency > 1 {
            ">= 5,000 ops/s"
        } else {
            ""
        }
    );
}

/// Spends `OPS` pre-inserted codes from `concurrency` tasks.
async fn consume_codes(store: Arc<SqliteStore>, concurrency: usize) {
    let per_task = OPS / concurrency;
    for i in 0..per_task * concurrency {
        store
            .insert_code(code(&format!("code-{i}"), &format!("fam-{i}")))
            .await
            .unwrap();
    }
    let (start, cpu) = (Instant::now(), cpu_time());
    let mut tasks = Vec::new();
    for t in 0..concurrency {
        let store = Arc::clone(&store);
        let work: Vec<(SecretHash, CodeExchange)> = (t * per_task..(t + 1) * per_task)
            .map(|i| {
                (
                    SecretHash::of(format!("code-{i}")),
                    exchange(&format!("r-{i}")),
                )
            })
            .collect();
        tasks.push(tokio::spawn(async move {
            let mut done = 0;
            for (hash, exchange) in work {
                if start.elapsed() > TIME_LIMIT {
                    break;
                }
                let outcome = store.consume_code(&hash, exchange, NOW).await.unwrap();
                assert!(matches!(outcome, CodeConsumption::Consumed { .. }));
                done += 1;
            }
            done
        }));
    }
    let mut ops = 0;
    for task in tasks {
        ops += task.await.unwrap();
    }
    report(
        "consume_code",
        concurrency,
        ops,
        start.elapsed(),
        cpu_time().saturating_sub(cpu),
    );
}

/// Rotates `OPS` refresh tokens: `concurrency` families, one task each, each walking its own chain.
async fn rotate_refresh_tokens(store: Arc<SqliteStore>, concurrency: usize) {
    let per_task = OPS / concurrency;
    let mut scope = None;
    for t in 0..concurrency {
        let seed = format!("fam-{t}-code");
        store
            .insert_code(code(&seed, &format!("fam-{t}")))
            .await
            .unwrap();
        let consumed = store
            .consume_code(&SecretHash::of(&seed), exchange(&format!("t-{t}-0")), NOW)
            .await
            .unwrap();
        let CodeConsumption::Consumed { grant, .. } = consumed else {
            panic!("setup: {consumed:?}");
        };
        scope = Some(grant.scope);
    }
    let scope = scope.unwrap();
    let (start, cpu) = (Instant::now(), cpu_time());
    let mut tasks = Vec::new();
    for t in 0..concurrency {
        let (store, scope) = (Arc::clone(&store), scope.clone());
        let next: Vec<NewRefreshToken> = (1..=per_task)
            .map(|n| refresh(&format!("t-{t}-{n}")))
            .collect();
        tasks.push(tokio::spawn(async move {
            let mut presented = SecretHash::of(format!("t-{t}-0"));
            let mut done = 0;
            for token in next {
                if start.elapsed() > TIME_LIMIT {
                    break;
                }
                let hash = token.hash;
                let outcome = store
                    .rotate_refresh_token(&presented, token, scope.clone(), NOW)
                    .await
                    .unwrap();
                assert!(matches!(outcome, Rotation::Rotated { .. }), "{outcome:?}");
                presented = hash;
                done += 1;
            }
            done
        }));
    }
    let mut ops = 0;
    for task in tasks {
        ops += task.await.unwrap();
    }
    report(
        "rotate_refresh_token",
        concurrency,
        ops,
        start.elapsed(),
        cpu_time().saturating_sub(cpu),
    );
}

fn main() {
    // `cargo bench` passes `--bench`; a name filter or `--list` from other tools is ignored.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        for concurrency in CONCURRENCY {
            let dir = tempfile::tempdir().unwrap();
            let store = Arc::new(
                SqliteStore::open(dir.path().join("codes.db"))
                    .await
                    .unwrap(),
            );
            consume_codes(store, concurrency).await;

            let dir = tempfile::tempdir().unwrap();
            let store = Arc::new(
                SqliteStore::open(dir.path().join("rotations.db"))
                    .await
                    .unwrap(),
            );
            rotate_refresh_tokens(store, concurrency).await;
        }
    });
}

/// Thousands separators, as the other tables of docs/performance.md: 12345 -> "12,345".
fn thousands(n: f64) -> String {
    let digits = format!("{:.0}", n.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
