//! `serve` on PostgreSQL while the database goes away and comes back (issue #18, REQUIREMENTS SC-2):
//! requests that need the database get 503 with `Retry-After` within a bounded time (never 500,
//! never a hang), `/readyz` says "not ready" without detail, what needs no database keeps working,
//! and the service recovers by itself with nothing committed lost.
//!
//! The database sits behind a [`CutProxy`] the test cuts two ways: `Down` (connections closed and
//! refused, as when PostgreSQL stops) and `Blackhole` (packets vanish, as when its host drops off the
//! network: only a client-side deadline ends a statement then).
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::pg::FreshDatabase;
use common::proxy::{CutProxy, Link};
use common::{ADMIN, Browser, Serve, oauth};
use mcp_authz_pkce::CodeVerifier;

/// No request may take longer than this during an outage (the store's acquire and statement
/// timeouts are 5 s each); a hang guard, not a performance figure.
const BOUNDED: Duration = Duration::from_secs(20);

/// How long the service may take to notice the database is back.
const RECOVERY: Duration = Duration::from_secs(30);

/// The status and `Retry-After` of a request, panicking past [`BOUNDED`].
async fn bounded(what: &str, request: reqwest::RequestBuilder) -> (u16, Option<String>, String) {
    let started = Instant::now();
    let response = tokio::time::timeout(BOUNDED, request.send())
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within {BOUNDED:?}"))
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.text().await.unwrap();
    assert!(started.elapsed() < BOUNDED, "{what}");
    (status, retry_after, body)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_outage_is_503_then_recovers_with_nothing_lost() {
    let Some(database) = FreshDatabase::create("outage").await else {
        return;
    };
    let name = database.name.clone();
    let proxy = CutProxy::start(database.server_addr()).await;
    let store_url = database.url_via(Some(proxy.addr));

    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(
        &dir.path().join("data"),
        &[
            "--store",
            store_url.as_str(),
            "--metrics-bind",
            "127.0.0.1:0",
        ],
    );
    let base = serve.base.clone();
    let http = reqwest::Client::new();

    // A user's grant, made while the database is up.
    let redirect = oauth::callback_listener().await;
    let client_id = oauth::register(&http, &base, &redirect).await;
    let verifier = CodeVerifier::generate().unwrap();
    let (callback, _) = Browser::new()
        .authorize(
            &oauth::authorization_url(&base, &client_id, &redirect, &verifier),
            ADMIN,
            &serve.admin_password(),
        )
        .await;
    let (status, tokens) = oauth::exchange(
        &http,
        &base,
        &client_id,
        &redirect,
        &oauth::code_of(&callback),
        &verifier,
    )
    .await
    .unwrap();
    assert_eq!(status, 200, "{tokens}");
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();
    let access_token = tokens["access_token"].as_str().unwrap().to_owned();
    // The JWKS is read (and cached) before the outage, like any resource server would have.
    assert_eq!(
        bounded("jwks", http.get(format!("{base}/jwks.json")))
            .await
            .0,
        200
    );

    // Load through the whole outage: a second grant of the same user refreshed back to back. A
    // refresh answered 200 rotated the token; any other answer must leave it usable.
    let verifier = CodeVerifier::generate().unwrap();
    let (callback, _) = Browser::new()
        .authorize(
            &oauth::authorization_url(&base, &client_id, &redirect, &verifier),
            ADMIN,
            &serve.admin_password(),
        )
        .await;
    let (status, second) = oauth::exchange(
        &http,
        &base,
        &client_id,
        &redirect,
        &oauth::code_of(&callback),
        &verifier,
    )
    .await
    .unwrap();
    assert_eq!(status, 200, "{second}");
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (stop, http, base, client_id) =
            (stop.clone(), http.clone(), base.clone(), client_id.clone());
        let mut current = second["refresh_token"].as_str().unwrap().to_owned();
        tokio::spawn(async move {
            let mut statuses: BTreeMap<u16, u32> = BTreeMap::new();
            while !stop.load(Ordering::Relaxed) {
                let request = http.post(format!("{base}/token")).form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", current.as_str()),
                    ("client_id", client_id.as_str()),
                ]);
                let response = tokio::time::timeout(BOUNDED, request.send())
                    .await
                    .expect("a refresh under load answered within the bound")
                    .unwrap();
                let status = response.status().as_u16();
                *statuses.entry(status).or_default() += 1;
                let body: serde_json::Value = response.json().await.unwrap();
                if status == 200 {
                    current = body["refresh_token"].as_str().unwrap().to_owned();
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (statuses, current)
        })
    };

    for cut in [Link::Blackhole, Link::Down] {
        proxy.set(cut);
        let label = if cut == Link::Down {
            "down"
        } else {
            "blackhole"
        };
        // Needs no database: answered as usual.
        for path in [
            "/.well-known/oauth-authorization-server",
            "/jwks.json",
            "/healthz",
        ] {
            let (status, _, body) = bounded(path, http.get(format!("{base}{path}"))).await;
            assert_eq!(status, 200, "{label} {path}: {body}");
        }
        // Not ready, without the cause (which can name hosts and users) on the public listener.
        let (status, retry, body) = bounded("readyz", http.get(format!("{base}/readyz"))).await;
        assert_eq!((status, body.as_str()), (503, "not ready\n"), "{label}");
        assert!(retry.is_some(), "{label}");
        // Needs the database: 503 with Retry-After, the RFC error code, no store detail.
        let refresh = http.post(format!("{base}/token")).form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.as_str()),
            ("client_id", client_id.as_str()),
        ]);
        let (status, retry, body) = bounded("refresh", refresh).await;
        assert_eq!(status, 503, "{label} refresh: {body}");
        assert!(retry.is_some(), "{label} refresh");
        assert!(body.contains("temporarily_unavailable"), "{label}: {body}");
        assert!(
            !body.contains("127.0.0.1") && !body.contains(&name),
            "{body}"
        );
        let register = http
            .post(format!("{base}/register"))
            .json(&serde_json::json!({
                "redirect_uris": [redirect],
                "token_endpoint_auth_method": "none",
            }));
        let (status, retry, body) = bounded("register", register).await;
        assert_eq!(status, 503, "{label} register: {body}");
        assert!(retry.is_some(), "{label} register");
        // The co-located MCP server checks revocation in the same database: it cannot say the
        // token still stands, so it answers 503 too (fail closed), never 401 or 500.
        let mcp = http
            .post(serve.mcp_url())
            .bearer_auth(&access_token)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#);
        let (status, retry, body) = bounded("mcp", mcp).await;
        assert_eq!(status, 503, "{label} mcp: {body}");
        assert!(retry.is_some(), "{label} mcp");
    }

    // Back up: ready again by itself, and the grant made before the outage still refreshes (the
    // refreshes refused during the outage had no effect).
    proxy.set(Link::Up);
    let back = Instant::now();
    loop {
        let (status, _, _) = bounded("readyz", http.get(format!("{base}/readyz"))).await;
        if status == 200 {
            break;
        }
        assert!(
            back.elapsed() < RECOVERY,
            "not ready {RECOVERY:?} after the database came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, body) = oauth::refresh(&http, &base, &client_id, &refresh_token)
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    // The load goes on a moment after the recovery, then its last token must still refresh:
    // no token was lost to the outage.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    let (statuses, current) = load.await.unwrap();
    assert!(
        statuses.keys().all(|s| *s == 200 || *s == 503),
        "only 200 and 503 under load: {statuses:?}"
    );
    assert!(statuses.get(&503).is_some_and(|n| *n > 0), "{statuses:?}");
    let (status, body) = oauth::refresh(&http, &base, &client_id, &current)
        .await
        .unwrap();
    assert_eq!(
        status, 200,
        "the load's last refresh token was lost: {body}"
    );
    eprintln!("outage: refreshes under load by status {statuses:?}; tokens lost: 0");

    // The operator saw it: store errors by kind and operation latency on `/metrics` (OB-2).
    let metrics = http
        .get(serve.metrics.clone().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let value = |series: &str| -> f64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {series} in {metrics}"))
    };
    assert!(
        value("mcp_authz_store_errors_total{kind=\"unavailable\"}") >= 5.0,
        "{metrics}"
    );
    let operations = value("mcp_authz_store_operations_total");
    assert!(operations > 20.0, "{metrics}");
    assert_eq!(
        value("mcp_authz_store_operation_duration_seconds_count"),
        operations
    );
    assert!(value("mcp_authz_store_operation_duration_seconds_bucket{le=\"+Inf\"}") >= operations);
    eprintln!(
        "outage: ready {} ms after the database came back",
        back.elapsed().as_millis()
    );

    drop(serve);
    drop(proxy);
    database.drop_now().await;
}
