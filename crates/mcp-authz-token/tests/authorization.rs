//! The authorization endpoint: RFC 6749 §4.1.1 / §4.1.2 / §4.1.2.1, RFC 7636 §4.3, RFC 8707, RFC 9207.
#![allow(clippy::unwrap_used)] // helpers and strategies outside #[test] functions unwrap known-good literals

use mcp_authz_metadata::{ClientId, Issuer, RedirectUri, ResourceUri};
use mcp_authz_pkce::{CodeChallenge, PkceError};
use mcp_authz_token::{
    AuthorizationCallback, AuthorizationCode, AuthorizationErrorResponse, AuthorizationRequest,
    AuthorizationRequestError, AuthorizationResponse, CallbackError, CallbackVerifyError,
    ErrorCode, FormError, State,
};

/// RFC 6749 §4.1.1, without PKCE.
const RFC6749_4_1_1: &str = "response_type=code&client_id=s6BhdRkqt3&state=xyz\
&redirect_uri=https%3A%2F%2Fclient%2Eexample%2Ecom%2Fcb";
/// RFC 7636 §4.3: the challenge parameters (Appendix B's challenge).
const RFC7636_4_3: &str =
    "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256";

#[test]
fn rfc6749_4_1_1_without_pkce_is_refused_with_state_recovered() {
    let rejection = AuthorizationRequest::parse_query(RFC6749_4_1_1).unwrap_err();
    assert_eq!(
        rejection.error,
        AuthorizationRequestError::MissingParameter("code_challenge")
    );
    assert_eq!(rejection.error.error_code(), ErrorCode::InvalidRequest);
    assert!(rejection.error.may_redirect());
    assert_eq!(rejection.state, Some(State::parse("xyz").unwrap()));
    assert_eq!(
        rejection.client_id,
        Some(ClientId::parse("s6BhdRkqt3").unwrap())
    );
    let response =
        rejection.error_response(Some(Issuer::parse("https://server.example.com").unwrap()));
    let url = response.redirect_url(rejection.redirect_uri.as_ref().unwrap());
    assert_eq!(
        url.as_str(),
        "https://client.example.com/cb?error=invalid_request\
&error_description=missing+parameter+code_challenge&state=xyz&iss=https%3A%2F%2Fserver.example.com"
    );
}

#[test]
fn rfc6749_4_1_1_with_rfc7636_4_3_parses() {
    let request =
        AuthorizationRequest::parse_query(&format!("{RFC6749_4_1_1}{RFC7636_4_3}")).unwrap();
    assert_eq!(request.client_id.as_str(), "s6BhdRkqt3");
    assert_eq!(request.state.as_ref().unwrap().as_str(), "xyz");
    assert_eq!(
        request.redirect_uri.as_ref().unwrap().as_str(),
        "https://client.example.com/cb"
    );
    assert_eq!(
        request.code_challenge.to_string(),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    );
    assert!(request.scope.is_none());
    assert!(request.resources.is_empty());
}

#[test]
fn plain_and_absent_pkce_methods_are_refused() {
    let plain = format!(
        "{RFC6749_4_1_1}&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=plain"
    );
    let absent =
        format!("{RFC6749_4_1_1}&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    for query in [plain, absent] {
        let err = AuthorizationRequest::parse_query(&query).unwrap_err().error;
        assert_eq!(
            err,
            AuthorizationRequestError::Pkce(PkceError::UnsupportedMethod("plain".into()))
        );
    }
}

#[test]
fn resource_may_repeat_other_parameters_may_not() {
    let query = format!(
        "{RFC6749_4_1_1}{RFC7636_4_3}&resource=https%3A%2F%2Fa.example.com&resource=https%3A%2F%2FB.example.com%2F&unknown=1&unknown=2"
    );
    let request = AuthorizationRequest::parse_query(&query).unwrap();
    let resources: Vec<&str> = request.resources.iter().map(ResourceUri::as_str).collect();
    assert_eq!(
        resources,
        ["https://a.example.com", "https://b.example.com"]
    );

    let repeated = format!("{RFC6749_4_1_1}{RFC7636_4_3}&state=other");
    let rejection = AuthorizationRequest::parse_query(&repeated).unwrap_err();
    assert_eq!(
        rejection.error,
        AuthorizationRequestError::Form(FormError::Duplicate("state".into()))
    );
    assert!(!rejection.error.may_redirect());
}

