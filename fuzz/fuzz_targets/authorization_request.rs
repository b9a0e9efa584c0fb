//! The authorization endpoint's query (RFC 6749 §4.1.1, RFC 7636, RFC 8707) and the client's
//! callback (RFC 6749 §4.1.2, RFC 9207): parse, and a request we accept survives its own query.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_authz_token::{AuthorizationCallback, AuthorizationRequest};

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(request) = AuthorizationRequest::parse_query(query) {
        let again = AuthorizationRequest::parse_query(&request.to_query())
            .expect("a request's own query parses");
        assert_eq!(again, request);
    }
    let _ = AuthorizationCallback::parse_query(query);
});
