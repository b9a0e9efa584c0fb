//! RFC 9068 access-token claims (the JWT payload after the signature check): parse, then validate
//! against fixed expectations at a time taken from the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_authz_metadata::{Issuer, ResourceUri};
use mcp_authz_token::{ClaimsExpectations, JwtAccessTokenClaims};

fuzz_target!(|data: &[u8]| {
    let Some((now, json)) = data.split_first_chunk::<8>() else {
        return;
    };
    let Ok(claims) = JwtAccessTokenClaims::from_json(json) else {
        return;
    };
    let expected = ClaimsExpectations::new(
        Issuer::parse("https://as.example.com").expect("issuer"),
        ResourceUri::parse("https://mcp.example.com/mcp").expect("resource"),
    );
    let _ = claims.validate(&expected, u64::from_le_bytes(*now));
});
