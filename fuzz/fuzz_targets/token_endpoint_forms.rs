//! Form bodies of the token (RFC 6749 §4.1.3, §6, §4.4), revocation (RFC 7009) and introspection
//! (RFC 7662) endpoints, and HTTP Basic client credentials (RFC 6749 §2.3.1).
#![no_main]

use http::HeaderValue;
use libfuzzer_sys::fuzz_target;
use mcp_authz_token::{BasicCredentials, IntrospectionRequest, RevocationRequest, TokenRequest};

fuzz_target!(|data: &[u8]| {
    let _ = TokenRequest::parse_form(data);
    let _ = RevocationRequest::parse_form(data);
    let _ = IntrospectionRequest::parse_form(data);
    if let Ok(value) = HeaderValue::from_bytes(data) {
        let _ = BasicCredentials::parse(&value);
    }
});
