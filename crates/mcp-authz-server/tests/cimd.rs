//! Client ID Metadata Documents over real HTTPS on 127.0.0.1 (AS-10, AS-11 warning, SEC-6).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use mcp_authz_metadata::{ClientId, RedirectUri};
use mcp_authz_server::MetadataDocumentConfig;
use mcp_authz_token::AuthorizationCallback;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::rustls;

/// A tiny HTTPS server answering fixed responses by path, counting requests.
struct DocumentServer {
    port: u16,
    root_der: Vec<u8>,
    hits: Arc<AtomicUsize>,
}

impl DocumentServer {
    fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.port)
    }
}

fn ok(body: &str, cache: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncache-control: {cache}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

fn document(client_id: &str, redirect: &str) -> String {
    serde_json::json!({
        "client_id": client_id,
        "client_name": "CIMD App",
        "redirect_uris": [redirect],
        "token_endpoint_auth_method": "none",
    })
    .to_string()
}

async fn setup(allow_private: bool) -> (TestServer, DocumentServer) {
    let docs = start_documents().await;
    let config_docs = MetadataDocumentConfig {
        allow_private_addresses: allow_private,
        extra_root_certificates: vec![docs.root_der.clone()],
        ..MetadataDocumentConfig::default()
    };
    let server =
        TestServer::start_configured(move |b| default_config(b).metadata_documents(config_docs))
            .await;
    (server, docs)
}

/// Binds a port first, then serves documents that name that port.
async fn start_documents() -> DocumentServer {
    // Find a free port, release it and start the TLS server on it with the final routes.
    for _ in 0..10 {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = probe.local_addr().unwrap().port();
        drop(probe);
        let base = format!("https://localhost:{port}");
        let big = format!(
            "{{\"client_id\":\"{base}/big.json\",\"client_name\":\"{}\",\"redirect_uris\":[\"{REDIRECT}\"]}}",
            "x".repeat(70 * 1024)
        );
        let mut routes = HashMap::new();
        routes.insert(
            "/client.json".to_owned(),
            ok(
                &document(&format!("{base}/client.json"), REDIRECT),
                "public, max-age=600",
            ),
        );
        routes.insert(
            "/web.json".to_owned(),
            ok(
                &document(&format!("{base}/web.json"), "https://app.example.com/cb"),
                "max-age=5",
            ),
        );
        routes.insert(
            "/mismatch.json".to_owned(),
            ok(
                &document("https://evil.example/client.json", REDIRECT),
                "max-age=600",
            ),
        );
        routes.insert("/big.json".to_owned(), ok(&big, "max-age=600"));
        routes.insert(
            "/redirect.json".to_owned(),
            format!("HTTP/1.1 302 Found\r\nlocation: {base}/client.json\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"),
        );
        if let Ok(server) = start_on(port, routes).await {
            return server;
        }
    }
    panic!("no free port");
}

async fn start_on(port: u16, routes: HashMap<String, String>) -> Result<DocumentServer, ()> {
    // Reuse DocumentServer::start's machinery on a fixed port.
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_der = certified.cert.der().to_vec();
    let key_der = certified.key_pair.serialize_der();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![rustls::pki_types::CertificateDer::from(cert_der.clone())],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key_der.into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|_| ())?;
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let routes = routes.clone();
            let counter = counter.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let text = String::from_utf8_lossy(&request);
                let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let response = routes.get(&path).cloned().unwrap_or_else(|| {
                    "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                        .to_owned()
                });
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    Ok(DocumentServer {
        port,
        root_der: cert_der,
        hits,
    })
}

