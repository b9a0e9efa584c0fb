//! What a client reads back from an authorization server: token responses (RFC 6749 §5.1), error
//! responses (§5.2) and introspection responses (RFC 7662 §2.2).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_authz_token::{ErrorResponse, IntrospectionResponse, TokenResponse};

fuzz_target!(|data: &[u8]| {
    let _ = serde_json::from_slice::<TokenResponse>(data);
    let _ = serde_json::from_slice::<ErrorResponse>(data);
    if let Ok(response) = serde_json::from_slice::<IntrospectionResponse>(data) {
        let _ = response.is_active();
    }
});
