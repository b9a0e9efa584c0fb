//! The token endpoint over real HTTP (AS-3, AS-5, AS-7, AS-8, AS-9, AS-13, AS-14, SEC-2, SEC-5, SEC-7).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use common::*;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use mcp_authz_token::{AuthorizationCallback, JwtAccessTokenClaims};
use serde_json::Value;

fn assert_no_store(headers: &reqwest::header::HeaderMap) {
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["pragma"], "no-cache");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
}

/// Runs the browser flow up to the callback; returns (code, verifier).
async fn code(server: &TestServer, client: &mcp_authz_metadata::ClientId) -> (String, String) {
    let browser = server.browser();
    let authorize = Authorize::new(client);
    let location = browser_flow(server, &browser, &authorize).await;
    let AuthorizationCallback::Success(success) = callback(&location) else {
        panic!("{location}")
    };
    (
        success.code.secret().to_owned(),
        authorize.verifier.secret().to_owned(),
    )
}

async fn setup() -> (TestServer, mcp_authz_metadata::ClientId) {
    let server = TestServer::start().await;
    server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;
    (server, client)
}

#[tokio::test]
async fn access_token_is_an_rfc9068_jwt_verifiable_with_the_jwks() {
    let (server, client) = setup().await;
    let tokens = code_for_tokens(&server, &client).await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(tokens["refresh_token"].is_string());
    let expires_in = tokens["expires_in"].as_u64().unwrap();
    assert!(expires_in <= 3600 && expires_in > 0);
    let jwt = tokens["access_token"].as_str().unwrap();
    let (header, claims) = jwt_parts(jwt);
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "ES256");
    assert_eq!(claims["aud"], RESOURCE);
    assert_eq!(claims["iss"], server.base.as_str());
    assert_eq!(claims["client_id"], client.as_str());
    assert_eq!(claims["scope"], "tools:read");
    assert!(claims["sub"].is_string() && claims["jti"].is_string());
    let iat = claims["iat"].as_u64().unwrap();
    assert_eq!(claims["exp"].as_u64().unwrap() - iat, expires_in);

    // Signature verifies with the published key of the header's kid.
    let jwks: JwkSet = server
        .http
        .get(server.url("/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwk = jwks.find(header["kid"].as_str().unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_audience(&[RESOURCE]);
    validation.set_issuer(&[server.base.as_str()]);
    let data = jsonwebtoken::decode::<JwtAccessTokenClaims>(
        jwt,
        &DecodingKey::from_jwk(jwk).unwrap(),
        &validation,
    )
    .unwrap();
    assert_eq!(data.claims.client_id.as_str(), client.as_str());
}

#[tokio::test]
async fn replayed_code_fails_and_revokes_what_it_issued() {
    let (server, client) = setup().await;
    let (code, verifier) = code(&server, &client).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier.as_str()),
        ("client_id", client.as_str()),
    ];
    let (status, _, first) = server.token(&form).await;
    assert_eq!(status, 200);
    let (status, headers, replay) = server.token(&form).await;
    assert_eq!(status, 400);
    assert_eq!(replay["error"], "invalid_grant");
    assert_no_store(&headers);
    // The refresh token issued from the code is dead.
    let (status, _, body) = server
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", first["refresh_token"].as_str().unwrap()),
            ("client_id", client.as_str()),
        ])
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
    // And so is the access token (introspection by the issuing client's resource server).
    let (rs_id, rs_secret) = resource_server(&server).await;
    let active = introspect(
        &server,
        &rs_id,
        &rs_secret,
        first["access_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(active["active"], false);
}

/// A confidential client allowed to introspect tokens for RESOURCE.
pub async fn resource_server(server: &TestServer) -> (String, String) {
    let (id, secret) = server.operator_client(&["client_credentials"]).await;
    let client_id = mcp_authz_metadata::ClientId::parse(&id).unwrap();
    let mut record = server.store.get_client(&client_id).await.unwrap().unwrap();
    record.allowed_resources = Some(vec![resource()]);
    server.store.update_client(record).await.unwrap();
    (id, secret)
}

/// Introspects `token` as the resource server `id`.
pub async fn introspect(server: &TestServer, id: &str, secret: &str, token: &str) -> Value {
    let response = server
        .http
        .post(server.url("/introspect"))
        .header("authorization", basic(id, secret))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn pkce_failure_and_missing_verifier_are_invalid_grant() {
    let (server, client) = setup().await;
    let (code, _) = code(&server, &client).await;
    let wrong = mcp_authz_pkce::CodeVerifier::generate().unwrap();
    let (status, _, body) = server
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", wrong.secret()),
            ("client_id", client.as_str()),
        ])
        .await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _, body) = server
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("client_id", client.as_str()),
        ])
        .await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn code_is_bound_to_client_and_redirect_uri_and_expires() {
    let (server, client) = setup().await;
    let other = server.public_client().await;
    let (code, verifier) = code(&server, &client).await;
    let exchange = |client_id: String, redirect: &'static str| {
        let code = code.clone();
        let verifier = verifier.clone();
        let server = &server;
        async move {
            server
                .token(&[
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("redirect_uri", redirect),
                    ("code_verifier", verifier.as_str()),
                    ("client_id", client_id.as_str()),
                ])
                .await
        }
    };
    let (status, _, body) = exchange(other.as_str().to_owned(), REDIRECT).await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _, body) =
        exchange(client.as_str().to_owned(), "http://127.0.0.1:7777/other").await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    server.clock.advance(Duration::from_secs(61));
    let (status, _, body) = exchange(client.as_str().to_owned(), REDIRECT).await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn token_resource_must_be_within_the_grant() {
    let (server, client) = setup().await;
    let (code, verifier) = code(&server, &client).await;
    for (resource, expected) in [
        (OTHER_RESOURCE, "invalid_target"),
        ("https://unknown.example/mcp", "invalid_target"),
    ] {
        let (status, _, body) = server
            .token(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", REDIRECT),
                ("code_verifier", verifier.as_str()),
                ("client_id", client.as_str()),
                ("resource", resource),
            ])
            .await;
        assert_eq!(
            (status.as_u16(), body["error"].as_str()),
            (400, Some(expected)),
            "{resource}"
        );
    }
}

