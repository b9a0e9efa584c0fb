//! Test support: a standards-compliant authorization server on 127.0.0.1 (RFC 8414 metadata, a JWKS
//! with ES256 keys, RFC 7662 introspection), token minting, and a protected axum app.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{any, get, post};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mcp_authz_metadata::{Issuer, ResourceUri, Url};
use mcp_authz_resource::{
    IntrospectionVerifier, JwtVerifier, ManualClock, RequireBearerLayer, ReqwestHttpClient,
    ResourceServer, ResourceServerConfig, ResourceServerConfigBuilder, TokenVerifier,
    VerifiedClaims,
};
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use serde_json::{Value, json};

/// The fixed "now" of every test: 2023-11-14T22:13:20Z.
pub const NOW: u64 = 1_700_000_000;
pub const RS_CLIENT_ID: &str = "rs-client";
pub const RS_CLIENT_SECRET: &str = "rs-secret";

/// An ES256 signing key with its kid.
#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    pub secret: p256::SecretKey,
}

impl SigningKey {
    pub fn new(kid: &str, seed: u8) -> Self {
        let secret = p256::SecretKey::from_slice(&[seed; 32]).unwrap();
        Self {
            kid: kid.to_owned(),
            secret,
        }
    }

    pub fn encoding_key(&self) -> EncodingKey {
        let pem = self.secret.to_pkcs8_pem(LineEnding::LF).unwrap();
        EncodingKey::from_ec_pem(pem.as_bytes()).unwrap()
    }

    /// The public JWK.
    pub fn jwk(&self) -> Value {
        let mut jwk: Value =
            serde_json::from_str(&self.secret.public_key().to_jwk_string()).unwrap();
        jwk["kid"] = json!(self.kid);
        jwk["use"] = json!("sig");
        jwk["alg"] = json!("ES256");
        jwk
    }

    /// The uncompressed public key point, as an attacker would use it as an HMAC secret.
    pub fn public_key_bytes(&self) -> Vec<u8> {
        use p256::elliptic_curve::sec1::ToEncodedPoint;
        self.secret
            .public_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec()
    }
}

#[derive(Default)]
pub struct AsState {
    pub issuer: Mutex<String>,
    pub keys: Mutex<Vec<Value>>,
    pub jwks_fetches: AtomicUsize,
    pub metadata_fetches: AtomicUsize,
    pub introspections: AtomicUsize,
    /// Opaque token -> introspection response.
    pub opaque: Mutex<BTreeMap<String, Value>>,
}

/// The test authorization server.
pub struct TestAs {
    pub issuer: Issuer,
    pub base: String,
    pub state: Arc<AsState>,
    pub key: SigningKey,
}

impl TestAs {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let key = SigningKey::new("key-1", 7);
        let state = Arc::new(AsState::default());
        *state.issuer.lock().unwrap() = base.clone();
        // A foreign key type and a symmetric key that a compliant verifier must skip.
        *state.keys.lock().unwrap() = vec![
            json!({"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"}),
            json!({"kty": "RSA", "use": "enc", "kid": "enc-key", "n": "AQAB", "e": "AQAB"}),
            key.jwk(),
        ];
        let app = Router::new()
            .route("/.well-known/oauth-authorization-server", get(metadata))
            .route("/jwks", get(jwks))
            .route("/huge-jwks", get(huge_jwks))
            .route("/introspect", post(introspect))
            .with_state(Arc::clone(&state));
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            issuer: Issuer::parse(&base).unwrap(),
            base,
            state,
            key,
        }
    }

    pub fn jwks_fetches(&self) -> usize {
        self.state.jwks_fetches.load(Ordering::SeqCst)
    }

    pub fn introspections(&self) -> usize {
        self.state.introspections.load(Ordering::SeqCst)
    }

    /// Publishes `key` in the JWKS too (rotation).
    pub fn publish(&self, key: &SigningKey) {
        self.state.keys.lock().unwrap().push(key.jwk());
    }

    pub fn add_opaque(&self, token: &str, response: Value) {
        self.state
            .opaque
            .lock()
            .unwrap()
            .insert(token.to_owned(), response);
    }

    /// Claims of a good token for `resource`, valid from NOW for an hour.
    pub fn claims(&self, resource: &str, scope: &str) -> Value {
        json!({
            "iss": self.issuer.as_str(),
            "sub": "user-1",
            "aud": resource,
            "exp": NOW + 3600,
            "iat": NOW,
            "nbf": NOW,
            "jti": "jti-1",
            "client_id": "client-1",
            "scope": scope,
        })
    }

    /// Signs `claims` as an RFC 9068 access token with the AS key.
    pub fn sign(&self, claims: &Value) -> String {
        sign_with(&self.key, "at+jwt", claims)
    }

    pub fn jwt_verifier(&self, resource: &ResourceUri, clock: &ManualClock) -> JwtVerifier {
        JwtVerifier::builder(self.issuer.clone(), resource.clone())
            .clock(Arc::new(clock.clone()))
            .http_client(Arc::new(
                ReqwestHttpClient::with_timeout(Duration::from_secs(2)).unwrap(),
            ))
            .build()
            .unwrap()
    }

    pub fn introspection_verifier(
        &self,
        resource: &ResourceUri,
        clock: &ManualClock,
    ) -> IntrospectionVerifier {
        IntrospectionVerifier::builder(
            self.issuer.clone(),
            resource.clone(),
            RS_CLIENT_ID.parse().unwrap(),
            mcp_authz_metadata::ClientSecret::new(RS_CLIENT_SECRET),
        )
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap()
    }
}

