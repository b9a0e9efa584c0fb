//! The resource-server requirements (REQUIREMENTS RS-1..RS-10) over real HTTP on 127.0.0.1: a test
//! authorization server, a protected axum app, a reqwest client.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use mcp_authz_metadata::{Issuer, ProtectedResourceMetadata, ResourceUri, Scope};
use mcp_authz_resource::{JwtVerifier, ManualClock, ReqwestHttpClient};
use mcp_authz_token::BearerError;
use serde_json::{Value, json};
use support::*;

fn scope(s: &str) -> Scope {
    s.parse().unwrap()
}

/// A protected `/mcp` with JWT validation against `auth`, tool scopes and a hierarchy.
async fn jwt_app(auth: &TestAs, clock: &ManualClock) -> (String, ResourceUri) {
    let issuer = auth.issuer.clone();
    serve_protected(
        "/mcp",
        |b| {
            b.authorization_server(issuer)
                .scopes_supported(scope(
                    "mcp:tools files:read files:write admin offline_access",
                ))
                .required_scope(scope("mcp:tools"))
                .tool_scope("read_file", scope("files:read"))
                .tool_scope("write_file", scope("files:write admin"))
                .scope_implies("admin".parse().unwrap(), ["files:write".parse().unwrap()])
                .scope_implies(
                    "files:write".parse().unwrap(),
                    ["files:read".parse().unwrap()],
                )
        },
        |resource| auth.jwt_verifier(resource, clock),
    )
    .await
}

fn tool_call(name: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": {}}})
}

// ---------------------------------------------------------------- RS-1