#[tokio::test]
async fn metadata_document_client_runs_the_full_flow_with_the_localhost_warning() {
    let (server, docs) = setup(true).await;
    server.create_user(USER, PASSWORD).await;
    let client = ClientId::parse(&docs.url("/client.json")).unwrap();
    let browser = server.browser();
    let authorize = Authorize::new(&client);
    let page = browser.get(authorize.url(&server)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("CIMD App"), "{html}");
    assert!(
        html.contains("localhost-warning"),
        "localhost-only CIMD clients get a warning"
    );
    let consent = login(&server, &browser, &html, USER, PASSWORD)
        .await
        .text()
        .await
        .unwrap();
    assert!(consent.contains("localhost-warning"));
    // Where the name comes from: the host serving the document, prominent, on both pages (#24).
    let provenance = format!(
        "id=\"provenance-document\">This application's name and addresses are published by \
         <strong>localhost:{}</strong>",
        docs.port
    );
    assert!(html.contains(&provenance), "{html}");
    assert!(consent.contains(&provenance), "{consent}");
    assert!(!consent.contains("provenance-dynamic"));
    let location = approve(&server, &browser, &consent).await;
    let AuthorizationCallback::Success(success) = callback(&location) else {
        panic!("{location}")
    };
    let (status, _, body) = server
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", success.code.secret()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", authorize.verifier.secret()),
            ("client_id", client.as_str()),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, claims) = jwt_parts(body["access_token"].as_str().unwrap());
    assert_eq!(claims["client_id"], client.as_str());
    // Cached per max-age=600: one fetch for the whole flow.
    assert_eq!(docs.hits.load(Ordering::SeqCst), 1);
    let stored = server.store.get_client(&client).await.unwrap().unwrap();
    let mcp_authz_store::ClientKind::MetadataDocument {
        fetched_at,
        expires_at,
    } = stored.kind
    else {
        panic!()
    };
    assert_eq!(expires_at.as_secs() - fetched_at.as_secs(), 600);
    // After expiry it is fetched again.
    server.clock.advance(std::time::Duration::from_secs(601));
    let again = Authorize::new(&client);
    browser.get(again.url(&server)).send().await.unwrap();
    assert_eq!(docs.hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn document_redirect_uris_govern_the_redirect_and_https_clients_get_no_warning() {
    let (server, docs) = setup(true).await;
    let client = ClientId::parse(&docs.url("/web.json")).unwrap();
    let mut authorize = Authorize::new(&client);
    authorize.request.redirect_uri =
        Some(RedirectUri::parse("https://app.example.com/cb").unwrap());
    let page = server
        .http
        .get(authorize.url(&server))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(!page.text().await.unwrap().contains("localhost-warning"));
    // A redirect URI outside the document: error page.
    let authorize = Authorize::new(&client);
    let page = server
        .http
        .get(authorize.url(&server))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 400);
    assert!(page.headers().get("location").is_none());
    // The cache floor (60 s) overrides a max-age of 5 s.
    let stored = server.store.get_client(&client).await.unwrap().unwrap();
    let mcp_authz_store::ClientKind::MetadataDocument {
        fetched_at,
        expires_at,
    } = stored.kind
    else {
        panic!()
    };
    assert_eq!(expires_at.as_secs() - fetched_at.as_secs(), 60);
}

#[tokio::test]
async fn invalid_oversized_and_redirecting_documents_are_refused() {
    let (server, docs) = setup(true).await;
    for path in [
        "/mismatch.json",
        "/big.json",
        "/redirect.json",
        "/missing.json",
    ] {
        let client = ClientId::parse(&docs.url(path)).unwrap();
        let response = server
            .http
            .get(Authorize::new(&client).url(&server))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{path}");
        assert!(response.headers().get("location").is_none(), "{path}");
        assert!(
            server.store.get_client(&client).await.unwrap().is_none(),
            "{path}"
        );
    }
    assert_eq!(
        docs.hits.load(Ordering::SeqCst),
        4,
        "the redirect was not followed"
    );
}

#[tokio::test]
async fn ssrf_guard_refuses_loopback_targets_by_default() {
    let (server, docs) = setup(false).await;
    for url in [
        docs.url("/client.json"),
        format!("https://127.0.0.1:{}/client.json", docs.port),
        format!("https://[::1]:{}/client.json", docs.port),
        "https://169.254.169.254/latest/meta-data.json".to_owned(),
        "https://10.0.0.1/client.json".to_owned(),
    ] {
        let client = ClientId::parse(&url).unwrap();
        let response = server
            .http
            .get(Authorize::new(&client).url(&server))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{url}");
        assert!(response.headers().get("location").is_none());
    }
    assert_eq!(
        docs.hits.load(Ordering::SeqCst),
        0,
        "no connection reached the loopback server"
    );
    // OB-1: each refusal is an audit event naming the client id (the URL) and the guard.
    let refused: Vec<(String, String)> = server
        .store
        .audit_events(&mcp_authz_store::AuditQuery::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == mcp_authz_store::AuditKind::FetchRefused)
        .map(|e| {
            assert_eq!(e.outcome, mcp_authz_store::AuditOutcome::Failure);
            (
                e.client_id.unwrap().as_str().to_owned(),
                e.reason.unwrap().as_str().to_owned(),
            )
        })
        .collect();
    for url in [
        "https://169.254.169.254/latest/meta-data.json",
        "https://10.0.0.1/client.json",
    ] {
        assert!(
            refused.iter().any(|(client, _)| client == url),
            "{url} in {refused:?}"
        );
    }
}
