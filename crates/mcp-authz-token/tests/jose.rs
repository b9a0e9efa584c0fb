//! JOSE: RFC 7517 / RFC 8037 / RFC 7515 examples as vectors, the checks at parse, algorithm confusion,
//! and property tests (round trip, never a panic on arbitrary JSON).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use mcp_authz_token::{
    CompactJws, Jwk, JwkError, JwkKey, JwkSet, JwkSetError, JwsAlgorithm, JwsError, KeyUse,
    VerifyingKey,
};
use proptest::prelude::*;
use serde_json::{Value, json};

/// RFC 7517 Appendix A.1: example public keys.
const RFC7517_A1: &str = r#"{"keys":
  [
    {"kty":"EC",
     "crv":"P-256",
     "x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
     "y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM",
     "use":"enc",
     "kid":"1"},
    {"kty":"RSA",
     "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
     "e":"AQAB",
     "alg":"RS256",
     "kid":"2011-04-29"}
  ]
}"#;

/// RFC 8037 Appendix A.2: the Ed25519 public key; A.1 adds `d`.
const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
const RFC8037_D: &str = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
/// RFC 8037 Appendix A.4: the JWS of "Example of Ed25519 signing".
const RFC8037_JWS: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

/// RFC 7515 Appendix A.3: an ES256 JWS and its key.
const RFC7515_A3_JWK: &str = r#"{"kty":"EC","crv":"P-256",
  "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
  "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#;
const RFC7515_A3_JWS: &str = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

fn ed25519_jwk() -> Jwk {
    Jwk::from_json(
        json!({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X})
            .to_string()
            .as_bytes(),
    )
    .unwrap()
}

#[test]
fn rfc7517_a1_example_public_keys() {
    let set = JwkSet::from_json(RFC7517_A1.as_bytes()).unwrap();
    assert_eq!(set.skipped(), 0);
    let [ec, rsa] = set.keys() else {
        panic!("two keys")
    };
    assert!(matches!(ec.key(), JwkKey::P256 { .. }));
    assert_eq!(ec.kid(), Some("1"));
    assert_eq!(ec.key_use(), Some(&KeyUse::Encryption));
    assert!(!ec.fits(JwsAlgorithm::Es256), "an encryption key");
    assert!(VerifyingKey::from_jwk(ec).is_err());
    let JwkKey::Rsa { n, e } = rsa.key() else {
        panic!("RSA")
    };
    assert_eq!((n.len(), e.as_slice()), (256, &[1, 0, 1][..]));
    assert_eq!(rsa.alg(), Some(JwsAlgorithm::Rs256));
    assert_eq!(set.find("2011-04-29"), Some(rsa));
    let key = VerifyingKey::from_jwk(rsa).unwrap();
    assert!(key.fits(JwsAlgorithm::Rs256) && !key.fits(JwsAlgorithm::Ps256));
    // Rendered back member for member.
    let original: Value = serde_json::from_str(RFC7517_A1).unwrap();
    let rendered: Value = serde_json::from_str(&set.to_json()).unwrap();
    assert_eq!(rendered, original);
}

#[test]
fn rfc7517_a2_private_keys_refuse_the_set() {
    let private = json!({"keys": [{"kty": "EC", "crv": "P-256",
        "x": "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
        "y": "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM",
        "d": "870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE", "use": "enc", "kid": "1"}]});
    assert_eq!(
        JwkSet::from_json(private.to_string().as_bytes()),
        Err(JwkSetError::PrivateKey {
            index: 0,
            member: "d"
        })
    );
}

#[test]
fn rfc8037_a2_public_key_and_a1_private_key() {
    let jwk = ed25519_jwk();
    let JwkKey::Ed25519 { x } = jwk.key() else {
        panic!("Ed25519")
    };
    assert_eq!(x[0], 0xd7);
    assert_eq!(
        serde_json::from_str::<Value>(&jwk.to_json()).unwrap(),
        json!({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X})
    );
    let private = json!({"kty": "OKP", "crv": "Ed25519", "d": RFC8037_D, "x": RFC8037_X});
    assert_eq!(
        Jwk::from_json(private.to_string().as_bytes()),
        Err(JwkError::PrivateMember("d"))
    );
}

