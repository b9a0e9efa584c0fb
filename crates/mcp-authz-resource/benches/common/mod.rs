//! Shared bench fixtures: an ES256 key, its JWKS served from memory, and a token.
#![allow(
    dead_code,
    missing_docs,
    unreachable_pub,
    clippy::indexing_slicing,
    clippy::expect_used
)]

use std::sync::Arc;

use bytes::Bytes;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mcp_authz_metadata::{Issuer, ResourceUri, Url};
use mcp_authz_resource::{FetchFuture, FetchRequest, HttpFetcher, JwtVerifier, ManualClock};
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use serde_json::json;

pub const NOW: u64 = 1_700_000_000;
pub const ISSUER: &str = "https://auth.example.com";
pub const RESOURCE: &str = "https://mcp.example.com/mcp";

/// Serves the JWKS from memory.
#[derive(Debug)]
pub struct MemoryJwks(pub Bytes);

impl HttpFetcher for MemoryJwks {
    fn fetch(&self, _request: FetchRequest) -> FetchFuture<'_> {
        let body = self.0.clone();
        Box::pin(async move { Ok(body) })
    }
}

pub struct Fixture {
    pub token: String,
    pub public_pem: String,
    pub jwks: Bytes,
}

pub fn fixture() -> Fixture {
    use p256::pkcs8::EncodePublicKey;
    let secret = p256::SecretKey::from_slice(&[7; 32]).expect("key");
    let pem = secret.to_pkcs8_pem(LineEnding::LF).expect("pem");
    let mut jwk: serde_json::Value =
        serde_json::from_str(&secret.public_key().to_jwk_string()).expect("jwk");
    jwk["kid"] = json!("k1");
    jwk["alg"] = json!("ES256");
    let mut header = Header::new(Algorithm::ES256);
    header.typ = Some("at+jwt".into());
    header.kid = Some("k1".into());
    let claims = json!({
        "iss": ISSUER, "sub": "user-1", "aud": RESOURCE, "exp": NOW + 3600, "iat": NOW,
        "nbf": NOW, "jti": "j1", "client_id": "client-1", "scope": "mcp:tools files:read",
    });
    let token = jsonwebtoken::encode(
        &header,
        &claims,
        &EncodingKey::from_ec_pem(pem.as_bytes()).expect("encoding key"),
    )
    .expect("sign");
    Fixture {
        token,
        public_pem: secret
            .public_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("public pem"),
        jwks: Bytes::from(json!({ "keys": [jwk] }).to_string()),
    }
}

pub fn verifier(fixture: &Fixture, cache_capacity: usize) -> JwtVerifier {
    JwtVerifier::builder(
        Issuer::parse(ISSUER).expect("issuer"),
        ResourceUri::parse(RESOURCE).expect("resource"),
    )
    .jwks_uri(Url::parse("https://auth.example.com/jwks").expect("url"))
    .fetcher(Arc::new(MemoryJwks(fixture.jwks.clone())))
    .clock(Arc::new(ManualClock::new(NOW)))
    .cache_capacity(cache_capacity)
    .build()
    .expect("verifier")
}
