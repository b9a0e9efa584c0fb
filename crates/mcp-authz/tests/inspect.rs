//! `mcp-authz inspect`, the built binary: every check passes against `mcp-authz serve`, and a
//! deliberately misconfigured server (no challenge, wrong `resource`, no S256) fails with the right
//! requirement IDs.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use axum::Json;
use axum::Router;
use axum::routing::{get, post};
use common::{Finished, Serve, run};
use http::StatusCode;
use serde_json::{Value, json};

async fn inspect(args: Vec<String>) -> Finished {
    let config = tempfile::tempdir().unwrap();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(config.path(), &args)
    })
    .await
    .unwrap()
}

/// The check with `key` in a JSON report.
fn check<'a>(report: &'a Value, key: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"] == key)
        .unwrap_or_else(|| panic!("no check {key} in {report:#}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn every_check_passes_against_serve() {
    let dir = tempfile::tempdir().unwrap();
    let serve = Serve::start(&dir.path().join("data"), &[]);
    let mcp = serve.mcp_url();

    let table = inspect(vec!["inspect".into(), mcp.clone()]).await;
    assert!(table.success, "{}\n{}", table.stdout, table.stderr);
    assert!(
        table
            .stdout
            .starts_with(&format!("MCP server {mcp} (resource {mcp})\n")),
        "{}",
        table.stdout
    );
    assert!(table.stdout.contains("RS-2   PASS"), "{}", table.stdout);
    assert!(!table.stdout.contains("FAIL"), "{}", table.stdout);

    let json = inspect(vec!["inspect".into(), mcp.clone(), "--json".into()]).await;
    assert!(json.success, "{}", json.stderr);
    let report: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(report["format"], "mcp-authz-inspect/1");
    assert_eq!(report["resource"], mcp.as_str());
    let checks = report["checks"].as_array().unwrap();
    let not_passed: Vec<&Value> = checks.iter().filter(|c| c["status"] != "pass").collect();
    assert!(not_passed.is_empty(), "{not_passed:#?}");
    assert_eq!(report["summary"]["pass"], checks.len());
    for key in [
        "challenge-status",
        "challenge-resource-metadata",
        "prm-well-known",
        "prm-resource",
        "prm-authorization-servers",
        "as-metadata-rfc8414",
        "as-issuer",
        "as-s256",
        "as-registration",
        "endpoints-https",
    ] {
        assert_eq!(check(&report, key)["status"], "pass", "{key}");
    }
    assert_eq!(
        check(&report, "challenge-resource-metadata")["detail"],
        format!("{}/.well-known/oauth-protected-resource/mcp", serve.base)
    );
}

/// A server that answers 401 without a challenge, publishes metadata for another resource, and an
/// authorization server that offers only `plain` PKCE.
async fn misconfigured() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let prm = json!({
        "resource": format!("{base}/other"),
        "authorization_servers": [base],
    });
    let as_metadata = json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["plain"],
    });
    let app = Router::new()
        .route("/mcp", post(|| async { StatusCode::UNAUTHORIZED }))
        .route(
            "/.well-known/oauth-protected-resource/mcp",
            get(move || async move { Json(prm) }),
        )
        .route(
            "/.well-known/oauth-authorization-server",
            get(move || async move { Json(as_metadata) }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

#[tokio::test(flavor = "multi_thread")]
async fn a_misconfigured_server_fails_with_the_right_requirement_ids() {
    let base = misconfigured().await;
    let mcp = format!("{base}/mcp");

    let json = inspect(vec!["inspect".into(), mcp.clone(), "--json".into()]).await;
    assert!(!json.success);
    let report: Value = serde_json::from_str(&json.stdout).unwrap();
    let expect = |key: &str, id: &str, status: &str| {
        let c = check(&report, key);
        assert_eq!(
            (c["id"].as_str(), c["status"].as_str()),
            (Some(id), Some(status)),
            "{c:#}"
        );
    };
    expect("challenge-status", "RS-2", "pass");
    expect("challenge-bearer", "RS-2", "fail");
    expect("challenge-resource-metadata", "RS-2", "skip");
    expect("prm-well-known", "RS-1", "pass");
    expect("prm-resource", "RS-1", "fail");
    expect("prm-accepted", "CL-2", "fail");
    expect("prm-authorization-servers", "RS-1", "pass");
    expect("as-s256", "AS-1", "fail");
    expect("as-no-plain", "AS-3", "warn");
    expect("as-accepted", "CL-4", "fail");
    expect("as-issuer", "AS-1", "pass");
    assert_eq!(
        check(&report, "prm-resource")["detail"],
        format!("resource {base}/other (expected {mcp})")
    );
    let failed = report["summary"]["fail"].as_u64().unwrap();
    assert_eq!(failed, 5);
    assert_eq!(
        json.stderr,
        format!(
            "mcp-authz: inspect: {failed} of {} checks failed\n",
            report["checks"].as_array().unwrap().len()
        )
    );

    // The table says the same, row by row.
    let table = inspect(vec!["inspect".into(), mcp.clone()]).await;
    assert!(!table.success);
    let row = |key_title: &str| {
        table
            .stdout
            .lines()
            .find(|l| l.contains(key_title))
            .unwrap_or_else(|| panic!("no row {key_title} in {}", table.stdout))
            .to_owned()
    };
    assert!(
        row("resource equals the canonical server URI").starts_with("RS-1   FAIL"),
        "{}",
        table.stdout
    );
    assert!(
        row("WWW-Authenticate Bearer challenge").starts_with("RS-2   FAIL"),
        "{}",
        table.stdout
    );
    assert!(
        row("lists S256").starts_with("AS-1   FAIL"),
        "{}",
        table.stdout
    );
    assert!(table.stdout.contains("5 failed"), "{}", table.stdout);
}
