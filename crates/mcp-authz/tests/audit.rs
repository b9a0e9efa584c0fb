//! Audit events end to end (REQUIREMENTS OB-1): a full flow against `mcp-authz serve` over HTTP
//! (registration, a failed and a good sign-in, consent given and denied, code, tokens, refresh,
//! refresh reuse, code replay, introspection, revocation, a failed client authentication), then
//! `mcp-authz audit` must list each act with its fields, and no token, code, client secret or
//! password issued or typed may appear in any stored event, the raw database files or the log.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::path::Path;

use mcp_authz_pkce::CodeVerifier;
use serde_json::Value;

use common::oauth::{authorization_url, callback_listener, code_of, exchange, refresh, register};
use common::{ADMIN, Browser, Serve, attribute, hidden_inputs};

/// A password typed at the login page that is wrong: it must not be stored or logged either.
const WRONG_PASSWORD: &str = "Wrong-Password-7f3a9c";

/// Every file under `dir`, concatenated (the SQLite database, its WAL and anything beside them).
fn raw_bytes(dir: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            bytes.extend(raw_bytes(&path));
        } else {
            bytes.extend(std::fs::read(&path).unwrap());
        }
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

/// `mcp-authz audit <args> --data-dir <dir>`: its standard output.
fn audit(data_dir: &Path, args: &[&str]) -> String {
    let config = data_dir.parent().unwrap().join("audit-config");
    let mut all = vec!["audit"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--data-dir", data_dir.to_str().unwrap()]);
    let finished = common::run(&config, &all);
    assert!(finished.success, "audit {args:?}: {}", finished.stderr);
    finished.stdout
}

fn audit_json(data_dir: &Path, args: &[&str]) -> Vec<Value> {
    let mut all = args.to_vec();
    all.push("--json");
    serde_json::from_str::<Value>(&audit(data_dir, &all))
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// The events of `kind` (and `outcome`) in `events`.
fn of<'a>(events: &'a [Value], kind: &str, outcome: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["kind"] == kind && e["outcome"] == outcome)
        .collect()
}

