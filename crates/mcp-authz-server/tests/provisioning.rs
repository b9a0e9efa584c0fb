//! Operator provisioning of confidential clients through the API (issue #22): idempotent across
//! restarts on one SQLite database, typed conflicts without backend text, secret rotation and
//! removal taking effect at the token endpoint over real HTTP.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::Arc;

use common::{TestServer, default_config};
use mcp_authz_server::{
    AuthorizationServer, ClientId, ClientResources, ClientSecret, ClientSetting,
    ConfidentialClient, GrantType, ProvisionError, Provisioned, ResourceUri, ServerConfig, Store,
};
use mcp_authz_store_sqlite::SqliteStore;

fn machine(secret: &str) -> ConfidentialClient {
    ConfidentialClient::builder(ClientId::parse("nightly-job").unwrap())
        .name("Nightly job")
        .grant_type(GrantType::ClientCredentials)
        .resource(common::resource())
        .secret(ClientSecret::new(secret))
        .build()
        .unwrap()
}

/// A server on the SQLite database at `path`, as an application starting up would make it.
async fn start(path: &std::path::Path) -> AuthorizationServer {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(path).await.unwrap());
    let config = default_config(
        ServerConfig::builder_from_str("http://127.0.0.1:1")
            .unwrap()
            .allow_http_loopback(),
    )
    .build()
    .unwrap();
    AuthorizationServer::new(config, store).unwrap()
}

#[tokio::test]
async fn provisioning_from_configuration_is_idempotent_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.sqlite3");
    let first = start(&path).await;
    assert_eq!(
        first.provision_client(&machine("s3cret")).await.unwrap(),
        Provisioned::Registered {
            generated_secret: None
        }
    );
    drop(first);
    // A restart on the same database with the same configuration: nothing to do.
    let second = start(&path).await;
    assert_eq!(
        second.provision_client(&machine("s3cret")).await.unwrap(),
        Provisioned::Unchanged
    );
    // Changed configuration: a typed conflict naming the setting, nothing changed.
    let other_resources = ConfidentialClient::builder(ClientId::parse("nightly-job").unwrap())
        .name("Nightly job")
        .grant_type(GrantType::ClientCredentials)
        .all_resources()
        .build()
        .unwrap();
    assert_eq!(
        second.provision_client(&other_resources).await,
        Err(ProvisionError::SettingsConflict {
            client_id: ClientId::parse("nightly-job").unwrap(),
            setting: ClientSetting::Resources,
        })
    );
    assert!(matches!(
        second.provision_client(&machine("another")).await,
        Err(ProvisionError::SettingsConflict {
            setting: ClientSetting::Secret,
            ..
        })
    ));
    // Registering the id again: a typed error in the API's words, no SQL.
    let error = second
        .register_client(&machine("s3cret"))
        .await
        .unwrap_err();
    assert_eq!(
        error,
        ProvisionError::AlreadyRegistered {
            client_id: ClientId::parse("nightly-job").unwrap()
        }
    );
    let text = error.to_string();
    assert_eq!(text, "client nightly-job is already registered");
    for internal in ["UNIQUE", "constraint", "clients.", "sqlite"] {
        assert!(!text.contains(internal), "{text}");
    }
}

#[tokio::test]
async fn a_generated_secret_is_returned_once() {
    let server = TestServer::start().await;
    let client = ConfidentialClient::builder(ClientId::parse("rs").unwrap())
        .resource(common::resource())
        .build()
        .unwrap();
    let Provisioned::Registered {
        generated_secret: Some(secret),
    } = server.server.provision_client(&client).await.unwrap()
    else {
        panic!("not registered with a generated secret");
    };
    assert_eq!(secret.secret().len(), 43);
    assert_eq!(
        server.server.provision_client(&client).await.unwrap(),
        Provisioned::Unchanged
    );
}

#[test]
fn the_resources_must_be_chosen_explicitly() {
    let id = || ClientId::parse("rs").unwrap();
    assert_eq!(
        ConfidentialClient::builder(id()).build(),
        Err(ProvisionError::NoResources { client_id: id() })
    );
    assert_eq!(
        ConfidentialClient::builder(id())
            .resource(common::resource())
            .all_resources()
            .build(),
        Err(ProvisionError::ConflictingResources { client_id: id() })
    );
    let all = ConfidentialClient::builder(id())
        .all_resources()
        .build()
        .unwrap();
    assert_eq!(all.resources(), &ClientResources::All);
    let one = ConfidentialClient::builder(id())
        .resources([ResourceUri::parse(common::OTHER_RESOURCE).unwrap()])
        .build()
        .unwrap();
    assert_eq!(
        one.resources(),
        &ClientResources::Only(vec![ResourceUri::parse(common::OTHER_RESOURCE).unwrap()])
    );
}

#[tokio::test]
async fn rotating_the_secret_and_removing_the_client_take_effect_at_once() {
    let server = TestServer::start().await;
    let id = ClientId::parse("nightly-job").unwrap();
    server
        .server
        .provision_client(&machine("first-secret"))
        .await
        .unwrap();
    let grant = [("grant_type", "client_credentials")];
    let (status, _, _) = server
        .token_basic("nightly-job", "first-secret", &grant)
        .await;
    assert_eq!(status, 200);

    let rotated = server.server.rotate_client_secret(&id).await.unwrap();
    let (status, _, body) = server
        .token_basic("nightly-job", "first-secret", &grant)
        .await;
    assert_eq!(status, 401, "the old secret still works: {body}");
    let (status, _, _) = server
        .token_basic("nightly-job", rotated.secret(), &grant)
        .await;
    assert_eq!(status, 200);

    server
        .server
        .set_client_secret(&id, &ClientSecret::new("configured"))
        .await
        .unwrap();
    let (status, _, _) = server
        .token_basic("nightly-job", "configured", &grant)
        .await;
    assert_eq!(status, 200);

    assert_eq!(server.server.remove_client(&id).await.unwrap(), 0);
    let (status, _, body) = server
        .token_basic("nightly-job", "configured", &grant)
        .await;
    assert_eq!(status, 401, "a removed client still gets tokens: {body}");
    assert_eq!(
        server.server.remove_client(&id).await,
        Err(ProvisionError::NotRegistered {
            client_id: id.clone()
        })
    );
    assert_eq!(
        server.server.rotate_client_secret(&id).await,
        Err(ProvisionError::NotRegistered { client_id: id })
    );
}
