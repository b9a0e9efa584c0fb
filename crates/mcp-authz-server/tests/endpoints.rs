//! Registration, revocation, introspection and rate limits over real HTTP (AS-12, AS-15, SEC-7, SEC-8).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn registration_issues_ids_and_secrets_only_to_confidential_clients() {
    let server = TestServer::start().await;
    let response = server
        .register(json!({
            "redirect_uris": ["http://127.0.0.1/callback", "com.example.app:/cb"],
            "token_endpoint_auth_method": "none",
            "application_type": "native",
            "client_name": "Native",
        }))
        .await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert!(body["client_id"].is_string());
    assert!(body.get("client_secret").is_none());
    assert_eq!(body["token_endpoint_auth_method"], "none");
    assert_eq!(body["redirect_uris"][1], "com.example.app:/cb");

    let response = server
        .register(json!({
            "redirect_uris": ["https://app.example.com/cb"],
            "application_type": "web",
        }))
        .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_endpoint_auth_method"], "client_secret_basic");
    assert!(body["client_secret"].as_str().unwrap().len() >= 43);
    assert_eq!(body["client_secret_expires_at"], 0);
    // The secret is stored hashed.
    let id = mcp_authz_metadata::ClientId::parse(body["client_id"].as_str().unwrap()).unwrap();
    let stored = server.store.get_client(&id).await.unwrap().unwrap();
    let hash = stored.secret_hash.unwrap();
    assert!(hash.secret().starts_with("$sha256$"));
    assert!(
        !hash
            .secret()
            .contains(body["client_secret"].as_str().unwrap())
    );
}

#[tokio::test]
async fn registration_validates_metadata_strictly() {
    let server = TestServer::start().await;
    let cases = [
        (
            json!({"redirect_uris": ["http://127.0.0.1/cb"], "application_type": "web"}),
            "invalid_redirect_uri",
        ),
        (
            json!({"redirect_uris": ["https://app.example/cb"], "application_type": "native", "token_endpoint_auth_method": "none"}),
            "",
        ),
        (
            json!({"redirect_uris": ["http://app.example.com/cb"]}),
            "invalid_redirect_uri",
        ),
        (json!({"redirect_uris": []}), "invalid_redirect_uri"),
        (
            json!({"client_name": "no redirect"}),
            "invalid_redirect_uri",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "private_key_jwt"}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "grant_types": ["implicit"]}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "none", "grant_types": ["authorization_code", "client_credentials"]}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "scope": "admin"}),
            "invalid_client_metadata",
        ),
        (
            json!({"redirect_uris": ["https://a.example/cb"], "application_type": "tv"}),
            "invalid_client_metadata",
        ),
        (json!([1, 2]), "invalid_client_metadata"),
    ];
    for (body, expected) in cases {
        let response = server.register(body.clone()).await;
        if expected.is_empty() {
            assert_eq!(response.status(), 201, "{body}");
            continue;
        }
        assert_eq!(response.status(), 400, "{body}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"], expected, "{body}");
    }
    let response = server
        .http
        .post(server.url("/register"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "invalid_client_metadata"
    );
}

#[tokio::test]
async fn registration_is_rate_limited() {
    let server = TestServer::start_configured(|b| {
        default_config(b).register_rate_limit(mcp_authz_server::RateLimit::per_second(1, 3))
    })
    .await;
    let body = json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"});
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let response = server.register(body.clone()).await;
        if response.status() == 429 {
            let retry: u64 = response.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!(retry >= 1);
        }
        statuses.push(response.status().as_u16());
    }
    assert_eq!(&statuses[..3], [201, 201, 201]);
    assert!(statuses[3..].iter().all(|s| *s == 429), "{statuses:?}");
}

#[tokio::test]
async fn token_and_authorize_endpoints_are_rate_limited() {
    let server = TestServer::start_configured(|b| {
        default_config(b)
            .token_rate_limit(mcp_authz_server::RateLimit::per_second(1, 2))
            .authorize_rate_limit(mcp_authz_server::RateLimit::per_second(1, 2))
    })
    .await;
    let mut token_statuses = Vec::new();
    for _ in 0..4 {
        let (status, _, _) = server
            .token(&[("grant_type", "client_credentials"), ("client_id", "c")])
            .await;
        token_statuses.push(status.as_u16());
    }
    assert_eq!(token_statuses, [401, 401, 429, 429]);
    let mut authorize_statuses = Vec::new();
    for _ in 0..4 {
        let response = server
            .http
            .get(server.url("/authorize?client_id=x"))
            .send()
            .await
            .unwrap();
        authorize_statuses.push(response.status().as_u16());
    }
    assert_eq!(authorize_statuses, [400, 400, 429, 429]);
}

async fn resource_server(server: &TestServer, resource: &str) -> (String, String) {
    let id: String = resource
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let client = mcp_authz_server::ConfidentialClient::builder(
        mcp_authz_metadata::ClientId::parse(&id).unwrap(),
    )
    .name("resource server")
    .resource(mcp_authz_metadata::ResourceUri::parse(resource).unwrap())
    .build()
    .unwrap();
    let secret = server.server.register_client(&client).await.unwrap();
    (id, secret.secret().to_owned())
}