#[tokio::test]
async fn rs1_metadata_served_at_path_inserted_well_known_url() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let (base, resource) = jwt_app(&auth, &clock).await;
    let response = client()
        .get(format!("{base}/.well-known/oauth-protected-resource/mcp"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = response.bytes().await.unwrap();
    let doc = ProtectedResourceMetadata::parse(&body)
        .unwrap()
        .validate(&resource)
        .unwrap();
    assert_eq!(doc.resource(), &resource);
    assert_eq!(
        doc.authorization_servers(),
        std::slice::from_ref(&auth.issuer)
    );
    // Not at the root form: this resource has a path and the root is not configured.
    let root = client()
        .get(format!("{base}/.well-known/oauth-protected-resource"))
        .send()
        .await
        .unwrap();
    assert_eq!(root.status(), 401);
}

#[tokio::test]
async fn rs1_resource_without_path_serves_root_form() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let issuer = auth.issuer.clone();
    let (base, resource) = serve_protected(
        "",
        |b| b.authorization_server(issuer),
        |r| auth.jwt_verifier(r, &clock),
    )
    .await;
    let response = client()
        .get(format!("{base}/.well-known/oauth-protected-resource"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let doc = ProtectedResourceMetadata::parse(&response.bytes().await.unwrap())
        .unwrap()
        .validate(&resource)
        .unwrap();
    assert_eq!(doc.resource().as_str(), base);
}

#[tokio::test]
async fn rs1_root_form_also_served_when_configured() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let issuer = auth.issuer.clone();
    let (base, _) = serve_protected(
        "/mcp",
        |b| b.authorization_server(issuer).serve_root_metadata(true),
        |r| auth.jwt_verifier(r, &clock),
    )
    .await;
    for path in [
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
    ] {
        let response = client().get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
}

// ---------------------------------------------------------------- RS-2

#[tokio::test]
async fn rs2_no_token_is_401_with_resource_metadata_and_scope_and_no_error() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let (base, _) = jwt_app(&auth, &clock).await;
    let response = client().post(format!("{base}/mcp")).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let c = challenge(&response);
    assert_eq!(c.error, None);
    assert_eq!(
        c.resource_metadata.unwrap().as_str(),
        format!("{base}/.well-known/oauth-protected-resource/mcp")
    );
    assert_eq!(c.scope, Some(scope("mcp:tools")));
    let body: Value = response.json().await.unwrap();
    assert!(body.get("error").is_none());
}

#[tokio::test]
async fn rs2_other_auth_scheme_counts_as_no_token() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let (base, _) = jwt_app(&auth, &clock).await;
    let response = client()
        .get(format!("{base}/mcp"))
        .header("authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(challenge(&response).error, None);
}

// ---------------------------------------------------------------- RS-3

async fn assert_invalid_token(base: &str, token: &str) {
    let response = client()
        .get(format!("{base}/mcp"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401, "token {token}");
    let c = challenge(&response);
    assert_eq!(c.error, Some(BearerError::InvalidToken));
    assert!(c.resource_metadata.is_some());
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_token");
}

#[tokio::test]
async fn rs3_valid_token_passes() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let (base, resource) = jwt_app(&auth, &clock).await;
    let token = auth.sign(&auth.claims(resource.as_str(), "mcp:tools"));
    let response = client()
        .get(format!("{base}/mcp"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["subject"], "user-1");
}

#[tokio::test]
async fn rs3_expired_token_is_401_invalid_token() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let (base, resource) = jwt_app(&auth, &clock).await;
    let mut claims = auth.claims(resource.as_str(), "mcp:tools");
    claims["iat"] = json!(NOW - 7200);
    claims["nbf"] = json!(NOW - 7200);
    claims["exp"] = json!(NOW - 3600);
    assert_invalid_token(&base, &auth.sign(&claims)).await;
}

#[tokio::test]
async fn rs3_token_expires_while_cached() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let (base, resource) = jwt_app(&auth, &clock).await;
    let token = auth.sign(&auth.claims(resource.as_str(), "mcp:tools"));
    let ok = client()
        .get(format!("{base}/mcp"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    clock.advance(Duration::from_secs(3600 + 61));
    assert_invalid_token(&base, &token).await;
}

#[tokio::test]
async fn rs3_not_yet_valid_token_is_401_invalid_token() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let (base, resource) = jwt_app(&auth, &clock).await;
    let mut claims = auth.claims(resource.as_str(), "mcp:tools");
    claims["nbf"] = json!(NOW + 600);
    assert_invalid_token(&base, &auth.sign(&claims)).await;
}

#[tokio::test]
async fn rs3_wrongly_signed_token_is_401_invalid_token() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let (base, resource) = jwt_app(&auth, &clock).await;
    // Same kid as the published key, different private key.
    let forger = SigningKey::new("key-1", 9);
    let token = sign_with(
        &forger,
        "at+jwt",
        &auth.claims(resource.as_str(), "mcp:tools"),
    );
    assert_invalid_token(&base, &token).await;
    // A tampered payload under a genuine signature.
    let good = auth.sign(&auth.claims(resource.as_str(), "mcp:tools"));
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    let mut other = auth.claims(resource.as_str(), "mcp:tools admin");
    other["sub"] = json!("admin");
    use base64::Engine;
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(other.to_string());
    assert_invalid_token(&base, &parts.join(".")).await;
}

#[tokio::test]
async fn rs3_wrong_issuer_is_401_invalid_token() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let (base, resource) = jwt_app(&auth, &clock).await;
    let mut claims = auth.claims(resource.as_str(), "mcp:tools");
    claims["iss"] = json!("https://evil.example");
    assert_invalid_token(&base, &auth.sign(&claims)).await;
}

#[tokio::test]
async fn rs3_expired_by_one_second_with_zero_leeway_is_invalid() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let issuer = auth.issuer.clone();
    let (base, resource) = serve_protected(
        "/mcp",
        |b| b.authorization_server(issuer),
        |r| {
            JwtVerifier::builder(auth.issuer.clone(), r.clone())
                .leeway(Duration::ZERO)
                .clock(Arc::new(clock.clone()))
                .build()
                .unwrap()
        },
    )
    .await;
    let mut claims = auth.claims(resource.as_str(), "mcp:tools");
    claims["exp"] = json!(NOW - 1);
    claims["iat"] = json!(NOW - 100);
    claims["nbf"] = json!(NOW - 100);
    assert_invalid_token(&base, &auth.sign(&claims)).await;
    // One second earlier the same shape passes.
    claims["exp"] = json!(NOW + 1);
    let ok = client()
        .get(format!("{base}/mcp"))
        .bearer_auth(auth.sign(&claims))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn rs3_inactive_introspected_token_is_401() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let issuer = auth.issuer.clone();
    let (base, _) = serve_protected(
        "/mcp",
        |b| b.authorization_server(issuer),
        |r| auth.introspection_verifier(r, &clock),
    )
    .await;
    assert_invalid_token(&base, "revoked-or-unknown").await;
}

