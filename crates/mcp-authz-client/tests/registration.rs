//! CL-5: registration priority, `application_type`, credentials keyed by issuer.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::expect_used
)]

mod support;

use std::sync::Arc;

use mcp_authz_client::{
    ClientError, HttpRequest, MemoryTokenStore, OAuthClient, PreRegisteredClient,
    RegistrationError, TokenStore,
};
use mcp_authz_metadata::{ClientId, ClientSecret, Issuer, TokenEndpointAuthMethod};
use support::{AsCfg, Cfg, World, rpc};
use url::Url;

async fn send(client: &OAuthClient, world: &World, method: &str) -> u16 {
    let url: Url = world.mcp_url().parse().unwrap();
    client
        .send(HttpRequest::post(url, rpc(method)))
        .await
        .unwrap()
        .status
        .as_u16()
}

#[tokio::test]
async fn cl5_dcr_sends_application_type_and_keys_credentials_by_issuer() {
    let world = World::start(Cfg::default()).await;
    let store = Arc::new(MemoryTokenStore::new());
    let client = world.client().token_store(store.clone()).build().unwrap();
    assert_eq!(send(&client, &world, "tools/list").await, 200);
    let log = world.log();
    assert_eq!(log.register.len(), 1);
    let body = &log.register[0].1;
    assert_eq!(body["application_type"], "native");
    assert_eq!(body["redirect_uris"][0], support::REDIRECT);
    assert_eq!(body["token_endpoint_auth_method"], "none");
    assert!(
        body["grant_types"]
            .as_array()
            .unwrap()
            .contains(&"refresh_token".into())
    );
    let issuer = Issuer::parse(&world.issuer(0)).unwrap();
    let saved = store.load_client(&issuer).await.unwrap().unwrap();
    assert_eq!(saved.issuer, issuer);
    // A second client with the same store reuses the registration at the same issuer.
    world.revoke_access_tokens();
    let again = world.client().token_store(store.clone()).build().unwrap();
    store
        .remove_grant(&mcp_authz_client::GrantKey {
            resource: mcp_authz_metadata::ResourceUri::parse(&world.mcp_url()).unwrap(),
            issuer: issuer.clone(),
        })
        .await
        .unwrap();
    assert_eq!(send(&again, &world, "tools/list").await, 200);
    assert_eq!(world.log().register.len(), 1);
    assert_eq!(
        world.log().authorize[1].1["client_id"],
        saved.client_id.as_str()
    );
}

#[tokio::test]
async fn cl5_pre_registered_credentials_come_first() {
    let mut a = AsCfg::new("");
    a.auth_methods = vec!["client_secret_basic".into()];
    a.cimd = true;
    let world = World::start(Cfg {
        ases: vec![a],
        ..Cfg::default()
    })
    .await;
    let client = world
        .client()
        .pre_registered(PreRegisteredClient {
            issuer: Issuer::parse(&world.issuer(0)).unwrap(),
            client_id: ClientId::parse("pre-id").unwrap(),
            client_secret: Some(ClientSecret::new("pre-secret")),
        })
        .client_id_metadata_document(ClientId::parse("https://app.example/cimd.json").unwrap())
        .build()
        .unwrap();
    assert_eq!(send(&client, &world, "tools/list").await, 200);
    let log = world.log();
    assert!(log.register.is_empty());
    assert_eq!(log.authorize[0].1["client_id"], "pre-id");
    // client_secret_basic: Basic header, no secret in the body.
    assert_eq!(log.token[0].1["basic"], "pre-id:pre-secret");
    assert!(!log.token[0].1.contains_key("client_secret"));
}

#[tokio::test]
async fn cl5_pre_registered_credentials_for_another_issuer_are_not_used() {
    let world = World::start(Cfg::default()).await;
    let client = world
        .client()
        .pre_registered(PreRegisteredClient {
            issuer: Issuer::parse("https://other-as.example").unwrap(),
            client_id: ClientId::parse("other-id").unwrap(),
            client_secret: None,
        })
        .build()
        .unwrap();
    assert_eq!(send(&client, &world, "tools/list").await, 200);
    let log = world.log();
    assert_eq!(log.register.len(), 1);
    assert_ne!(log.authorize[0].1["client_id"], "other-id");
}

