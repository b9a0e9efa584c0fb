//! The example end to end over 127.0.0.1: rmcp's streamable HTTP service behind the layer, tools
//! reading the validated claims, per-tool scopes answered with 403 before rmcp sees the call.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use bytes::Bytes;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use mcp_authz_metadata::{Issuer, ResourceUri, Url};
use mcp_authz_resource::{
    HttpClient, HttpRequest, HttpResponse, JwtVerifier, ManualClock, ResourceServer, TransportError,
};
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use rmcp::transport::streamable_http_server::StreamableHttpServerConfig;
use serde_json::{Value, json};

const NOW: u64 = 1_700_000_000;
const ISSUER: &str = "https://auth.example.com";

#[derive(Debug)]
struct MemoryJwks(Bytes);

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

struct Harness {
    url: String,
    resource: ResourceUri,
    key: EncodingKey,
}

impl Harness {
    async fn start() -> Self {
        let secret = p256::SecretKey::from_slice(&[5; 32]).unwrap();
        let mut jwk: Value = serde_json::from_str(&secret.public_key().to_jwk_string()).unwrap();
        jwk["kid"] = json!("k1");
        let jwks = Bytes::from(json!({ "keys": [jwk] }).to_string());
        let key = EncodingKey::from_ec_pem(secret.to_pkcs8_pem(LineEnding::LF).unwrap().as_bytes())
            .unwrap();

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let resource = ResourceUri::parse(&format!("http://{addr}/mcp")).unwrap();
        let issuer = Issuer::parse(ISSUER).unwrap();
        let verifier = JwtVerifier::builder(issuer.clone(), resource.clone())
            .jwks_uri(Url::parse("https://auth.example.com/jwks").unwrap())
            .http_client(Arc::new(MemoryJwks(jwks)))
            .clock(Arc::new(ManualClock::new(NOW)))
            .build()
            .unwrap();
        let config = protected_mcp_server::config(resource.clone(), issuer).unwrap();
        let app = protected_mcp_server::app(
            &resource,
            ResourceServer::new(config, verifier),
            StreamableHttpServerConfig::default()
                .with_legacy_session_mode(false)
                .with_json_response(true)
                .with_allowed_hosts([addr.to_string(), "127.0.0.1".to_owned()]),
        );
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            url: format!("http://{addr}/mcp"),
            resource,
            key,
        }
    }

    fn token(&self, scope: &str) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("at+jwt".into());
        header.kid = Some("k1".into());
        let claims = json!({
            "iss": ISSUER, "sub": "alice", "aud": self.resource.as_str(), "exp": NOW + 3600,
            "iat": NOW, "jti": "j", "client_id": "notes-app", "scope": scope,
        });
        jsonwebtoken::encode(&header, &claims, &self.key).unwrap()
    }

    async fn call(&self, token: Option<&str>, tool: &str, arguments: Value) -> reqwest::Response {
        let mut request = reqwest::Client::new()
            .post(&self.url)
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2026-07-28")
            // SEP-2243 routing headers, checked by rmcp against the body.
            .header("mcp-method", "tools/call")
            .header("mcp-name", tool)
            .json(&json!({
                "jsonrpc": "2.0", "id": 1, "method": "tools/call",
                "params": {
                    "name": tool, "arguments": arguments,
                    "_meta": {
                        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                        "io.modelcontextprotocol/clientInfo": {"name": "e2e", "version": "0.1"},
                        "io.modelcontextprotocol/clientCapabilities": {}
                    }
                }
            }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }
}

/// The text of a tool result, from a JSON or SSE response body.
async fn result_text(response: reqwest::Response) -> String {
    let body = response.text().await.unwrap();
    let json = body
        .lines()
        .find_map(|l| l.strip_prefix("data:"))
        .map_or(body.as_str(), str::trim)
        .to_owned();
    let value: Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {body}"));
    value["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text in {value}"))
        .to_owned()
}

#[tokio::test]
async fn tools_see_claims_and_scopes_are_enforced_before_rmcp() {
    let h = Harness::start().await;

    let response = h.call(None, "whoami", json!({})).await;
    assert_eq!(response.status(), 401);
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("resource_metadata=")
    );

    let reader = h.token("mcp:tools notes:read");
    let response = h.call(Some(&reader), "whoami", json!({})).await;
    if response.status() != 200 {
        panic!(
            "{:?} {}",
            response.headers().clone(),
            response.text().await.unwrap()
        );
    }
    let text = result_text(response).await;
    assert!(text.contains("subject=alice"), "{text}");
    assert!(text.contains("client=notes-app"), "{text}");

    let response = h
        .call(Some(&reader), "add_note", json!({"text": "hi"}))
        .await;
    assert_eq!(response.status(), 403);
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        challenge.contains(r#"error="insufficient_scope""#),
        "{challenge}"
    );
    assert!(
        challenge.contains(r#"scope="mcp:tools notes:write""#),
        "{challenge}"
    );

    let writer = h.token("mcp:tools notes:write");
    let response = h
        .call(Some(&writer), "add_note", json!({"text": "hi"}))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(result_text(response).await, "alice: hi");
    // notes:write implies notes:read.
    let response = h.call(Some(&writer), "read_notes", json!({})).await;
    assert_eq!(response.status(), 200);
    assert_eq!(result_text(response).await, "alice: hi");
}
