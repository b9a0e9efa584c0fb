//! Bounded memory (issue #19): `mcp-authz serve` fed round after round of distinct attacker-chosen
//! values keeps a level resident set size.
//!
//! Each round sends, all distinct: forged bearer tokens naming unknown `kid`s at `/mcp`; anonymous
//! authorization requests (pending requests, one browser each); failed logins for unknown accounts
//! (lockout tables, and Argon2id checks of 19 MiB each, whose concurrency is bounded); dynamic registrations (client cache); Client ID Metadata Document URLs on private
//! addresses (refused before any fetch, failure tables); and valid access tokens, a new one per refresh,
//! each used for an MCP session, every other one closed and the rest left open (the resource layer's
//! verified-token cache, its session table, and the MCP server's sessions, which the layer ends when
//! it evicts their binding). Every in-memory table has a bound (docs/performance.md, "Bounded memory"); this test
//! is the net under them: the server's `VmRSS` after the last round may exceed the one after the
//! second round by at most [`GROWTH_CEILING_MIB`], and never [`RSS_CEILING_MIB`].
#![cfg(target_os = "linux")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::Arc;

use mcp_authz_pkce::CodeVerifier;

use common::oauth::{authorization_url, callback_listener, code_of, exchange, refresh, register};
use common::{Browser, Serve, hidden_inputs};

/// Rounds of distinct input.
const ROUNDS: usize = 5;
/// Values of each kind per round.
const PER_ROUND: usize = 240;
/// Concurrent tasks feeding each kind.
const TASKS: usize = 8;
const GROWTH_CEILING_MIB: f64 = 12.0;
const RSS_CEILING_MIB: f64 = 192.0;

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"memory","version":"1"}}}"#;

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap()
        / 1024.0
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What every task needs.
struct Target {
    base: String,
    redirect: String,
    client_id: String,
    http: reqwest::Client,
}