// ---------------------------------------------------------------- RS-4

#[tokio::test]
async fn rs4_token_for_other_audience_is_401() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let (base, _) = jwt_app(&auth, &clock).await;
    let token = auth.sign(&auth.claims("https://other.example.com/mcp", "mcp:tools"));
    assert_invalid_token(&base, &token).await;
    // The same server under another path is another resource.
    let token = auth.sign(&auth.claims(&format!("{base}/other"), "mcp:tools"));
    assert_invalid_token(&base, &token).await;
}

#[tokio::test]
async fn rs4_audience_array_containing_resource_passes() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let (base, resource) = jwt_app(&auth, &clock).await;
    let mut claims = auth.claims(resource.as_str(), "mcp:tools");
    claims["aud"] = json!(["https://other.example.com", resource.as_str()]);
    let response = client()
        .get(format!("{base}/mcp"))
        .bearer_auth(auth.sign(&claims))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn rs4_introspected_token_for_other_audience_is_401() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let issuer = auth.issuer.clone();
    let (base, _) = serve_protected(
        "/mcp",
        |b| b.authorization_server(issuer),
        |r| auth.introspection_verifier(r, &clock),
    )
    .await;
    auth.add_opaque(
        "other-aud",
        json!({"active": true, "aud": "https://other.example.com", "exp": NOW + 600, "scope": "mcp:tools"}),
    );
    auth.add_opaque(
        "no-aud",
        json!({"active": true, "exp": NOW + 600, "scope": "mcp:tools"}),
    );
    assert_invalid_token(&base, "other-aud").await;
    assert_invalid_token(&base, "no-aud").await;
}

// ---------------------------------------------------------------- RS-5, RS-6

