//! Configuration errors over real HTTP on 127.0.0.1: the startup check names the cause
//! (`TokenVerifier::check`), and at runtime a permanent configuration error is a 500 logged once, not
//! a retryable 503, while an outage stays a 503 with `Retry-After`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use mcp_authz_metadata::{ClientSecret, Issuer, ResourceUri};
use mcp_authz_resource::{
    CheckError, IntrospectionVerifier, JwtVerifier, ManualClock, Misconfiguration,
    ReqwestHttpClient, ResourceServer, ResourceServerConfig, TokenVerifier, VerifyError,
};
use mcp_authz_token::AccessToken;
use serde_json::{Value, json};
use support::*;

/// The test authorization server, now calling itself `http://localhost:<port>` while the resource
/// server is configured with `http://127.0.0.1:<port>`: the misconfiguration of issue #22.
fn call_itself_localhost(auth: &TestAs) -> String {
    let localhost = auth.base.replace("127.0.0.1", "localhost");
    *auth.state.issuer.lock().unwrap() = localhost.clone();
    localhost
}

fn resource() -> ResourceUri {
    ResourceUri::parse("http://127.0.0.1:1/mcp").unwrap()
}

#[tokio::test]
async fn check_names_the_issuer_the_authorization_server_uses() {
    let auth = TestAs::start().await;
    let localhost = call_itself_localhost(&auth);
    let verifier = auth.jwt_verifier(&resource(), &ManualClock::new(NOW));
    let error = verifier.check().await.unwrap_err();
    let CheckError::Misconfigured(Misconfiguration::IssuerMismatch {
        expected, found, ..
    }) = &error
    else {
        panic!("not an issuer mismatch: {error:?}");
    };
    assert_eq!(expected, auth.issuer.as_str());
    assert_eq!(found, &localhost);
    let message = error.to_string();
    assert!(
        message.contains(&format!(
            "issuer {localhost} (named by the authorization server metadata"
        )) && message.contains(&format!("is not the expected issuer {}", auth.issuer)),
        "{message}"
    );
    // Through the resource server too.
    let config = ResourceServerConfig::builder(resource())
        .authorization_server(auth.issuer.clone())
        .build()
        .unwrap();
    let server = ResourceServer::new(config, verifier);
    assert!(matches!(
        server.check().await,
        Err(CheckError::Misconfigured(
            Misconfiguration::IssuerMismatch { .. }
        ))
    ));
}

#[tokio::test]
async fn check_passes_and_keeps_the_key_set_it_fetched() {
    let auth = TestAs::start().await;
    let resource = resource();
    let verifier = auth.jwt_verifier(&resource, &ManualClock::new(NOW));
    verifier.check().await.unwrap();
    assert_eq!(auth.jwks_fetches(), 1);
    let token = AccessToken::parse(&auth.sign(&auth.claims(resource.as_str(), "mcp"))).unwrap();
    verifier.verify(&token).await.unwrap();
    assert_eq!(auth.jwks_fetches(), 1, "the checked key set is reused");
}

#[tokio::test]
async fn check_reports_an_unreachable_authorization_server_as_unreachable() {
    let dead = dead_url("").await;
    let issuer = Issuer::parse(dead.as_str().trim_end_matches('/')).unwrap();
    let verifier = JwtVerifier::builder(issuer, resource())
        .http_client(Arc::new(
            ReqwestHttpClient::with_timeout(Duration::from_secs(2)).unwrap(),
        ))
        .build()
        .unwrap();
    assert!(matches!(
        verifier.check().await,
        Err(CheckError::Unreachable(_))
    ));
}

/// An authorization server whose metadata has no `jwks_uri` (or a JWKS of symmetric keys only).
async fn start_as(metadata: impl Fn(&str) -> Value + Send + Sync + 'static, jwks: Value) -> Issuer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let doc = metadata(&base);
    let app = Router::new()
        .route(
            "/.well-known/oauth-authorization-server",
            get(move || async move { axum::Json(doc) }),
        )
        .route("/jwks", get(move || async move { axum::Json(jwks) }));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Issuer::parse(&base).unwrap()
}

#[tokio::test]
async fn check_refuses_metadata_without_jwks_uri_and_a_jwks_without_usable_keys() {
    let issuer = start_as(
        |base| json!({"issuer": base, "authorization_endpoint": format!("{base}/authorize"), "token_endpoint": format!("{base}/token"), "response_types_supported": ["code"]}),
        json!({"keys": []}),
    )
    .await;
    let verifier = JwtVerifier::builder(issuer.clone(), resource())
        .build()
        .unwrap();
    assert_eq!(
        verifier.check().await,
        Err(CheckError::Misconfigured(Misconfiguration::NoJwksUri {
            issuer: issuer.as_str().to_owned()
        }))
    );

    let issuer = start_as(
        |base| json!({"issuer": base, "authorization_endpoint": format!("{base}/authorize"), "token_endpoint": format!("{base}/token"), "response_types_supported": ["code"], "jwks_uri": format!("{base}/jwks")}),
        json!({"keys": [{"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"}]}),
    )
    .await;
    let verifier = JwtVerifier::builder(issuer, resource()).build().unwrap();
    assert!(matches!(
        verifier.check().await,
        Err(CheckError::Misconfigured(
            Misconfiguration::NoUsableKeys { .. }
        ))
    ));
}

#[tokio::test]
async fn introspection_check_finds_rejected_credentials_and_a_wrong_issuer() {
    let auth = TestAs::start().await;
    let resource = resource();
    let clock = ManualClock::new(NOW);
    auth.introspection_verifier(&resource, &clock)
        .check()
        .await
        .unwrap();

    let wrong_secret = IntrospectionVerifier::builder(
        auth.issuer.clone(),
        resource.clone(),
        RS_CLIENT_ID.parse().unwrap(),
        ClientSecret::new("not-the-secret"),
    )
    .build()
    .unwrap();
    assert!(matches!(
        wrong_secret.check().await,
        Err(CheckError::Misconfigured(
            Misconfiguration::CredentialsRejected { .. }
        ))
    ));
    // At runtime: not retryable either.
    let token = AccessToken::parse("opaque").unwrap();
    assert!(matches!(
        wrong_secret.verify(&token).await,
        Err(VerifyError::Misconfigured(
            Misconfiguration::CredentialsRejected { .. }
        ))
    ));

    call_itself_localhost(&auth);
    assert!(matches!(
        auth.introspection_verifier(&resource, &clock).check().await,
        Err(CheckError::Misconfigured(
            Misconfiguration::IssuerMismatch { .. }
        ))
    ));
}

#[tokio::test]
async fn a_misconfigured_issuer_is_500_without_retry_after_and_recovers_when_fixed() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    call_itself_localhost(&auth);
    let issuer = auth.issuer.clone();
    let (base, resource) = serve_protected(
        "/mcp",
        |b| b.authorization_server(issuer),
        |r| auth.jwt_verifier(r, &clock),
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
        assert_eq!(response.status(), 500);
        assert!(response.headers().get("retry-after").is_none());
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "server_error");
        // The cause is for the operator's log, not for clients.
        assert!(
            !body["error_description"]
                .as_str()
                .unwrap()
                .contains("localhost")
        );
    }
    // Fixed on the authorization server's side: the next refetch recovers, without a restart.
    *auth.state.issuer.lock().unwrap() = auth.base.clone();
    clock.advance(Duration::from_secs(31));
    let response = client()
        .get(format!("{base}/mcp"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}