#[tokio::test]
async fn refresh_rotates_narrows_never_widens_and_detects_reuse() {
    let (server, client) = setup().await;
    let mut browser_authorize = Authorize::new(&client);
    browser_authorize.request = browser_authorize
        .request
        .with_scope(scope("tools:read tools:write"));
    let browser = server.browser();
    let location = browser_flow(&server, &browser, &browser_authorize).await;
    let AuthorizationCallback::Success(success) = callback(&location) else {
        panic!()
    };
    let (_, _, tokens) = server
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", success.code.secret()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", browser_authorize.verifier.secret()),
            ("client_id", client.as_str()),
        ])
        .await;
    let first = tokens["refresh_token"].as_str().unwrap().to_owned();
    let refresh = |token: String, scope: Option<&'static str>| {
        let server = &server;
        let client = client.clone();
        async move {
            let mut form = vec![
                ("grant_type", "refresh_token".to_owned()),
                ("refresh_token", token),
                ("client_id", client.as_str().to_owned()),
            ];
            if let Some(scope) = scope {
                form.push(("scope", scope.to_owned()));
            }
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            server.token(&form).await
        }
    };
    // Narrowing works and the new token has the narrower scope.
    let (status, headers, second) = refresh(first.clone(), Some("tools:read")).await;
    assert_eq!(status, 200, "{second}");
    assert_no_store(&headers);
    assert_eq!(second["scope"], "tools:read");
    let second_refresh = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(second_refresh, first);
    // Widening is invalid_scope.
    let (status, _, body) = refresh(second_refresh.clone(), Some("tools:read other:read")).await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    // Reusing the rotated first token revokes the family: the second one dies too.
    let (status, _, body) = refresh(first, None).await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _, body) = refresh(second_refresh, None).await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