#[test]
fn empty_values_are_absent() {
    let query = format!("{RFC6749_4_1_1}{RFC7636_4_3}&scope=&resource=");
    let request = AuthorizationRequest::parse_query(&query).unwrap();
    assert!(request.scope.is_none());
    assert!(request.resources.is_empty());
    let no_client =
        AuthorizationRequest::parse_query(&format!("client_id=&{RFC7636_4_3}")).unwrap_err();
    assert_eq!(
        no_client.error,
        AuthorizationRequestError::MissingParameter("client_id")
    );
    assert!(!no_client.error.may_redirect());
}

#[test]
fn error_codes_of_request_errors() {
    let cases = [
        ("response_type=token", ErrorCode::UnsupportedResponseType),
        ("scope=a%22b", ErrorCode::InvalidScope),
        ("resource=mcp.example.com", ErrorCode::InvalidTarget),
        (
            "resource=https%3A%2F%2Fmcp.example.com%23frag",
            ErrorCode::InvalidTarget,
        ),
    ];
    for (extra, code) in cases {
        let base = "client_id=c&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256";
        let query = if extra.starts_with("response_type") {
            format!("{base}&{extra}")
        } else {
            format!("{base}&response_type=code&{extra}")
        };
        let rejection = AuthorizationRequest::parse_query(&query).unwrap_err();
        assert_eq!(rejection.error.error_code(), code, "{query}");
    }
    let bad_redirect =
        "client_id=c&response_type=code&redirect_uri=http%3A%2F%2Fevil.example.com%2Fcb";
    let rejection = AuthorizationRequest::parse_query(bad_redirect).unwrap_err();
    assert!(matches!(
        rejection.error,
        AuthorizationRequestError::InvalidRedirectUri(_)
    ));
    assert!(!rejection.error.may_redirect());
}

#[test]
fn request_renders_onto_endpoint_and_round_trips() {
    let request = AuthorizationRequest::new(
        ClientId::parse("https://app.example.com/client.json").unwrap(),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
            .parse::<CodeChallenge>()
            .unwrap(),
    )
    .with_redirect_uri(RedirectUri::parse("http://127.0.0.1:4711/callback").unwrap())
    .with_scope("files:read tools:call".parse().unwrap())
    .with_state(State::generate().unwrap())
    .with_resource(ResourceUri::parse("https://mcp.example.com/mcp").unwrap());
    let url = request.to_url(&"https://as.example.com/authorize?tenant=1".parse().unwrap());
    assert!(
        url.as_str()
            .starts_with("https://as.example.com/authorize?tenant=1&response_type=code&client_id=")
    );
    let back = AuthorizationRequest::parse_query(url.query().unwrap()).unwrap();
    assert_eq!(back, request);
}

#[test]
fn rfc6749_4_1_2_success_response() {
    let redirect = RedirectUri::parse("https://client.example.com/cb").unwrap();
    let response = AuthorizationResponse {
        code: AuthorizationCode::parse("SplxlOBeZQQYbYS6WxSbIA").unwrap(),
        state: Some(State::parse("xyz").unwrap()),
        iss: None,
    };
    let url = response.redirect_url(&redirect);
    assert_eq!(
        url.as_str(),
        "https://client.example.com/cb?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz"
    );
    let AuthorizationCallback::Success(back) = AuthorizationCallback::from_url(&url).unwrap()
    else {
        panic!("expected a success response");
    };
    assert_eq!(back, response);
}

