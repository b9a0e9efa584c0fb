//! The connected applications page over real HTTP (REQUIREMENTS OB-3, SEC-4): what it lists, that
//! its revoke button takes back the grant, its tokens and the remembered consent, and the attacks:
//! no session, no CSRF token, another user's client id.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use mcp_authz_metadata::ClientId;
use serde_json::Value;

const PAGE: &str = "/account/applications";
const BOB: &str = "bob";
const BOB_PASSWORD: &str = "bob's long passphrase";

/// Runs the browser flow as `user` in `browser` (a fresh one signs in) and exchanges the code.
async fn authorize_as(
    server: &TestServer,
    browser: &reqwest::Client,
    client: &ClientId,
    user: &str,
    password: &str,
) -> Value {
    let authorize = Authorize::new(client);
    let page = browser.get(authorize.url(server)).send().await.unwrap();
    let remembered = (page.status() == 302).then(|| location(&page));
    let html = page.text().await.unwrap();
    let location = if let Some(location) = remembered {
        location
    } else if html.contains("name=\"password\"") {
        let next = login(server, browser, &html, user, password).await;
        if next.status() == 303 {
            location(&next)
        } else {
            approve(server, browser, &next.text().await.unwrap()).await
        }
    } else {
        approve(server, browser, &html).await
    };
    let mcp_authz_token::AuthorizationCallback::Success(success) = callback(&location) else {
        panic!("{location}")
    };
    let (status, _, body) = server
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", success.code.secret()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", authorize.verifier.secret()),
            ("client_id", client.as_str()),
            ("resource", RESOURCE),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn refresh(server: &TestServer, client: &ClientId, tokens: &Value) -> (u16, Value) {
    let (status, _, body) = server
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ("client_id", client.as_str()),
        ])
        .await;
    (status.as_u16(), body)
}

async fn access_token_revoked(server: &TestServer, client: &ClientId, tokens: &Value) -> bool {
    let (_, claims) = jwt_parts(tokens["access_token"].as_str().unwrap());
    server
        .server
        .is_access_token_revoked(claims["jti"].as_str().unwrap(), client)
        .await
        .unwrap()
}

async fn page(server: &TestServer, browser: &reqwest::Client) -> (reqwest::StatusCode, String) {
    let response = browser.get(server.url(PAGE)).send().await.unwrap();
    let status = response.status();
    let csp = response
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    (status, response.text().await.unwrap())
}

async fn revoke(
    server: &TestServer,
    browser: &reqwest::Client,
    form: &[(&str, &str)],
) -> reqwest::Response {
    browser
        .post(server.url("/account/applications/revoke"))
        .form(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn lists_the_application_and_its_revoke_button_takes_back_grant_tokens_and_consent() {
    let server = TestServer::start_configured(|b| {
        default_config(b).scope_description(
            mcp_authz_metadata::ScopeToken::parse("tools:read").unwrap(),
            "Read <your> tools",
        )
    })
    .await;
    server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;
    let browser = server.browser();
    let tokens = authorize_as(&server, &browser, &client, USER, PASSWORD).await;
    // The current tokens are the refreshed ones (the first refresh token was rotated).
    let (status, tokens) = refresh(&server, &client, &tokens).await;
    assert_eq!(status, 200, "{tokens}");

    let (status, html) = page(&server, &browser).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("<strong id=\"user\">alice</strong>"),
        "{html}"
    );
    assert!(
        html.contains("<h2 id=\"app-0\">Test &lt;Client&gt;</h2>"),
        "{html}"
    );
    assert!(!html.contains("<Client>"), "{html}");
    assert!(html.contains(client.as_str()), "{html}");
    assert!(html.contains("provenance-dynamic"), "{html}");
    assert!(
        html.contains("<span class=\"scope-token\">tools:read</span>: <span class=\"scope-description\">Read &lt;your&gt; tools</span>"),
        "{html}"
    );
    assert!(
        html.contains(&format!("<li class=\"resource\">{RESOURCE}</li>")),
        "{html}"
    );
    assert!(html.contains("class=\"granted\"><time datetime="), "{html}");
    assert!(
        html.contains("class=\"last-used\"><time datetime="),
        "{html}"
    );
    assert!(
        html.contains(">Revoke access of Test &lt;Client&gt;</button>"),
        "{html}"
    );
    assert!(html.contains("id=\"sign-out\""), "{html}");

    let (_, html) = page(&server, &browser).await;
    let csrf = hidden_field(&html, "csrf");
    let response = revoke(
        &server,
        &browser,
        &[("csrf", csrf.as_str()), ("client_id", client.as_str())],
    )
    .await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), format!("{PAGE}?revoked=1"));

    let (status, body) = refresh(&server, &client, &tokens).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert!(access_token_revoked(&server, &client, &tokens).await);
    let subject = server.find_subject(USER).await;
    assert_eq!(
        server.store.get_consent(&subject, &client).await.unwrap(),
        None
    );
    let html = browser
        .get(server.url(&location(&response)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"revoked\""), "{html}");
    assert!(html.contains("id=\"no-applications\""), "{html}");
    // The next authorization asks for consent again.
    let again = browser
        .get(Authorize::new(&client).url(&server))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    assert!(again.text().await.unwrap().contains("value=\"approve\""));
}

