//! Attacks: keys (REQUIREMENTS SEC-15, verifier side). A JWKS host on 127.0.0.1 that the test
//! controls: it publishes keys, retires them, sends a `Cache-Control` or none, and goes down.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use mcp_authz_metadata::{Issuer, ResourceUri, Url};
use mcp_authz_resource::{JwtVerifier, ManualClock, ReqwestHttpClient};
use mcp_authz_token::BearerError;
use serde_json::{Value, json};

use crate::support::{NOW, SigningKey, challenge, client, serve_protected, sign_with};

/// What the JWKS host serves.
#[derive(Default)]
struct Host {
    keys: Mutex<Vec<Value>>,
    cache_control: Mutex<Option<String>>,
    down: AtomicBool,
    fetches: AtomicUsize,
}

struct JwksHost {
    issuer: Issuer,
    jwks_uri: Url,
    state: Arc<Host>,
}

impl JwksHost {
    async fn start(keys: &[&SigningKey], cache_control: Option<&str>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Host::default());
        let app = Router::new()
            .route("/jwks", get(jwks))
            .with_state(Arc::clone(&state));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        let host = Self {
            issuer: Issuer::parse(&base).unwrap(),
            jwks_uri: Url::parse(&format!("{base}/jwks")).unwrap(),
            state,
        };
        host.publish_only(keys);
        *host.state.cache_control.lock().unwrap() = cache_control.map(str::to_owned);
        host
    }

    /// The JWKS lists exactly these keys from now on.
    fn publish_only(&self, keys: &[&SigningKey]) {
        *self.state.keys.lock().unwrap() = keys.iter().map(|k| k.jwk()).collect();
    }

    fn fetches(&self) -> usize {
        self.state.fetches.load(Ordering::SeqCst)
    }

    /// A verifier on the manual clock, with `configure` applied.
    fn verifier(
        &self,
        resource: &ResourceUri,
        clock: &ManualClock,
        configure: impl FnOnce(
            mcp_authz_resource::JwtVerifierBuilder,
        ) -> mcp_authz_resource::JwtVerifierBuilder,
    ) -> JwtVerifier {
        configure(
            JwtVerifier::builder(self.issuer.clone(), resource.clone())
                .jwks_uri(self.jwks_uri.clone())
                .clock(Arc::new(clock.clone()))
                .http_client(Arc::new(
                    ReqwestHttpClient::with_timeout(Duration::from_secs(2)).unwrap(),
                )),
        )
        .build()
        .unwrap()
    }

    /// An RFC 9068 token for `resource` signed with `key`, valid from NOW for an hour.
    fn token(&self, key: &SigningKey, resource: &ResourceUri) -> String {
        self.token_for(key, resource, 3600)
    }

    /// Like [`token`](Self::token), valid for `lifetime` seconds.
    fn token_for(&self, key: &SigningKey, resource: &ResourceUri, lifetime: u64) -> String {
        let claims = json!({
            "iss": self.issuer.as_str(),
            "sub": "user-1",
            "aud": resource.as_str(),
            "exp": NOW + lifetime,
            "iat": NOW,
            "nbf": NOW,
            "jti": format!("jti-{}", key.kid),
            "client_id": "client-1",
            "scope": "mcp:tools",
        });
        sign_with(key, "at+jwt", &claims)
    }
}

async fn jwks(State(host): State<Arc<Host>>) -> Response {
    host.fetches.fetch_add(1, Ordering::SeqCst);
    if host.down.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let keys = host.keys.lock().unwrap().clone();
    let mut response = axum::Json(json!({ "keys": keys })).into_response();
    if let Some(cache_control) = host.cache_control.lock().unwrap().clone() {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, cache_control.parse().unwrap());
    }
    response
}

