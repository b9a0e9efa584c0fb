//! Shared bench fixtures: an ES256 (or Ed25519) key, its JWKS served from memory, and a token.
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
use mcp_authz_resource::{
    HttpClient, HttpRequest, HttpResponse, JwtVerifier, ManualClock, TransportError,
};
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use serde_json::json;

pub const NOW: u64 = 1_700_000_000;
pub const ISSUER: &str = "https://auth.example.com";
pub const RESOURCE: &str = "https://mcp.example.com/mcp";

/// Serves the JWKS from memory.
#[derive(Debug)]
pub struct MemoryJwks(pub Bytes);

#[async_trait::async_trait]
impl HttpClient for MemoryJwks {
    async fn execute(&self, _request: HttpRequest) -> Result<HttpResponse, TransportError> {
        Ok(HttpResponse {
            status: http::StatusCode::OK,
            headers: http::HeaderMap::new(),
            body: self.0.to_vec(),
        })
    }
}

pub struct Fixture {
    pub token: String,
    /// The ES256 key as SPKI PEM (empty for the EdDSA fixture).
    pub public_pem: String,
    pub jwks: Bytes,
    /// The raw public key: the uncompressed P-256 point, or the 32 Ed25519 bytes.
    pub public_key: Vec<u8>,
}

impl Fixture {
    /// The token's signing input (`header.payload`) and decoded signature.
    pub fn signed_parts(&self) -> (&[u8], Vec<u8>) {
        use base64::Engine as _;
        let (input, signature) = self.token.rsplit_once('.').expect("three segments");
        let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(signature)
            .expect("base64url");
        (input.as_bytes(), signature)
    }
}

fn claims() -> serde_json::Value {
    json!({
        "iss": ISSUER, "sub": "user-1", "aud": RESOURCE, "exp": NOW + 3600, "iat": NOW,
        "nbf": NOW, "jti": "j1", "client_id": "client-1", "scope": "mcp:tools files:read",
    })
}

/// The same claims as [`fixture`]'s token, signed with Ed25519 (`EdDSA`, RFC 8037).
pub fn eddsa_fixture() -> Fixture {
    use base64::Engine as _;
    use ring::signature::{Ed25519KeyPair, KeyPair as _};
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let pair = Ed25519KeyPair::from_seed_unchecked(&[7; 32]).expect("key");
    let public = pair.public_key().as_ref().to_vec();
    let header = json!({"alg": "EdDSA", "typ": "at+jwt", "kid": "k1"});
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims().to_string().as_bytes())
    );
    let signature = pair.sign(input.as_bytes());
    let jwk =
        json!({"kty": "OKP", "crv": "Ed25519", "x": b64(&public), "kid": "k1", "alg": "EdDSA"});
    Fixture {
        token: format!("{input}.{}", b64(signature.as_ref())),
        public_pem: String::new(),
        jwks: Bytes::from(json!({ "keys": [jwk] }).to_string()),
        public_key: public,
    }
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
    let token = jsonwebtoken::encode(
        &header,
        &claims(),
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
        public_key: {
            use p256::elliptic_curve::sec1::ToEncodedPoint as _;
            secret
                .public_key()
                .to_encoded_point(false)
                .as_bytes()
                .to_vec()
        },
    }
}

pub fn verifier(fixture: &Fixture, cache_capacity: usize) -> JwtVerifier {
    JwtVerifier::builder(
        Issuer::parse(ISSUER).expect("issuer"),
        ResourceUri::parse(RESOURCE).expect("resource"),
    )
    .jwks_uri(Url::parse("https://auth.example.com/jwks").expect("url"))
    .http_client(Arc::new(MemoryJwks(fixture.jwks.clone())))
    .clock(Arc::new(ManualClock::new(NOW)))
    .cache_capacity(cache_capacity)
    .build()
    .expect("verifier")
}