#[tokio::test]
async fn the_page_is_not_readable_without_a_session() {
    let server = TestServer::start().await;
    server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;
    authorize_as(&server, &server.browser(), &client, USER, PASSWORD).await;
    // Another browser (no cookie), and one with a made-up session id.
    for browser in [
        server.browser(),
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    ] {
        let response = browser
            .get(server.url(PAGE))
            .header("cookie", format!("mcp_authz_session={}", "A".repeat(43)))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let html = response.text().await.unwrap();
        assert!(html.contains("name=\"password\""), "{html}");
        assert!(!html.contains(client.as_str()), "{html}");
        assert!(!html.contains("Test &lt;Client&gt;"), "{html}");
    }
}

#[tokio::test]
async fn revoke_without_the_csrf_token_or_a_session_is_refused() {
    let server = TestServer::start().await;
    server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;
    let browser = server.browser();
    let tokens = authorize_as(&server, &browser, &client, USER, PASSWORD).await;
    let (_, html) = page(&server, &browser).await;
    let csrf = hidden_field(&html, "csrf");
    for form in [
        vec![("client_id", client.as_str())],
        vec![("csrf", ""), ("client_id", client.as_str())],
        vec![
            ("csrf", "A".repeat(43).leak() as &str),
            ("client_id", client.as_str()),
        ],
    ] {
        let response = revoke(&server, &browser, &form).await;
        assert_eq!(response.status(), 400, "{form:?}");
    }
    // The right token from a browser without the session (a cross-site post carries no cookie:
    // SameSite=Lax).
    let response = revoke(
        &server,
        &server.browser(),
        &[("csrf", csrf.as_str()), ("client_id", client.as_str())],
    )
    .await;
    assert_eq!(response.status(), 400);
    // Nothing was revoked.
    assert!(!access_token_revoked(&server, &client, &tokens).await);
    assert_eq!(refresh(&server, &client, &tokens).await.0, 200);
}

