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
use mcp_authz_store::Clock as _;
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

/// `POST /introspect` for `token`, authenticated as the resource server `(id, secret)`.
async fn introspect(server: &TestServer, (id, secret): (&str, &str), token: &str) -> Value {
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

/// SEC-16 on SQLite, whose revocation check reads on the caller's thread: every kind of revocation,
/// made through this server or by another process writing the same file (as `mcp-authz tokens
/// revoke` and `mcp-authz clients remove` do), makes introspection answer inactive at the very next
/// request. Each token is introspected as active first, so that any answer kept from that read would
/// show here.
#[tokio::test]
async fn introspection_sees_every_revocation_at_once_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("authz.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let server = TestServer::start_with(default_config, Arc::new(store)).await;
    // Another process on the same file.
    let other = SqliteStore::open(&path).await.unwrap();
    server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;
    // A resource server for `RESOURCE` that also has client-credentials tokens of its own.
    let rs_client = mcp_authz_server::ConfidentialClient::builder(
        mcp_authz_metadata::ClientId::parse("resource-server").unwrap(),
    )
    .name("resource server")
    .grant_type(mcp_authz_metadata::GrantType::ClientCredentials)
    .resource(mcp_authz_metadata::ResourceUri::parse(RESOURCE).unwrap())
    .build()
    .unwrap();
    let rs_secret = server.server.register_client(&rs_client).await.unwrap();
    let rs = ("resource-server", rs_secret.secret());
    let machine_token = |id: String, secret: String| {
        let server = &server;
        async move {
            let (status, _, body) = server
                .token_basic(&id, &secret, &[("grant_type", "client_credentials")])
                .await;
            assert_eq!(status, 200, "{body}");
            body["access_token"].as_str().unwrap().to_owned()
        }
    };

    // The revocation endpoint (deny-list).
    let token = machine_token(rs.0.to_owned(), rs.1.to_owned()).await;
    assert_eq!(introspect(&server, rs, &token).await["active"], true);
    let response = server
        .http
        .post(server.url("/revoke"))
        .header("authorization", basic(rs.0, rs.1))
        .form(&[("token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(introspect(&server, rs, &token).await["active"], false);

    // Refresh-token reuse revokes the family, and with it the access token.
    let tokens = code_for_tokens(&server, &client).await;
    let access = tokens["access_token"].as_str().unwrap();
    let first = tokens["refresh_token"].as_str().unwrap();
    assert_eq!(introspect(&server, rs, access).await["active"], true);
    for expected in [200, 400] {
        let (status, _, body) = server
            .token(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", first),
                ("client_id", client.as_str()),
            ])
            .await;
        assert_eq!(status, expected, "{body}");
    }
    assert_eq!(introspect(&server, rs, access).await["active"], false);

    // Another process puts an access token on the deny-list (`mcp-authz tokens revoke`).
    let tokens = code_for_tokens(&server, &client).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(introspect(&server, rs, access).await["active"], true);
    let (_, claims) = jwt_parts(access);
    let jti = mcp_authz_store::TokenId::parse(claims["jti"].as_str().unwrap()).unwrap();
    mcp_authz_store::RevokedTokenStore::revoke_access_token(
        &other,
        &jti,
        mcp_authz_store::NumericDate::from_secs(claims["exp"].as_u64().unwrap()),
    )
    .await
    .unwrap();
    assert_eq!(introspect(&server, rs, access).await["active"], false);

    // Another process revokes a grant (a refresh token revoked by value).
    let tokens = code_for_tokens(&server, &client).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(introspect(&server, rs, access).await["active"], true);
    let (_, claims) = jwt_parts(access);
    let family = claims["jti"].as_str().unwrap().rsplit_once('.').unwrap().0;
    let revoked = mcp_authz_store::GrantStore::revoke_grant(
        &other,
        &mcp_authz_store::FamilyId::parse(family).unwrap(),
        mcp_authz_store::RevocationReason::Requested,
        server.clock.now(),
    )
    .await
    .unwrap();
    assert!(revoked);
    assert_eq!(introspect(&server, rs, access).await["active"], false);

    // Another process removes a machine client: its client-credentials tokens stop at once.
    let (machine, machine_secret) = server.operator_client(&["client_credentials"]).await;
    let token = machine_token(machine.clone(), machine_secret).await;
    assert_eq!(introspect(&server, rs, &token).await["active"], true);
    let removed = mcp_authz_store::ClientStore::delete_client(
        &other,
        &mcp_authz_metadata::ClientId::parse(&machine).unwrap(),
    )
    .await
    .unwrap();
    assert!(removed);
    assert_eq!(introspect(&server, rs, &token).await["active"], false);
    other.close().await;
}

/// Introspecting a token again uses the remembered signature check, but never past its key: a
/// token whose key is no longer in the store (removed behind the server's back here) is inactive
/// once the in-memory key cache (10 s) has run out, remembered or not.
#[tokio::test]
async fn a_remembered_signature_does_not_outlive_its_key() {
    use sqlx::Connection as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("authz.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let server = TestServer::start_with(default_config, Arc::new(store)).await;
    let (id, secret) = server.operator_client(&["client_credentials"]).await;
    let (status, _, body) = server
        .token_basic(&id, &secret, &[("grant_type", "client_credentials")])
        .await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap();
    for _ in 0..2 {
        assert_eq!(
            introspect(&server, (&id, &secret), token).await["active"],
            true
        );
    }

    let mut raw = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::query("DELETE FROM signing_keys")
        .execute(&mut raw)
        .await
        .unwrap();
    raw.close().await.unwrap();
    server.clock.advance(std::time::Duration::from_secs(11));
    assert_eq!(
        introspect(&server, (&id, &secret), token).await["active"],
        false
    );
}
