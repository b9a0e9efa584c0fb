//! Requests without the peer address share one rate-limit bucket: `AuthorizationServer::serve` passes
//! the address, and a router served without it is warned about once. Alone in its test binary: it
//! installs a `tracing` subscriber, and the warning is once per process.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::default_config;
use mcp_authz_server::{AuthorizationServer, MemoryStore, ServerConfig};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn warnings(&self) -> usize {
        String::from_utf8(self.0.lock().unwrap().clone())
            .unwrap()
            .lines()
            .filter(|l| l.contains("WARN") && l.contains("without its peer address"))
            .count()
    }
}

async fn server(base: &str) -> AuthorizationServer {
    let config = default_config(
        ServerConfig::builder_from_str(base)
            .unwrap()
            .allow_http_loopback(),
    )
    .build()
    .unwrap();
    AuthorizationServer::new(config, Arc::new(MemoryStore::new())).unwrap()
}

/// Three anonymous requests to the rate-limited authorization endpoint.
async fn authorize_requests(base: &str) {
    for _ in 0..3 {
        let response = reqwest::get(format!("{base}/authorize")).await.unwrap();
        assert_eq!(response.status(), 400);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn serve_passes_peer_addresses_and_a_router_without_them_is_warned_about_once() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    // `serve`: every request carries its peer address.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let with_peers = server(&base).await;
    tokio::spawn(async move { with_peers.serve(listener).await.unwrap() });
    authorize_requests(&base).await;
    assert_eq!(captured.warnings(), 0);

    // The router served bare: one warning, not one per request.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = server(&base).await.router();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    authorize_requests(&base).await;
    assert_eq!(captured.warnings(), 1);
}
