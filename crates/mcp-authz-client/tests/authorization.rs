//! CL-6 .. CL-9: scope selection, PKCE, state, resource, RFC 9207 and the loopback redirect.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::expect_used
)]

mod support;

use std::sync::Arc;

use mcp_authz_client::{
    AuthorizationError, AuthorizationStep, AuthorizationStepError, BrowserLaunch, ClientError,
    HttpRequest, LoopbackRedirect,
};
use mcp_authz_token::CallbackVerifyError;
use support::{AsCfg, Cfg, Iss, World, rpc};
use url::Url;

async fn call(world: &World) -> Result<u16, ClientError> {
    let client = world.client().build()?;
    let url: Url = world.mcp_url().parse().unwrap();
    Ok(client
        .send(HttpRequest::post(url, rpc("tools/list")))
        .await?
        .status
        .as_u16())
}

fn first_authorize(world: &World) -> std::collections::BTreeMap<String, String> {
    world.log().authorize[0].1.clone()
}

#[tokio::test]
async fn cl6_scope_from_challenge_first() {
    let world = World::start(Cfg {
        challenge_scope: Some("mcp:basic".into()),
        prm_scopes: Some(vec!["mcp:profile".into()]),
        ..Cfg::default()
    })
    .await;
    call(&world).await.unwrap();
    assert_eq!(first_authorize(&world)["scope"], "mcp:basic");
}

#[tokio::test]
async fn cl6_scope_from_prm_scopes_supported() {
    let world = World::start(Cfg {
        prm_scopes: Some(vec![
            "mcp:basic".into(),
            "mcp:read".into(),
            "mcp:write".into(),
        ]),
        ..Cfg::default()
    })
    .await;
    call(&world).await.unwrap();
    assert_eq!(
        first_authorize(&world)["scope"],
        "mcp:basic mcp:read mcp:write"
    );
}

#[tokio::test]
async fn cl6_scope_omitted_when_undefined() {
    let world = World::start(Cfg::default()).await;
    call(&world).await.unwrap();
    assert!(!first_authorize(&world).contains_key("scope"));
}

#[tokio::test]
async fn cl6_offline_access_only_when_listed() {
    let mut listed = AsCfg::new("");
    listed.scopes_supported = Some(vec!["mcp:basic".into(), "offline_access".into()]);
    let world = World::start(Cfg {
        challenge_scope: Some("mcp:basic".into()),
        ases: vec![listed],
        ..Cfg::default()
    })
    .await;
    call(&world).await.unwrap();
    assert_eq!(first_authorize(&world)["scope"], "mcp:basic offline_access");

    let mut unlisted = AsCfg::new("");
    unlisted.scopes_supported = Some(vec!["mcp:basic".into()]);
    let world = World::start(Cfg {
        prm_scopes: Some(vec!["mcp:basic".into(), "offline_access".into()]),
        ases: vec![unlisted],
        ..Cfg::default()
    })
    .await;
    call(&world).await.unwrap();
    assert_eq!(first_authorize(&world)["scope"], "mcp:basic");
}

#[tokio::test]
async fn cl6_no_refresh_token_is_fine() {
    let mut a = AsCfg::new("");
    a.refresh = false;
    let world = World::start(Cfg {
        ases: vec![a],
        ..Cfg::default()
    })
    .await;
    let client = world.client().build().unwrap();
    let url: Url = world.mcp_url().parse().unwrap();
    let r = client
        .send(HttpRequest::post(url, rpc("tools/list")))
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert!(
        client
            .current_grant()
            .await
            .unwrap()
            .refresh_token
            .is_none()
    );
}

#[tokio::test]
async fn cl7_pkce_state_and_resource_on_every_request() {
    let mut a = AsCfg::new("");
    a.expires_in = 1; // expired by the second request: it refreshes first
    let world = World::start(Cfg {
        ases: vec![a],
        ..Cfg::default()
    })
    .await;
    let client = world
        .client()
        .refresh_skew(std::time::Duration::ZERO)
        .build()
        .unwrap();
    let url: Url = world.mcp_url().parse().unwrap();
    for round in 0..2 {
        if round == 1 {
            tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
        }
        let r = client
            .send(HttpRequest::post(url.clone(), rpc("tools/list")))
            .await
            .unwrap();
        assert_eq!(r.status, 200);
    }
    let log = world.log();
    let q = &log.authorize[0].1;
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["code_challenge"].len(), 43);
    assert!(q["state"].len() >= 43);
    assert_eq!(q["resource"], world.mcp_url());
    assert_eq!(q["redirect_uri"], support::REDIRECT);
    let grants: Vec<&str> = log
        .token
        .iter()
        .map(|(_, f)| f["grant_type"].as_str())
        .collect();
    assert_eq!(grants, ["authorization_code", "refresh_token"]);
    for (_, form) in &log.token {
        assert_eq!(form["resource"], world.mcp_url());
    }
    assert_eq!(log.token[0].1["code_verifier"].len(), 43);
    // The test server only issues a token when the verifier matches the challenge.
    assert!(log.mcp_auth.iter().flatten().count() >= 2);
}

