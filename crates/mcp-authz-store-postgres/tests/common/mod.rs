//! Test support: the local PostgreSQL, one fresh schema per test.
//!
//! The database URL comes from `MCP_AUTHZ_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`). If it cannot be reached, tests **fail** with a clear
//! message when `CI=true`; otherwise [`database`] prints a loud skip notice and returns `None`.
#![allow(dead_code, unreachable_pub)]

use std::io::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mcp_authz_store_postgres::{PostgresStore, PostgresStoreBuilder};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Executor, PgPool};

/// Every test schema starts with this prefix, followed by the creation time in seconds.
const PREFIX: &str = "mcp_authz_pg_test_";

/// The URL of the test database.
pub fn url() -> String {
    std::env::var("MCP_AUTHZ_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// An administrative pool on the test database, or `None` (after a loud notice) when it is
/// unreachable outside CI. In CI an unreachable database fails the test.
pub async fn database() -> Option<PgPool> {
    let url = url();
    let connected = PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(5))
        .connect(&url)
        .await;
    match connected {
        Ok(pool) => Some(pool),
        Err(err) if in_ci() => panic!(
            "CI=true but the test PostgreSQL at {url} is unreachable ({err}); \
             start it or set MCP_AUTHZ_TEST_POSTGRES_URL"
        ),
        Err(err) => {
            // Written to the process's stderr directly: the test harness captures `eprintln!` of
            // passing tests, and a skip must be visible.
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED: PostgreSQL at {url} is unreachable ({err}).\n\
                 *** Set MCP_AUTHZ_TEST_POSTGRES_URL or start PostgreSQL; with CI=true this fails.\n"
            );
            None
        }
    }
}

/// A fresh, uniquely named, empty schema. Test schemas left behind by earlier runs (the kit cannot drop
/// its schemas: the store is moved into the kit test) are dropped on the way, best effort: those of
/// test processes that are gone, and any older than an hour.
pub async fn fresh_schema(admin: &PgPool) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let stale: Vec<(String,)> = sqlx::query_as(
        "SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname::text, $1)",
    )
    .bind(PREFIX)
    .fetch_all(admin)
    .await
    .unwrap_or_default();
    for (name,) in stale {
        let mut parts = name.strip_prefix(PREFIX).unwrap_or_default().split('_');
        let created = parts.next().and_then(|secs| secs.parse::<u64>().ok());
        let pid = parts.next().and_then(|pid| pid.parse::<u32>().ok());
        let process_gone = pid.is_some_and(|pid| {
            pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists()
        });
        if process_gone || created.is_some_and(|t| t + 3_600 < now) {
            let _ = admin
                .execute(format!("DROP SCHEMA IF EXISTS {name} CASCADE").as_str())
                .await;
        }
    }
    let name = format!(
        "{PREFIX}{now}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    admin
        .execute(format!("CREATE SCHEMA {name}").as_str())
        .await
        .expect("create test schema");
    name
}

/// Drops a test schema, best effort.
pub async fn drop_schema(admin: &PgPool, schema: &str) {
    let _ = admin
        .execute(format!("DROP SCHEMA IF EXISTS {schema} CASCADE").as_str())
        .await;
}

/// A builder on the test database, in `schema`, with a pool large enough for the race tests.
pub fn builder(schema: &str) -> PostgresStoreBuilder {
    PostgresStoreBuilder::new(&url())
        .expect("valid test URL")
        .schema(schema)
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(30))
}

/// A migrated store in its own fresh schema, for the kit (which cannot skip: an unreachable
/// database fails it, with the message above).
pub async fn kit_store() -> PostgresStore {
    let Some(admin) = database().await else {
        panic!(
            "the store test kit needs PostgreSQL at {} (see the SKIPPED notice above)",
            url()
        );
    };
    let schema = fresh_schema(&admin).await;
    admin.close().await;
    builder(&schema)
        .connect()
        .await
        .expect("connect and migrate")
}

/// A free TCP port on 127.0.0.1 with nothing listening (bound, then released).
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}