#[test]
fn rfc6749_4_1_2_1_error_response() {
    let url = "https://client.example.com/cb?error=access_denied&state=xyz"
        .parse()
        .unwrap();
    let AuthorizationCallback::Error(error) = AuthorizationCallback::from_url(&url).unwrap() else {
        panic!("expected an error response");
    };
    assert_eq!(error.error, ErrorCode::AccessDenied);
    assert_eq!(error.state.as_ref().unwrap().as_str(), "xyz");
    let redirect = RedirectUri::parse("https://client.example.com/cb").unwrap();
    assert_eq!(error.redirect_url(&redirect), url);
}

#[test]
fn rfc9207_iss_is_rendered_parsed_and_verified() {
    let issuer = Issuer::parse("https://honest.as.example").unwrap();
    let state = State::parse("s1").unwrap();
    let redirect = RedirectUri::parse("http://localhost:9000/cb?keep=1").unwrap();
    let response = AuthorizationErrorResponse::new(ErrorCode::ServerError)
        .with_description("bad \"thing\"")
        .with_state(Some(state.clone()))
        .with_iss(Some(issuer.clone()));
    let url = response.redirect_url(&redirect);
    assert!(
        url.as_str()
            .starts_with("http://localhost:9000/cb?keep=1&error=server_error")
    );
    let callback = AuthorizationCallback::from_url(&url).unwrap();
    assert_eq!(callback, AuthorizationCallback::Error(response));
    assert_eq!(callback.verify(&issuer, true, &state), Ok(()));

    let attacker = Issuer::parse("https://attacker.example").unwrap();
    assert!(matches!(
        callback.verify(&attacker, true, &state),
        Err(CallbackVerifyError::IssuerMismatch { .. })
    ));
    assert_eq!(
        callback.verify(&issuer, true, &State::parse("s2").unwrap()),
        Err(CallbackVerifyError::StateMismatch)
    );
    let no_iss = AuthorizationCallback::parse_query("code=abc&state=s1").unwrap();
    assert_eq!(
        no_iss.verify(&issuer, true, &state),
        Err(CallbackVerifyError::MissingIssuer)
    );
    assert_eq!(no_iss.verify(&issuer, false, &state), Ok(()));
    // Exact string comparison: a trailing slash is a different issuer (RFC 9207 §2.4).
    let slash = Issuer::parse("https://honest.as.example/").unwrap();
    assert!(callback.verify(&slash, true, &state).is_err());
}

#[test]
fn malformed_callbacks() {
    assert_eq!(
        AuthorizationCallback::parse_query("state=xyz"),
        Err(CallbackError::MissingCode)
    );
    assert_eq!(
        AuthorizationCallback::parse_query("code=a&error=access_denied"),
        Err(CallbackError::CodeAndError)
    );
    assert_eq!(
        AuthorizationCallback::parse_query("code=a&code=b"),
        Err(CallbackError::Form(FormError::Duplicate("code".into())))
    );
    assert!(matches!(
        AuthorizationCallback::parse_query("code=a&iss=http%3A%2F%2Fas.example"),
        Err(CallbackError::InvalidIssuer(_))
    ));
    assert!(matches!(
        AuthorizationCallback::parse_query("code=%0A"),
        Err(CallbackError::InvalidCode(_))
    ));
    assert_eq!(
        AuthorizationCallback::parse_query("code=%FF"),
        Err(CallbackError::Form(FormError::NotUtf8))
    );
}

#[test]
fn authorization_code_is_secret() {
    let code = AuthorizationCode::parse("SplxlOBeZQQYbYS6WxSbIA").unwrap();
    assert_eq!(format!("{code:?}"), "AuthorizationCode(<redacted>)");
    assert_eq!(
        code,
        AuthorizationCode::parse("SplxlOBeZQQYbYS6WxSbIA").unwrap()
    );
    assert_ne!(
        code,
        AuthorizationCode::parse("SplxlOBeZQQYbYS6WxSbIB").unwrap()
    );
    let a = AuthorizationCode::generate().unwrap();
    let b = AuthorizationCode::generate().unwrap();
    assert_eq!(a.secret().len(), 43);
    assert_ne!(a, b);
}
