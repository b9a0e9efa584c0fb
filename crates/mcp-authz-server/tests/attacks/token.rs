//! Attacks on the token, registration and client endpoints (REQUIREMENTS SEC-10, SEC-11, SEC-12,
//! SEC-20). Each test performs the attack over real HTTP on 127.0.0.1.

use mcp_authz_metadata::{
    ApplicationType, ClientId, GrantType, RedirectUri, TokenEndpointAuthMethod,
};
use mcp_authz_store::{ClientKind, ClientRecord};
use serde_json::{Value, json};

use crate::common::*;

// ---------------------------------------------------------------------------------------------
// SEC-10: no grant without a user for self-registered clients.
// ---------------------------------------------------------------------------------------------

/// Registering a client for `client_credentials` through DCR is refused (RFC 7591
/// `invalid_client_metadata`), with or without `authorization_code` beside it.
#[tokio::test]
async fn dcr_cannot_register_client_credentials() {
    let server = TestServer::start().await;
    for grants in [
        json!(["authorization_code", "client_credentials"]),
        json!(["client_credentials"]),
    ] {
        for method in ["client_secret_basic", "client_secret_post"] {
            let response = server
                .register(json!({
                    "redirect_uris": ["https://app.example.com/cb"],
                    "token_endpoint_auth_method": method,
                    "grant_types": grants,
                    "application_type": "web",
                }))
                .await;
            assert_eq!(response.status(), 400, "{grants} {method}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(
                body["error"], "invalid_client_metadata",
                "{grants} {method}"
            );
        }
    }
}

/// A dynamically registered client whose stored record lists `client_credentials` (a record from
/// before the registration rule) still gets no user-less token: the token endpoint judges the stored
/// client kind.
#[tokio::test]
async fn legacy_dcr_record_with_client_credentials_gets_no_token() {
    let server = TestServer::start().await;
    let secret = "legacy-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
    let record = ClientRecord {
        client_id: ClientId::parse("legacy-dcr").unwrap(),
        kind: ClientKind::Dynamic,
        secret_hash: Some(mcp_authz_server::hash_client_secret(secret).unwrap()),
        secret_expires_at: None,
        redirect_uris: vec![RedirectUri::parse("https://app.example.com/cb").unwrap()],
        grant_types: vec![GrantType::AuthorizationCode, GrantType::ClientCredentials],
        token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretBasic,
        application_type: ApplicationType::Web,
        client_name: Some("Legacy".to_owned()),
        allowed_resources: None,
        allowed_scope: None,
        metadata_json: "{}".to_owned(),
        created_at: server.clock.now_time(),
    };
    server.store.insert_client(record.clone()).await.unwrap();
    let (status, _, body) = server
        .token_basic(
            "legacy-dcr",
            secret,
            &[("grant_type", "client_credentials"), ("resource", RESOURCE)],
        )
        .await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (400, Some("unauthorized_client")),
        "{body}"
    );

    // The same for a metadata-document record that lists client_credentials.
    let mut cimd = record;
    cimd.client_id = ClientId::parse("https://app.example.com/client.json").unwrap();
    let now = server.clock.now_time();
    cimd.kind = ClientKind::MetadataDocument {
        fetched_at: now,
        expires_at: now.saturating_add(std::time::Duration::from_secs(3600)),
    };
    cimd.token_endpoint_auth_method = TokenEndpointAuthMethod::ClientSecretPost;
    server.store.insert_client(cimd).await.unwrap();
    let (status, _, body) = server
        .token(&[
            ("grant_type", "client_credentials"),
            ("resource", RESOURCE),
            ("client_id", "https://app.example.com/client.json"),
            ("client_secret", secret),
        ])
        .await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (400, Some("unauthorized_client")),
        "{body}"
    );
}

/// The operator's machine client (`mcp-authz clients add --client-credentials`) keeps working.
#[tokio::test]
async fn operator_client_still_gets_client_credentials_tokens() {
    let server = TestServer::start().await;
    let (id, secret) = server.operator_client(&["client_credentials"]).await;
    let (status, _, body) = server
        .token_basic(
            &id,
            &secret,
            &[("grant_type", "client_credentials"), ("resource", RESOURCE)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, claims) = jwt_parts(body["access_token"].as_str().unwrap());
    assert_eq!(claims["sub"], id.as_str());
}