/// One round's share of one task: `count` values of every kind, numbered from `first`.
async fn feed(
    target: Arc<Target>,
    round: usize,
    first: usize,
    count: usize,
    mut refresh_token: String,
) -> String {
    let Target {
        base,
        redirect,
        client_id,
        http,
    } = &*target;
    for i in first..first + count {
        let tag = format!("r{round}-{i}");
        // A forged bearer token naming an unknown kid.
        let header = b64(format!(r#"{{"alg":"ES256","typ":"at+jwt","kid":"{tag}"}}"#).as_bytes());
        let claims = b64(format!(r#"{{"sub":"{tag}","exp":4102444800}}"#).as_bytes());
        let forged = format!("{header}.{claims}.{}", b64(&[7u8; 64]));
        let status = http
            .post(format!("{base}/mcp"))
            .bearer_auth(&forged)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(INITIALIZE)
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 401, "forged token {tag}");

        // An anonymous authorization request from a new browser, then a failed login for a new account.
        let browser = Browser::new();
        let verifier = CodeVerifier::generate().unwrap();
        let url = authorization_url(base, client_id, redirect, &verifier)
            .replace("&state=s", &format!("&state={tag}"));
        let page = browser.http().get(&url).send().await.unwrap();
        let status = page.status();
        let page = page.text().await.unwrap();
        assert_eq!(status, 200, "login page {tag}: {page}");
        if i % 4 == 0 {
            // A failed sign-in for an account that does not exist (a full Argon2id check, SEC-19).
            let mut fields = hidden_inputs(&page);
            fields.push(("username".to_owned(), format!("nobody-{tag}")));
            fields.push(("password".to_owned(), "wrong".to_owned()));
            let login = browser
                .http()
                .post(format!("{base}/authorize/login"))
                .form(&fields)
                .send()
                .await
                .unwrap();
            // A failed sign-in sends the browser back to the login page (303 to resume) or answers 4xx.
            let status = login.status();
            let location = login
                .headers()
                .get("location")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            assert!(
                status.is_client_error()
                    || (status == 303 && location.contains("/authorize/resume")),
                "failed login {tag}: {status} {location}"
            );
        }

        // A dynamic registration.
        register(http, base, redirect).await;

        // A Client ID Metadata Document URL on a private address: refused without a fetch.
        let cimd = format!(
            "https://10.{}.{}.{}/{tag}.json",
            round % 256,
            i / 256 % 256,
            i % 256
        );
        let verifier = CodeVerifier::generate().unwrap();
        let status = http
            .get(authorization_url(base, &cimd, redirect, &verifier))
            .send()
            .await
            .unwrap()
            .status();
        assert!(
            status.is_client_error(),
            "metadata document {cimd}: {status}"
        );

        // A valid access token (a refresh rotates the chain), used for one MCP session, closed.
        let (status, body) = refresh(http, base, client_id, &refresh_token)
            .await
            .unwrap();
        assert_eq!(status, 200, "refresh {tag}: {body}");
        refresh_token = body["refresh_token"].as_str().unwrap().to_owned();
        let access = body["access_token"].as_str().unwrap();
        let response = http
            .post(format!("{base}/mcp"))
            .bearer_auth(access)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(INITIALIZE)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "MCP initialize {tag}");
        let session = response.headers()["mcp-session-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let _ = response.bytes().await.unwrap();
        if i % 2 == 0 {
            // Every other session is left open, as a crashed or hostile client would: the layer's
            // bound (64 per principal) evicts them and ends them at the MCP server.
            continue;
        }
        let closed = http
            .delete(format!("{base}/mcp"))
            .bearer_auth(access)
            .header("mcp-session-id", session)
            .send()
            .await
            .unwrap()
            .status();
        assert!(closed.is_success(), "MCP session close {tag}: {closed}");
    }
    refresh_token
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resident_memory_levels_off_under_distinct_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let limits = [
        "--authorize-rate-limit",
        "off",
        "--token-rate-limit",
        "off",
        "--register-rate-limit",
        "off",
    ];
    let serve = Serve::start(&dir.path().join("data"), &limits);
    let password = serve.admin_password();
    let redirect = callback_listener().await;
    let http = reqwest::Client::new();

    // One legitimate client with a refresh-token chain per task.
    let client_id = register(&http, &serve.base, &redirect).await;
    let browser = Browser::new();
    let mut chains = Vec::new();
    for _ in 0..TASKS {
        let verifier = CodeVerifier::generate().unwrap();
        let (callback, _) = browser
            .authorize(
                &authorization_url(&serve.base, &client_id, &redirect, &verifier),
                "admin",
                &password,
            )
            .await;
        let (status, body) = exchange(
            &http,
            &serve.base,
            &client_id,
            &redirect,
            &code_of(&callback),
            &verifier,
        )
        .await
        .unwrap();
        assert_eq!(status, 200, "{body}");
        chains.push(body["refresh_token"].as_str().unwrap().to_owned());
    }
    let target = Arc::new(Target {
        base: serve.base.clone(),
        redirect: redirect.clone(),
        client_id,
        http: http.clone(),
    });

    let mut rss = Vec::new();
    for round in 0..ROUNDS {
        let share = PER_ROUND / TASKS;
        let tasks: Vec<_> = chains
            .drain(..)
            .enumerate()
            .map(|(t, chain)| tokio::spawn(feed(target.clone(), round, t * share, share, chain)))
            .collect();
        for task in tasks {
            chains.push(task.await.unwrap());
        }
        rss.push(rss_mib(serve.pid()));
    }
    let figures: Vec<String> = rss.iter().map(|m| format!("{m:.1}")).collect();
    eprintln!(
        "memory: serve VmRSS after each round of {PER_ROUND} distinct values of each kind: {} MiB",
        figures.join(", ")
    );
    let growth = rss[ROUNDS - 1] - rss[1];
    assert!(
        growth <= GROWTH_CEILING_MIB,
        "resident memory grew {growth:.1} MiB after the second round: {figures:?}"
    );
    assert!(
        rss.iter().all(|m| *m <= RSS_CEILING_MIB),
        "over {RSS_CEILING_MIB} MiB: {figures:?}"
    );
    assert!(serve.stop());
}
