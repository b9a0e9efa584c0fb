//! CL-10 .. CL-13: step-up, Bearer use, refresh with rotation across restarts, `invalid_grant`,
//! token stores.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::expect_used
)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use mcp_authz_client::{
    ClientError, FileTokenStore, GrantKey, HttpRequest, MemoryTokenStore, OAuthClient, StoreError,
    StoredGrant, TokenStore,
};
use mcp_authz_metadata::{Issuer, ResourceUri, Scope};
use mcp_authz_token::{AccessToken, RefreshToken};
use support::{AsCfg, Cfg, World, rpc};
use url::Url;

async fn send(client: &OAuthClient, world: &World, method: &str) -> Result<u16, ClientError> {
    let url: Url = world.mcp_url().parse().unwrap();
    Ok(client
        .send(HttpRequest::post(url, rpc(method)))
        .await?
        .status
        .as_u16())
}

fn grant_types(world: &World) -> Vec<String> {
    world
        .log()
        .token
        .iter()
        .map(|(_, f)| f["grant_type"].clone())
        .collect()
}

fn key(world: &World) -> GrantKey {
    GrantKey {
        resource: ResourceUri::parse(&world.mcp_url()).unwrap(),
        issuer: Issuer::parse(&world.issuer(0)).unwrap(),
    }
}

#[tokio::test]
async fn cl10_step_up_requests_union_of_scopes() {
    let world = World::start(Cfg {
        challenge_scope: Some("mcp:basic".into()),
        tool_call_scope: Some("mcp:write".into()),
        ..Cfg::default()
    })
    .await;
    let client = world.client().build().unwrap();
    assert_eq!(send(&client, &world, "tools/list").await.unwrap(), 200);
    assert_eq!(send(&client, &world, "tools/call").await.unwrap(), 200);
    let log = world.log();
    let scopes: Vec<&str> = log
        .authorize
        .iter()
        .map(|(_, q)| q["scope"].as_str())
        .collect();
    assert_eq!(scopes, ["mcp:basic", "mcp:basic mcp:write"]);
    let granted = client.current_grant().await.unwrap().scope.unwrap();
    assert_eq!(granted, Scope::parse("mcp:basic mcp:write").unwrap());
}

#[tokio::test]
async fn cl10_step_up_gives_up_after_three_authorizations() {
    let world = World::start(Cfg {
        always_forbid: true,
        ..Cfg::default()
    })
    .await;
    let client = world.client().build().unwrap();
    let error = send(&client, &world, "tools/list").await.unwrap_err();
    assert_eq!(
        error,
        ClientError::AttemptsExhausted {
            attempts: 3,
            status: 403
        }
    );
    assert_eq!(world.log().authorize.len(), 3);
    // Every step-up asked for the challenged scope.
    assert!(
        world.log().authorize[1..]
            .iter()
            .all(|(_, q)| q["scope"].contains("admin"))
    );
}

#[tokio::test]
async fn cl11_bearer_header_on_every_request_never_the_query() {
    let world = World::start(Cfg::default()).await;
    let client = world.client().build().unwrap();
    for method in ["initialize", "tools/list", "tools/call"] {
        assert_eq!(send(&client, &world, method).await.unwrap(), 200);
    }
    let log = world.log();
    // The first request had no token yet; every one after the authorization carries it.
    assert!(log.mcp_auth[0].is_none());
    assert_eq!(log.mcp_auth.len(), 4);
    for auth in &log.mcp_auth[1..] {
        assert!(auth.as_deref().unwrap().starts_with("Bearer at-"));
    }
    assert!(log.requests.iter().all(|r| !r.contains("access_token")));
}

#[tokio::test]
async fn cl12_refresh_before_expiry() {
    let mut a = AsCfg::new("");
    a.expires_in = 1; // inside the default 60 s skew
    let world = World::start(Cfg {
        ases: vec![a],
        ..Cfg::default()
    })
    .await;
    let client = world.client().build().unwrap();
    assert_eq!(send(&client, &world, "tools/list").await.unwrap(), 200);
    assert_eq!(grant_types(&world), ["authorization_code", "refresh_token"]);
    // No request went out with the expiring token: the unauthenticated probe, then the refreshed one.
    assert_eq!(world.log().mcp_auth.len(), 2);
}

