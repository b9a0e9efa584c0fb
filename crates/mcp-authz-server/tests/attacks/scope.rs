//! The scope policy (issue #14): a self-registered or metadata-document client's registered `scope`
//! is a default, not a ceiling, so MCP step-up works; and what a client gets stays bounded by the
//! resource's scopes and by what the user approved. Each attack test fails when its bound is removed.

use mcp_authz_metadata::{
    ApplicationType, ClientId, GrantType, RedirectUri, Scope, TokenEndpointAuthMethod,
};
use mcp_authz_store::{ClientKind, ClientRecord, NumericDate};
use mcp_authz_token::{AuthorizationCallback, ErrorCode};
use serde_json::{Value, json};

use crate::common::*;

/// Registers a public native client (DCR) with `scope`.
async fn client_registered_with(server: &TestServer, scope: &str) -> ClientId {
    let response = server
        .register(json!({
            "redirect_uris": [REDIRECT],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "application_type": "native",
            "scope": scope,
        }))
        .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    ClientId::parse(body["client_id"].as_str().unwrap()).unwrap()
}

/// An authorization request for `scope` (or none) at the test resource.
fn request_for(client: &ClientId, scope: Option<&str>) -> Authorize {
    let mut authorize = Authorize::new(client);
    if let Some(scope) = scope {
        authorize.request = authorize.request.with_scope(Scope::parse(scope).unwrap());
    }
    authorize
}

/// Redeems the code of a successful callback `location`; returns the token response.
async fn redeem(
    server: &TestServer,
    client: &ClientId,
    authorize: &Authorize,
    location: &str,
) -> Value {
    let AuthorizationCallback::Success(success) = callback(location) else {
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

/// The error code of an error callback `location`.
fn error_of(location: &str) -> ErrorCode {
    match callback(location) {
        AuthorizationCallback::Error(error) => error.error,
        AuthorizationCallback::Success(_) => {
            panic!("a code where an error was expected: {location}")
        }
    }
}

/// The MCP step-up: a client registered with the first challenge's scope asks, later, for the union
/// with a scope the resource requires for a tool; the user is asked again, approves, and the client
/// gets the union (the Python and TypeScript SDKs do exactly this).
#[tokio::test]
async fn a_registered_client_steps_up_beyond_its_registered_scope() {
    let server = TestServer::start().await;
    server.create_user(USER, PASSWORD).await;
    let client = client_registered_with(&server, "tools:read").await;
    let browser = server.browser();

    let first = request_for(&client, Some("tools:read"));
    let location = browser_flow(&server, &browser, &first).await;
    assert_eq!(
        redeem(&server, &client, &first, &location).await["scope"],
        "tools:read"
    );

    let union = request_for(&client, Some("tools:read tools:write"));
    let page = browser.get(union.url(&server)).send().await.unwrap();
    assert_eq!(
        page.status(),
        200,
        "the wider request must show the consent page"
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("tools:write"), "{html}");
    let location = approve(&server, &browser, &html).await;
    let tokens = redeem(&server, &client, &union, &location).await;
    assert_eq!(tokens["scope"], "tools:read tools:write");
}

/// A request without `scope` gets the registered scope (within the resource's), not the resource's
/// default.
#[tokio::test]
async fn the_registered_scope_is_the_default_request() {
    let server = TestServer::start().await;
    server.create_user(USER, PASSWORD).await;
    let client = client_registered_with(&server, "tools:write").await;
    let authorize = request_for(&client, None);
    let location = browser_flow(&server, &server.browser(), &authorize).await;
    assert_eq!(
        redeem(&server, &client, &authorize, &location).await["scope"],
        "tools:write"
    );
}

/// Attack: a registered client asks for a scope the resource does not have, or another resource's
/// scope. `invalid_scope`, before any page.
#[tokio::test]
async fn a_registered_client_gets_no_scope_unknown_to_the_resource() {
    let server = TestServer::start().await;
    server.create_user(USER, PASSWORD).await;
    let client = client_registered_with(&server, "tools:read").await;
    for scope in [
        "tools:read admin:everything",
        "other:read",
        "tools:read other:read",
    ] {
        let authorize = request_for(&client, Some(scope));
        let response = server
            .http
            .get(authorize.url(&server))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 302, "{scope}");
        assert_eq!(
            error_of(&location(&response)),
            ErrorCode::InvalidScope,
            "{scope}"
        );
    }
}

/// Attack: a client the user approved for `tools:read` asks for `tools:write` and hopes the
/// remembered consent carries it. The user is asked; when they deny, no code is issued.
#[tokio::test]
async fn widening_needs_the_users_approval() {
    let server = TestServer::start().await;
    server.create_user(USER, PASSWORD).await;
    let client = client_registered_with(&server, "tools:read").await;
    let browser = server.browser();
    let first = request_for(&client, Some("tools:read"));
    let approved = browser_flow(&server, &browser, &first).await;
    redeem(&server, &client, &first, &approved).await;

    let wider = request_for(&client, Some("tools:read tools:write"));
    let page = browser.get(wider.url(&server)).send().await.unwrap();
    assert_eq!(
        page.status(),
        200,
        "a remembered narrower consent must not issue a code"
    );
    let html = page.text().await.unwrap();
    let response = browser
        .post(server.url("/authorize/consent"))
        .form(&[
            ("request", hidden_field(&html, "request").as_str()),
            ("csrf", hidden_field(&html, "csrf").as_str()),
            ("decision", "deny"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(error_of(&location(&response)), ErrorCode::AccessDenied);
}

/// An operator-registered client keeps its explicit ceiling.
#[tokio::test]
async fn an_operator_registered_client_keeps_its_ceiling() {
    let server = TestServer::start().await;
    server.create_user(USER, PASSWORD).await;
    let client = ClientId::parse("operator-app").unwrap();
    server
        .store
        .insert_client(ClientRecord {
            client_id: client.clone(),
            kind: ClientKind::PreRegistered,
            secret_hash: None,
            secret_expires_at: None,
            redirect_uris: vec![RedirectUri::parse(REDIRECT).unwrap()],
            grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
            token_endpoint_auth_method: TokenEndpointAuthMethod::None,
            application_type: ApplicationType::Native,
            client_name: Some("Operator app".to_owned()),
            allowed_resources: None,
            allowed_scope: Some(scope("tools:read")),
            metadata_json: "{}".into(),
            created_at: NumericDate::from_secs(0),
        })
        .await
        .unwrap();
    let authorize = request_for(&client, Some("tools:read tools:write"));
    let response = server
        .http
        .get(authorize.url(&server))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    assert_eq!(error_of(&location(&response)), ErrorCode::InvalidScope);
}
