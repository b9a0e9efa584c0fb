//! The token, introspection and revocation endpoints: RFC 6749 §4.1.3, §2.3.1, §5.1, §5.2, RFC 7636 §4.5,
//! RFC 8707, RFC 7662 §2.1/§2.2, RFC 7009 §2.1.
#![allow(clippy::unwrap_used)] // helpers and strategies outside #[test] functions unwrap known-good literals

use http::{HeaderValue, StatusCode};
use mcp_authz_metadata::{ClientId, ClientSecret, GrantType, TokenEndpointAuthMethod};
use mcp_authz_token::{
    AccessToken, BasicCredentials, BasicCredentialsError, BodyClientCredentials, ClientAuthError,
    ClientAuthentication, ErrorCode, ErrorResponse, FormError, IntrospectionRequest,
    IntrospectionResponse, RevocationRequest, TokenHintRequestError, TokenRequest,
    TokenRequestError, TokenResponse, TokenType, TokenTypeHint,
};

/// RFC 6749 §4.1.3.
const RFC6749_4_1_3: &str = "grant_type=authorization_code&code=SplxlOBeZQQYbYS6WxSbIA\
&redirect_uri=https%3A%2F%2Fclient%2Eexample%2Ecom%2Fcb";
/// RFC 6749 §4.1.3's `Authorization` header.
const RFC6749_BASIC: &str = "Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW";
/// RFC 7636 §4.5 / Appendix B.
const VERIFIER: &str = "&code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

#[test]
fn rfc6749_4_1_3_without_verifier_is_invalid_grant() {
    let err = TokenRequest::parse_form(RFC6749_4_1_3.as_bytes()).unwrap_err();
    assert_eq!(err, TokenRequestError::MissingParameter("code_verifier"));
    assert_eq!(err.error_response().error, ErrorCode::InvalidGrant);
}