#[tokio::test]
async fn cl12_refresh_on_invalid_token() {
    let world = World::start(Cfg::default()).await;
    let client = world.client().build().unwrap();
    assert_eq!(send(&client, &world, "tools/list").await.unwrap(), 200);
    world.revoke_access_tokens();
    assert_eq!(send(&client, &world, "tools/list").await.unwrap(), 200);
    assert_eq!(grant_types(&world), ["authorization_code", "refresh_token"]);
    assert_eq!(world.log().authorize.len(), 1);
    let form = &world.log().token[1].1;
    assert_eq!(form["resource"], world.mcp_url());
}

#[tokio::test]
async fn cl12_rotated_refresh_token_survives_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let world = World::start(Cfg::default()).await;

    let first = world
        .client()
        .token_store(Arc::new(FileTokenStore::new(&path)))
        .build()
        .unwrap();
    assert_eq!(send(&first, &world, "tools/list").await.unwrap(), 200);
    let original = first.current_grant().await.unwrap().refresh_token.unwrap();
    world.revoke_access_tokens();
    assert_eq!(send(&first, &world, "tools/list").await.unwrap(), 200);
    let rotated = first.current_grant().await.unwrap().refresh_token.unwrap();
    assert_ne!(original, rotated);
    drop(first);

    // The rotated token is on disk before anything else happens.
    let on_disk = FileTokenStore::new(&path)
        .load_grant(&key(&world))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(on_disk.refresh_token.as_ref(), Some(&rotated));

    // A new process: reads the file, uses the rotated refresh token (the old one is dead).
    world.revoke_access_tokens();
    let second = world
        .client()
        .token_store(Arc::new(FileTokenStore::new(&path)))
        .build()
        .unwrap();
    assert_eq!(send(&second, &world, "tools/list").await.unwrap(), 200);
    let log = world.log();
    assert_eq!(
        log.authorize.len(),
        1,
        "no new authorization after the restart"
    );
    let last = &log.token.last().unwrap().1;
    assert_eq!(last["grant_type"], "refresh_token");
    assert_eq!(last["refresh_token"], rotated.secret());
    assert_eq!(
        log.register.len(),
        1,
        "the registration was reused from the file"
    );
}

#[tokio::test]
async fn cl12_invalid_grant_drops_grant_and_reauthorizes_once() {
    let mut a = AsCfg::new("");
    a.reject_refresh = true;
    let world = World::start(Cfg {
        ases: vec![a],
        ..Cfg::default()
    })
    .await;
    let store = Arc::new(MemoryTokenStore::new());
    let client = world.client().token_store(store.clone()).build().unwrap();
    assert_eq!(send(&client, &world, "tools/list").await.unwrap(), 200);
    let before = store.load_grant(&key(&world)).await.unwrap().unwrap();
    world.revoke_access_tokens();
    assert_eq!(send(&client, &world, "tools/list").await.unwrap(), 200);
    assert_eq!(
        grant_types(&world),
        ["authorization_code", "refresh_token", "authorization_code"]
    );
    assert_eq!(world.log().authorize.len(), 2);
    let after = store.load_grant(&key(&world)).await.unwrap().unwrap();
    assert_ne!(before.access_token, after.access_token);
}

#[tokio::test]
async fn cl12_invalid_grant_is_not_retried_forever() {
    let mut a = AsCfg::new("");
    a.reject_refresh = true;
    a.expires_in = 1;
    let world = World::start(Cfg {
        ases: vec![a],
        ..Cfg::default()
    })
    .await;
    let client = world.client().build().unwrap();
    // Every token expires at once and every refresh fails: bounded work. The refresh token is
    // used once per call; after that the (expiring) token is sent as it is and the server decides.
    let result = tokio::time::timeout(Duration::from_secs(10), send(&client, &world, "tools/list"))
        .await
        .expect("bounded");
    assert_eq!(result, Ok(200));
    let refreshes = grant_types(&world)
        .iter()
        .filter(|g| *g == "refresh_token")
        .count();
    assert_eq!(refreshes, 1, "at most one refresh per call, never a retry");
    assert_eq!(world.log().authorize.len(), 2);
}

fn sample_grant(n: u32) -> StoredGrant {
    StoredGrant {
        access_token: AccessToken::parse(&format!("at-{n}")).unwrap(),
        refresh_token: Some(RefreshToken::parse(&format!("rt-{n}")).unwrap()),
        expires_at: Some(1_900_000_000),
        scope: Some(Scope::parse("a b").unwrap()),
    }
}

fn sample_key() -> GrantKey {
    GrantKey {
        resource: ResourceUri::parse("https://mcp.example.com/mcp").unwrap(),
        issuer: Issuer::parse("https://as.example.com").unwrap(),
    }
}

