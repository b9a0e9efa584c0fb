//! Property tests: every valid verifier hashes to a challenge that round-trips and verifies; arbitrary
//! input never panics.

use mcp_authz_pkce::{CodeChallenge, CodeChallengeMethod, CodeVerifier};
use proptest::prelude::*;

proptest! {
    #[test]
    fn valid_verifiers_round_trip(s in "[A-Za-z0-9._~-]{43,128}") {
        let verifier = CodeVerifier::parse(&s).unwrap();
        prop_assert_eq!(verifier.secret(), s.as_str());
        let challenge = verifier.challenge();
        let text = challenge.to_string();
        prop_assert_eq!(text.len(), 43);
        let reparsed: CodeChallenge = text.parse().unwrap();
        prop_assert_eq!(&reparsed, &challenge);
        prop_assert!(reparsed.verify(&verifier).is_ok());
    }

    #[test]
    fn entropy_always_gives_a_valid_verifier(bytes in any::<[u8; 32]>()) {
        let verifier = CodeVerifier::from_entropy(&bytes);
        prop_assert!(CodeVerifier::parse(verifier.secret()).is_ok());
    }

    #[test]
    fn challenges_round_trip(digest in any::<[u8; 32]>()) {
        use base64::Engine as _;
        let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
        let challenge: CodeChallenge = text.parse().unwrap();
        prop_assert_eq!(challenge.digest(), &digest);
        prop_assert_eq!(challenge.to_string(), text);
    }

    #[test]
    fn arbitrary_input_never_panics(s in any::<String>()) {
        let _ = CodeVerifier::parse(&s);
        let _ = s.parse::<CodeChallenge>();
        let method: CodeChallengeMethod = s.parse().unwrap();
        prop_assert_eq!(method.as_str(), s.as_str());
        let _ = CodeChallenge::parse_with_method(&s, Some(&method));
    }
}
