//! JWK Sets and JWKs (RFC 7517, RFC 7518 §6, RFC 8037 §2): parse; what parses renders back to the same
//! keys and becomes verification keys without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_authz_token::{Jwk, JwkSet, VerifyingKey};

fuzz_target!(|data: &[u8]| {
    if let Ok(set) = JwkSet::from_json(data) {
        let again = JwkSet::from_json(set.to_json().as_bytes()).expect("a rendered set parses");
        assert_eq!(again.keys(), set.keys());
        for jwk in set.keys() {
            let _ = VerifyingKey::from_jwk(jwk);
        }
    }
    if let Ok(jwk) = Jwk::from_json(data) {
        assert_eq!(Jwk::from_json(jwk.to_json().as_bytes()).ok(), Some(jwk));
    }
});
