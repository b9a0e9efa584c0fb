//! Metadata costs: parse + validate of an RFC 8414 authorization server document (the client's
//! discovery step) and of an RFC 9728 protected resource document.
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use mcp_authz_metadata::{
    AuthorizationServerMetadata, Issuer, ProtectedResourceMetadata, ResourceUri,
};
use std::hint::black_box;

const AS_METADATA: &[u8] = br#"{
  "issuer": "https://server.example.com",
  "authorization_endpoint": "https://server.example.com/authorize",
  "token_endpoint": "https://server.example.com/token",
  "token_endpoint_auth_methods_supported": ["client_secret_basic", "private_key_jwt"],
  "token_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256"],
  "userinfo_endpoint": "https://server.example.com/userinfo",
  "jwks_uri": "https://server.example.com/jwks.json",
  "registration_endpoint": "https://server.example.com/register",
  "scopes_supported": ["openid", "profile", "email", "address", "phone", "offline_access"],
  "response_types_supported": ["code", "code token"],
  "service_documentation": "http://server.example.com/service_documentation.html",
  "ui_locales_supported": ["en-US", "en-GB", "en-CA", "fr-FR", "fr-CA"],
  "code_challenge_methods_supported": ["S256"],
  "authorization_response_iss_parameter_supported": true,
  "client_id_metadata_document_supported": true
}"#;

const PRM: &[u8] = br#"{
  "resource": "https://resource.example.com",
  "authorization_servers": ["https://as1.example.com", "https://as2.example.net"],
  "bearer_methods_supported": ["header", "body"],
  "scopes_supported": ["profile", "email", "phone"],
  "resource_documentation": "https://resource.example.com/resource_documentation.html"
}"#;

fn metadata(c: &mut Criterion) {
    let issuer = Issuer::parse("https://server.example.com").unwrap();
    c.bench_function("metadata/rfc8414_parse_validate", |b| {
        b.iter(|| {
            AuthorizationServerMetadata::parse(black_box(AS_METADATA))
                .unwrap()
                .validate(&issuer)
                .unwrap()
        })
    });
    let resource = ResourceUri::parse("https://resource.example.com").unwrap();
    c.bench_function("metadata/rfc9728_parse_validate", |b| {
        b.iter(|| {
            ProtectedResourceMetadata::parse(black_box(PRM))
                .unwrap()
                .validate(&resource)
                .unwrap()
        })
    });
}

criterion_group!(benches, metadata);
criterion_main!(benches);