#[tokio::test]
async fn a_user_cannot_revoke_another_users_grant() {
    let server = TestServer::start().await;
    server.create_user(USER, PASSWORD).await;
    server.create_user(BOB, BOB_PASSWORD).await;
    let alice_client = server.public_client().await;
    let bob_client = server.public_client().await;
    let alice = server.browser();
    let bob = server.browser();
    authorize_as(&server, &alice, &alice_client, USER, PASSWORD).await;
    let bob_tokens = authorize_as(&server, &bob, &bob_client, BOB, BOB_PASSWORD).await;
    // Bob's application is not on Alice's page.
    let (_, html) = page(&server, &alice).await;
    assert!(!html.contains(bob_client.as_str()), "{html}");
    // Alice posts Bob's client id with her own session and token: nothing of Bob's changes.
    let csrf = hidden_field(&html, "csrf");
    let response = revoke(
        &server,
        &alice,
        &[("csrf", csrf.as_str()), ("client_id", bob_client.as_str())],
    )
    .await;
    assert_eq!(response.status(), 303);
    assert!(!access_token_revoked(&server, &bob_client, &bob_tokens).await);
    let bob_subject = server.find_subject(BOB).await;
    assert!(
        server
            .store
            .get_consent(&bob_subject, &bob_client)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(refresh(&server, &bob_client, &bob_tokens).await.0, 200);
    let (_, bob_html) = page(&server, &bob).await;
    assert!(bob_html.contains(bob_client.as_str()), "{bob_html}");
}

#[tokio::test]
async fn sign_in_on_the_page_then_sign_out() {
    let server = TestServer::start().await;
    server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;
    authorize_as(&server, &server.browser(), &client, USER, PASSWORD).await;
    let browser = server.browser();
    let (_, html) = page(&server, &browser).await;
    let csrf = hidden_field(&html, "csrf");
    // A wrong CSRF token is refused before the password is looked at.
    let forged = browser
        .post(server.url("/account/signin"))
        .form(&[
            ("csrf", "A".repeat(43).as_str()),
            ("username", USER),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
    // The refused attempt spent the token: a fresh page gives a new one.
    let (_, html) = page(&server, &browser).await;
    let wrong = browser
        .post(server.url("/account/signin"))
        .form(&[
            ("csrf", hidden_field(&html, "csrf").as_str()),
            ("username", USER),
            ("password", "wrong password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 303);
    assert_eq!(location(&wrong), format!("{PAGE}?failed=1"));
    let (_, html) = page(&server, &browser).await;
    assert_ne!(hidden_field(&html, "csrf"), csrf);
    let signed_in = browser
        .post(server.url("/account/signin"))
        .form(&[
            ("csrf", hidden_field(&html, "csrf").as_str()),
            ("username", USER),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    assert_eq!(location(&signed_in), PAGE);
    let (_, html) = page(&server, &browser).await;
    assert!(html.contains(client.as_str()), "{html}");

    // Sign-out needs the session's token too.
    let refused = browser
        .post(server.url("/account/signout"))
        .form(&[("csrf", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let out = browser
        .post(server.url("/account/signout"))
        .form(&[("csrf", hidden_field(&html, "csrf").as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    let (_, html) = page(&server, &browser).await;
    assert!(html.contains("name=\"password\""), "{html}");
    assert!(!html.contains(client.as_str()), "{html}");
}

#[tokio::test]
async fn the_consent_page_links_to_the_page() {
    let server = TestServer::start().await;
    server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;
    let browser = server.browser();
    let html = browser
        .get(Authorize::new(&client).url(&server))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let consent = login(&server, &browser, &html, USER, PASSWORD).await;
    let html = consent.text().await.unwrap();
    assert!(
        html.contains("You can revoke this access later at <a href=\"/account/applications\">"),
        "{html}"
    );
}

#[tokio::test]
async fn a_disabled_user_cannot_sign_in_and_their_refresh_fails() {
    let server = TestServer::start().await;
    server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;
    let browser = server.browser();
    let tokens = authorize_as(&server, &browser, &client, USER, PASSWORD).await;
    let subject = server.find_subject(USER).await;
    let revoked = server.server.disable_user(&subject).await.unwrap();
    assert_eq!(revoked.grants, 1);
    let (status, body) = refresh(&server, &client, &tokens).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert!(access_token_revoked(&server, &client, &tokens).await);
    // The session signed in before is worth nothing now: no code, no page.
    let (_, html) = page(&server, &browser).await;
    assert!(html.contains("name=\"password\""), "{html}");
    let resumed = browser
        .get(Authorize::new(&client).url(&server))
        .send()
        .await
        .unwrap();
    assert_eq!(resumed.status(), 400);
    // A fresh sign-in is refused like a wrong password.
    let fresh = server.browser();
    let html = fresh
        .get(Authorize::new(&client).url(&server))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let response = fresh
        .post(server.url("/authorize/login"))
        .form(&[
            ("request", hidden_field(&html, "request").as_str()),
            ("csrf", hidden_field(&html, "csrf").as_str()),
            ("username", USER),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert!(location(&response).ends_with("&failed=1"));
    // Enabled again, the user signs in; the old grant stays revoked.
    server.server.enable_user(&subject).await.unwrap();
    authorize_as(&server, &server.browser(), &client, USER, PASSWORD).await;
    assert_eq!(refresh(&server, &client, &tokens).await.0, 400);
}