#[tokio::test]
async fn rs5_tool_call_without_scope_is_403_with_every_needed_scope() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let (base, resource) = jwt_app(&auth, &clock).await;
    let token = auth.sign(&auth.claims(resource.as_str(), "mcp:tools files:read"));
    let response = client()
        .post(format!("{base}/mcp"))
        .bearer_auth(&token)
        .json(&tool_call("write_file"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let c = challenge(&response);
    assert_eq!(c.error, Some(BearerError::InsufficientScope));
    assert_eq!(c.scope, Some(scope("mcp:tools files:write admin")));
    assert!(c.resource_metadata.is_some());
    // The same token may call the tool it has the scope for.
    let ok = client()
        .post(format!("{base}/mcp"))
        .bearer_auth(&token)
        .json(&tool_call("read_file"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn rs5_batched_calls_need_the_union_and_base_scope_is_checked() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let (base, resource) = jwt_app(&auth, &clock).await;
    let no_base = auth.sign(&auth.claims(resource.as_str(), "files:read"));
    let response = client()
        .get(format!("{base}/mcp"))
        .bearer_auth(&no_base)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(challenge(&response).scope, Some(scope("mcp:tools")));

    let token = auth.sign(&auth.claims(resource.as_str(), "mcp:tools files:read"));
    let batch = json!([tool_call("read_file"), tool_call("write_file")]);
    let response = client()
        .post(format!("{base}/mcp"))
        .bearer_auth(&token)
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(
        challenge(&response).scope,
        Some(scope("mcp:tools files:read files:write admin"))
    );
}

#[tokio::test]
async fn rs6_broader_scope_satisfies_narrower_ones() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let (base, resource) = jwt_app(&auth, &clock).await;
    // files:write implies files:read.
    let writer = auth.sign(&auth.claims(resource.as_str(), "mcp:tools files:write"));
    let response = client()
        .post(format!("{base}/mcp"))
        .bearer_auth(&writer)
        .json(&tool_call("read_file"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // admin implies files:write, which implies files:read (transitive); write_file needs both.
    let admin = auth.sign(&auth.claims(resource.as_str(), "mcp:tools admin"));
    for tool in ["read_file", "write_file"] {
        let response = client()
            .post(format!("{base}/mcp"))
            .bearer_auth(&admin)
            .json(&tool_call(tool))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{tool}");
    }
    // The narrower scope does not imply the broader one.
    let reader = auth.sign(&auth.claims(resource.as_str(), "mcp:tools files:read"));
    let response = client()
        .post(format!("{base}/mcp"))
        .bearer_auth(&reader)
        .json(&tool_call("write_file"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

// ---------------------------------------------------------------- RS-7

async fn assert_invalid_request(response: reqwest::Response) {
    assert_eq!(response.status(), 400);
    let c = challenge(&response);
    assert_eq!(c.error, Some(BearerError::InvalidRequest));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
}

#[tokio::test]
async fn rs7_token_in_query_is_400() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let (base, resource) = jwt_app(&auth, &clock).await;
    let token = auth.sign(&auth.claims(resource.as_str(), "mcp:tools"));
    let response = client()
        .get(format!("{base}/mcp?access_token={token}"))
        .send()
        .await
        .unwrap();
    assert_invalid_request(response).await;
    // Even alongside a valid header.
    let response = client()
        .get(format!("{base}/mcp?x=1&access_token=abc"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_invalid_request(response).await;
}

#[tokio::test]
async fn rs7_malformed_authorization_headers_are_400() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let (base, _) = jwt_app(&auth, &clock).await;
    for value in [
        "Bearer",
        "Bearer ",
        "Bearer a b",
        "Bearer a,b",
        "Bearer \"quoted\"",
        "Bearer a, Bearer b, Bearer c",
    ] {
        let response = client()
            .get(format!("{base}/mcp"))
            .header("authorization", value)
            .send()
            .await
            .unwrap();
        assert_invalid_request(response).await;
    }
    let response = client()
        .get(format!("{base}/mcp"))
        .header("authorization", "Bearer a")
        .header("authorization", "Bearer b")
        .send()
        .await
        .unwrap();
    assert_invalid_request(response).await;
}

#[tokio::test]
async fn rs7_hundred_kilobyte_header_is_400() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let (base, _) = jwt_app(&auth, &clock).await;
    let value = format!("Bearer {}", "a".repeat(100 * 1024));
    let response = client()
        .get(format!("{base}/mcp"))
        .header("authorization", value)
        .send()
        .await
        .unwrap();
    assert_invalid_request(response).await;
}

#[tokio::test]
async fn rs7_non_utf8_header_bytes_are_400() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let (base, _) = jwt_app(&auth, &clock).await;
    let value = reqwest::header::HeaderValue::from_bytes(b"Bearer \xff\xfeabc").unwrap();
    let response = client()
        .get(format!("{base}/mcp"))
        .header("authorization", value)
        .send()
        .await
        .unwrap();
    assert_invalid_request(response).await;
}

// ---------------------------------------------------------------- RS-8

#[tokio::test]
async fn rs8_handler_sees_claims_not_the_token() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let (base, resource) = jwt_app(&auth, &clock).await;
    let token = auth.sign(&auth.claims(resource.as_str(), "mcp:tools files:read"));
    let body: Value = client()
        .get(format!("{base}/mcp"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["authorization_header_seen"], false);
    assert_eq!(body["subject"], "user-1");
    assert_eq!(body["client_id"], "client-1");
    assert_eq!(body["scope"], "files:read mcp:tools");
    assert_eq!(body["expires_at"], NOW + 3600);
    assert!(!body.to_string().contains(&token));
}

// ---------------------------------------------------------------- RS-9

#[tokio::test]
async fn rs9_offline_access_never_in_metadata_or_challenge() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let issuer = auth.issuer.clone();
    let (base, _) = serve_protected(
        "/mcp",
        |b| {
            b.authorization_server(issuer)
                .scopes_supported(scope("mcp:tools offline_access"))
        },
        |r| auth.jwt_verifier(r, &clock),
    )
    .await;
    let doc: Value = client()
        .get(format!("{base}/.well-known/oauth-protected-resource/mcp"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["scopes_supported"], json!(["mcp:tools"]));
    // No required scope: the 401 challenge names scopes_supported, still without offline_access.
    let response = client().get(format!("{base}/mcp")).send().await.unwrap();
    assert_eq!(challenge(&response).scope, Some(scope("mcp:tools")));
}

#[test]
fn rs9_offline_access_cannot_be_required() {
    let config = mcp_authz_resource::ResourceServerConfig::builder(
        ResourceUri::parse("https://mcp.example.com").unwrap(),
    )
    .authorization_server(Issuer::parse("https://auth.example.com").unwrap())
    .tool_scope("sync", scope("offline_access"))
    .build();
    assert_eq!(
        config.err(),
        Some(mcp_authz_resource::ConfigError::OfflineAccessRequired)
    );
}

// ---------------------------------------------------------------- RS-10

#[tokio::test]
async fn rs10_jwks_discovered_from_metadata_fetched_once_and_verified_tokens_cached() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let (base, resource) = jwt_app(&auth, &clock).await;
    for i in 0..5 {
        let mut claims = auth.claims(resource.as_str(), "mcp:tools");
        claims["jti"] = json!(format!("j{i}"));
        let token = auth.sign(&claims);
        for _ in 0..3 {
            let r = client()
                .get(format!("{base}/mcp"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
        }
    }
    assert_eq!(auth.jwks_fetches(), 1);
    assert_eq!(
        auth.state
            .metadata_fetches
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
}

#[tokio::test]
async fn rs10_unknown_kid_flood_refetches_at_most_once_per_interval() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let (base, resource) = jwt_app(&auth, &clock).await;
    let good = auth.sign(&auth.claims(resource.as_str(), "mcp:tools"));
    assert_eq!(
        client()
            .get(format!("{base}/mcp"))
            .bearer_auth(&good)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(auth.jwks_fetches(), 1);
    let mut tasks = Vec::new();
    for i in 0..50 {
        let key = SigningKey::new(&format!("flood-{i}"), 20 + (i % 50) as u8);
        let token = sign_with(&key, "at+jwt", &auth.claims(resource.as_str(), "mcp:tools"));
        let url = format!("{base}/mcp");
        tasks.push(tokio::spawn(async move {
            client()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 401);
    }
    // The first fetch happened at NOW; the interval (30 s) has not passed.
    assert_eq!(auth.jwks_fetches(), 1);
    clock.advance(Duration::from_secs(31));
    for i in 0..20 {
        let key = SigningKey::new(&format!("flood2-{i}"), 80 + i as u8);
        let token = sign_with(&key, "at+jwt", &auth.claims(resource.as_str(), "mcp:tools"));
        let r = client()
            .get(format!("{base}/mcp"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    assert_eq!(auth.jwks_fetches(), 2);
}

#[tokio::test]
async fn rs10_rotated_key_is_picked_up_on_unknown_kid() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let (base, resource) = jwt_app(&auth, &clock).await;
    let old = auth.sign(&auth.claims(resource.as_str(), "mcp:tools"));
    assert_eq!(
        client()
            .get(format!("{base}/mcp"))
            .bearer_auth(&old)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let new_key = SigningKey::new("key-2", 11);
    auth.publish(&new_key);
    clock.advance(Duration::from_secs(30));
    let token = sign_with(
        &new_key,
        "at+jwt",
        &auth.claims(resource.as_str(), "mcp:tools"),
    );
    let r = client()
        .get(format!("{base}/mcp"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(auth.jwks_fetches(), 2);
}

#[tokio::test]
async fn rs10_opaque_token_introspected_and_cached_for_at_most_its_remaining_life() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let issuer = auth.issuer.clone();
    let (base, resource) = serve_protected(
        "/mcp",
        |b| b.authorization_server(issuer),
        |r| auth.introspection_verifier(r, &clock),
    )
    .await;
    auth.add_opaque(
        "opaque-1",
        json!({"active": true, "aud": resource.as_str(), "iss": auth.issuer.as_str(), "sub": "u9",
               "client_id": "c9", "scope": "mcp:tools", "exp": NOW + 20}),
    );
    for _ in 0..3 {
        let body: Value = client()
            .get(format!("{base}/mcp"))
            .bearer_auth("opaque-1")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["subject"], "u9");
    }
    assert_eq!(auth.introspections(), 1);
    // After the token's exp the cache entry is gone and the token (still "active" at this AS, but
    // expired) is refused.
    clock.advance(Duration::from_secs(20 + 61));
    let r = client()
        .get(format!("{base}/mcp"))
        .bearer_auth("opaque-1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(auth.introspections(), 2);
}

#[tokio::test]
async fn rs10_introspection_cache_bounded_by_max_ttl() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let issuer = auth.issuer.clone();
    let (base, resource) = serve_protected(
        "/mcp",
        |b| b.authorization_server(issuer),
        |r| auth.introspection_verifier(r, &clock),
    )
    .await;
    auth.add_opaque(
        "long",
        json!({"active": true, "aud": resource.as_str(), "exp": NOW + 3600}),
    );
    assert_eq!(
        client()
            .get(format!("{base}/mcp"))
            .bearer_auth("long")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    clock.advance(Duration::from_secs(59));
    assert_eq!(
        client()
            .get(format!("{base}/mcp"))
            .bearer_auth("long")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(auth.introspections(), 1);
    // Revoked at the AS: after the 60 s default max TTL the resource asks again and refuses.
    auth.add_opaque("long", json!({"active": false}));
    clock.advance(Duration::from_secs(2));
    assert_eq!(
        client()
            .get(format!("{base}/mcp"))
            .bearer_auth("long")
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(auth.introspections(), 2);
}

// ---------------------------------------------------------------- 503

#[tokio::test]
async fn jwks_unreachable_with_empty_cache_is_503_with_retry_after() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let issuer = auth.issuer.clone();
    let dead = dead_url("/jwks").await;
    let (base, resource) = serve_protected(
        "/mcp",
        |b| b.authorization_server(issuer),
        |r| {
            JwtVerifier::builder(auth.issuer.clone(), r.clone())
                .jwks_uri(dead.clone())
                .clock(Arc::new(clock.clone()))
                .http_client(Arc::new(
                    ReqwestHttpClient::with_timeout(Duration::from_secs(2)).unwrap(),
                ))
                .build()
                .unwrap()
        },
    )
    .await;
    let token = auth.sign(&auth.claims(resource.as_str(), "mcp:tools"));
    for _ in 0..2 {
        let response = client()
            .get(format!("{base}/mcp"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 503);
        let retry: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=30).contains(&retry));
        assert!(response.headers().get("www-authenticate").is_none());
    }
}

#[tokio::test]
async fn introspection_unreachable_is_503() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let issuer = auth.issuer.clone();
    let dead = dead_url("/introspect").await;
    let (base, _) = serve_protected(
        "/mcp",
        |b| b.authorization_server(issuer),
        |r| {
            mcp_authz_resource::IntrospectionVerifier::builder(
                auth.issuer.clone(),
                r.clone(),
                RS_CLIENT_ID.parse().unwrap(),
                mcp_authz_metadata::ClientSecret::new(RS_CLIENT_SECRET),
            )
            .endpoint(dead.clone())
            .clock(Arc::new(clock.clone()))
            .build()
            .unwrap()
        },
    )
    .await;
    let response = client()
        .get(format!("{base}/mcp"))
        .bearer_auth("opaque")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn rs10_oversized_jwks_is_refused_and_answered_503() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let issuer = auth.issuer.clone();
    let huge = mcp_authz_metadata::Url::parse(&format!("{}/huge-jwks", auth.base)).unwrap();
    let (base, resource) = serve_protected(
        "/mcp",
        |b| b.authorization_server(issuer),
        |r| {
            JwtVerifier::builder(auth.issuer.clone(), r.clone())
                .jwks_uri(huge.clone())
                .clock(Arc::new(clock.clone()))
                .build()
                .unwrap()
        },
    )
    .await;
    let token = auth.sign(&auth.claims(resource.as_str(), "mcp:tools"));
    let response = client()
        .get(format!("{base}/mcp"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
}

// ---------------------------------------------------------------- SEC-16: revocation check

/// Refuses the `jti`s on its list; answers "unavailable" for `jti` `down`.
struct DenyList(Vec<&'static str>);

impl mcp_authz_resource::RevocationCheck for DenyList {
    fn is_revoked<'a>(
        &'a self,
        claims: &'a mcp_authz_resource::VerifiedClaims,
    ) -> mcp_authz_resource::RevocationFuture<'a> {
        let jti = claims.token_id().unwrap_or_default().to_owned();
        let revoked = self.0.contains(&jti.as_str());
        Box::pin(async move {
            if jti == "down" {
                return Err(mcp_authz_resource::RevocationUnavailable::new(
                    "store unreachable",
                ));
            }
            Ok(revoked)
        })
    }
}

/// A verified token that the revocation check reports revoked is 401 `invalid_token`; one it cannot
/// decide is 503 (never accepted); others pass.
#[tokio::test]
async fn sec16_revocation_check_refuses_revoked_tokens() {
    use mcp_authz_resource::{RequireBearerLayer, ResourceServer, ResourceServerConfig};
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let resource = ResourceUri::parse(&url).unwrap();
    let config = ResourceServerConfig::builder(resource.clone())
        .authorization_server(auth.issuer.clone())
        .build()
        .unwrap();
    let server = ResourceServer::new(config, auth.jwt_verifier(&resource, &clock))
        .with_revocation_check(DenyList(vec!["revoked"]));
    let app = axum::Router::new()
        .route("/mcp", axum::routing::any(echo))
        .layer(RequireBearerLayer::new(server));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let with_jti = |jti: &str| {
        let mut claims = auth.claims(&url, "");
        claims["jti"] = jti.into();
        auth.sign(&claims)
    };
    let get = |token: String| client().get(&url).bearer_auth(token).send();

    assert_eq!(get(with_jti("fine")).await.unwrap().status(), 200);
    let revoked = get(with_jti("revoked")).await.unwrap();
    assert_eq!(revoked.status(), 401);
    let challenge = challenge(&revoked);
    assert_eq!(challenge.error, Some(BearerError::InvalidToken));
    assert_eq!(
        challenge.error_description.as_deref(),
        Some("the token has been revoked")
    );
    let down = get(with_jti("down")).await.unwrap();
    assert_eq!(down.status(), 503);
    assert!(down.headers().contains_key("retry-after"));
}

/// A `tools/call` body that breaks off before its announced length is a bad request (400
/// `invalid_request`), not "too large" (413): the layer tells a read failure from the size limit.
#[tokio::test(flavor = "multi_thread")]
async fn a_body_cut_short_is_400_not_413() {
    use std::io::{Read as _, Write as _};
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let (base, resource) = jwt_app(&auth, &clock).await;
    let token = auth.sign(&auth.claims(resource.as_str(), "mcp:tools"));
    let addr = base.trim_start_matches("http://").to_owned();
    let answer = tokio::task::block_in_place(move || {
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(15)))
            .unwrap();
        let head = format!(
            "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"jsonrpc\":"
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.shutdown(std::net::Shutdown::Write).unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    });
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("invalid_request"), "{answer}");
}
