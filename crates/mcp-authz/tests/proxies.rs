//! `--trusted-proxy` (REQUIREMENTS SC-1): behind a trusted reverse proxy each client has its own
//! rate-limit bucket, found from `X-Forwarded-For` / `Forwarded`; from anywhere else those headers
//! are ignored, so a client cannot pick a fresh address per request to escape the limits.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::Serve;

/// `POST /register` as if forwarded for `chain` (an `X-Forwarded-For` value); the status.
async fn register_as(http: &reqwest::Client, base: &str, header: (&str, &str)) -> u16 {
    http.post(format!("{base}/register"))
        .header(header.0, header.1)
        .json(&serde_json::json!({
            "redirect_uris": ["http://127.0.0.1:9/callback"],
            "token_endpoint_auth_method": "none",
            "application_type": "native",
        }))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// One registration per address and minute: the second from the same client is refused.
const ONE_PER_MINUTE: &str = "1/min:1";

#[tokio::test(flavor = "multi_thread")]
async fn behind_a_trusted_proxy_each_client_has_its_own_limit() {
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(
        &dir.path().join("data"),
        &[
            "--trusted-proxy",
            "127.0.0.1",
            "--register-rate-limit",
            ONE_PER_MINUTE,
        ],
    );
    let http = reqwest::Client::new();
    let base = &serve.base;
    let xff = "x-forwarded-for";
    assert_eq!(register_as(&http, base, (xff, "198.51.100.1")).await, 201);
    assert_eq!(register_as(&http, base, (xff, "198.51.100.1")).await, 429);
    // Another client behind the same proxy is not throttled by the first.
    assert_eq!(register_as(&http, base, (xff, "198.51.100.2")).await, 201);
    // The attack: the first client writes an address of its choosing into the header; the proxy
    // appends the address it really came from, and that is what counts.
    assert_eq!(
        register_as(&http, base, (xff, "203.0.113.77, 198.51.100.1")).await,
        429
    );
    // RFC 7239 `Forwarded` is read too (and wins over `X-Forwarded-For`).
    assert_eq!(
        register_as(&http, base, ("forwarded", "for=\"[2001:db8::9]:4711\"")).await,
        201
    );
    assert_eq!(
        register_as(&http, base, ("forwarded", "for=\"[2001:db8::9]\"")).await,
        429
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn forwarded_headers_from_an_untrusted_peer_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    // Only 10.0.0.0/8 is a proxy: this test's requests (from 127.0.0.1) are not forwarded ones.
    let serve = Serve::start(
        &dir.path().join("data"),
        &[
            "--trusted-proxy",
            "10.0.0.0/8",
            "--register-rate-limit",
            ONE_PER_MINUTE,
        ],
    );
    let http = reqwest::Client::new();
    let base = &serve.base;
    let xff = "x-forwarded-for";
    assert_eq!(register_as(&http, base, (xff, "198.51.100.1")).await, 201);
    // A new address per request does not buy a new bucket.
    assert_eq!(register_as(&http, base, (xff, "198.51.100.2")).await, 429);
    assert_eq!(
        register_as(&http, base, ("forwarded", "for=198.51.100.3")).await,
        429
    );
}

#[test]
fn a_trusted_proxy_that_is_not_a_network_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_mcp-authz"))
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .args(["--trusted-proxy", "proxy.internal"])
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("is not an address or a network"), "{err}");
}