#[test]
fn rfc6749_4_1_3_with_rfc7636_4_5_verifier() {
    let body = format!(
        "{RFC6749_4_1_3}{VERIFIER}&resource=https%3A%2F%2Fmcp.example.com&resource=https%3A%2F%2Fother.example.com"
    );
    let parsed = TokenRequest::parse_form(body.as_bytes()).unwrap();
    let TokenRequest::AuthorizationCode(grant) = &parsed.request else {
        panic!("expected an authorization code grant");
    };
    assert_eq!(grant.code.secret(), "SplxlOBeZQQYbYS6WxSbIA");
    assert_eq!(
        grant.redirect_uri.as_ref().unwrap().as_str(),
        "https://client.example.com/cb"
    );
    assert_eq!(
        grant.code_verifier.secret(),
        "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    );
    assert_eq!(grant.resources.len(), 2);
    assert_eq!(parsed.client, BodyClientCredentials::default());

    let auth = ClientAuthentication::resolve(
        Some(&HeaderValue::from_static(RFC6749_BASIC)),
        parsed.client,
    )
    .unwrap()
    .unwrap();
    assert_eq!(auth.client_id().as_str(), "s6BhdRkqt3");
    assert_eq!(auth.method(), TokenEndpointAuthMethod::ClientSecretBasic);
    let ClientAuthentication::SecretBasic(basic) = auth else {
        panic!("expected Basic")
    };
    assert_eq!(basic.client_secret, ClientSecret::new("gX1fBat3bV"));

    // Rendering gives back the same request.
    let rendered = parsed.request.to_form(&BodyClientCredentials::default());
    let again = TokenRequest::parse_form(rendered.as_bytes()).unwrap();
    assert_eq!(again.request.to_form(&again.client), rendered);
}

#[test]
fn repeated_parameters_are_refused_except_resource() {
    for name in [
        "grant_type=authorization_code",
        "code=x",
        "code_verifier=y",
        "redirect_uri=https%3A%2F%2Fa.example",
    ] {
        let body = format!("{RFC6749_4_1_3}{VERIFIER}&{name}");
        let err = TokenRequest::parse_form(body.as_bytes()).unwrap_err();
        assert!(
            matches!(err, TokenRequestError::Form(FormError::Duplicate(_))),
            "{name}: {err:?}"
        );
        assert_eq!(err.error_response().error, ErrorCode::InvalidRequest);
    }
    let repeated_client = format!("{RFC6749_4_1_3}{VERIFIER}&client_id=a&client_id=a");
    assert!(TokenRequest::parse_form(repeated_client.as_bytes()).is_err());
}

#[test]
fn empty_values_are_absent_and_unknown_parameters_ignored() {
    let body = format!("{RFC6749_4_1_3}{VERIFIER}&redirect_uri=&scope=&extension=1&client_secret=");
    // redirect_uri appears twice, but the empty one counts as omitted.
    let parsed = TokenRequest::parse_form(body.as_bytes()).unwrap();
    assert!(
        matches!(parsed.request, TokenRequest::AuthorizationCode(ref g) if g.redirect_uri.is_some())
    );
    assert!(parsed.client.client_secret.is_none());
    assert_eq!(
        TokenRequest::parse_form(b"grant_type=").unwrap_err(),
        TokenRequestError::MissingParameter("grant_type")
    );
}

#[test]
fn rfc6749_6_refresh_and_4_4_client_credentials() {
    let refresh = TokenRequest::parse_form(
        b"grant_type=refresh_token&refresh_token=tGzv3JOkF0XG5Qx2TlKWIA&scope=read+write",
    )
    .unwrap();
    let TokenRequest::RefreshToken(grant) = refresh.request else {
        panic!("expected refresh")
    };
    assert_eq!(grant.refresh_token.secret(), "tGzv3JOkF0XG5Qx2TlKWIA");
    assert_eq!(grant.scope.unwrap().to_string(), "read write");

    let cc = TokenRequest::parse_form(
        b"grant_type=client_credentials&client_id=svc&client_secret=s3cr3t",
    )
    .unwrap();
    assert!(matches!(cc.request, TokenRequest::ClientCredentials(ref g) if g.scope.is_none()));
    let auth = ClientAuthentication::resolve(None, cc.client)
        .unwrap()
        .unwrap();
    assert_eq!(auth.method(), TokenEndpointAuthMethod::ClientSecretPost);
}

#[test]
fn unsupported_grant_types_are_kept_and_mapped() {
    for grant in [
        "password",
        "implicit",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
    ] {
        let parsed =
            TokenRequest::parse_form(format!("grant_type={grant}&username=u").as_bytes()).unwrap();
        assert_eq!(parsed.request.grant_type(), GrantType::from(grant));
        let err = parsed.request.require_supported().unwrap_err();
        assert_eq!(err.error_response().error, ErrorCode::UnsupportedGrantType);
        assert_eq!(err.error_response().status(), StatusCode::BAD_REQUEST);
    }
}

#[test]
fn token_request_error_codes() {
    let cases: [(&str, ErrorCode); 6] = [
        (
            "grant_type=authorization_code&code=a&code_verifier=short",
            ErrorCode::InvalidGrant,
        ),
        (
            "grant_type=refresh_token&refresh_token=%0A",
            ErrorCode::InvalidGrant,
        ),
        (
            "grant_type=client_credentials&scope=a%5Cb",
            ErrorCode::InvalidScope,
        ),
        (
            "grant_type=client_credentials&resource=urn%3Ax",
            ErrorCode::InvalidTarget,
        ),
        (
            "grant_type=client_credentials&client_id=%7F",
            ErrorCode::InvalidClient,
        ),
        (
            "grant_type=authorization_code&code_verifier=x",
            ErrorCode::InvalidRequest,
        ),
    ];
    for (body, code) in cases {
        let err = TokenRequest::parse_form(body.as_bytes()).unwrap_err();
        assert_eq!(err.error_response().error, code, "{body}: {err:?}");
    }
    assert_eq!(
        TokenRequest::parse_form(b"grant_type=client_credentials&client_id=%7F")
            .unwrap_err()
            .error_response()
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

#[test]
fn basic_credentials_are_form_urlencoded_inside_base64() {
    let creds = BasicCredentials {
        client_id: ClientId::parse("client:one").unwrap(),
        client_secret: ClientSecret::new("p@ss word+%"),
    };
    let header = creds.to_header_value();
    assert!(header.is_sensitive());
    assert_eq!(BasicCredentials::parse(&header).unwrap(), creds);
    // Scheme is case-insensitive and padding optional.
    assert!(
        BasicCredentials::parse(&HeaderValue::from_static(
            "bAsIc czZCaGRSa3F0MzpnWDFmQmF0M2JW"
        ))
        .is_ok()
    );
    let cases = [
        (
            "Bearer abc",
            BasicCredentialsError::NotBasic("Bearer".into()),
        ),
        ("Basic !!!", BasicCredentialsError::MalformedBase64),
        ("Basic bm9jb2xvbg==", BasicCredentialsError::MissingColon), // "nocolon"
        ("Basic aWQ6", BasicCredentialsError::EmptySecret),          // "id:"
        ("Basic //79", BasicCredentialsError::NotUtf8),
    ];
    for (value, expected) in cases {
        assert_eq!(
            BasicCredentials::parse(&HeaderValue::from_static(value)),
            Err(expected),
            "{value}"
        );
    }
    assert_eq!(
        BasicCredentials::parse(&HeaderValue::from_bytes(b"Basic \xff").unwrap()),
        Err(BasicCredentialsError::NotVisibleAscii)
    );
}

#[test]
fn client_authentication_is_one_method_per_request() {
    let basic = HeaderValue::from_static(RFC6749_BASIC);
    let id = || Some(ClientId::parse("s6BhdRkqt3").unwrap());
    let secret = || Some(ClientSecret::new("x"));
    let both = BodyClientCredentials {
        client_id: id(),
        client_secret: secret(),
    };
    assert_eq!(
        ClientAuthentication::resolve(Some(&basic), both),
        Err(ClientAuthError::MultipleMethods)
    );
    let other = BodyClientCredentials {
        client_id: Some(ClientId::parse("other").unwrap()),
        client_secret: None,
    };
    assert_eq!(
        ClientAuthentication::resolve(Some(&basic), other),
        Err(ClientAuthError::ClientIdMismatch)
    );
    let same = BodyClientCredentials {
        client_id: id(),
        client_secret: None,
    };
    assert!(ClientAuthentication::resolve(Some(&basic), same).is_ok());
    let orphan = BodyClientCredentials {
        client_id: None,
        client_secret: secret(),
    };
    assert_eq!(
        ClientAuthentication::resolve(None, orphan),
        Err(ClientAuthError::SecretWithoutId)
    );
    assert_eq!(
        ClientAuthentication::resolve(None, BodyClientCredentials::default()),
        Ok(None)
    );
    let public = BodyClientCredentials {
        client_id: id(),
        client_secret: None,
    };
    let auth = ClientAuthentication::resolve(None, public)
        .unwrap()
        .unwrap();
    assert_eq!(auth.method(), TokenEndpointAuthMethod::None);

    let bad = ClientAuthentication::resolve(
        Some(&HeaderValue::from_static("Basic !!")),
        BodyClientCredentials::default(),
    )
    .unwrap_err();
    assert_eq!(bad.error_response().error, ErrorCode::InvalidClient);
    assert_eq!(bad.error_response().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        ClientAuthError::MultipleMethods.error_response().error,
        ErrorCode::InvalidRequest
    );
}

#[test]
fn rfc6749_5_1_token_response() {
    let json = r#"{
       "access_token":"2YotnFZFEjr1zCsicMWpAA",
       "token_type":"example",
       "expires_in":3600,
       "refresh_token":"tGzv3JOkF0XG5Qx2TlKWIA",
       "example_parameter":"example_value"
     }"#;
    let response: TokenResponse = serde_json::from_str(json).unwrap();
    assert_eq!(
        response.access_token,
        AccessToken::parse("2YotnFZFEjr1zCsicMWpAA").unwrap()
    );
    assert_eq!(response.token_type, TokenType::Unknown("example".into()));
    assert_eq!(response.expires_in, Some(3600));
    assert_eq!(
        response.refresh_token.as_ref().unwrap().secret(),
        "tGzv3JOkF0XG5Qx2TlKWIA"
    );
    assert_eq!(response.extra["example_parameter"], "example_value");
    let again: serde_json::Value = serde_json::to_value(&response).unwrap();
    assert_eq!(
        again,
        serde_json::from_str::<serde_json::Value>(json).unwrap()
    );
    assert!(!format!("{response:?}").contains("2YotnFZFEjr1zCsicMWpAA"));
}

#[test]
fn token_type_is_case_insensitive() {
    let response: TokenResponse =
        serde_json::from_str(r#"{"access_token":"a","token_type":"bearer"}"#).unwrap();
    assert_eq!(response.token_type, TokenType::Bearer);
    assert_eq!(
        serde_json::to_value(&response).unwrap()["token_type"],
        "Bearer"
    );
    assert!(
        serde_json::from_str::<TokenResponse>(r#"{"access_token":"","token_type":"Bearer"}"#)
            .is_err()
    );
}

#[test]
fn rfc6749_5_2_error_response_and_statuses() {
    let parsed: ErrorResponse = serde_json::from_str(r#"{"error":"invalid_request"}"#).unwrap();
    assert_eq!(parsed, ErrorResponse::new(ErrorCode::InvalidRequest));
    assert_eq!(
        serde_json::to_string(&parsed).unwrap(),
        r#"{"error":"invalid_request"}"#
    );
    let codes = [
        ("invalid_request", 400),
        ("invalid_client", 401),
        ("invalid_grant", 400),
        ("unauthorized_client", 400),
        ("unsupported_grant_type", 400),
        ("invalid_scope", 400),
        ("invalid_target", 400),
        ("access_denied", 400),
        ("unsupported_response_type", 400),
        ("server_error", 500),
        ("temporarily_unavailable", 503),
        ("unsupported_token_type", 400),
        ("something_new", 400),
    ];
    for (wire, status) in codes {
        let code = ErrorCode::from(wire);
        assert_eq!(code.as_str(), wire);
        assert_eq!(code.status().as_u16(), status, "{wire}");
    }
    assert_eq!(
        ErrorCode::from("something_new"),
        ErrorCode::Unknown("something_new".into())
    );
    let described =
        ErrorResponse::new(ErrorCode::InvalidGrant).with_description("bad \"x\" \\ é\n");
    assert_eq!(described.error_description.as_deref(), Some("bad 'x' / ??"));
}

#[test]
fn rfc7662_2_1_and_rfc7009_2_1_requests() {
    let parsed =
        IntrospectionRequest::parse_form(b"token=mF_9.B5f-4.1JqM&token_type_hint=access_token")
            .unwrap();
    assert_eq!(parsed.request.token.secret(), "mF_9.B5f-4.1JqM");
    assert_eq!(
        parsed.request.token_type_hint,
        Some(TokenTypeHint::AccessToken)
    );
    let rendered = parsed.request.to_form(&parsed.client);
    assert_eq!(
        rendered,
        "token=mF_9.B5f-4.1JqM&token_type_hint=access_token"
    );

    let revoke = RevocationRequest::parse_form(
        b"token=45ghiukldjahdnhzdauz&token_type_hint=refresh_token&client_id=c",
    )
    .unwrap();
    assert_eq!(
        revoke.request.token_type_hint,
        Some(TokenTypeHint::RefreshToken)
    );
    assert_eq!(revoke.client.client_id.unwrap().as_str(), "c");
    assert_eq!(
        RevocationRequest::parse_form(b"token_type_hint=x").unwrap_err(),
        TokenHintRequestError::MissingToken
    );
    assert!(matches!(
        RevocationRequest::parse_form(b"token=a&token=b"),
        Err(TokenHintRequestError::Form(FormError::Duplicate(_)))
    ));
    assert_eq!(
        TokenHintRequestError::MissingToken.error_response().error,
        ErrorCode::InvalidRequest
    );
}

#[test]
fn rfc7662_2_2_introspection_response() {
    let json = r#"{
      "active": true,
      "client_id": "l238j323ds-23ij4",
      "username": "jdoe",
      "scope": "read write dolphin",
      "sub": "Z5O3upPC88QrAjx00dis",
      "aud": "https://protected.example.net/resource",
      "iss": "https://server.example.com/",
      "exp": 1419356238,
      "iat": 1419350238,
      "extension_field": "twenty-seven"
    }"#;
    let parsed: IntrospectionResponse = serde_json::from_str(json).unwrap();
    let IntrospectionResponse::Active(token) = &parsed else {
        panic!("expected active")
    };
    assert_eq!(
        token.client_id.as_ref().unwrap().as_str(),
        "l238j323ds-23ij4"
    );
    assert!(token.scope.as_ref().unwrap().contains("dolphin"));
    assert!(
        token
            .aud
            .as_ref()
            .unwrap()
            .contains("https://protected.example.net/resource")
    );
    assert_eq!(
        token.iss.as_ref().unwrap().as_str(),
        "https://server.example.com/"
    );
    assert_eq!(token.exp.unwrap().as_secs(), 1419356238);
    assert_eq!(token.extra["extension_field"], "twenty-seven");
    let again = serde_json::to_value(&parsed).unwrap();
    let original: serde_json::Value = serde_json::from_str(json).unwrap();
    // Scope is a set, written sorted; everything else is identical.
    assert_eq!(again["scope"], "dolphin read write");
    let mut expected = original.clone();
    expected["scope"] = "dolphin read write".into();
    assert_eq!(again, expected);
    assert!(parsed.is_active());
}

#[test]
fn inactive_introspection_is_only_active_false() {
    let parsed: IntrospectionResponse =
        serde_json::from_str(r#"{"active":false,"sub":"leak","scope":"\"bad"}"#).unwrap();
    assert_eq!(parsed, IntrospectionResponse::Inactive);
    assert_eq!(
        serde_json::to_string(&parsed).unwrap(),
        r#"{"active":false}"#
    );
    assert!(serde_json::from_str::<IntrospectionResponse>(r#"{"scope":"a"}"#).is_err());
    assert!(serde_json::from_str::<IntrospectionResponse>(r#"{"active":"true"}"#).is_err());
}
