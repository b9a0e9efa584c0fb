//! Hostile tokens (REQUIREMENTS RS-3, RS-10): `alg: none`, HS256 key confusion with the public key as
//! the HMAC secret, a JWT that is not an access token, each answered 401 `invalid_token` over HTTP.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mcp_authz_resource::ManualClock;
use mcp_authz_token::BearerError;
use p256::pkcs8::{EncodePublicKey, LineEnding};
use serde_json::json;
use support::*;

async fn app(auth: &TestAs, clock: &ManualClock) -> (String, mcp_authz_metadata::ResourceUri) {
    let issuer = auth.issuer.clone();
    serve_protected(
        "/mcp",
        |b| b.authorization_server(issuer),
        |r| auth.jwt_verifier(r, clock),
    )
    .await
}

async fn assert_401_invalid_token(base: &str, token: &str) {
    let response = client()
        .get(format!("{base}/mcp"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(challenge(&response).error, Some(BearerError::InvalidToken));
}

#[tokio::test]
async fn rs3_alg_none_is_401_invalid_token() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let (base, resource) = app(&auth, &clock).await;
    let claims = auth.claims(resource.as_str(), "mcp:tools");
    for alg in ["none", "None", "NONE"] {
        let header = json!({"alg": alg, "typ": "at+jwt", "kid": "key-1"});
        let token = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        // The empty signature makes it a non-b64token for some inputs; with a dummy signature too.
        assert_401_invalid_token(&base, &format!("{token}AAAA")).await;
    }
}

#[tokio::test]
async fn rs3_hs256_key_confusion_with_public_key_as_secret_is_401() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let (base, resource) = app(&auth, &clock).await;
    let claims = auth.claims(resource.as_str(), "mcp:tools");
    let pem = auth
        .key
        .secret
        .public_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    let jwk = auth.key.jwk().to_string();
    let secrets: [Vec<u8>; 3] = [
        auth.key.public_key_bytes(),
        pem.into_bytes(),
        jwk.into_bytes(),
    ];
    for secret in secrets {
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            let mut header = Header::new(alg);
            header.typ = Some("at+jwt".to_owned());
            header.kid = Some("key-1".to_owned());
            let token =
                jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(&secret)).unwrap();
            assert_401_invalid_token(&base, &token).await;
        }
    }
    // The JWKS also publishes an `oct` key with kid "hmac": it must never be used either.
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("at+jwt".to_owned());
    header.kid = Some("hmac".to_owned());
    let token =
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(b"secret")).unwrap();
    assert_401_invalid_token(&base, &token).await;
}

#[tokio::test]
async fn rs3_typ_other_than_at_jwt_is_401() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let (base, resource) = app(&auth, &clock).await;
    let claims = auth.claims(resource.as_str(), "mcp:tools");
    for typ in ["JWT", "jwt", "id_token+jwt", "application/jwt"] {
        assert_401_invalid_token(&base, &sign_with(&auth.key, typ, &claims)).await;
    }
    // The media-type form of at+jwt is accepted (RFC 9068 §4).
    let ok = sign_with(&auth.key, "application/at+jwt", &claims);
    let response = client()
        .get(format!("{base}/mcp"))
        .bearer_auth(ok)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn rs3_garbage_and_truncated_tokens_are_401() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let (base, resource) = app(&auth, &clock).await;
    let good = auth.sign(&auth.claims(resource.as_str(), "mcp:tools"));
    let truncated = &good[..good.len() - 10];
    for token in ["x", "a.b.c", "a.b", truncated, "eyJ.eyJ.sig"] {
        assert_401_invalid_token(&base, token).await;
    }
}

#[tokio::test]
async fn rs3_token_missing_required_claims_is_401() {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let (base, resource) = app(&auth, &clock).await;
    for member in ["exp", "iss", "aud", "sub", "client_id", "iat", "jti"] {
        let mut claims = auth.claims(resource.as_str(), "mcp:tools");
        claims.as_object_mut().unwrap().remove(member);
        assert_401_invalid_token(&base, &auth.sign(&claims)).await;
    }
}
