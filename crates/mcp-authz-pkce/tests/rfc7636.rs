//! RFC 7636 Appendix B and the rules of §4.1–§4.6 as executable vectors.

use mcp_authz_pkce::{CodeChallenge, CodeChallengeMethod, CodeVerifier, PkceError};

/// RFC 7636 Appendix B: the 32 octets, the verifier and the challenge.
const APPENDIX_B_OCTETS: [u8; 32] = [
    116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77,
    105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
];
const APPENDIX_B_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const APPENDIX_B_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

#[test]
fn appendix_b_verifier_from_octets() {
    let verifier = CodeVerifier::from_entropy(&APPENDIX_B_OCTETS);
    assert_eq!(verifier.secret(), APPENDIX_B_VERIFIER);
}

#[test]
fn appendix_b_s256_challenge() {
    let verifier = CodeVerifier::parse(APPENDIX_B_VERIFIER).unwrap();
    assert_eq!(verifier.challenge().to_string(), APPENDIX_B_CHALLENGE);
    let parsed: CodeChallenge = APPENDIX_B_CHALLENGE.parse().unwrap();
    assert_eq!(parsed, verifier.challenge());
    assert!(parsed.verify(&verifier).is_ok());
}

#[test]
fn wrong_verifier_is_a_mismatch() {
    let challenge: CodeChallenge = APPENDIX_B_CHALLENGE.parse().unwrap();
    let other = CodeVerifier::from_entropy(&[7; 32]);
    assert_eq!(challenge.verify(&other), Err(PkceError::Mismatch));
}

#[test]
fn generated_verifiers_are_43_unreserved_chars_and_distinct() {
    let a = CodeVerifier::generate().unwrap();
    let b = CodeVerifier::generate().unwrap();
    assert_eq!(a.secret().len(), 43);
    assert!(CodeVerifier::parse(a.secret()).is_ok());
    assert_ne!(a.secret(), b.secret(), "two CSPRNG verifiers collided");
}

#[test]
fn verifier_length_bounds() {
    assert_eq!(
        CodeVerifier::parse(&"a".repeat(42)).err(),
        Some(PkceError::VerifierLength(42))
    );
    assert!(CodeVerifier::parse(&"a".repeat(43)).is_ok());
    assert!(CodeVerifier::parse(&"a".repeat(128)).is_ok());
    assert_eq!(
        CodeVerifier::parse(&"a".repeat(129)).err(),
        Some(PkceError::VerifierLength(129))
    );
    assert_eq!(
        CodeVerifier::parse("").err(),
        Some(PkceError::VerifierLength(0))
    );
}

#[test]
fn verifier_charset() {
    let mut s = "a".repeat(43);
    s.replace_range(5..6, "+");
    assert_eq!(
        CodeVerifier::parse(&s).err(),
        Some(PkceError::VerifierCharset(5))
    );
    let unicode = format!("{}é", "a".repeat(42));
    assert!(matches!(
        CodeVerifier::parse(&unicode),
        Err(PkceError::VerifierCharset(42))
    ));
    assert!(CodeVerifier::parse(&format!("{}-._~", "A0z".repeat(14))).is_ok());
}

#[test]
fn plain_and_unknown_methods_are_refused() {
    let plain: CodeChallengeMethod = "plain".parse().unwrap();
    assert_eq!(plain, CodeChallengeMethod::Plain);
    assert_eq!(
        plain.require_s256(),
        Err(PkceError::UnsupportedMethod("plain".into()))
    );
    let lower: CodeChallengeMethod = "s256".parse().unwrap();
    assert_eq!(lower, CodeChallengeMethod::Unknown("s256".into()));
    assert!(lower.require_s256().is_err());
    // An absent method means plain (RFC 7636 §4.3), refused.
    assert_eq!(
        CodeChallenge::parse_with_method(APPENDIX_B_CHALLENGE, None),
        Err(PkceError::UnsupportedMethod("plain".into()))
    );
    assert!(
        CodeChallenge::parse_with_method(APPENDIX_B_CHALLENGE, Some(&CodeChallengeMethod::S256))
            .is_ok()
    );
}

#[test]
fn malformed_challenges() {
    for bad in [
        "",
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c", // 42
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM=", // padded
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM", // standard alphabet
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN", // non-canonical trailing bits
    ] {
        assert_eq!(
            bad.parse::<CodeChallenge>(),
            Err(PkceError::MalformedChallenge),
            "{bad:?}"
        );
    }
}

#[test]
fn debug_is_redacted() {
    let verifier = CodeVerifier::parse(APPENDIX_B_VERIFIER).unwrap();
    let shown = format!("{verifier:?}");
    assert!(!shown.contains(APPENDIX_B_VERIFIER));
    assert!(shown.contains("redacted"));
}

#[test]
fn serde_round_trip_of_challenge_and_method() {
    let challenge: CodeChallenge = APPENDIX_B_CHALLENGE.parse().unwrap();
    let json = serde_json::to_string(&challenge).unwrap();
    assert_eq!(json, format!("\"{APPENDIX_B_CHALLENGE}\""));
    assert_eq!(
        serde_json::from_str::<CodeChallenge>(&json).unwrap(),
        challenge
    );
    assert!(serde_json::from_str::<CodeChallenge>("\"short\"").is_err());
    let method: CodeChallengeMethod = serde_json::from_str("\"S256\"").unwrap();
    assert_eq!(serde_json::to_string(&method).unwrap(), "\"S256\"");
}
