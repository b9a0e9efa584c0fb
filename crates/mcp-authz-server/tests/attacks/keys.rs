//! Attacks on the key lifecycle (REQUIREMENTS SEC-15, signer side): a rotation must not make fresh
//! tokens unverifiable for resource servers that cached the JWKS before it.

use std::sync::Arc;
use std::time::Duration;

use mcp_authz_resource::{JwtVerifier, ManualClock, TokenVerifier as _, VerifyError};
use mcp_authz_server::{DEFAULT_KEY_PUBLICATION_DELAY, JWKS_MAX_AGE};
use mcp_authz_token::AccessToken;
use serde_json::Value;

use crate::common::*;

async fn client_credentials_token(server: &TestServer, id: &str, secret: &str) -> String {
    let (status, _, body) = server
        .token_basic(
            id,
            secret,
            &[("grant_type", "client_credentials"), ("resource", RESOURCE)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["access_token"].as_str().unwrap().to_owned()
}

fn kid(jwt: &str) -> String {
    jwt_parts(jwt).0["kid"].as_str().unwrap().to_owned()
}

async fn jwks_kids(server: &TestServer) -> (Vec<String>, String) {
    let response = server
        .http
        .get(server.url("/jwks.json"))
        .send()
        .await
        .unwrap();
    let cache_control = response.headers()["cache-control"]
        .to_str()
        .unwrap()
        .to_owned();
    let jwks: Value = response.json().await.unwrap();
    let kids = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    (kids, cache_control)
}

async fn verify(verifier: &JwtVerifier, jwt: &str) -> Result<(), VerifyError> {
    verifier
        .verify(&AccessToken::parse(jwt).unwrap())
        .await
        .map(|_| ())
}

// ---------------------------------------------------------------------------------------------
// SEC-15: fresh tokens refused right after key rotation.
// ---------------------------------------------------------------------------------------------

/// A resource server fetched the JWKS (it had key K1), then the operator rotates. If the server
/// signed with the new key K2 at once, the resource server would refuse every fresh token: K2 is
/// unknown to it and its refetch on an unknown `kid` is rate-limited. Instead the rotation only
/// publishes K2: tokens stay signed with K1 (accepted) until the publication delay has passed, by
/// when the resource server has refetched the JWKS (it is served with `max-age` of
/// `JWKS_MAX_AGE`, shorter than the delay), and the first K2 token is accepted without an extra
/// fetch.
#[tokio::test]
async fn a_rotated_key_is_published_before_it_signs() {
    let server = TestServer::start().await;
    let (id, secret) = server.operator_client(&["client_credentials"]).await;
    let client_id = mcp_authz_metadata::ClientId::parse(&id).unwrap();
    let mut record = server.store.get_client(&client_id).await.unwrap().unwrap();
    record.allowed_resources = Some(vec![resource()]);
    server.store.update_client(record).await.unwrap();

    let rs_clock = ManualClock::new(server.clock.now_time().as_secs());
    let verifier = JwtVerifier::builder(server.issuer(), resource())
        .clock(Arc::new(rs_clock.clone()))
        .refetch_interval(Duration::from_secs(3600))
        .build()
        .unwrap();
    let first = client_credentials_token(&server, &id, &secret).await;
    let k1 = kid(&first);
    verify(&verifier, &first).await.unwrap();

    let rotation = server.server.rotate_signing_key().await.unwrap();
    assert_eq!(
        rotation.signs_from,
        server
            .clock
            .now_time()
            .saturating_add(DEFAULT_KEY_PUBLICATION_DELAY)
    );
    let (kids, cache_control) = jwks_kids(&server).await;
    assert!(
        kids.contains(&k1) && kids.contains(&rotation.kid.as_str().to_owned()),
        "{kids:?}"
    );
    assert_eq!(
        cache_control,
        format!("public, max-age={}", JWKS_MAX_AGE.as_secs())
    );

    // Right after the rotation: still K1, and the resource server accepts it.
    let fresh = client_credentials_token(&server, &id, &secret).await;
    verify(&verifier, &fresh)
        .await
        .expect("a fresh token right after the rotation is accepted");
    assert_eq!(kid(&fresh), k1);

    // Just before the delay ends: still K1. (Both clocks move together.)
    let almost = DEFAULT_KEY_PUBLICATION_DELAY - Duration::from_secs(1);
    assert!(almost > JWKS_MAX_AGE);
    server.clock.advance(almost);
    rs_clock.advance(almost);
    let before = client_credentials_token(&server, &id, &secret).await;
    assert_eq!(kid(&before), k1);
    // The resource server's copy of the JWKS expired: it fetches it again, and learns K2.
    verify(&verifier, &before).await.unwrap();

    // Then K2 signs, and the resource server (whose unknown-kid refetch is rate-limited for an
    // hour) already knows it.
    server.clock.advance(Duration::from_secs(1));
    rs_clock.advance(Duration::from_secs(1));
    let after = client_credentials_token(&server, &id, &secret).await;
    assert_eq!(kid(&after), rotation.kid.as_str());
    verify(&verifier, &after).await.unwrap();
    // K1's tokens stay verifiable.
    verify(&verifier, &first).await.unwrap();
}

/// `rotate_signing_key_now` (a compromised key) signs with the new key at once.
#[tokio::test]
async fn an_immediate_rotation_signs_at_once() {
    let server = TestServer::start().await;
    let (id, secret) = server.operator_client(&["client_credentials"]).await;
    let client_id = mcp_authz_metadata::ClientId::parse(&id).unwrap();
    let mut record = server.store.get_client(&client_id).await.unwrap().unwrap();
    record.allowed_resources = Some(vec![resource()]);
    server.store.update_client(record).await.unwrap();
    let rotation = server.server.rotate_signing_key_now().await.unwrap();
    assert_eq!(rotation.signs_from, server.clock.now_time());
    let token = client_credentials_token(&server, &id, &secret).await;
    assert_eq!(kid(&token), rotation.kid.as_str());
}

/// A later rotation supersedes an earlier one still waiting: the newest key signs once due, and
/// the earlier key, due later, never takes over from it.
#[tokio::test]
async fn a_later_rotation_supersedes_a_pending_one() {
    let server = TestServer::start().await;
    let (id, secret) = server.operator_client(&["client_credentials"]).await;
    let client_id = mcp_authz_metadata::ClientId::parse(&id).unwrap();
    let mut record = server.store.get_client(&client_id).await.unwrap().unwrap();
    record.allowed_resources = Some(vec![resource()]);
    server.store.update_client(record).await.unwrap();
    let slow = server.server.rotate_signing_key().await.unwrap();
    server.clock.advance(Duration::from_secs(1));
    let quick = server
        .server
        .rotate_signing_key_after(Duration::from_secs(60))
        .await
        .unwrap();
    server.clock.advance(Duration::from_secs(60));
    let token = client_credentials_token(&server, &id, &secret).await;
    assert_eq!(kid(&token), quick.kid.as_str());
    server.clock.advance(DEFAULT_KEY_PUBLICATION_DELAY);
    let token = client_credentials_token(&server, &id, &secret).await;
    assert_eq!(
        kid(&token),
        quick.kid.as_str(),
        "superseded {}",
        slow.kid.as_str()
    );
}
