//! Hot paths of a resource server and an authorization server: reading a `WWW-Authenticate` challenge
//! (client), extracting a Bearer token (resource server), parsing a token request form (AS).
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use http::HeaderValue;
use mcp_authz_token::{BearerChallenge, Challenge, TokenRequest, bearer_token};
use std::hint::black_box;

/// The MCP 401 without a token (RFC 9728 §5.1).
const NO_TOKEN_CHALLENGE: &str = r#"Bearer resource_metadata="https://resource.example.com/.well-known/oauth-protected-resource", scope="files:read""#;
/// RFC 6750 §3 with RFC 9728's parameter.
const TYPICAL_CHALLENGE: &str = r#"Bearer error="invalid_token", error_description="The access token expired", resource_metadata="https://resource.example.com/.well-known/oauth-protected-resource""#;
const TOKEN_FORM: &[u8] = b"grant_type=authorization_code&code=SplxlOBeZQQYbYS6WxSbIA\
&redirect_uri=https%3A%2F%2Fclient%2Eexample%2Ecom%2Fcb\
&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk\
&resource=https%3A%2F%2Fmcp.example.com&client_id=s6BhdRkqt3";

fn token(c: &mut Criterion) {
    let short = HeaderValue::from_static(NO_TOKEN_CHALLENGE);
    c.bench_function("www_authenticate/parse_challenges_short", |b| {
        b.iter(|| Challenge::parse_header_values([black_box(&short)]).unwrap())
    });
    c.bench_function("www_authenticate/parse_bearer_typed_short", |b| {
        b.iter(|| BearerChallenge::from_header_values([black_box(&short)]).unwrap())
    });
    let header = HeaderValue::from_static(TYPICAL_CHALLENGE);
    c.bench_function("www_authenticate/parse_challenges", |b| {
        b.iter(|| Challenge::parse_header_values([black_box(&header)]).unwrap())
    });
    c.bench_function("www_authenticate/parse_bearer_typed", |b| {
        b.iter(|| BearerChallenge::from_header_values([black_box(&header)]).unwrap())
    });
    let challenge = BearerChallenge::from_header_values([&header])
        .unwrap()
        .unwrap();
    c.bench_function("www_authenticate/render_bearer", |b| {
        b.iter(|| black_box(&challenge).to_header_value().unwrap())
    });
    let authorization = HeaderValue::from_static("Bearer mF_9.B5f-4.1JqM");
    c.bench_function("bearer/extract", |b| {
        b.iter(|| bearer_token(black_box(&authorization)).unwrap())
    });
    c.bench_function("token_request/parse_authorization_code", |b| {
        b.iter(|| TokenRequest::parse_form(black_box(TOKEN_FORM)).unwrap())
    });
}

criterion_group!(benches, token);
criterion_main!(benches);