pub fn sign_with(key: &SigningKey, typ: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.typ = Some(typ.to_owned());
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &key.encoding_key()).unwrap()
}

async fn metadata(State(state): State<Arc<AsState>>) -> impl IntoResponse {
    state.metadata_fetches.fetch_add(1, Ordering::SeqCst);
    let issuer = state.issuer.lock().unwrap().clone();
    // A plain RFC 8414 document: no MCP-specific members (no code_challenge_methods_supported).
    axum::Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "introspection_endpoint": format!("{issuer}/introspect"),
        "response_types_supported": ["code"],
        "x-vendor-extension": {"anything": true},
    }))
}

async fn jwks(State(state): State<Arc<AsState>>) -> impl IntoResponse {
    state.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    let keys = state.keys.lock().unwrap().clone();
    axum::Json(json!({ "keys": keys }))
}

/// A JWKS of 100 KiB: over the 64 KiB limit.
async fn huge_jwks() -> impl IntoResponse {
    let padding = "x".repeat(100 * 1024);
    axum::Json(json!({ "keys": [], "padding": padding }))
}

async fn introspect(
    State(state): State<Arc<AsState>>,
    headers: HeaderMap,
    body: String,
) -> axum::response::Response {
    state.introspections.fetch_add(1, Ordering::SeqCst);
    let expected = mcp_authz_token::BasicCredentials {
        client_id: RS_CLIENT_ID.parse().unwrap(),
        client_secret: mcp_authz_metadata::ClientSecret::new(RS_CLIENT_SECRET),
    }
    .to_header_value();
    if headers.get("authorization") != Some(&expected) {
        return (StatusCode::UNAUTHORIZED, "bad client").into_response();
    }
    let Ok(parsed) = mcp_authz_token::IntrospectionRequest::parse_form(body.as_bytes()) else {
        return (StatusCode::BAD_REQUEST, "bad form").into_response();
    };
    let token = parsed.request.token.secret().to_owned();
    let answer = state
        .opaque
        .lock()
        .unwrap()
        .get(&token)
        .cloned()
        .unwrap_or_else(|| json!({"active": false}));
    axum::Json(answer).into_response()
}

/// What the protected test endpoint reports about the request it saw.
pub async fn echo(headers: HeaderMap, claims: VerifiedClaims) -> axum::Json<Value> {
    axum::Json(json!({
        "subject": claims.subject(),
        "client_id": claims.client_id().map(|c| c.as_str().to_owned()),
        "scope": claims.scope().to_string(),
        "expires_at": claims.expires_at().map(|e| e.as_secs()),
        "authorization_header_seen": headers.contains_key("authorization"),
    }))
}

/// A protected app on 127.0.0.1 with a `/mcp` endpoint; returns its base URL.
pub async fn serve_protected<V, F>(
    path: &str,
    configure: F,
    verifier: impl FnOnce(&ResourceUri) -> V,
) -> (String, ResourceUri)
where
    V: TokenVerifier + 'static,
    F: FnOnce(ResourceServerConfigBuilder) -> ResourceServerConfigBuilder,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let resource = ResourceUri::parse(&format!("{base}{path}")).unwrap();
    let config: ResourceServerConfig = configure(ResourceServerConfig::builder(resource.clone()))
        .build()
        .unwrap();
    let server = ResourceServer::new(config, verifier(&resource));
    let route = if path.is_empty() { "/" } else { path };
    let app = Router::new()
        .route(route, any(echo))
        .layer(RequireBearerLayer::new(server));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, resource)
}

/// A URL on 127.0.0.1 where nothing listens.
pub async fn dead_url(path: &str) -> Url {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    Url::parse(&format!("http://{addr}{path}")).unwrap()
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().build().unwrap()
}

/// The parsed Bearer challenge of a response.
pub fn challenge(response: &reqwest::Response) -> mcp_authz_token::BearerChallenge {
    mcp_authz_token::BearerChallenge::from_header_values(
        response.headers().get_all("www-authenticate"),
    )
    .unwrap()
    .unwrap()
}