#[tokio::test]
async fn cl7_fresh_verifier_and_state_per_attempt() {
    let world = World::start(Cfg {
        tool_call_scope: Some("mcp:write".into()),
        ..Cfg::default()
    })
    .await;
    let client = world.client().build().unwrap();
    let url: Url = world.mcp_url().parse().unwrap();
    client
        .send(HttpRequest::post(url, rpc("tools/call")))
        .await
        .unwrap();
    let log = world.log();
    assert_eq!(log.authorize.len(), 2);
    assert_ne!(log.authorize[0].1["state"], log.authorize[1].1["state"]);
    assert_ne!(
        log.authorize[0].1["code_challenge"],
        log.authorize[1].1["code_challenge"]
    );
}

async fn rejected_callback(
    iss_supported: bool,
    iss: Iss,
    wrong_state: bool,
) -> (ClientError, Arc<World>) {
    let mut a = AsCfg::new("");
    a.iss_supported = iss_supported;
    a.iss = iss;
    a.wrong_state = wrong_state;
    let world = World::start(Cfg {
        ases: vec![a],
        ..Cfg::default()
    })
    .await;
    let error = call(&world).await.unwrap_err();
    (error, world)
}

#[tokio::test]
async fn cl8_mixup_iss_discards_response_before_token_request() {
    for supported in [true, false] {
        let (error, world) = rejected_callback(supported, Iss::Wrong, false).await;
        assert!(
            matches!(
                error,
                ClientError::Authorization(AuthorizationError::Discarded(
                    CallbackVerifyError::IssuerMismatch { .. }
                ))
            ),
            "{error:?}"
        );
        assert!(world.log().token.is_empty());
    }
}

#[tokio::test]
async fn cl8_missing_iss_when_advertised_is_discarded() {
    let (error, world) = rejected_callback(true, Iss::Missing, false).await;
    assert!(matches!(
        error,
        ClientError::Authorization(AuthorizationError::Discarded(
            CallbackVerifyError::MissingIssuer
        ))
    ));
    assert!(world.log().token.is_empty());
}

#[tokio::test]
async fn cl8_missing_iss_when_not_advertised_is_accepted() {
    let mut a = AsCfg::new("");
    a.iss_supported = false;
    a.iss = Iss::Missing;
    let world = World::start(Cfg {
        ases: vec![a],
        ..Cfg::default()
    })
    .await;
    assert_eq!(call(&world).await.unwrap(), 200);
}

#[tokio::test]
async fn cl8_state_mismatch_is_discarded() {
    let (error, world) = rejected_callback(true, Iss::Correct, true).await;
    assert!(matches!(
        error,
        ClientError::Authorization(AuthorizationError::Discarded(
            CallbackVerifyError::StateMismatch
        ))
    ));
    assert!(world.log().token.is_empty());
}

#[tokio::test]
async fn cl9_loopback_listener_takes_one_request_then_closes() {
    let step = Arc::new(LoopbackRedirect::new(BrowserLaunch::Print));
    assert_eq!(
        step.registered_redirect_uris()[0].as_str(),
        "http://127.0.0.1/callback"
    );
    let redirect = step.prepare().await.unwrap();
    let port = redirect.url().port().unwrap();
    assert_eq!(redirect.url().host_str(), Some("127.0.0.1"));
    assert_ne!(port, 0);
    let task = {
        let step = step.clone();
        let redirect = redirect.clone();
        tokio::spawn(async move {
            step.authorize(
                &"https://as.example/authorize?x=1".parse().unwrap(),
                &redirect,
            )
            .await
        })
    };
    let http = reqwest::Client::new();
    let callback = format!("http://127.0.0.1:{port}/callback?code=abc&state=xyz");
    let page = http.get(&callback).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let url = task.await.unwrap().unwrap();
    assert_eq!(url.as_str(), callback);
    // One request, then closed.
    assert!(http.get(&callback).send().await.is_err());
    // A redirect URI that was not prepared is refused.
    assert_eq!(
        step.authorize(&"https://as.example/a".parse().unwrap(), &redirect)
            .await
            .unwrap_err(),
        AuthorizationStepError::NotPrepared
    );
}

#[tokio::test]
async fn configured_scope_comes_first_and_authorize_with_uses_the_given_discovery() {
    let world = World::start(Cfg {
        challenge_scope: Some("mcp:basic".into()),
        prm_scopes: Some(vec!["mcp:basic".into(), "mcp:profile".into()]),
        ..Cfg::default()
    })
    .await;
    let client = world
        .client()
        .scope(mcp_authz_metadata::Scope::parse("mcp:profile").unwrap())
        .build()
        .unwrap();
    let discovery = client.discover_from(None).await.unwrap();
    assert_eq!(discovery.resource().as_str(), world.mcp_url());
    let grant = client.authorize_with(discovery).await.unwrap();
    assert_eq!(first_authorize(&world)["scope"], "mcp:profile");
    assert_eq!(client.current_grant().await, Some(grant));
    // The session uses the grant at once: no second authorization.
    let url: Url = world.mcp_url().parse().unwrap();
    let response = client
        .send(HttpRequest::post(url, rpc("tools/list")))
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(world.log().authorize.len(), 1);
}
