//! Resource exhaustion through password checks (REQUIREMENTS SEC-19, docs/security.md "Brute force
//! and resource exhaustion"). Each test performs the attack over real HTTP on 127.0.0.1.

use std::time::Duration;

use mcp_authz_server::RateLimit;

use crate::common::*;

/// Argon2 checks the test server runs at once.
const CHECKS: usize = 2;
/// Checks that may wait for a turn.
const WAITING: usize = 4;
/// Concurrent failed logins of the attack, each for another account.
const ATTEMPTS: usize = 40;

/// Many concurrent failed logins, each naming a different account (so the per-account lockout does
/// not apply): at most [`CHECKS`] Argon2 checks run at once, at most [`WAITING`] wait, and the rest
/// are refused with the HTML error page, 503 and `Retry-After`, never as a wrong password and never
/// with a 500. The owner of an account still signs in afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_failed_logins_run_within_the_password_check_bound() {
    let server = TestServer::start_configured(|builder| {
        default_config(builder)
            .max_concurrent_password_checks(CHECKS)
            .password_check_queue(WAITING, Duration::from_secs(60))
            .authorize_rate_limit(RateLimit::per_second(1000, 1000))
    })
    .await;
    server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;
    let attacker = server.browser();
    let page = login_page(&server, &attacker, &client).await;
    let (request, csrf) = (hidden_field(&page, "request"), hidden_field(&page, "csrf"));
    let mut tasks = Vec::new();
    for n in 0..ATTEMPTS {
        let (attacker, url) = (attacker.clone(), server.url("/authorize/login"));
        let form = [
            ("request", request.clone()),
            ("csrf", csrf.clone()),
            ("username", format!("victim-{n}")),
            ("password", format!("guess-{n}")),
        ];
        tasks.push(tokio::spawn(async move {
            attacker.post(url).form(&form).send().await.unwrap()
        }));
    }
    let (mut checked, mut refused) = (0, 0);
    for task in tasks {
        let response = task.await.unwrap();
        match response.status().as_u16() {
            303 => {
                assert!(location(&response).contains("failed=1"));
                checked += 1;
            }
            503 => {
                assert_eq!(response.headers()["retry-after"], "2");
                assert_eq!(
                    response.headers()["content-type"],
                    "text/html; charset=utf-8"
                );
                let html = response.text().await.unwrap();
                assert!(html.contains("Try again"), "{html}");
                refused += 1;
            }
            other => panic!("status {other}"),
        }
    }
    let peak = server.server.password_checks_peak();
    assert!(peak <= CHECKS, "{peak} password checks ran at once");
    assert!(refused > 0, "no attempt was refused ({checked} checked)");
    assert!(checked >= CHECKS, "{checked} checked");

    // The owner still signs in.
    let owner = server.browser();
    let owner_page = login_page(&server, &owner, &client).await;
    let response = owner
        .post(server.url("/authorize/login"))
        .form(&[
            ("request", hidden_field(&owner_page, "request").as_str()),
            ("csrf", hidden_field(&owner_page, "csrf").as_str()),
            ("username", USER),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert!(!location(&response).contains("failed=1"));
}

/// The login page of a fresh authorization request of `client` in `browser`.
async fn login_page(
    server: &TestServer,
    browser: &reqwest::Client,
    client: &mcp_authz_metadata::ClientId,
) -> String {
    let response = browser
        .get(Authorize::new(client).url(server))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

/// Many concurrent token requests with wrong secrets for an operator client whose secret is stored
/// as an Argon2 PHC string: at most [`CHECKS`] checks run at once, the excess is answered 503
/// `temporarily_unavailable` with `Retry-After` (never `invalid_client`, never 500), and the right
/// secret still works afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_argon2_client_secrets_run_within_the_password_check_bound() {
    use mcp_authz_metadata::{
        ApplicationType, ClientId, GrantType, RedirectUri, TokenEndpointAuthMethod,
    };
    use mcp_authz_store::{ClientKind, ClientRecord};

    let server = TestServer::start_configured(|builder| {
        default_config(builder)
            .max_concurrent_password_checks(CHECKS)
            .password_check_queue(WAITING, Duration::from_secs(60))
            .token_rate_limit(RateLimit::per_second(1000, 1000))
    })
    .await;
    let secret = "operator-chosen-secret";
    server
        .store
        .insert_client(ClientRecord {
            client_id: ClientId::parse("argon-machine").unwrap(),
            kind: ClientKind::PreRegistered,
            secret_hash: Some(mcp_authz_server::hash_password(secret).unwrap()),
            secret_expires_at: None,
            redirect_uris: vec![RedirectUri::parse("https://app.example.com/cb").unwrap()],
            grant_types: vec![GrantType::ClientCredentials],
            token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretBasic,
            application_type: ApplicationType::Web,
            client_name: Some("Argon machine".to_owned()),
            allowed_resources: None,
            allowed_scope: None,
            metadata_json: "{}".to_owned(),
            created_at: server.clock.now_time(),
        })
        .await
        .unwrap();
    let form = [("grant_type", "client_credentials"), ("resource", RESOURCE)];
    let mut tasks = Vec::new();
    for n in 0..ATTEMPTS {
        let (http, url) = (server.http.clone(), server.url("/token"));
        tasks.push(tokio::spawn(async move {
            http.post(url)
                .header(
                    "authorization",
                    basic("argon-machine", &format!("guess-{n}")),
                )
                .form(&form)
                .send()
                .await
                .unwrap()
        }));
    }
    let (mut checked, mut refused) = (0, 0);
    for task in tasks {
        let response = task.await.unwrap();
        let status = response.status().as_u16();
        let retry_after = response.headers().get("retry-after").cloned();
        let body: serde_json::Value = response.json().await.unwrap();
        match status {
            401 => {
                assert_eq!(body["error"], "invalid_client");
                checked += 1;
            }
            503 => {
                assert_eq!(body["error"], "temporarily_unavailable");
                assert_eq!(retry_after.unwrap(), "2");
                refused += 1;
            }
            other => panic!("status {other}: {body}"),
        }
    }
    let peak = server.server.password_checks_peak();
    assert!(peak <= CHECKS, "{peak} secret checks ran at once");
    assert!(refused > 0, "no request was refused ({checked} checked)");

    let (status, _, body) = server.token_basic("argon-machine", secret, &form).await;
    assert_eq!(status, 200, "{body}");
}