#[tokio::test]
async fn cl5_cimd_url_when_the_server_supports_it() {
    let mut a = AsCfg::new("");
    a.cimd = true;
    let world = World::start(Cfg {
        ases: vec![a],
        ..Cfg::default()
    })
    .await;
    let cimd = "https://app.example/cimd.json";
    let client = world
        .client()
        .client_id_metadata_document(ClientId::parse(cimd).unwrap())
        .build()
        .unwrap();
    assert_eq!(send(&client, &world, "tools/list").await, 200);
    let log = world.log();
    assert!(log.register.is_empty());
    assert_eq!(log.authorize[0].1["client_id"], cimd);
    assert_eq!(log.token[0].1["client_id"], cimd);
}

#[tokio::test]
async fn cl5_cimd_url_not_used_without_server_support() {
    let world = World::start(Cfg::default()).await;
    let client = world
        .client()
        .client_id_metadata_document(ClientId::parse("https://app.example/cimd.json").unwrap())
        .build()
        .unwrap();
    assert_eq!(send(&client, &world, "tools/list").await, 200);
    assert_eq!(world.log().register.len(), 1);
}

#[tokio::test]
async fn cl5_no_registration_asks_for_credentials() {
    let mut a = AsCfg::new("");
    a.registration = false;
    let world = World::start(Cfg {
        ases: vec![a],
        ..Cfg::default()
    })
    .await;
    let client = world.client().build().unwrap();
    let url: Url = world.mcp_url().parse().unwrap();
    let error = client
        .send(HttpRequest::post(url, rpc("tools/list")))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &error,
            ClientError::Registration(RegistrationError::NoCredentials { issuer }) if *issuer == world.issuer(0)
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("pre-registered credentials"));
}

#[tokio::test]
async fn cl5_client_secret_post_when_that_is_all_the_server_takes() {
    let mut a = AsCfg::new("");
    a.auth_methods = vec!["client_secret_post".into()];
    let world = World::start(Cfg {
        ases: vec![a],
        ..Cfg::default()
    })
    .await;
    let store = Arc::new(MemoryTokenStore::new());
    let client = world.client().token_store(store.clone()).build().unwrap();
    assert_eq!(send(&client, &world, "tools/list").await, 200);
    let log = world.log();
    assert_eq!(
        log.register[0].1["token_endpoint_auth_method"],
        "client_secret_post"
    );
    assert_eq!(log.token[0].1["client_secret"], "s3cret");
    assert!(!log.token[0].1.contains_key("basic"));
    let saved = store
        .load_client(&Issuer::parse(&world.issuer(0)).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        saved.token_endpoint_auth_method,
        TokenEndpointAuthMethod::ClientSecretPost
    );
}

#[tokio::test]
async fn cl5_authorization_server_change_means_new_registration() {
    let world = World::start(Cfg {
        ases: vec![AsCfg::new("/as1"), AsCfg::new("/as2")],
        ..Cfg::default()
    })
    .await;
    let client = world.client().build().unwrap();
    assert_eq!(send(&client, &world, "tools/list").await, 200);
    world.set(|c| c.current_as = 1);
    assert_eq!(send(&client, &world, "tools/call").await, 200);
    let log = world.log();
    let registrations: Vec<&str> = log.register.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(registrations, ["/as1", "/as2"]);
    let as1_client = log.authorize[0].1["client_id"].clone();
    for (prefix, query) in &log.authorize {
        if prefix == "/as2" {
            assert_ne!(query["client_id"], as1_client);
        }
    }
    for (prefix, form) in &log.token {
        if prefix == "/as2" {
            assert_ne!(form.get("client_id"), Some(&as1_client));
            // CL-11: AS1's refresh token is never shown to AS2.
            assert!(
                !form
                    .get("refresh_token")
                    .is_some_and(|r| r.starts_with("rt_as1"))
            );
        }
    }
}