#[cfg(unix)]
#[tokio::test]
async fn cl13_file_store_writes_atomically_with_0600() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    let store = FileTokenStore::new(&path);
    store
        .save_grant(&sample_key(), &sample_grant(1))
        .await
        .unwrap();
    store
        .save_grant(&sample_key(), &sample_grant(2))
        .await
        .unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        names,
        [std::ffi::OsString::from("tokens.json")],
        "no temp file left"
    );
    let other = FileTokenStore::new(&path);
    assert_eq!(
        other.load_grant(&sample_key()).await.unwrap(),
        Some(sample_grant(2))
    );
    // Keyed by resource and issuer.
    let mut elsewhere = sample_key();
    elsewhere.issuer = Issuer::parse("https://other.example.com").unwrap();
    assert_eq!(other.load_grant(&elsewhere).await.unwrap(), None);
    other.remove_grant(&sample_key()).await.unwrap();
    assert_eq!(store.load_grant(&sample_key()).await.unwrap(), None);
}

#[tokio::test]
async fn cl13_file_store_reports_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.json");
    std::fs::write(&path, b"{not json").unwrap();
    let store = FileTokenStore::new(&path);
    assert!(matches!(
        store.load_grant(&sample_key()).await,
        Err(StoreError::Corrupt(_))
    ));
}

#[tokio::test]
async fn cl13_memory_store_round_trip() {
    let store = MemoryTokenStore::new();
    assert_eq!(store.load_grant(&sample_key()).await.unwrap(), None);
    store
        .save_grant(&sample_key(), &sample_grant(1))
        .await
        .unwrap();
    assert_eq!(
        store.load_grant(&sample_key()).await.unwrap(),
        Some(sample_grant(1))
    );
    store.remove_grant(&sample_key()).await.unwrap();
    assert_eq!(store.load_grant(&sample_key()).await.unwrap(), None);
}

#[tokio::test]
async fn client_credentials_flow_with_basic_secret() {
    let mut a = AsCfg::new("");
    a.auth_methods = vec!["client_secret_basic".into()];
    let world = World::start(Cfg {
        challenge_scope: Some("mcp:basic".into()),
        ases: vec![a],
        ..Cfg::default()
    })
    .await;
    let client = world
        .client()
        .flow(mcp_authz_client::Flow::ClientCredentials)
        .pre_registered(mcp_authz_client::PreRegisteredClient {
            issuer: Issuer::parse(&world.issuer(0)).unwrap(),
            client_id: mcp_authz_metadata::ClientId::parse("cc-id").unwrap(),
            client_secret: Some(mcp_authz_metadata::ClientSecret::new("cc-secret")),
        })
        .build()
        .unwrap();
    assert_eq!(send(&client, &world, "tools/list").await.unwrap(), 200);
    let log = world.log();
    assert!(log.authorize.is_empty(), "no user agent in this flow");
    let form = &log.token[0].1;
    assert_eq!(form["grant_type"], "client_credentials");
    assert_eq!(form["basic"], "cc-id:cc-secret");
    assert_eq!(form["scope"], "mcp:basic");
    assert_eq!(form["resource"], world.mcp_url());
}

struct FakeSigner;

impl mcp_authz_client::ClientAssertionSigner for FakeSigner {
    fn sign(
        &self,
        claims: &mcp_authz_client::ClientAssertionClaims,
    ) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
        Ok(serde_json::to_string(claims)?)
    }
}

#[tokio::test]
async fn client_credentials_flow_with_private_key_jwt() {
    let mut a = AsCfg::new("");
    a.auth_methods = vec!["private_key_jwt".into()];
    a.grant_types = vec!["client_credentials".into()];
    let world = World::start(Cfg::default()).await;
    world.set(|c| c.ases = vec![a]);
    // A server without the code grant is no use to the authorization code flow...
    let code_flow = world.client().build().unwrap();
    assert!(matches!(
        send(&code_flow, &world, "tools/list").await,
        Err(ClientError::Discovery(mcp_authz_client::DiscoveryError::InvalidAuthorizationServerMetadata {
            source: mcp_authz_metadata::AuthorizationServerMetadataError::AuthorizationCodeGrantNotSupported { .. },
            ..
        }))
    ));
    // ...but fine for the client credentials flow.
    let client = world
        .client()
        .flow(mcp_authz_client::Flow::ClientCredentials)
        .client_assertion_signer(Arc::new(FakeSigner))
        .pre_registered(mcp_authz_client::PreRegisteredClient {
            issuer: Issuer::parse(&world.issuer(0)).unwrap(),
            client_id: mcp_authz_metadata::ClientId::parse("jwt-client").unwrap(),
            client_secret: None,
        })
        .build()
        .unwrap();
    assert_eq!(send(&client, &world, "tools/list").await.unwrap(), 200);
    let form = &world.log().token[0].1;
    assert_eq!(form["grant_type"], "client_credentials");
    assert!(!form.contains_key("basic") && !form.contains_key("client_secret"));
    let claims: serde_json::Value = serde_json::from_str(&form["client_assertion"]).unwrap();
    assert_eq!(claims["iss"], "jwt-client");
    assert_eq!(claims["sub"], "jwt-client");
    assert_eq!(claims["aud"], world.issuer(0));
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        300
    );
    assert_eq!(claims["jti"].as_str().unwrap().len(), 43);
}

