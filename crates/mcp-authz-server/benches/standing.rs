//! The cost of `AuthorizationServer::is_access_token_revoked`, which a co-located resource server
//! (`mcp-authz serve`'s `/mcp`) pays on every request (REQUIREMENTS SEC-16): a deny-list read, then
//! the grant (tokens of a grant) or the client (client-credentials tokens), on the memory store and
//! on SQLite. Absent rows are looked up like present ones (indexed point reads), so the tokens here
//! need no grant of their own.
//!
//! ```text
//! cargo bench -p mcp-authz-server --bench standing
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use mcp_authz_metadata::{ClientId, ResourceUri, Scope};
use mcp_authz_server::{AuthorizationServer, ServerConfig};
use mcp_authz_store::{MemoryStore, Store};
use mcp_authz_store_sqlite::SqliteStore;

fn server(store: Arc<dyn Store>) -> AuthorizationServer {
    let config = ServerConfig::builder_from_str("http://127.0.0.1:8400")
        .unwrap()
        .allow_http_loopback()
        .resource(
            ResourceUri::parse("http://127.0.0.1:8400/mcp").unwrap(),
            Scope::parse("mcp:tools").unwrap(),
        )
        .build()
        .unwrap();
    AuthorizationServer::new(config, store).unwrap()
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sqlite: Arc<dyn Store> = Arc::new(
        runtime
            .block_on(SqliteStore::open(dir.path().join("bench.sqlite3")))
            .unwrap(),
    );
    let client = ClientId::parse("bench-client").unwrap();
    for (name, store) in [
        ("memory", Arc::new(MemoryStore::new()) as Arc<dyn Store>),
        ("sqlite", sqlite),
    ] {
        let server = server(store);
        c.bench_function(&format!("standing/{name}/grant_token"), |b| {
            b.iter(|| {
                runtime
                    .block_on(server.is_access_token_revoked("family-0123456789.jti-abc", &client))
                    .unwrap()
            });
        });
        c.bench_function(&format!("standing/{name}/client_credentials_token"), |b| {
            b.iter(|| {
                runtime
                    .block_on(server.is_access_token_revoked("jti-abcdef", &client))
                    .unwrap()
            });
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