#[test]
fn rfc8037_a4_and_rfc7515_a3_signatures_verify() {
    let key = VerifyingKey::from_jwk(&ed25519_jwk()).unwrap();
    let jws = CompactJws::parse(RFC8037_JWS).unwrap();
    key.verify(&jws).unwrap();
    assert_eq!(jws.payload(), b"Example of Ed25519 signing");

    let es256 =
        VerifyingKey::from_jwk(&Jwk::from_json(RFC7515_A3_JWK.as_bytes()).unwrap()).unwrap();
    let jws = CompactJws::parse(RFC7515_A3_JWS).unwrap();
    assert_eq!(jws.header().alg(), Ok(JwsAlgorithm::Es256));
    es256.verify(&jws).unwrap();
    // Algorithm confusion: each key verifies its own algorithm only.
    assert_eq!(
        key.verify(&jws),
        Err(JwsError::KeyMismatch(JwsAlgorithm::Es256))
    );
    assert_eq!(
        es256.verify(&CompactJws::parse(RFC8037_JWS).unwrap()),
        Err(JwsError::KeyMismatch(JwsAlgorithm::EdDsa))
    );
}

fn replace_segment(jws: &str, index: usize, with: &str) -> String {
    let mut parts: Vec<&str> = jws.split('.').collect();
    parts[index] = with;
    parts.join(".")
}