/// A store that checks, at every save, that the resource server has not yet seen the token being
/// saved, and that can be told to fail.
struct WatchingStore {
    inner: MemoryTokenStore,
    world: Arc<World>,
    used_before_saved: std::sync::Mutex<Vec<String>>,
    saved: std::sync::Mutex<Vec<String>>,
    fail: bool,
}

#[async_trait::async_trait]
impl TokenStore for WatchingStore {
    async fn load_grant(&self, key: &GrantKey) -> Result<Option<StoredGrant>, StoreError> {
        self.inner.load_grant(key).await
    }

    async fn save_grant(&self, key: &GrantKey, grant: &StoredGrant) -> Result<(), StoreError> {
        let token = grant.access_token.secret().to_owned();
        let header = format!("Bearer {token}");
        if self
            .world
            .log()
            .mcp_auth
            .iter()
            .flatten()
            .any(|a| *a == header)
        {
            self.used_before_saved.lock().unwrap().push(token.clone());
        }
        if self.fail {
            return Err(StoreError::Io("disk full".into()));
        }
        self.saved.lock().unwrap().push(token);
        self.inner.save_grant(key, grant).await
    }

    async fn remove_grant(&self, key: &GrantKey) -> Result<(), StoreError> {
        self.inner.remove_grant(key).await
    }

    async fn load_client(
        &self,
        issuer: &Issuer,
    ) -> Result<Option<mcp_authz_client::ClientCredentials>, StoreError> {
        self.inner.load_client(issuer).await
    }

    async fn save_client(
        &self,
        credentials: &mcp_authz_client::ClientCredentials,
    ) -> Result<(), StoreError> {
        self.inner.save_client(credentials).await
    }

    async fn remove_client(&self, issuer: &Issuer) -> Result<(), StoreError> {
        self.inner.remove_client(issuer).await
    }
}

fn watching(world: &Arc<World>, fail: bool) -> Arc<WatchingStore> {
    Arc::new(WatchingStore {
        inner: MemoryTokenStore::new(),
        world: world.clone(),
        used_before_saved: std::sync::Mutex::new(Vec::new()),
        saved: std::sync::Mutex::new(Vec::new()),
        fail,
    })
}

#[tokio::test]
async fn cl12_grants_are_saved_before_they_are_used() {
    let world = World::start(Cfg::default()).await;
    let store = watching(&world, false);
    let client = world.client().token_store(store.clone()).build().unwrap();
    assert_eq!(send(&client, &world, "tools/list").await.unwrap(), 200);
    world.revoke_access_tokens();
    assert_eq!(send(&client, &world, "tools/list").await.unwrap(), 200);
    assert_eq!(grant_types(&world), ["authorization_code", "refresh_token"]);
    assert_eq!(store.saved.lock().unwrap().len(), 2);
    assert!(store.used_before_saved.lock().unwrap().is_empty());
    // Both saved tokens were then used.
    for token in store.saved.lock().unwrap().iter() {
        let header = format!("Bearer {token}");
        assert!(world.log().mcp_auth.iter().flatten().any(|a| *a == header));
    }
}

#[tokio::test]
async fn cl12_a_grant_that_cannot_be_saved_is_not_used() {
    let world = World::start(Cfg::default()).await;
    let store = watching(&world, true);
    let client = world.client().token_store(store.clone()).build().unwrap();
    let error = send(&client, &world, "tools/list").await.unwrap_err();
    assert_eq!(
        error,
        ClientError::Store(StoreError::Io("disk full".into()))
    );
    // Only the unauthenticated probe reached the server.
    assert_eq!(world.log().mcp_auth, [None]);
    assert!(client.current_grant().await.is_none());
}
