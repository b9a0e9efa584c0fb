//! CL-1 .. CL-4 and the SSRF / hostile-server guards, over real HTTP on 127.0.0.1.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::expect_used
)]

mod support;

use mcp_authz_client::{
    ClientError, DiscoveryError, FetchError, HttpRequest, PolicyError, TransportError, UrlPolicy,
};
use mcp_authz_metadata::{AuthorizationServerMetadataError, ProtectedResourceMetadataError};
use support::{AsCfg, Cfg, Prm, World, rpc};
use url::Url;

async fn call(world: &World) -> Result<u16, ClientError> {
    let client = world.client().build()?;
    let url: Url = world.mcp_url().parse().unwrap();
    let response = client
        .send(HttpRequest::post(url, rpc("tools/list")))
        .await?;
    Ok(response.status.as_u16())
}

#[tokio::test]
async fn cl1_challenge_resource_metadata_is_used() {
    let world = World::start(Cfg {
        prm: Prm::Custom("/custom/metadata.json".into()),
        ..Cfg::default()
    })
    .await;
    assert_eq!(call(&world).await.unwrap(), 200);
    let log = world.log();
    assert!(
        log.requests
            .contains(&"GET /custom/metadata.json".to_owned())
    );
    assert_eq!(world.count("GET /.well-known/oauth-protected-resource"), 0);
    // The challenge came after a `Basic` challenge in the same header: several challenges parse.
    assert!(log.mcp_auth[0].is_none());
}

#[tokio::test]
async fn cl1_well_known_path_then_root_without_header() {
    let world = World::start(Cfg {
        prm: Prm::Root,
        advertise: false,
        prm_resource: None,
        ..Cfg::default()
    })
    .await;
    // The root document describes the origin, a parent of the server URI (RFC 9728 §3.3).
    let origin = world.base.clone();
    world.set(|c| c.prm_resource = Some(origin));
    assert_eq!(call(&world).await.unwrap(), 200);
    let prm: Vec<String> = world
        .log()
        .requests
        .into_iter()
        .filter(|r| r.contains("oauth-protected-resource"))
        .collect();
    assert_eq!(
        prm,
        [
            "GET /.well-known/oauth-protected-resource/mcp",
            "GET /.well-known/oauth-protected-resource"
        ]
    );
    // The resource sent is the PRM's, byte for byte (no trailing slash added).
    let (_, query) = &world.log().authorize[0];
    assert_eq!(query["resource"], world.base);
}

#[tokio::test]
async fn cl2_prm_resource_mismatch_aborts() {
    let world = World::start(Cfg {
        prm_resource: Some("https://evil.example/mcp".into()),
        ..Cfg::default()
    })
    .await;
    let error = call(&world).await.unwrap_err();
    assert!(
        matches!(
            error,
            ClientError::Discovery(DiscoveryError::InvalidProtectedResourceMetadata {
                source: ProtectedResourceMetadataError::ResourceMismatch { .. },
                ..
            })
        ),
        "{error:?}"
    );
    assert_eq!(
        world.count("GET /.well-known/oauth-authorization-server"),
        0
    );
    assert!(world.log().authorize.is_empty());
}

#[tokio::test]
async fn cl2_sibling_path_resource_is_a_mismatch() {
    let world = World::start(Cfg::default()).await;
    let sibling = format!("{}/other", world.base);
    world.set(|c| c.prm_resource = Some(sibling));
    assert!(matches!(
        call(&world).await,
        Err(ClientError::Discovery(
            DiscoveryError::InvalidProtectedResourceMetadata { .. }
        ))
    ));
}

#[tokio::test]
async fn cl3_issuer_with_path_discovery_order() {
    let mut a = AsCfg::new("/tenant1");
    a.metadata_paths = vec!["/tenant1/.well-known/openid-configuration".into()];
    let world = World::start(Cfg {
        ases: vec![a],
        ..Cfg::default()
    })
    .await;
    assert_eq!(call(&world).await.unwrap(), 200);
    let tried: Vec<String> = world
        .log()
        .requests
        .into_iter()
        .filter(|r| r.contains("oauth-authorization-server") || r.contains("openid-configuration"))
        .collect();
    assert_eq!(
        tried,
        [
            "GET /.well-known/oauth-authorization-server/tenant1",
            "GET /.well-known/openid-configuration/tenant1",
            "GET /tenant1/.well-known/openid-configuration"
        ]
    );
}

#[tokio::test]
async fn cl3_issuer_without_path_falls_back_to_openid() {
    let mut a = AsCfg::new("");
    a.metadata_paths = vec!["/.well-known/openid-configuration".into()];
    let world = World::start(Cfg {
        ases: vec![a],
        ..Cfg::default()
    })
    .await;
    assert_eq!(call(&world).await.unwrap(), 200);
    assert_eq!(
        world.count("GET /.well-known/oauth-authorization-server"),
        1
    );
    assert_eq!(world.count("GET /.well-known/openid-configuration"), 1);
}