async fn get_mcp(base: &str, token: &str) -> reqwest::Response {
    client()
        .get(format!("{base}/mcp"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn assert_accepted(base: &str, token: &str, when: &str) {
    let response = get_mcp(base, token).await;
    assert_eq!(response.status(), 200, "{when}");
}

async fn assert_invalid_token(base: &str, token: &str, when: &str) {
    let response = get_mcp(base, token).await;
    assert_eq!(response.status(), 401, "{when}");
    assert_eq!(
        challenge(&response).error,
        Some(BearerError::InvalidToken),
        "{when}"
    );
}

// ---------------------------------------------------------------------------------------------
// SEC-15: the resource layer trusts a retired key forever.
// ---------------------------------------------------------------------------------------------

/// The authorization server retires key K1 (its JWKS lists only K2 from then on). A token signed
/// with K1 (stolen, or signed by the retired key after a compromise) keeps being accepted while the
/// verifier's copy of the JWKS is fresh (its `Cache-Control: max-age=60`), and is refused with 401
/// `invalid_token` as soon as that copy expires: the verifier fetches the JWKS again before using
/// it, and keys missing from the latest fetch are dropped. A K2 token is accepted. Cached
/// verifications of the K1 token do not outlive the key either.
#[tokio::test]
async fn a_retired_key_stops_verifying_after_the_jwks_max_age() {
    let k1 = SigningKey::new("k1", 7);
    let k2 = SigningKey::new("k2", 9);
    let host = JwksHost::start(&[&k1, &k2], Some("public, max-age=60")).await;
    let clock = ManualClock::new(NOW);
    let (base, resource) = serve_protected(
        "/mcp",
        |b| b.authorization_server(host.issuer.clone()),
        // The refetch on an unknown `kid` is rate-limited for an hour: the max-age is not.
        |r| host.verifier(r, &clock, |b| b.refetch_interval(Duration::from_secs(3600))),
    )
    .await;
    let old = host.token(&k1, &resource);
    assert_accepted(&base, &old, "K1 while published").await;
    assert_eq!(host.fetches(), 1);

    host.publish_only(&[&k2]);
    clock.advance(Duration::from_secs(59));
    assert_accepted(&base, &old, "K1 within the JWKS max-age").await;
    assert_eq!(host.fetches(), 1, "a fresh key set is not fetched again");

    clock.advance(Duration::from_secs(2));
    assert_invalid_token(&base, &old, "K1 after the JWKS max-age").await;
    assert_eq!(host.fetches(), 2);
    assert_accepted(&base, &host.token(&k2, &resource), "K2").await;
    assert_invalid_token(&base, &old, "K1 again").await;
}

/// A `Cache-Control: max-age` is honoured only within bounds: `max-age=1` counts as 30 s (no fetch
/// storm), and a JWKS that claims to be fresh for ten days is fetched again after one day, so a
/// retired key cannot be kept alive by a long cache lifetime.
#[tokio::test]
async fn the_jwks_max_age_is_bounded() {
    let k1 = SigningKey::new("k1", 7);
    let k2 = SigningKey::new("k2", 9);
    for (cache_control, not_yet, expired) in
        [("max-age=1", 29, 31), ("max-age=864000", 86_399, 86_401)]
    {
        let host = JwksHost::start(&[&k1, &k2], Some(cache_control)).await;
        let clock = ManualClock::new(NOW);
        let (base, resource) = serve_protected(
            "/mcp",
            |b| b.authorization_server(host.issuer.clone()),
            |r| host.verifier(r, &clock, |b| b),
        )
        .await;
        let old = host.token_for(&k1, &resource, 2 * 86_400);
        assert_accepted(&base, &old, cache_control).await;
        host.publish_only(&[&k2]);
        clock.advance(Duration::from_secs(not_yet));
        assert_accepted(&base, &old, cache_control).await;
        assert_eq!(host.fetches(), 1, "{cache_control}");
        clock.advance(Duration::from_secs(expired - not_yet));
        assert_invalid_token(&base, &old, cache_control).await;
        assert_eq!(host.fetches(), 2, "{cache_control}");
    }
}

/// The authorization server's JWKS is down. Past the key set's lifetime (here the configured
/// default of 60 s: the response had no `Cache-Control`), the verifier keeps using the old set for
/// the stale grace (120 s here), then answers 503 with `Retry-After` (it cannot decide), never 401
/// and never a pass on a set it can no longer vouch for. Once the JWKS is back, tokens pass again.
#[tokio::test]
async fn a_jwks_outage_beyond_the_stale_grace_is_503() {
    let k1 = SigningKey::new("k1", 7);
    let host = JwksHost::start(&[&k1], None).await;
    let clock = ManualClock::new(NOW);
    let (base, resource) = serve_protected(
        "/mcp",
        |b| b.authorization_server(host.issuer.clone()),
        |r| {
            host.verifier(r, &clock, |b| {
                b.jwks_max_age(Duration::from_secs(60))
                    .jwks_stale_grace(Duration::from_secs(120))
            })
        },
    )
    .await;
    let token = host.token(&k1, &resource);
    assert_accepted(&base, &token, "JWKS up").await;

    host.state.down.store(true, Ordering::SeqCst);
    clock.advance(Duration::from_secs(61));
    assert_accepted(&base, &token, "JWKS down, within the stale grace").await;
    assert_eq!(host.fetches(), 2, "the expired set was fetched again");
    clock.advance(Duration::from_secs(120));
    let response = get_mcp(&base, &token).await;
    assert_eq!(response.status(), 503, "JWKS down beyond the grace");
    assert!(response.headers().contains_key("retry-after"));

    host.state.down.store(false, Ordering::SeqCst);
    clock.advance(Duration::from_secs(30));
    assert_accepted(&base, &token, "JWKS back").await;
}