/// The plain refresh (no scope, no resource: one store round trip) keeps the grant's scope and
/// audience, and is bound to the client: another client's attempt changes nothing, not even with an
/// already rotated token (no family revocation).
#[tokio::test]
async fn plain_refresh_keeps_the_grant_and_is_bound_to_its_client() {
    let (server, client) = setup().await;
    let other = server.public_client().await;
    let mut authorize = Authorize::new(&client);
    authorize.request = authorize
        .request
        .with_scope(scope("tools:read tools:write"));
    let browser = server.browser();
    let location = browser_flow(&server, &browser, &authorize).await;
    let AuthorizationCallback::Success(success) = callback(&location) else {
        panic!()
    };
    let (_, _, tokens) = server
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", success.code.secret()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", authorize.verifier.secret()),
            ("client_id", client.as_str()),
        ])
        .await;
    let first = tokens["refresh_token"].as_str().unwrap().to_owned();
    let refresh = |token: String, client: mcp_authz_metadata::ClientId| {
        let server = &server;
        async move {
            server
                .token(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", token.as_str()),
                    ("client_id", client.as_str()),
                ])
                .await
        }
    };
    let (status, _, body) = refresh(first.clone(), other.clone()).await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // The owner's token was not spent by that attempt.
    let (status, _, second) = refresh(first.clone(), client.clone()).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["scope"], "tools:read tools:write");
    let (_, claims) = jwt_parts(second["access_token"].as_str().unwrap());
    assert_eq!(claims["aud"], RESOURCE);
    assert_eq!(claims["client_id"], client.as_str());
    // The rotated first token presented by the other client: refused, and the family lives on.
    let (status, _, body) = refresh(first, other).await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let second_refresh = second["refresh_token"].as_str().unwrap().to_owned();
    let (status, _, third) = refresh(second_refresh, client).await;
    assert_eq!(status, 200, "{third}");
    assert_eq!(third["scope"], "tools:read tools:write");
}

#[tokio::test]
async fn client_credentials_with_basic_and_post_and_invalid_client() {
    let server = TestServer::start().await;
    let (id, secret) = server.operator_client(&["client_credentials"]).await;
    let response = server
        .http
        .post(server.url("/token"))
        .header("authorization", basic(&id, &secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("resource", RESOURCE),
            ("scope", "tools:write"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_no_store(response.headers());
    let body: Value = response.json().await.unwrap();
    let (_, claims) = jwt_parts(body["access_token"].as_str().unwrap());
    assert_eq!(claims["sub"], id.as_str());
    assert_eq!(claims["aud"], RESOURCE);
    assert_eq!(claims["scope"], "tools:write");
    assert!(body.get("refresh_token").is_none());

    // A client registered for client_secret_basic cannot use client_secret_post (SEC-20).
    let (status, _, _) = server
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", id.as_str()),
            ("client_secret", secret.as_str()),
        ])
        .await;
    assert_eq!(status, 401, "client_secret_post for a basic client");

    for form in [
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", id.as_str()),
            ("client_secret", "wrong"),
        ],
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", id.as_str()),
        ],
        vec![
            ("grant_type", "client_credentials"),
            ("client_id", "unknown"),
            ("client_secret", "x"),
        ],
        vec![("grant_type", "client_credentials")],
    ] {
        let (status, headers, body) = server.token(&form).await;
        assert_eq!(status, 401, "{form:?}");
        assert_eq!(body["error"], "invalid_client");
        assert!(
            headers["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Basic")
        );
        assert_no_store(&headers);
    }
    // Public clients cannot use client_credentials.
    let public = server.public_client().await;
    let (status, _, body) = server
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", public.as_str()),
        ])
        .await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
}