async fn post(
    server: &TestServer,
    path: &str,
    auth: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut request = server.http.post(server.url(path)).form(form);
    if let Some((id, secret)) = auth {
        request = request.header("authorization", basic(id, secret));
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body, headers)
}

#[tokio::test]
async fn introspection_requires_authentication_and_hides_other_audiences() {
    let server = TestServer::start().await;
    server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;
    let tokens = code_for_tokens(&server, &client).await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();

    let (rs, rs_secret) = resource_server(&server, RESOURCE).await;
    let (status, body, headers) = post(
        &server,
        "/introspect",
        Some((&rs, &rs_secret)),
        &[("token", access)],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(body["active"], true);
    assert_eq!(body["aud"], RESOURCE);
    assert_eq!(body["client_id"], client.as_str());
    assert_eq!(body["scope"], "tools:read");
    let (_, body, _) = post(
        &server,
        "/introspect",
        Some((&rs, &rs_secret)),
        &[("token", refresh)],
    )
    .await;
    assert_eq!(body["active"], true);

    // A resource server for another audience learns nothing.
    let (other, other_secret) = resource_server(&server, OTHER_RESOURCE).await;
    let (_, body, _) = post(
        &server,
        "/introspect",
        Some((&other, &other_secret)),
        &[("token", access)],
    )
    .await;
    assert_eq!(body, json!({"active": false}));
    let (_, body, _) = post(
        &server,
        "/introspect",
        Some((&other, &other_secret)),
        &[("token", refresh)],
    )
    .await;
    assert_eq!(body, json!({"active": false}));

    // Unauthenticated or public callers are refused.
    let (status, body, headers) = post(&server, "/introspect", None, &[("token", access)]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert!(headers.contains_key("www-authenticate"));
    let (status, _, _) = post(
        &server,
        "/introspect",
        None,
        &[("token", access), ("client_id", client.as_str())],
    )
    .await;
    assert_eq!(status, 401);
    let (status, _, _) = post(
        &server,
        "/introspect",
        Some((&rs, "wrong")),
        &[("token", access)],
    )
    .await;
    assert_eq!(status, 401);

    // Garbage tokens are simply inactive; a forged JWT too.
    for token in ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."] {
        let (status, body, _) = post(
            &server,
            "/introspect",
            Some((&rs, &rs_secret)),
            &[("token", token)],
        )
        .await;
        assert_eq!((status, body), (200, json!({"active": false})), "{token}");
    }
}

#[tokio::test]
async fn revocation_answers_200_and_revokes_refresh_and_access_tokens() {
    let server = TestServer::start().await;
    server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;
    let (rs, rs_secret) = resource_server(&server, RESOURCE).await;

    // Unknown tokens: 200.
    let (status, _, headers) = post(
        &server,
        "/revoke",
        None,
        &[("token", "never-issued"), ("client_id", client.as_str())],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["cache-control"], "no-store");

    // Revoking the refresh token kills the grant.
    let tokens = code_for_tokens(&server, &client).await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, _, _) = post(
        &server,
        "/revoke",
        None,
        &[
            ("token", refresh),
            ("token_type_hint", "refresh_token"),
            ("client_id", client.as_str()),
        ],
    )
    .await;
    assert_eq!(status, 200);
    let (status, body, _) = post(
        &server,
        "/token",
        None,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", client.as_str()),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (_, body, _) = post(
        &server,
        "/introspect",
        Some((&rs, &rs_secret)),
        &[("token", tokens["access_token"].as_str().unwrap())],
    )
    .await;
    assert_eq!(
        body["active"], false,
        "access tokens of a revoked grant are inactive"
    );

    // Revoking an access token.
    let tokens = code_for_tokens(&server, &client).await;
    let access = tokens["access_token"].as_str().unwrap();
    // Another client cannot revoke it.
    let other = server.public_client().await;
    post(
        &server,
        "/revoke",
        None,
        &[("token", access), ("client_id", other.as_str())],
    )
    .await;
    let (_, body, _) = post(
        &server,
        "/introspect",
        Some((&rs, &rs_secret)),
        &[("token", access)],
    )
    .await;
    assert_eq!(body["active"], true);
    let (status, _, _) = post(
        &server,
        "/revoke",
        None,
        &[("token", access), ("client_id", client.as_str())],
    )
    .await;
    assert_eq!(status, 200);
    let (_, body, _) = post(
        &server,
        "/introspect",
        Some((&rs, &rs_secret)),
        &[("token", access)],
    )
    .await;
    assert_eq!(body["active"], false);

    // A confidential client must authenticate to revoke.
    let (status, body, _) = post(
        &server,
        "/revoke",
        None,
        &[("token", "x"), ("client_id", rs.as_str())],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
}
