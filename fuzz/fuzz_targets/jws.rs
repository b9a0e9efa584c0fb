//! JWS compact serialization (RFC 7515 §7.1): split and decode, then verify with fixed EC P-256 and
//! Ed25519 keys; never a panic, never a valid signature by chance.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_authz_token::{CompactJws, Jwk, VerifyingKey};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(jws) = CompactJws::parse(text) else {
        return;
    };
    // RFC 7515 A.3 and RFC 8037 A.2 public keys.
    for jwk in [
        r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#,
        r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
    ] {
        let key =
            VerifyingKey::from_jwk(&Jwk::from_json(jwk.as_bytes()).expect("jwk")).expect("key");
        let _ = key.verify(&jws);
    }
});
