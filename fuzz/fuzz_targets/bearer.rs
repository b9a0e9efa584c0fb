//! Bearer token extraction (RFC 6750 §2.1): the `Authorization` header value, and the query check
//! that refuses `access_token` in the URL.
#![no_main]

use http::HeaderValue;
use libfuzzer_sys::fuzz_target;
use mcp_authz_token::{bearer_token, has_access_token_param, reject_token_in_query};

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = HeaderValue::from_bytes(data) {
        if let Ok(token) = bearer_token(&value) {
            // A token we accept is a non-empty b64token (RFC 6750 §2.1).
            assert!(!token.secret().is_empty());
        }
    }
    if let Ok(query) = std::str::from_utf8(data) {
        let found = has_access_token_param(query);
        assert_eq!(reject_token_in_query(Some(query)).is_err(), found);
    }
});