#[tokio::test]
async fn unsupported_grants_and_malformed_requests_get_rfc_codes() {
    let server = TestServer::start().await;
    let public = server.public_client().await;
    for (form, expected) in [
        (
            vec![("grant_type", "password"), ("client_id", public.as_str())],
            "unsupported_grant_type",
        ),
        (
            vec![("grant_type", "implicit"), ("client_id", public.as_str())],
            "unsupported_grant_type",
        ),
        (vec![("client_id", public.as_str())], "invalid_request"),
        (
            vec![
                ("grant_type", "authorization_code"),
                ("grant_type", "authorization_code"),
            ],
            "invalid_request",
        ),
        (
            vec![
                ("grant_type", "refresh_token"),
                ("client_id", public.as_str()),
            ],
            "invalid_request",
        ),
    ] {
        let (status, headers, body) = server.token(&form).await;
        assert_eq!(status, 400, "{form:?}");
        assert_eq!(body["error"], expected, "{form:?}");
        assert_no_store(&headers);
    }
}

#[tokio::test]
async fn signing_key_rotation_keeps_old_tokens_verifiable() {
    let server = TestServer::start().await;
    let (id, secret) = resource_server(&server).await;
    let (_, _, body) = server
        .token_basic(&id, &secret, &[("grant_type", "client_credentials")])
        .await;
    let old = body["access_token"].as_str().unwrap().to_owned();
    let old_kid = jwt_parts(&old).0["kid"].as_str().unwrap().to_owned();
    let new_kid = server.server.rotate_signing_key_now().await.unwrap().kid;
    let (_, _, body) = server
        .token_basic(&id, &secret, &[("grant_type", "client_credentials")])
        .await;
    let new = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(jwt_parts(&new).0["kid"], new_kid.as_str());
    let jwks: Value = server
        .http
        .get(server.url("/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert!(
        kids.contains(&old_kid.as_str()) && kids.contains(&new_kid.as_str()),
        "{kids:?}"
    );
    assert_eq!(
        introspect(&server, &id, &secret, &old).await["active"],
        true
    );
    // After the old tokens expired, the old key leaves the JWKS.
    server.clock.advance(Duration::from_secs(3600));
    let jwks: Value = server
        .http
        .get(server.url("/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, [new_kid.as_str()]);
}

#[tokio::test]
async fn confidential_clients_need_both_pkce_and_their_secret_for_the_code() {
    let server = TestServer::start().await;
    server.create_user(USER, PASSWORD).await;
    let (id, secret) = server
        .confidential_client(&["authorization_code", "refresh_token"])
        .await;
    let client = mcp_authz_metadata::ClientId::parse(&id).unwrap();
    // PKCE is required for confidential clients too.
    let authorize = Authorize::new(&client);
    let no_pkce: String = authorize
        .url(&server)
        .split('&')
        .filter(|p| !p.starts_with("code_challenge"))
        .collect::<Vec<_>>()
        .join("&")
        .replace(
            &urlencode(REDIRECT),
            &urlencode("https://app.example.com/cb"),
        );
    let response = server.http.get(&no_pkce).send().await.unwrap();
    assert_eq!(response.status(), 302);
    assert!(location(&response).contains("error=invalid_request"));

    let mut authorize = Authorize::new(&client);
    authorize.request.redirect_uri =
        Some(mcp_authz_metadata::RedirectUri::parse("https://app.example.com/cb").unwrap());
    let browser = server.browser();
    let location = browser_flow(&server, &browser, &authorize).await;
    let AuthorizationCallback::Success(success) = callback(&location) else {
        panic!("{location}")
    };
    let form = [
        ("grant_type", "authorization_code"),
        ("code", success.code.secret()),
        ("redirect_uri", "https://app.example.com/cb"),
        ("code_verifier", authorize.verifier.secret()),
        ("client_id", id.as_str()),
    ];
    let (status, headers, body) = server.token(&form).await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert!(headers.contains_key("www-authenticate"));
    let response = server
        .http
        .post(server.url("/token"))
        .header("authorization", basic(&id, &secret))
        .form(&form[..4])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