/// Signs in with a wrong password on a fresh browser; the login page must answer with a redirect
/// back to itself (the failure notice).
async fn failed_sign_in(authorization: &str) {
    let browser = Browser::new();
    let mut url = url::Url::parse(authorization).unwrap();
    let mut response = browser.http().get(url.clone()).send().await.unwrap();
    while response.status().is_redirection() {
        url = url
            .join(response.headers()["location"].to_str().unwrap())
            .unwrap();
        response = browser.http().get(url.clone()).send().await.unwrap();
    }
    let page = response.text().await.unwrap();
    assert!(page.contains("name=\"password\""), "a login page: {page}");
    let action = attribute(&page, "<form", "method=\"post\"", "action").unwrap();
    let mut form = hidden_inputs(&page);
    form.push(("username".to_owned(), ADMIN.to_owned()));
    form.push(("password".to_owned(), WRONG_PASSWORD.to_owned()));
    let answer = browser
        .http()
        .post(url.join(&action).unwrap())
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 303);
    assert!(
        answer.headers()["location"]
            .to_str()
            .unwrap()
            .contains("failed=1")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_act_is_audited_and_no_secret_is_stored_or_logged() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let serve = Serve::start(&data_dir, &["--metrics-bind", "127.0.0.1:0"]);
    let base = serve.base.clone();
    let password = serve.admin_password();
    let http = reqwest::Client::new();
    let redirect = callback_listener().await;
    // Everything secret this test sees or types.
    let mut secrets: Vec<String> = vec![password.clone(), WRONG_PASSWORD.to_owned()];

    // Registration: a public client and a confidential one.
    let client = register(&http, &base, &redirect).await;
    let registered: Value = http
        .post(format!("{base}/register"))
        .json(&serde_json::json!({
            "redirect_uris": [redirect],
            "token_endpoint_auth_method": "client_secret_basic",
            "grant_types": ["authorization_code", "refresh_token"],
            "client_name": "confidential",
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let confidential = registered["client_id"].as_str().unwrap().to_owned();
    let client_secret = registered["client_secret"].as_str().unwrap().to_owned();
    secrets.push(client_secret.clone());

    // A failed sign-in, then sign-in, consent, code, tokens.
    let verifier = CodeVerifier::generate().unwrap();
    let authorization = authorization_url(&base, &client, &redirect, &verifier);
    failed_sign_in(&authorization).await;
    let browser = Browser::new();
    let (callback, _) = browser.authorize(&authorization, ADMIN, &password).await;
    let code = code_of(&callback);
    secrets.push(code.clone());
    let (status, tokens) = exchange(&http, &base, &client, &redirect, &code, &verifier)
        .await
        .unwrap();
    assert_eq!(status, 200, "{tokens}");
    let first_refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    secrets.push(tokens["access_token"].as_str().unwrap().to_owned());
    secrets.push(first_refresh.clone());

    // Refresh, then the rotated token again (reuse: the family is revoked), then the code again.
    let (status, rotated) = refresh(&http, &base, &client, &first_refresh)
        .await
        .unwrap();
    assert_eq!(status, 200, "{rotated}");
    secrets.push(rotated["access_token"].as_str().unwrap().to_owned());
    secrets.push(rotated["refresh_token"].as_str().unwrap().to_owned());
    let (status, reused) = refresh(&http, &base, &client, &first_refresh)
        .await
        .unwrap();
    assert_eq!(
        (status, reused["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, replayed) = exchange(&http, &base, &client, &redirect, &code, &verifier)
        .await
        .unwrap();
    assert_eq!(
        (status, replayed["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // A second authorization (consent remembered), introspected and revoked.
    let verifier = CodeVerifier::generate().unwrap();
    let authorization = authorization_url(&base, &client, &redirect, &verifier);
    let (callback, consent_page) = browser.authorize(&authorization, ADMIN, &password).await;
    assert!(consent_page.is_empty(), "consent was remembered");
    let code = code_of(&callback);
    secrets.push(code.clone());
    let (status, second) = exchange(&http, &base, &client, &redirect, &code, &verifier)
        .await
        .unwrap();
    assert_eq!(status, 200, "{second}");
    let access = second["access_token"].as_str().unwrap().to_owned();
    let second_refresh = second["refresh_token"].as_str().unwrap().to_owned();
    secrets.push(access.clone());
    secrets.push(second_refresh.clone());
    let introspected = http
        .post(format!("{base}/introspect"))
        .basic_auth(&confidential, Some(&client_secret))
        .form(&[("token", access.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(introspected.status(), 200);
    let wrong_secret = format!("{client_secret}-wrong");
    secrets.push(wrong_secret.clone());
    let refused = http
        .post(format!("{base}/introspect"))
        .basic_auth(&confidential, Some(&wrong_secret))
        .form(&[("token", access.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let revoked = http
        .post(format!("{base}/revoke"))
        .form(&[
            ("token", second_refresh.as_str()),
            ("client_id", client.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);

    // Consent denied, by the same user for the confidential client.
    let verifier = CodeVerifier::generate().unwrap();
    let authorization = authorization_url(&base, &confidential, &redirect, &verifier);
    let (callback, _) = browser
        .decide(&authorization, ADMIN, &password, "deny")
        .await;
    assert!(callback.contains("error=access_denied"), "{callback}");

    // Every act, with its fields.
    let events = audit_json(&data_dir, &[]);
    let resource = format!("{base}/mcp");
    for event in &events {
        assert!(event["time"].as_str().unwrap().ends_with('Z'), "{event}");
        assert_eq!(event["peer"], "127.0.0.1", "{event}");
    }
    let registered = of(&events, "client_registered", "success");
    let ids: Vec<&str> = registered
        .iter()
        .map(|e| e["client_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [client.as_str(), confidential.as_str()]);
    let failed = of(&events, "sign_in", "failure");
    assert_eq!(failed.len(), 1, "{events:#?}");
    assert_eq!(failed[0]["username"], ADMIN);
    assert_eq!(failed[0]["reason"], "wrong_password");
    assert_eq!(failed[0]["client_id"], client.as_str());
    let signed_in = of(&events, "sign_in", "success");
    assert_eq!(
        signed_in.len(),
        1,
        "one sign-in; the browser kept its session"
    );
    assert_eq!(signed_in[0]["username"], ADMIN);
    let subject = signed_in[0]["subject"].as_str().unwrap().to_owned();
    let given = of(&events, "consent_given", "success");
    assert_eq!(given.len(), 1);
    assert_eq!(given[0]["client_id"], client.as_str());
    assert_eq!(given[0]["username"], ADMIN);
    assert_eq!(given[0]["resources"], serde_json::json!([resource]));
    assert_eq!(of(&events, "code_issued", "success").len(), 2);
    let redeemed = of(&events, "code_redeemed", "success");
    assert_eq!(redeemed.len(), 2);
    assert_eq!(redeemed[0]["subject"], subject.as_str());
    assert_eq!(redeemed[0]["resources"], serde_json::json!([resource]));
    let issued = of(&events, "tokens_issued", "success");
    let how: Vec<&str> = issued
        .iter()
        .map(|e| e["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        how,
        ["authorization_code", "refresh_token", "authorization_code"]
    );
    assert!(issued.iter().all(|e| e["client_id"] == client.as_str()));
    assert_eq!(of(&events, "refresh_rotated", "success").len(), 1);
    let reuse = of(&events, "refresh_reused", "failure");
    assert_eq!(reuse.len(), 1);
    assert_eq!(reuse[0]["client_id"], client.as_str());
    let replay = of(&events, "code_replayed", "failure");
    assert_eq!(replay.len(), 1);
    assert_eq!(replay[0]["client_id"], client.as_str());
    let introspection = of(&events, "introspection", "success");
    assert_eq!(introspection.len(), 1);
    assert_eq!(introspection[0]["client_id"], confidential.as_str());
    let bad_auth = of(&events, "client_auth_failed", "failure");
    assert_eq!(bad_auth.len(), 1);
    assert_eq!(bad_auth[0]["client_id"], confidential.as_str());
    assert_eq!(bad_auth[0]["reason"], "wrong_credentials");
    let revocation = of(&events, "token_revoked", "success");
    assert_eq!(revocation.len(), 1);
    assert_eq!(revocation[0]["reason"], "refresh_token");
    assert_eq!(revocation[0]["subject"], subject.as_str());
    let denied = of(&events, "consent_denied", "failure");
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0]["client_id"], confidential.as_str());

    // The filters.
    let of_confidential = audit_json(&data_dir, &["--client", &confidential]);
    assert!(!of_confidential.is_empty());
    assert!(
        of_confidential
            .iter()
            .all(|e| e["client_id"] == confidential.as_str())
    );
    let of_admin = audit_json(&data_dir, &["--user", ADMIN]);
    assert!(of_admin.iter().any(|e| e["kind"] == "sign_in"));
    assert!(of_admin.iter().any(|e| e["kind"] == "tokens_issued"));
    assert!(
        of_admin
            .iter()
            .all(|e| e["username"] == ADMIN || e["subject"] == subject.as_str())
    );
    assert_eq!(
        audit_json(&data_dir, &["--since", "1h"]).len(),
        events.len()
    );
    assert!(audit_json(&data_dir, &["--since", "2999-01-01T00:00:00Z"]).is_empty());
    assert_eq!(
        audit_json(&data_dir, &["--limit", "3"]),
        events[events.len() - 3..]
    );
    let table = audit(&data_dir, &[]);
    assert!(table.starts_with("TIME"), "{table}");
    assert!(table.contains("refresh_reused"), "{table}");

    // The counters: three token responses, one reuse, refusals by reason.
    let metrics = http
        .get(serve.metrics.clone().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "mcp_authz_tokens_issued_total 3",
        "mcp_authz_refresh_reuse_detected_total 1",
        "mcp_authz_validation_failures_total{reason=\"refresh_token_reused\"} 1",
        "mcp_authz_validation_failures_total{reason=\"code_replayed\"} 1",
        "mcp_authz_validation_failures_total{reason=\"wrong_credentials\"} 1",
        "mcp_authz_validation_failures_total{reason=\"wrong_password\"} 1",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in {metrics}");
    }

    // No secret anywhere: not in an event, not in the database files, not in the log.
    // The one line that shows the first user's generated password at first start is the operator's
    // only way to learn it; every other line is checked.
    let log: String = serve
        .log()
        .lines()
        .filter(|line| !line.contains("created user `admin` with password: "))
        .map(|line| format!("{line}\n"))
        .collect();
    assert!(
        log.contains("mcp_authz::audit"),
        "audit events are logged: {log}"
    );
    let database = raw_bytes(&data_dir);
    // The searches read what they should: the events are in these files and in this log.
    assert!(contains(&database, "refresh_token_reused"));
    assert!(log.contains(&confidential));
    let listing = format!("{table}{}", serde_json::to_string(&events).unwrap());
    for secret in &secrets {
        assert!(secret.len() >= 16, "a real secret: {secret}");
        assert!(
            !listing.contains(secret.as_str()),
            "{secret} in the audit listing"
        );
        assert!(!log.contains(secret.as_str()), "{secret} in the log");
        assert!(
            !contains(&database, secret),
            "{secret} in the database files"
        );
    }
    assert!(serve.stop());
}
