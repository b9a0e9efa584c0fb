//! PostgreSQL throughput of the two hot atomic operations — spending a code (with grant and first
//! refresh token creation) and rotating a refresh token — at concurrency 1 and 16, against the local
//! test database (`MCP_AUTHZ_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`) in
//! a schema of its own, dropped at the end. Bounded: at most `OPS` operations or `BUDGET` per run.
//!
//! Run with `cargo bench -p mcp-authz-store-postgres` (pool of 16 connections; `MCP_AUTHZ_BENCH_POOL`
//! overrides it). Prints one line per run:
//! `postgres/rotate_refresh_token: N ops/s (concurrency C, M ops in S s)`.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mcp_authz_metadata::{ClientId, RedirectUri, ResourceUri, Scope};
use mcp_authz_store::{
    AuthorizationCode, CodeConsumption, CodeExchange, CodeStore, FamilyId, GrantStore,
    NewRefreshToken, NumericDate, Rotation, SecretHash, Subject,
};
use mcp_authz_store_postgres::{PostgresStore, PostgresStoreBuilder};
use sqlx::Executor;

const NOW: NumericDate = NumericDate::from_secs(1_700_000_000);
/// The most operations of one run.
const OPS: u64 = 6_000;
/// The longest one run may take.
const BUDGET: Duration = Duration::from_secs(3);
/// Pool size; `MCP_AUTHZ_BENCH_POOL` overrides it for experiments.
const POOL: u32 = 16;

fn code(n: u64) -> AuthorizationCode {
    AuthorizationCode {
        hash: SecretHash::of(format!("code-{n}")),
        client_id: ClientId::parse("bench-client").unwrap(),
        redirect_uri: RedirectUri::parse("http://127.0.0.1/callback").unwrap(),
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
            .parse()
            .unwrap(),
        resources: vec![ResourceUri::parse("https://mcp.example.com").unwrap()],
        scope: Scope::parse("files:read tools:call").unwrap(),
        subject: Subject::parse("alice").unwrap(),
        family_id: FamilyId::parse(&format!("fam-{n}")).unwrap(),
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

fn exchange(seed: &str) -> CodeExchange {
    CodeExchange {
        grant_expires_at: NOW.saturating_add(Duration::from_secs(86_400)),
        refresh_token: Some(refresh(seed)),
    }
}

fn report(name: &str, concurrency: usize, ops: u64, elapsed: Duration) {
    let secs = elapsed.as_secs_f64();
    println!(
        "postgres/{name}: {:.0} ops/s (concurrency {concurrency}, {ops} ops in {secs:.2} s)",
        ops as f64 / secs
    );
    // The machine-readable line `cargo xtask bench` collects into docs/performance.md.
    println!(
        "PERF|storage|PostgreSQL `{name}`, concurrency {concurrency}|{:.0} ops/s|{}|cargo bench -p mcp-authz-store-postgres",
        ops as f64 / secs,
        if name == "rotate_refresh_token" && concurrency > 1 {
            ">= 2,000 ops/s"
        } else {
            ""
        }
    );
}

/// Inserts codes `first..first + count` with 16 concurrent writers (not timed).
async fn insert_codes(store: &Arc<PostgresStore>, first: u64, count: u64) {
    let next = Arc::new(AtomicU64::new(first));
    let writers: Vec<_> = (0..16)
        .map(|_| {
            let (store, next) = (Arc::clone(store), Arc::clone(&next));
            tokio::spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= first + count {
                        break;
                    }
                    store.insert_code(code(n)).await.unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
}

async fn consume(store: &Arc<PostgresStore>, concurrency: usize, first: u64) {
    insert_codes(store, first, OPS).await;
    let next = Arc::new(AtomicU64::new(first));
    let start = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (store, next) = (Arc::clone(store), Arc::clone(&next));
            tokio::spawn(async move {
                let mut done = 0u64;
                while start.elapsed() < BUDGET {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= first + OPS {
                        break;
                    }
                    let outcome = store
                        .consume_code(
                            &SecretHash::of(format!("code-{n}")),
                            exchange(&format!("r-{n}")),
                            NOW,
                        )
                        .await
                        .unwrap();
                    assert!(matches!(outcome, CodeConsumption::Consumed { .. }));
                    done += 1;
                }
                done
            })
        })
        .collect();
    let mut ops = 0;
    for worker in workers {
        ops += worker.await.unwrap();
    }
    report("consume_code", concurrency, ops, start.elapsed());
}

async fn rotate(store: &Arc<PostgresStore>, concurrency: usize, first: u64) {
    // One grant per worker, each rotating its own chain.
    insert_codes(store, first, concurrency as u64).await;
    for w in 0..concurrency as u64 {
        let n = first + w;
        let outcome = store
            .consume_code(
                &SecretHash::of(format!("code-{n}")),
                exchange(&format!("chain-{n}-0")),
                NOW,
            )
            .await
            .unwrap();
        assert!(matches!(outcome, CodeConsumption::Consumed { .. }));
    }
    let count = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let workers: Vec<_> = (0..concurrency as u64)
        .map(|w| {
            let (store, count) = (Arc::clone(store), Arc::clone(&count));
            tokio::spawn(async move {
                let n = first + w;
                let scope = Scope::parse("files:read tools:call").unwrap();
                let mut step = 0u64;
                let mut done = 0u64;
                while start.elapsed() < BUDGET && count.fetch_add(1, Ordering::Relaxed) < OPS {
                    let current = SecretHash::of(format!("chain-{n}-{step}"));
                    step += 1;
                    let next = refresh(&format!("chain-{n}-{step}"));
                    let outcome = store
                        .rotate_refresh_token(&current, next, scope.clone(), NOW)
                        .await
                        .unwrap();
                    assert!(matches!(outcome, Rotation::Rotated { .. }), "{outcome:?}");
                    done += 1;
                }
                done
            })
        })
        .collect();
    let mut ops = 0;
    for worker in workers {
        ops += worker.await.unwrap();
    }
    report("rotate_refresh_token", concurrency, ops, start.elapsed());
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let url = std::env::var("MCP_AUTHZ_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        let admin = match sqlx::PgPool::connect(&url).await {
            Ok(pool) => pool,
            Err(err) if std::env::var("CI").is_ok_and(|v| v == "true") => {
                panic!("CI=true but PostgreSQL at {url} is unreachable: {err}")
            }
            Err(err) => {
                eprintln!("\n*** SKIPPED postgres benchmarks: {url} is unreachable ({err})\n");
                return;
            }
        };
        let schema = format!("mcp_authz_pg_bench_{}", std::process::id());
        admin
            .execute(
                format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}").as_str(),
            )
            .await
            .unwrap();
        let store = Arc::new(
            PostgresStoreBuilder::new(&url)
                .unwrap()
                .schema(&schema)
                .max_connections(
                    std::env::var("MCP_AUTHZ_BENCH_POOL")
                        .ok()
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(POOL),
                )
                .connect()
                .await
                .unwrap(),
        );
        let mut first = 0;
        for concurrency in [1, 16] {
            consume(&store, concurrency, first).await;
            first += OPS;
            rotate(&store, concurrency, first).await;
            first += concurrency as u64;
        }
        store.close().await;
        let _ = admin
            .execute(format!("DROP SCHEMA IF EXISTS {schema} CASCADE").as_str())
            .await;
    });
}
