//! What an operator sees of a running `serve`: `/healthz` and `/readyz`, one access-log line per
//! request without the query string, JSON log lines with `--log-format json`, and the MCP library's
//! per-request chatter kept out of the INFO log.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::Serve;

#[tokio::test(flavor = "multi_thread")]
async fn health_readiness_and_the_access_log() {
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(&dir.path().join("data"), &["--log-format", "json"]);
    let http = reqwest::Client::new();

    let health = http
        .get(format!("{}/healthz", serve.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.headers()["cache-control"], "no-store");
    assert_eq!(health.text().await.unwrap(), "ok\n");
    let ready = http
        .get(format!("{}/readyz", serve.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.text().await.unwrap(), "ready\n");

    // A query string can carry a code, `state` or a token: never logged.
    let secret = "s3cr3t-state-value-in-the-query";
    let authorize = http
        .get(format!(
            "{}/authorize?client_id=nobody&response_type=code&state={secret}",
            serve.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(authorize.status(), 400);
    // An MCP request without a token (rmcp's transport is behind the bearer layer).
    let mcp = http
        .post(serve.mcp_url())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(mcp.status(), 401);

    let log = serve.log();
    assert!(!log.contains(secret), "{log}");
    // Every line but the first user's password notice is one JSON object.
    let events: Vec<serde_json::Value> = log
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(!events.is_empty(), "{log}");
    let access: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["target"] == "mcp_authz::access")
        .collect();
    let line = |path: &str| {
        access
            .iter()
            .find(|e| e["path"] == path)
            .unwrap_or_else(|| panic!("no access line for {path}: {log}"))
    };
    assert_eq!(line("/healthz")["status"], 200);
    assert_eq!(line("/readyz")["method"], "GET");
    assert_eq!(line("/authorize")["status"], 400);
    assert_eq!(line("/mcp")["status"], 401);
    assert!(line("/mcp")["latency_us"].is_u64(), "{log}");
    assert!(
        events.iter().all(
            |e| !e["target"].as_str().unwrap_or("").starts_with("rmcp") || e["level"] != "INFO"
        ),
        "{log}"
    );
}

/// `--metrics-bind`: Prometheus text on a listener of its own, counters that move with requests,
/// a bounded label set; nothing at `/metrics` on the public listener.
#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_requests_on_their_own_listener() {
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(&dir.path().join("data"), &["--metrics-bind", "127.0.0.1:0"]);
    let metrics_url = serve.metrics.clone().unwrap();
    let http = reqwest::Client::new();
    let scrape = || async {
        let response = http
            .get(&metrics_url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e:?}; serve: {}", serve.log()));
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"],
            "text/plain; version=0.0.4; charset=utf-8"
        );
        response.text().await.unwrap()
    };
    let count = |text: &str, series: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
            .unwrap_or(0)
    };
    let token_400 = "mcp_authz_http_requests_total{route=\"/token\",status=\"400\"}";
    let before = scrape().await;
    for _ in 0..3 {
        let bad = http
            .post(format!("{}/token", serve.base))
            .form(&[("grant_type", "authorization_code")])
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e:?}; serve: {}", serve.log()));
        assert_eq!(bad.status(), 400);
    }
    for n in 0..5 {
        http.get(format!("{}/random-{n}", serve.base))
            .send()
            .await
            .unwrap();
    }
    let after = scrape().await;
    assert_eq!(
        count(&after, token_400),
        count(&before, token_400) + 3,
        "{after}"
    );
    assert!(
        count(
            &after,
            "mcp_authz_http_request_duration_seconds_count{route=\"/token\"}"
        ) >= 3,
        "{after}"
    );
    // Every sample line parses as `name{labels} value`, and unknown paths share one label.
    for line in after.lines().filter(|l| !l.starts_with('#')) {
        let (series, value) = line.rsplit_once(' ').unwrap();
        assert!(value.parse::<f64>().is_ok(), "{line}");
        assert!(series.starts_with("mcp_authz_"), "{line}");
    }
    assert!(!after.contains("random-"), "{after}");
    assert!(after.contains("route=\"other\""), "{after}");
    assert!(after.contains("mcp_authz_password_checks_peak "), "{after}");
    // The public listener does not serve them.
    let public = http
        .get(format!("{}/metrics", serve.base))
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), 404);
}
