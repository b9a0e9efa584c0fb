//! The resource side: RFC 9110 §11.6.1 challenges, RFC 6750 §3 and RFC 9728 §5.1 Bearer challenges,
//! RFC 6750 §2.1 token extraction, RFC 9068 claims.
#![allow(clippy::unwrap_used)] // helpers and strategies outside #[test] functions unwrap known-good literals

use http::{HeaderMap, HeaderValue, StatusCode};
use mcp_authz_metadata::{Issuer, ResourceUri, Scope};
use mcp_authz_token::{
    AT_JWT_TYP, Audience, AuthParam, BearerChallenge, BearerChallengeError, BearerError,
    BearerTokenError, Challenge, ChallengeParseError, ChallengeRenderError, ClaimsError,
    ClaimsExpectations, JwtAccessTokenClaims, NumericDate, bearer_token, bearer_token_from_headers,
    has_access_token_param, is_at_jwt_typ, reject_token_in_query,
};

fn bearer(value: &str) -> BearerChallenge {
    BearerChallenge::from_header_values([&HeaderValue::from_str(value).unwrap()])
        .unwrap()
        .unwrap()
}

#[test]
fn rfc6750_3_realm_only() {
    let challenge = bearer(r#"Bearer realm="example""#);
    assert_eq!(challenge, BearerChallenge::new().with_realm("example"));
    assert_eq!(challenge.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        challenge.to_header_value().unwrap(),
        r#"Bearer realm="example""#
    );
}

#[test]
fn rfc6750_3_invalid_token() {
    // The RFC folds the header over three lines; unfolded, the folds are OWS around the commas.
    let challenge = bearer(
        r#"Bearer realm="example",   error="invalid_token",   error_description="The access token expired""#,
    );
    assert_eq!(challenge.realm.as_deref(), Some("example"));
    assert_eq!(challenge.error, Some(BearerError::InvalidToken));
    assert_eq!(
        challenge.error_description.as_deref(),
        Some("The access token expired")
    );
    assert_eq!(challenge.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        challenge.to_header_value().unwrap(),
        r#"Bearer realm="example", error="invalid_token", error_description="The access token expired""#
    );
}

#[test]
fn rfc6750_3_1_insufficient_scope_is_403() {
    let challenge = bearer(r#"Bearer error="insufficient_scope", scope="files:write  files:read""#);
    assert_eq!(challenge.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        challenge.scope,
        Some(Scope::parse("files:read files:write").unwrap())
    );
    assert_eq!(
        bearer(r#"Bearer error="invalid_request""#).status(),
        StatusCode::BAD_REQUEST
    );
}

#[test]
fn rfc9728_5_1_resource_metadata() {
    // The RFC folds after "resource_metadata="; BWS allows the whitespace.
    let challenge = bearer(
        r#"Bearer resource_metadata=  "https://resource.example.com/.well-known/oauth-protected-resource""#,
    );
    assert_eq!(
        challenge.resource_metadata.unwrap().as_str(),
        "https://resource.example.com/.well-known/oauth-protected-resource"
    );
    assert!(challenge.error.is_none());
}

#[test]
fn rfc9110_11_6_1_example_with_two_challenges() {
    let all = Challenge::parse_str(
        r#"Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple""#,
    )
    .unwrap();
    assert_eq!(all.len(), 2);
    assert!(all[0].is_scheme("NEWAUTH"));
    assert_eq!(
        all[0].params,
        vec![
            AuthParam {
                name: "realm".into(),
                value: "apps".into()
            },
            AuthParam {
                name: "type".into(),
                value: "1".into()
            },
            AuthParam {
                name: "title".into(),
                value: r#"Login to "apps""#.into()
            },
        ]
    );
    assert_eq!(all[1].param("REALM"), Some("simple"));
}

#[test]
fn challenges_across_header_values_with_token68_and_empty_elements() {
    let values = [
        HeaderValue::from_static(r#", Negotiate abc+/def==, , Basic"#),
        HeaderValue::from_static(r#"bearer   realm = "r" ,, scope=a ,Digest nonce="n\\x""#),
    ];
    let all = Challenge::parse_header_values(&values).unwrap();
    let schemes: Vec<&str> = all.iter().map(|c| c.scheme.as_str()).collect();
    assert_eq!(schemes, ["Negotiate", "Basic", "bearer", "Digest"]);
    assert_eq!(all[0].token68.as_deref(), Some("abc+/def=="));
    assert!(all[1].params.is_empty() && all[1].token68.is_none());
    assert_eq!(all[2].param("realm"), Some("r"));
    assert_eq!(all[2].param("scope"), Some("a"));
    assert_eq!(all[3].param("nonce"), Some(r"n\x"));
    let typed = BearerChallenge::from_header_values(&values)
        .unwrap()
        .unwrap();
    assert_eq!(typed.realm.as_deref(), Some("r"));
    assert_eq!(typed.scope.unwrap().to_string(), "a");
}

#[test]
fn no_bearer_challenge_is_none() {
    let values = [HeaderValue::from_static(r#"Basic realm="x""#)];
    assert_eq!(BearerChallenge::from_header_values(&values), Ok(None));
    assert_eq!(BearerChallenge::from_header_values(&[]), Ok(None));
}

#[test]
fn malformed_challenges_are_precise_errors() {
    let cases = [
        (
            r#"Bearer realm="unterminated"#,
            ChallengeParseError::UnterminatedQuotedString { at: 13 },
        ),
        (
            r#"Bearer realm"#,
            ChallengeParseError::Unexpected {
                at: 0,
                expected: "",
            },
        ),
        // `realm=` alone is a token68, so `x=y` must be a challenge, and is not one.
        (
            r#"Bearer realm=, x=y"#,
            ChallengeParseError::Unexpected {
                at: 16,
                expected: "a space, a comma or the end after the auth-scheme",
            },
        ),
        (
            r#"Bearer a="b", c=,"#,
            ChallengeParseError::Unexpected {
                at: 16,
                expected: "a token or quoted-string auth-param value",
            },
        ),
        (
            r#"Bearer realm="a" b"#,
            ChallengeParseError::Unexpected {
                at: 17,
                expected: "a comma or the end after an auth-param",
            },
        ),
        (
            r#"="x""#,
            ChallengeParseError::Unexpected {
                at: 0,
                expected: "an auth-scheme",
            },
        ),
        (
            r#"Bearer="x""#,
            ChallengeParseError::Unexpected {
                at: 6,
                expected: "a space, a comma or the end after the auth-scheme",
            },
        ),
        (
            r#"Bearer a="b", realm="#,
            ChallengeParseError::UnexpectedEnd {
                expected: "a token or quoted-string auth-param value",
            },
        ),
    ];
    for (input, expected) in cases {
        let result = Challenge::parse_str(input);
        if input == "Bearer realm" {
            // A lone token after the scheme is a token68.
            assert_eq!(result.unwrap()[0].token68.as_deref(), Some("realm"));
            continue;
        }
        assert_eq!(result, Err(expected), "{input}");
    }
    let long = format!("Bearer realm=\"{}\"", "a".repeat(9000));
    assert_eq!(
        Challenge::parse_str(&long),
        Err(ChallengeParseError::TooLong)
    );
    let bytes = HeaderValue::from_bytes(b"Bearer realm=\"\xff\"").unwrap();
    assert_eq!(
        Challenge::parse_header_values([&bytes]),
        Err(ChallengeParseError::NotUtf8)
    );
    // `http` refuses control characters in header values; a parser fed from elsewhere must too.
    assert!(matches!(
        Challenge::parse_str("Bearer realm=\"a\x01b\""),
        Err(ChallengeParseError::Unexpected { at: 15, .. })
    ));
    assert!(matches!(
        Challenge::parse_str("Bearer realm=\"a\\\x7fb\""),
        Err(ChallengeParseError::Unexpected { at: 16, .. })
    ));
}

#[test]
fn bearer_challenge_errors() {
    let parse =
        |s: &'static str| BearerChallenge::from_header_values([&HeaderValue::from_static(s)]);
    assert_eq!(parse("Bearer abc=="), Err(BearerChallengeError::Token68));
    assert_eq!(
        parse(r#"Bearer realm="a", REALM="b""#),
        Err(BearerChallengeError::DuplicateParameter("REALM".into()))
    );
    assert!(matches!(
        parse(r#"Bearer scope="a\"b""#),
        Err(BearerChallengeError::InvalidScope(_))
    ));
    assert!(matches!(
        parse(r#"Bearer resource_metadata="/relative""#),
        Err(BearerChallengeError::InvalidUrl {
            param: "resource_metadata",
            ..
        })
    ));
    assert!(matches!(
        parse(r#"Bearer realm="a"#),
        Err(BearerChallengeError::Parse(_))
    ));
}

#[test]
fn rendering_escapes_and_omits_unset_attributes() {
    let challenge = BearerChallenge::new().with_realm(r#"a "quoted" \ realm"#);
    let header = challenge.to_header_value().unwrap();
    assert_eq!(header, r#"Bearer realm="a \"quoted\" \\ realm""#);
    assert_eq!(
        BearerChallenge::from_header_values([&header]).unwrap(),
        Some(challenge)
    );
    // RFC 6750 §3.1: no error attribute when the request had no token.
    assert_eq!(BearerChallenge::new().to_header_value().unwrap(), "Bearer");
    assert_eq!(
        BearerChallenge::new().with_realm("a\nb").to_header_value(),
        Err(ChallengeRenderError::ControlCharacter("realm".into()))
    );
    let mut clash = BearerChallenge::new();
    clash.extra.push(AuthParam {
        name: "Scope".into(),
        value: "x".into(),
    });
    assert_eq!(
        clash.render(),
        Err(ChallengeRenderError::InvalidParameterName("Scope".into()))
    );
    let described = BearerChallenge::new().with_error_description("say \"hi\"");
    assert_eq!(described.error_description.as_deref(), Some("say 'hi'"));
}

#[test]
fn rfc6750_2_1_bearer_extraction() {
    let token = bearer_token(&HeaderValue::from_static("Bearer mF_9.B5f-4.1JqM")).unwrap();
    assert_eq!(token.secret(), "mF_9.B5f-4.1JqM");
    for ok in [
        "bearer abc",
        "BEARER abc==",
        "Bearer   abc",
        " Bearer abc ",
        "Bearer a+/b~_.-9=",
    ] {
        assert!(bearer_token(&HeaderValue::from_static(ok)).is_ok(), "{ok}");
    }
    let cases = [
        (
            "Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW",
            BearerTokenError::NotBearer("Basic".into()),
        ),
        ("Bearer", BearerTokenError::MissingToken),
        ("Bearer    ", BearerTokenError::MissingToken),
        ("Bearer a b", BearerTokenError::MalformedToken),
        ("Bearer a=b", BearerTokenError::MalformedToken),
        ("Bearer ===", BearerTokenError::MalformedToken),
        ("Bearer a,b", BearerTokenError::MalformedToken),
        ("Bearer \"abc\"", BearerTokenError::MalformedToken),
        ("Bearerabc", BearerTokenError::NotBearer("Bearerabc".into())),
    ];
    for (value, expected) in cases {
        assert_eq!(
            bearer_token(&HeaderValue::from_static(value)).err(),
            Some(expected),
            "{value}"
        );
    }
    let non_ascii = HeaderValue::from_bytes(b"Bearer abc\xe9").unwrap();
    assert_eq!(
        bearer_token(&non_ascii).err(),
        Some(BearerTokenError::NotVisibleAscii)
    );
    let long = HeaderValue::from_str(&format!("Bearer {}", "a".repeat(9000))).unwrap();
    assert_eq!(bearer_token(&long).err(), Some(BearerTokenError::TooLong));
}

#[test]
fn bearer_extraction_from_headers_and_wire_mapping() {
    let mut headers = HeaderMap::new();
    assert_eq!(
        bearer_token_from_headers(&headers).err(),
        Some(BearerTokenError::Missing)
    );
    headers.append("authorization", HeaderValue::from_static("Bearer abc"));
    assert_eq!(bearer_token_from_headers(&headers).unwrap().secret(), "abc");
    headers.append("authorization", HeaderValue::from_static("Bearer def"));
    assert_eq!(
        bearer_token_from_headers(&headers).err(),
        Some(BearerTokenError::MultipleHeaders)
    );

    // RS-2: no credentials -> 401 without error; RS-7: malformed -> 400 invalid_request.
    assert_eq!(BearerTokenError::Missing.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        BearerTokenError::Missing
            .challenge()
            .to_header_value()
            .unwrap(),
        "Bearer"
    );
    assert_eq!(
        BearerTokenError::NotBearer("Basic".into())
            .challenge()
            .error,
        None
    );
    for err in [
        BearerTokenError::MalformedToken,
        BearerTokenError::MissingToken,
        BearerTokenError::TokenInQuery,
        BearerTokenError::MultipleHeaders,
    ] {
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        assert_eq!(err.challenge().error, Some(BearerError::InvalidRequest));
    }
}

#[test]
fn access_token_in_query_is_detected() {
    assert!(has_access_token_param("access_token=mF_9.B5f-4.1JqM"));
    assert!(has_access_token_param("a=b&access_token"));
    assert!(has_access_token_param("access%5Ftoken=x"));
    assert!(!has_access_token_param("token=x&access_tokens=y"));
    assert_eq!(
        reject_token_in_query(Some("x=1&access_token=")),
        Err(BearerTokenError::TokenInQuery)
    );
    assert_eq!(reject_token_in_query(Some("x=1")), Ok(()));
    assert_eq!(reject_token_in_query(None), Ok(()));
}

/// RFC 9068 §2.2 example claims (the header of that example has `"typ":"at+JWT"`).
const RFC9068_CLAIMS: &str = r#"{
  "iss": "https://authorization-server.example.com/",
  "sub": "5ba552d67",
  "aud":   "https://rs.example.com/",
  "exp": 1639528912,
  "iat": 1618354090,
  "jti" : "dbe39bf3a3ba4238a513f51d6e1691c4",
  "client_id": "s6BhdRkqt3",
  "scope": "openid profile reademail"
}"#;

fn rfc9068_expectations() -> ClaimsExpectations {
    ClaimsExpectations::new(
        Issuer::parse("https://authorization-server.example.com/").unwrap(),
        ResourceUri::parse("https://rs.example.com").unwrap(),
    )
}

#[test]
fn rfc9068_2_2_example_claims() {
    assert!(is_at_jwt_typ("at+JWT"));
    assert_eq!(AT_JWT_TYP, "at+jwt");
    let claims = JwtAccessTokenClaims::from_json(RFC9068_CLAIMS.as_bytes()).unwrap();
    assert_eq!(claims.sub, "5ba552d67");
    assert_eq!(claims.client_id.as_str(), "s6BhdRkqt3");
    assert!(claims.scope.as_ref().unwrap().contains("reademail"));
    assert_eq!(claims.exp, NumericDate::from_secs(1639528912));
    assert!(claims.nbf.is_none() && claims.auth_time.is_none());
    assert_eq!(
        claims.validate(&rfc9068_expectations(), 1_620_000_000),
        Ok(())
    );
    let json = serde_json::to_value(&claims).unwrap();
    assert_eq!(json["aud"], "https://rs.example.com/");
    assert_eq!(
        JwtAccessTokenClaims::from_json(json.to_string().as_bytes()).unwrap(),
        claims
    );
}

#[test]
fn claims_validation_errors_are_precise() {
    let claims = JwtAccessTokenClaims::from_json(RFC9068_CLAIMS.as_bytes()).unwrap();
    let expected = rfc9068_expectations();
    let exp = 1639528912;
    // exp with the default 60 s leeway.
    assert_eq!(claims.validate(&expected, exp + 59), Ok(()));
    assert_eq!(
        claims.validate(&expected, exp + 60),
        Err(ClaimsError::Expired {
            exp: NumericDate::from_secs(exp),
            now: NumericDate::from_secs(exp + 60)
        })
    );
    let strict = expected.clone().with_leeway(std::time::Duration::ZERO);
    assert!(matches!(
        claims.validate(&strict, exp),
        Err(ClaimsError::Expired { .. })
    ));
    // iat in the future.
    assert!(matches!(
        claims.validate(&expected, 1618354090 - 61),
        Err(ClaimsError::IssuedInFuture { .. })
    ));
    // nbf.
    let mut with_nbf = claims.clone();
    with_nbf.nbf = Some(NumericDate::from_secs(1_630_000_000));
    assert!(matches!(
        with_nbf.validate(&expected, 1_629_999_000),
        Err(ClaimsError::NotYetValid { .. })
    ));
    assert_eq!(with_nbf.validate(&expected, 1_629_999_950), Ok(()));
    // Issuer compared exactly (no trailing-slash normalisation).
    let other_iss = ClaimsExpectations::new(
        Issuer::parse("https://authorization-server.example.com").unwrap(),
        ResourceUri::parse("https://rs.example.com").unwrap(),
    );
    assert!(matches!(
        claims.validate(&other_iss, 1_620_000_000),
        Err(ClaimsError::IssuerMismatch { .. })
    ));
    // Audience must contain this resource (RS-4).
    let other_aud = ClaimsExpectations::new(
        Issuer::parse("https://authorization-server.example.com/").unwrap(),
        ResourceUri::parse("https://rs.example.com/other").unwrap(),
    );
    assert_eq!(
        claims.validate(&other_aud, 1_620_000_000),
        Err(ClaimsError::AudienceMismatch {
            expected: "https://rs.example.com/other".into()
        })
    );
    let err = ClaimsError::AudienceMismatch {
        expected: "x".into(),
    };
    assert_eq!(err.challenge().error, Some(BearerError::InvalidToken));
    assert_eq!(err.challenge().status(), StatusCode::UNAUTHORIZED);
}

#[test]
fn audience_string_or_array_and_malformed_claims() {
    let aud: Audience =
        serde_json::from_str(r#"["https://a.example","https://b.example"]"#).unwrap();
    assert_eq!(aud.len(), 2);
    assert_eq!(
        serde_json::to_string(&aud).unwrap(),
        r#"["https://a.example","https://b.example"]"#
    );
    assert!(aud.contains_resource(&ResourceUri::parse("https://B.example/").unwrap()));
    let date: NumericDate = serde_json::from_str("1639528912.75").unwrap();
    assert_eq!(date.as_secs(), 1639528912);
    assert!(serde_json::from_str::<NumericDate>("-1").is_err());
    let missing_jti = RFC9068_CLAIMS.replace(r#""jti" : "dbe39bf3a3ba4238a513f51d6e1691c4","#, "");
    assert!(matches!(
        JwtAccessTokenClaims::from_json(missing_jti.as_bytes()),
        Err(ClaimsError::Malformed(_))
    ));
    assert!(matches!(
        JwtAccessTokenClaims::from_json(b"\xff"),
        Err(ClaimsError::Malformed(_))
    ));
    let extra = RFC9068_CLAIMS.replace("\"sub\"", "\"groups\": [\"admin\"], \"sub\"");
    let claims = JwtAccessTokenClaims::from_json(extra.as_bytes()).unwrap();
    assert_eq!(claims.extra["groups"][0], "admin");
}