fn b64(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

#[test]
fn tampered_or_malformed_tokens_are_refused() {
    let key = VerifyingKey::from_jwk(&ed25519_jwk()).unwrap();
    // Another payload under the same signature.
    let other = replace_segment(RFC8037_JWS, 1, &b64("Example of Ed25519 signinG"));
    assert_eq!(
        key.verify(&CompactJws::parse(&other).unwrap()),
        Err(JwsError::BadSignature)
    );
    // `none` and HMAC are not algorithms here.
    for alg in ["none", "HS256"] {
        let header = b64(&format!(r#"{{"alg":"{alg}"}}"#));
        let token = replace_segment(RFC8037_JWS, 0, &header);
        let jws = CompactJws::parse(&token).unwrap();
        assert_eq!(jws.header().alg().unwrap_err().name(), alg);
        assert!(matches!(
            key.verify(&jws),
            Err(JwsError::UnsupportedAlgorithm(_))
        ));
    }
    let crit = b64(r#"{"alg":"EdDSA","crit":["exp"],"exp":1}"#);
    assert_eq!(
        CompactJws::parse(&replace_segment(RFC8037_JWS, 0, &crit)).unwrap_err(),
        JwsError::CriticalHeader
    );
    for bad in [
        "",
        "a.b",
        "a.b.c.d",
        &format!("{RFC8037_JWS}.x"),
        &format!("{RFC8037_JWS}="),
        &replace_segment(RFC8037_JWS, 0, &b64("[]")),
        &replace_segment(RFC8037_JWS, 0, &b64(r#"{"alg":1}"#)),
    ] {
        assert_eq!(
            CompactJws::parse(bad).unwrap_err(),
            JwsError::Malformed,
            "{bad}"
        );
    }
    // A JWK `alg` restricts the key to that algorithm.
    let restricted = ed25519_jwk().with_alg(JwsAlgorithm::EdDsa).unwrap();
    assert!(
        VerifyingKey::from_jwk(&restricted)
            .unwrap()
            .fits(JwsAlgorithm::EdDsa)
    );
    assert!(ed25519_jwk().with_alg(JwsAlgorithm::Es256).is_err());
}

#[test]
fn jwk_members_are_checked_at_parse() {
    let ec = |members: Value| {
        let mut jwk = json!({"kty": "EC", "crv": "P-256",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"});
        for (k, v) in members.as_object().unwrap() {
            if v.is_null() {
                jwk.as_object_mut().unwrap().remove(k);
            } else {
                jwk[k] = v.clone();
            }
        }
        Jwk::from_json(jwk.to_string().as_bytes())
    };
    assert!(ec(json!({})).is_ok());
    assert_eq!(
        ec(json!({"kty": "oct"})),
        Err(JwkError::UnsupportedKeyType("oct".into()))
    );
    assert_eq!(
        ec(json!({"crv": "P-521"})),
        Err(JwkError::UnsupportedCurve("P-521".into()))
    );
    assert_eq!(
        ec(json!({"crv": null})),
        Err(JwkError::MissingMember("crv"))
    );
    assert_eq!(ec(json!({"y": null})), Err(JwkError::MissingMember("y")));
    assert_eq!(
        ec(json!({"x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU="})),
        Err(JwkError::NotBase64Url("x"))
    );
    assert_eq!(
        ec(json!({"x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVE+"})),
        Err(JwkError::NotBase64Url("x"))
    );
    assert_eq!(
        ec(json!({"x": "AAAA"})),
        Err(JwkError::WrongLength {
            member: "x",
            actual: 3,
            expected: 32
        })
    );
    assert_eq!(
        ec(json!({"n": "AQAB"})),
        Err(JwkError::UnexpectedMember("n"))
    );
    assert_eq!(ec(json!({"d": "AQAB"})), Err(JwkError::PrivateMember("d")));
    assert_eq!(ec(json!({"x": 1})), Err(JwkError::Syntax));
    assert_eq!(ec(json!({"use": ""})), Err(JwkError::EmptyMember("use")));
    assert!(matches!(
        ec(json!({"alg": "ES512"})),
        Err(JwkError::UnsupportedAlgorithm(_))
    ));
    assert!(matches!(
        ec(json!({"alg": "EdDSA"})),
        Err(JwkError::AlgorithmMismatch { .. })
    ));
    // Unknown members and registered ones not modelled here are kept.
    let jwk = ec(json!({"use": "tls", "key_ops": ["verify"], "x5t#S256": "abc", "ext": {"a": 1}}))
        .unwrap();
    assert_eq!(jwk.key_use(), Some(&KeyUse::Other("tls".into())));
    assert_eq!(jwk.extra()["key_ops"], json!(["verify"]));
    let back: Value = serde_json::from_str(&jwk.to_json()).unwrap();
    assert_eq!(back["ext"], json!({"a": 1}));
    assert_eq!(Jwk::from_json(jwk.to_json().as_bytes()).unwrap(), jwk);
    // Small RSA moduli do not become verification keys.
    let rsa = Jwk::from_json(br#"{"kty":"RSA","n":"AQAB","e":"AQAB"}"#).unwrap();
    assert_eq!(
        VerifyingKey::from_jwk(&rsa).unwrap_err(),
        JwkError::UnsupportedKeySize { bits: 17 }
    );
}

#[test]
fn a_jwk_set_skips_what_it_cannot_use() {
    let set = json!({"keys": [
        {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
        {"kty": "RSA", "use": "enc", "kid": "enc-key", "n": "AQAB", "e": "AQAB"},
        {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"},
        "not an object",
        {"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "kid": "k1"},
    ], "issuer": "https://example.com"});
    let parsed = JwkSet::from_json(set.to_string().as_bytes()).unwrap();
    // The RSA encryption key is a valid JWK (its use is not for signatures).
    assert_eq!(parsed.keys().len(), 2);
    assert_eq!(parsed.skipped(), 3);
    assert_eq!(parsed.extra()["issuer"], json!("https://example.com"));
    for bad in [&b"[]"[..], b"{}", br#"{"keys":{}}"#, b"nope"] {
        assert_eq!(JwkSet::from_json(bad), Err(JwkSetError::Syntax));
    }
}

fn bytes<const N: usize>() -> impl Strategy<Value = [u8; N]> {
    proptest::collection::vec(any::<u8>(), N).prop_map(|v| v.try_into().unwrap())
}

fn jwk() -> impl Strategy<Value = Jwk> {
    let key = prop_oneof![
        (bytes::<32>(), bytes::<32>()).prop_map(|(x, y)| JwkKey::P256 { x, y }),
        (bytes::<48>(), bytes::<48>()).prop_map(|(x, y)| JwkKey::P384 { x, y }),
        (
            proptest::collection::vec(any::<u8>(), 0..300),
            proptest::collection::vec(any::<u8>(), 0..4)
        )
            .prop_map(|(mut n, mut e)| {
                n.insert(0, 0xc1);
                e.insert(0, 1);
                JwkKey::Rsa { n, e }
            }),
        bytes::<32>().prop_map(|x| JwkKey::Ed25519 { x }),
    ];
    (
        key,
        proptest::option::of("\\PC{0,12}"),
        proptest::option::of(prop_oneof![
            Just(KeyUse::Signature),
            Just(KeyUse::Encryption),
            "[a-z]{1,5}".prop_map(KeyUse::Other)
        ]),
        any::<bool>(),
    )
        .prop_map(|(key, kid, key_use, with_alg)| {
            let mut jwk = Jwk::new(key);
            if let Some(kid) = kid {
                jwk = jwk.with_kid(kid);
            }
            if let Some(key_use) = key_use {
                jwk = jwk.with_use(key_use);
            }
            if with_alg {
                let alg = JwsAlgorithm::ALL
                    .into_iter()
                    .find(|a| jwk.key().fits(*a))
                    .unwrap();
                jwk = jwk.with_alg(alg).unwrap();
            }
            jwk
        })
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "\\PC{0,20}".prop_map(Value::from),
        prop_oneof![
            Just("EC"),
            Just("OKP"),
            Just("RSA"),
            Just("P-256"),
            Just("Ed25519"),
            Just("sig")
        ]
        .prop_map(Value::from),
        "[A-Za-z0-9_-]{0,64}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("kty".to_owned()),
                    Just("crv".to_owned()),
                    Just("x".to_owned()),
                    Just("y".to_owned()),
                    Just("n".to_owned()),
                    Just("e".to_owned()),
                    Just("d".to_owned()),
                    Just("alg".to_owned()),
                    Just("use".to_owned()),
                    Just("kid".to_owned()),
                    Just("keys".to_owned()),
                    "\\PC{0,6}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    /// parse(render(jwk)) == jwk, and a set of them round-trips too.
    #[test]
    fn jwks_round_trip(keys in proptest::collection::vec(jwk(), 0..4)) {
        for jwk in &keys {
            prop_assert_eq!(&Jwk::from_json(jwk.to_json().as_bytes()).unwrap(), jwk);
        }
        let set = JwkSet::new(keys);
        prop_assert_eq!(JwkSet::from_json(set.to_json().as_bytes()).unwrap(), set);
    }

    /// Arbitrary JSON is a JWK (set) or an error, never a panic; what parses renders and parses back.
    #[test]
    fn arbitrary_json_never_panics(value in json_value()) {
        let text = value.to_string();
        if let Ok(jwk) = Jwk::from_json(text.as_bytes()) {
            prop_assert_eq!(Jwk::from_json(jwk.to_json().as_bytes()).unwrap(), jwk);
        }
        let set = json!({"keys": [value]}).to_string();
        if let Ok(set) = JwkSet::from_json(set.as_bytes()) {
            let again = JwkSet::from_json(set.to_json().as_bytes()).unwrap();
            prop_assert_eq!(again.keys(), set.keys());
        }
        let _ = JwkSet::from_json(text.as_bytes());
    }

    /// Arbitrary text is a JWS or an error, and verifying it never panics.
    #[test]
    fn arbitrary_jws_never_panics(header in json_value(), payload in "\\PC{0,30}", signature in "[A-Za-z0-9_-]{0,90}") {
        let token = format!("{}.{}.{signature}", b64(&header.to_string()), b64(&payload));
        let key = VerifyingKey::from_jwk(&ed25519_jwk()).unwrap();
        if let Ok(jws) = CompactJws::parse(&token) {
            let _ = key.verify(&jws);
        }
        let _ = CompactJws::parse(&payload);
    }
}

/// A 2048-bit RSA test key (PKCS#1 `RSAPrivateKey` DER, base64), generated with `openssl genpkey` for this test only.
const RSA_PKCS1_DER: &str = "MIIEowIBAAKCAQEArLPpKAlkFrrHN7UJqUuYviQ5U925dTc7bh6I+727fli7xRbnv0sR92NK8Sis8ytu0NIGq65gvxbjg5zP/ESsZVa0gljqUir1R1E90DHntb03g32+LH7AHe6WvHrnDLQkiIS8GpGUhK7f0jOOao/iI8htAWRPt53pZpD6f+T/b8vkpgfbWoPQMF6v0OporqDc9yLBJcqTP8POKdiWwBzE1D9tPTmvXDAUslmDN0YhLE9mxLfQYkEIiFR7YUj04TldnZB0Vlkunsy2fTx4MGPjmtHHQYIPRlqbucVuX/LqOObYt6EtkRVLOGwHQkXeYlNxTLoLPRc/95YcXU86Y36WtwIDAQABAoIBAAuKyp5eYk4SlZXnh4nE/6RVj29HdkmbM2GcsNMCTzGWhJYbfcmPHthFzpBng4eM848JOmDm+phK01HMfSoC/PKY5N+BScfMDzCBAXyUmUPQLZGgKcGXhwd5FqHqJN74eyiUlm3AJQjpFxRZVb9Rdm+lyYM6TQmciCjOr680gs3Z2oIAtBA7bAFmLT/LqIqgHU7bxUNHqUGmQbcj3CvI2azmw/Sk7EUpE02ufMCHE8wDgXfvxyso8ZWifn5Aee/iYhfPNWfYA4Q+ckooDEfbL1P/fp2AYp6xbzZHGAa9FWwq+TwNMm95S4TtM6MNY1b9sONfCulVxUebAJVLOIkAdAECgYEA2lszVxN6UYUMsTJsUO2Qu9k2G/gq+iG65hf+3ecW7SOgxlAj9FFPqd6ekTjdcoBaR4IoW4XeiDHPG0fcm99spjX308ehUi8cwSHDalj8zj4TXoDH/nVMUR6eAee6ukVZoE6Z8R9CFXEEUri4D/NIw3QfRtvHuQX6BiGfdZ028IECgYEAynneNxJ25QVvh/jqjTeOYTxBCUu6c949FCyk7QDw8yy8hu5vr7LkmTCsirdYw//tybm4bAn3naUR4CwvyPipxCKNVZD5IDhl7salVOtOWXFi2DZhr50mul/e0Gyy6ukCCIpRb5r84i+iHqnBzT4ejux7EnGi1loY626qDQCrazcCgYEArbakj3+1bik1QbtlpLR60pcpjvLN7hTrhaZNYug3uwz/GQYktHgDspai+9GLi05FhGIuDTHhKeTGaWOwRGlpHIoO0XMeCi3k6FkeB/snlESaUDKP6QYUYuzCs61RRmNpvDkMC2HcxwYUdGL0O+xGVQiK4Wpz5+SzVjFllMIwNQECgYAptUjtF0SekKwU2lWWmWce6IaNH6hczd7PFRM0LwlzTjfXo64mBzfHxpsESBhk54dYEoXG25bCRoqUHwYI5BA0ctmiUqa+2F9G/Gx6Pa56Bj1SRIGC52Be6/i9/mYstarRj4yO7OJCxYUjw9xEJxOsZVJEzlu4w/52IOmunACzqQKBgCdV9Cp+u5MaMo/q9iujWw9OCwHONPXwmeTGocOaXjL1+C76IDmpCv5tPGhbsXfPuW25vE+m97FHwAQABDxhKy/7DbwGuHqqQTC7V2he5/whzXxLxRvPoHch05xOKfdbA1infyLIpGqM8MBoUKpxpoKoONO7qRkB9Ld3iH3pbBUW";

fn sign_jws(alg: &str, sign: impl FnOnce(&[u8]) -> Vec<u8>) -> String {
    let input = format!("{}.{}", b64(&format!(r#"{{"alg":"{alg}"}}"#)), b64("{}"));
    let signature = sign(input.as_bytes());
    use base64::Engine as _;
    format!(
        "{input}.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(signature)
    )
}

#[test]
fn es384_rs256_and_ps256_verify_with_ring_signatures() {
    use base64::Engine as _;
    use ring::rand::SystemRandom;
    use ring::signature::{self, KeyPair as _};
    let rng = SystemRandom::new();

    // ES384 with a fresh P-384 key.
    let pkcs8 =
        signature::EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P384_SHA384_FIXED_SIGNING, &rng)
            .unwrap();
    let pair = signature::EcdsaKeyPair::from_pkcs8(
        &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
        pkcs8.as_ref(),
        &rng,
    )
    .unwrap();
    let point = pair.public_key().as_ref();
    let jwk = Jwk::new(JwkKey::P384 {
        x: point[1..49].try_into().unwrap(),
        y: point[49..97].try_into().unwrap(),
    });
    let key = VerifyingKey::from_jwk(&Jwk::from_json(jwk.to_json().as_bytes()).unwrap()).unwrap();
    let jws = sign_jws("ES384", |m| pair.sign(&rng, m).unwrap().as_ref().to_vec());
    key.verify(&CompactJws::parse(&jws).unwrap()).unwrap();
    let es256 = jws.replacen(&b64(r#"{"alg":"ES384"}"#), &b64(r#"{"alg":"ES256"}"#), 1);
    assert_eq!(
        key.verify(&CompactJws::parse(&es256).unwrap()),
        Err(JwsError::KeyMismatch(JwsAlgorithm::Es256))
    );

    // RS256 and PS256 with one RSA key: a JWK without alg verifies both, one with alg only its own.
    let der = base64::engine::general_purpose::STANDARD
        .decode(RSA_PKCS1_DER)
        .unwrap();
    let pair = signature::RsaKeyPair::from_der(&der).unwrap();
    let public = signature::RsaPublicKeyComponents::<Vec<u8>>::from(pair.public());
    let jwk = Jwk::new(JwkKey::Rsa {
        n: public.n,
        e: public.e,
    });
    let any = VerifyingKey::from_jwk(&jwk).unwrap();
    let rs256_only =
        VerifyingKey::from_jwk(&jwk.clone().with_alg(JwsAlgorithm::Rs256).unwrap()).unwrap();
    let pair = &pair;
    let sign = |padding: &'static dyn signature::RsaEncoding| {
        move |m: &[u8]| {
            let mut out = vec![0; pair.public().modulus_len()];
            pair.sign(padding, &SystemRandom::new(), m, &mut out)
                .unwrap();
            out
        }
    };
    let rs256 = sign_jws("RS256", sign(&signature::RSA_PKCS1_SHA256));
    let ps256 = sign_jws("PS256", sign(&signature::RSA_PSS_SHA256));
    any.verify(&CompactJws::parse(&rs256).unwrap()).unwrap();
    any.verify(&CompactJws::parse(&ps256).unwrap()).unwrap();
    rs256_only
        .verify(&CompactJws::parse(&rs256).unwrap())
        .unwrap();
    assert_eq!(
        rs256_only.verify(&CompactJws::parse(&ps256).unwrap()),
        Err(JwsError::KeyMismatch(JwsAlgorithm::Ps256))
    );
    // A PKCS#1 v1.5 signature presented as PS256 does not verify.
    let confused = rs256.replacen(&b64(r#"{"alg":"RS256"}"#), &b64(r#"{"alg":"PS256"}"#), 1);
    assert_eq!(
        any.verify(&CompactJws::parse(&confused).unwrap()),
        Err(JwsError::BadSignature)
    );
}
