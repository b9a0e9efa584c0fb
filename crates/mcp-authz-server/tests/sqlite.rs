//! The main flow on the SQLite backend: login, consent, code exchange, refresh rotation, replay and
//! reuse detection, client credentials, introspection.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::Arc;

use common::*;
use mcp_authz_store_sqlite::SqliteStore;
use serde_json::Value;

#[tokio::test]
async fn main_flow_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("authz.db"))
        .await
        .unwrap();
    let server = TestServer::start_with(default_config, Arc::new(store)).await;
    server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;

    let tokens = code_for_tokens(&server, &client).await;
    let (_, claims) = jwt_parts(tokens["access_token"].as_str().unwrap());
    assert_eq!(claims["aud"], RESOURCE);

    // Refresh rotation, then reuse of the old token revokes the family.
    let first = tokens["refresh_token"].as_str().unwrap();
    let refresh = |token: String| {
        let server = &server;
        let client = client.clone();
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
    let (status, _, second) = refresh(first.to_owned()).await;
    assert_eq!(status, 200, "{second}");
    let (status, _, body) = refresh(first.to_owned()).await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _, _) = refresh(second["refresh_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(status, 400);

    // Remembered consent on SQLite: the second authorization skips the pages.
    let browser = server.browser();
    let authorize = Authorize::new(&client);
    let location = browser_flow(&server, &browser, &authorize).await;
    assert!(location.contains("code="));
    let again = browser
        .get(Authorize::new(&client).url(&server))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 302);

    // Client credentials and introspection.
    let (id, secret) = server.operator_client(&["client_credentials"]).await;
    let (status, _, body) = server
        .token_basic(&id, &secret, &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(status, 200);
    let response = server
        .http
        .post(server.url("/introspect"))
        .header("authorization", basic(&id, &secret))
        .form(&[("token", body["access_token"].as_str().unwrap())])
        .send()
        .await
        .unwrap();
    let introspection: Value = response.json().await.unwrap();
    assert_eq!(introspection["active"], true);
}