#[tokio::test]
async fn cl3_metadata_with_wrong_issuer_is_not_used() {
    let mut a = AsCfg::new("");
    a.issuer_override = Some("https://attacker.example".into());
    let world = World::start(Cfg {
        ases: vec![a],
        ..Cfg::default()
    })
    .await;
    let error = call(&world).await.unwrap_err();
    assert!(
        matches!(
            error,
            ClientError::Discovery(DiscoveryError::InvalidAuthorizationServerMetadata {
                source: AuthorizationServerMetadataError::IssuerMismatch { .. },
                ..
            })
        ),
        "{error:?}"
    );
    assert!(world.log().register.is_empty());
    assert!(world.log().authorize.is_empty());
    assert!(world.log().token.is_empty());
}

#[tokio::test]
async fn cl4_missing_s256_refuses() {
    for methods in [None, Some(vec!["plain".to_owned()])] {
        let mut a = AsCfg::new("");
        a.pkce_methods = methods.clone();
        let world = World::start(Cfg {
            ases: vec![a],
            ..Cfg::default()
        })
        .await;
        let error = call(&world).await.unwrap_err();
        assert!(
            matches!(
                error,
                ClientError::Discovery(DiscoveryError::InvalidAuthorizationServerMetadata {
                    source: AuthorizationServerMetadataError::MissingCodeChallengeMethods
                        | AuthorizationServerMetadataError::S256NotSupported { .. },
                    ..
                })
            ),
            "{methods:?}: {error:?}"
        );
        assert!(world.log().authorize.is_empty());
    }
}

#[tokio::test]
async fn hostile_oversized_metadata_is_refused() {
    let world = World::start(Cfg {
        prm_oversized: true,
        ..Cfg::default()
    })
    .await;
    let error = call(&world).await.unwrap_err();
    assert!(
        matches!(
            error,
            ClientError::Discovery(DiscoveryError::Fetch {
                source: FetchError::Transport(TransportError::TooLarge { limit: 65536 }),
                ..
            })
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn hostile_metadata_redirect_to_private_address_is_not_followed() {
    let world = World::start(Cfg {
        prm_redirect: Some("http://10.0.0.1/.well-known/oauth-protected-resource".into()),
        ..Cfg::default()
    })
    .await;
    let error = call(&world).await.unwrap_err();
    assert!(
        matches!(
            error,
            ClientError::Discovery(DiscoveryError::Fetch {
                source: FetchError::Redirected { status: 302, .. },
                ..
            })
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn hostile_resource_metadata_pointing_at_metadata_service_is_refused() {
    let world = World::start(Cfg {
        resource_metadata_override: Some("https://169.254.169.254/latest/meta-data".into()),
        ..Cfg::default()
    })
    .await;
    let error = call(&world).await.unwrap_err();
    assert!(
        matches!(
            error,
            ClientError::Discovery(DiscoveryError::Fetch {
                source: FetchError::Policy(PolicyError::ForbiddenAddress { .. }),
                ..
            })
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn hostile_resource_metadata_with_private_host_name_is_refused_after_resolution() {
    // `localhost` resolves to loopback: refused by the default policy, before any connection.
    let policy = UrlPolicy::default();
    let error = policy
        .check(&"https://localhost:1/x".parse().unwrap())
        .await
        .unwrap_err();
    assert!(matches!(error, PolicyError::LoopbackNotAllowed(_)));
}

#[tokio::test]
async fn default_policy_refuses_loopback_servers() {
    let world = World::start(Cfg::default()).await;
    let client = mcp_authz_client::OAuthClient::builder(&world.mcp_url())
        .unwrap()
        .build()
        .unwrap();
    let url: Url = world.mcp_url().parse().unwrap();
    let error = client
        .send(HttpRequest::post(url, rpc("tools/list")))
        .await
        .unwrap_err();
    assert!(matches!(
        error,
        ClientError::Fetch(FetchError::Policy(PolicyError::LoopbackNotAllowed(_)))
    ));
    assert!(world.log().requests.is_empty());
}

#[tokio::test]
async fn hostile_dns_answers_are_checked_at_connection_time() {
    use mcp_authz_client::{HttpClient, ReqwestHttpClient};
    let world = World::start(Cfg::default()).await;
    // `localhost` names a refused address: the resolver itself drops it, even when the caller
    // skipped the policy check (as a DNS answer changed after the check would).
    let port = world.base.rsplit(':').next().unwrap();
    let url: Url = format!("http://localhost:{port}/mcp").parse().unwrap();
    let strict = ReqwestHttpClient::with_policy(UrlPolicy::default()).unwrap();
    let error = strict
        .execute(HttpRequest::get(url.clone()))
        .await
        .unwrap_err();
    assert!(matches!(error, TransportError::Connect(_)), "{error:?}");
    let dev = ReqwestHttpClient::with_policy(UrlPolicy::default().allow_loopback(true)).unwrap();
    assert!(dev.execute(HttpRequest::get(url)).await.is_ok());
    assert_eq!(world.log().requests.len(), 1);
}
