//! `WWW-Authenticate` (RFC 9110 §11.6.1, RFC 6750 §3): the challenge parser, the Bearer view of each
//! challenge, and the round trip: a Bearer challenge we render must parse back to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_authz_token::{BearerChallenge, Challenge};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(challenges) = Challenge::parse_str(text) else {
        return;
    };
    for challenge in &challenges {
        let Ok(bearer) = BearerChallenge::from_challenge(challenge) else {
            continue;
        };
        if let Ok(rendered) = bearer.render() {
            let again = Challenge::parse_str(&rendered).expect("a rendered challenge parses");
            let first = again.first().expect("one challenge");
            let reparsed = BearerChallenge::from_challenge(first).expect("a rendered Bearer challenge");
            assert_eq!(reparsed, bearer, "{rendered}");
        }
    }
});
