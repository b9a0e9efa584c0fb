//! Property tests: every parser round-trips what the renderer writes, and never panics on arbitrary
//! input (REQUIREMENTS TY-1, TY-2).
#![allow(clippy::unwrap_used)] // helpers and strategies outside #[test] functions unwrap known-good literals

use http::HeaderValue;
use mcp_authz_metadata::{
    ClientId, ClientSecret, Issuer, RedirectUri, ResourceUri, Scope, ScopeToken,
};
use mcp_authz_pkce::{CodeChallenge, CodeVerifier};
use mcp_authz_token::{
    AccessToken, ActiveToken, AuthParam, AuthorizationCallback, AuthorizationCode,
    AuthorizationCodeGrant, AuthorizationErrorResponse, AuthorizationRequest,
    AuthorizationResponse, BasicCredentials, BearerChallenge, BearerError, BodyClientCredentials,
    Challenge, ClientCredentialsGrant, ErrorCode, IntrospectionRequest, IntrospectionResponse,
    JwtAccessTokenClaims, RefreshToken, RefreshTokenGrant, RevocationRequest, State, TokenRequest,
    TokenResponse, TokenTypeHint, bearer_token, has_access_token_param,
};
use proptest::option;
use proptest::prelude::*;

const TOKEN: &str = "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}";
const VSCHAR: &str = "[ -~]{1,40}";

fn scope() -> impl Strategy<Value = Scope> {
    proptest::collection::vec("[!#-\\[\\]-~]{1,10}", 0..4).prop_map(|tokens| {
        tokens
            .iter()
            .map(|t| ScopeToken::parse(t).unwrap())
            .collect()
    })
}

fn non_empty_scope() -> impl Strategy<Value = Option<Scope>> {
    option::of(scope()).prop_map(|s| s.filter(|s| !s.is_empty()))
}

fn resource() -> impl Strategy<Value = ResourceUri> {
    "https://[a-z]{1,10}\\.example(:[1-9][0-9]{0,3})?(/[a-z0-9]{1,6}){0,2}"
        .prop_map(|s| ResourceUri::parse(&s).unwrap())
}

fn url() -> impl Strategy<Value = url::Url> {
    "https://[a-z]{1,10}\\.example/[a-z/._-]{0,12}".prop_map(|s| s.parse().unwrap())
}

fn redirect_uri() -> impl Strategy<Value = RedirectUri> {
    prop_oneof![
        "https://[a-z]{1,8}\\.example/cb(\\?x=[a-z0-9]{1,4})?",
        "http://127\\.0\\.0\\.1:[1-9][0-9]{3}/callback",
        "com\\.example\\.app:/oauth",
    ]
    .prop_map(|s| RedirectUri::parse(&s).unwrap())
}

fn challenge_value() -> impl Strategy<Value = String> {
    "[\\t -~é€]{0,20}"
}

fn generic_challenge() -> impl Strategy<Value = Challenge> {
    let params = proptest::collection::vec((TOKEN, challenge_value()), 0..4).prop_map(|ps| {
        ps.into_iter()
            .map(|(name, value)| AuthParam { name, value })
            .collect::<Vec<_>>()
    });
    (
        TOKEN,
        prop_oneof![
            "[A-Za-z0-9._~+/-]{1,20}={0,2}".prop_map(|t| (Some(t), Vec::new())),
            params.prop_map(|p| (None, p)),
        ],
    )
        .prop_map(|(scheme, (token68, params))| Challenge {
            scheme,
            token68,
            params,
        })
}

fn bearer_challenge() -> impl Strategy<Value = BearerChallenge> {
    let error = option::of(prop_oneof![
        Just(BearerError::InvalidRequest),
        Just(BearerError::InvalidToken),
        Just(BearerError::InsufficientScope),
        "[a-z_]{1,12}".prop_map(|s| BearerError::from(s.as_str())),
    ]);
    let extra =
        proptest::collection::btree_map("x-[a-z]{1,6}", challenge_value(), 0..3).prop_map(|m| {
            m.into_iter()
                .map(|(name, value)| AuthParam { name, value })
                .collect::<Vec<_>>()
        });
    (
        option::of(challenge_value()),
        option::of(scope()),
        error,
        option::of("[ -~]{0,30}"),
        option::of(url()),
        option::of(url()),
        extra,
    )
        .prop_map(
            |(realm, scope, error, error_description, error_uri, resource_metadata, extra)| {
                BearerChallenge {
                    realm,
                    scope,
                    error,
                    error_description,
                    error_uri,
                    resource_metadata,
                    extra,
                }
            },
        )
}

fn token_request() -> impl Strategy<Value = TokenRequest> {
    let resources = || proptest::collection::vec(resource(), 0..3);
    prop_oneof![
        (
            VSCHAR.prop_map(String::from),
            option::of(redirect_uri()),
            "[A-Za-z0-9._~-]{43,128}",
            resources()
        )
            .prop_map(|(code, redirect_uri, verifier, resources)| {
                TokenRequest::AuthorizationCode(AuthorizationCodeGrant {
                    code: AuthorizationCode::parse(&code).unwrap(),
                    redirect_uri,
                    code_verifier: CodeVerifier::parse(&verifier).unwrap(),
                    resources,
                })
            }),
        (
            VSCHAR.prop_map(String::from),
            non_empty_scope(),
            resources()
        )
            .prop_map(|(token, scope, resources)| {
                TokenRequest::RefreshToken(RefreshTokenGrant {
                    refresh_token: RefreshToken::parse(&token).unwrap(),
                    scope,
                    resources,
                })
            }),
        (non_empty_scope(), resources()).prop_map(|(scope, resources)| {
            TokenRequest::ClientCredentials(ClientCredentialsGrant { scope, resources })
        }),
        "[a-z:_-]{1,20}"
            .prop_filter("a grant type this crate supports", |g| {
                !matches!(
                    g.as_str(),
                    "authorization_code" | "refresh_token" | "client_credentials"
                )
            })
            .prop_map(|g| TokenRequest::Unsupported(g.as_str().into())),
    ]
}

fn body_credentials() -> impl Strategy<Value = BodyClientCredentials> {
    (option::of(VSCHAR), option::of(".{1,20}")).prop_map(|(id, secret)| BodyClientCredentials {
        client_id: id.map(|id| ClientId::parse(&id).unwrap()),
        client_secret: secret.map(ClientSecret::new),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    // ---- WWW-Authenticate ----

    #[test]
    fn challenge_parser_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(value) = HeaderValue::from_bytes(&bytes) {
            let _ = Challenge::parse_header_values([&value, &value]);
            let _ = BearerChallenge::from_header_values([&value]);
        }
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let _ = Challenge::parse_str(text);
        }
    }

    #[test]
    fn challenge_parser_never_panics_on_grammar_soup(s in "[ \\t,=\"\\\\a-zA-Z0-9+/é]{0,60}") {
        let _ = Challenge::parse_str(&s);
    }

    #[test]
    fn generic_challenges_round_trip(challenges in proptest::collection::vec(generic_challenge(), 0..4)) {
        let rendered = challenges.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
        prop_assert_eq!(Challenge::parse_str(&rendered).unwrap(), challenges.clone());
        // The same challenges split over several header values.
        let values: Vec<HeaderValue> = challenges
            .iter()
            .map(|c| HeaderValue::from_bytes(c.to_string().as_bytes()).unwrap())
            .collect();
        prop_assert_eq!(Challenge::parse_header_values(&values).unwrap(), challenges);
    }

    #[test]
    fn bearer_challenges_round_trip(challenge in bearer_challenge()) {
        let header = challenge.to_header_value().unwrap();
        let back = BearerChallenge::from_header_values([&header]).unwrap();
        prop_assert_eq!(back, Some(challenge));
    }

    // ---- Authorization header ----

    #[test]
    fn bearer_extraction_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
        if let Ok(value) = HeaderValue::from_bytes(&bytes) {
            let _ = bearer_token(&value);
            let _ = BasicCredentials::parse(&value);
        }
    }

    #[test]
    fn bearer_tokens_round_trip(token in "[A-Za-z0-9._~+/-]{1,60}={0,2}", scheme in "(?i)bearer", spaces in " {1,3}") {
        let value = HeaderValue::from_str(&format!("{scheme}{spaces}{token}")).unwrap();
        prop_assert_eq!(bearer_token(&value).unwrap(), AccessToken::parse(&token).unwrap());
    }

    #[test]
    fn basic_credentials_round_trip(id in VSCHAR, secret in ".{1,30}") {
        let creds = BasicCredentials { client_id: ClientId::parse(&id).unwrap(), client_secret: ClientSecret::new(secret) };
        prop_assert_eq!(BasicCredentials::parse(&creds.to_header_value()).unwrap(), creds);
    }

    #[test]
    fn query_token_detection_never_panics(s in ".{0,80}") {
        let _ = has_access_token_param(&s);
        let with_token = format!("{s}&access_token=x");
        prop_assert!(has_access_token_param(&with_token));
    }

    // ---- Authorization endpoint ----

    #[test]
    fn authorization_request_parser_never_panics(s in ".{0,200}") {
        let _ = AuthorizationRequest::parse_query(&s);
        let _ = AuthorizationCallback::parse_query(&s);
    }

    #[test]
    fn authorization_requests_round_trip(
        client_id in VSCHAR,
        redirect_uri in option::of(redirect_uri()),
        scope in non_empty_scope(),
        state in option::of(VSCHAR),
        digest in any::<[u8; 32]>(),
        resources in proptest::collection::vec(resource(), 0..3),
    ) {
        use base64::Engine as _;
        let challenge: CodeChallenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest).parse().unwrap();
        let request = AuthorizationRequest {
            client_id: ClientId::parse(&client_id).unwrap(),
            redirect_uri,
            scope,
            state: state.map(|s| State::parse(&s).unwrap()),
            code_challenge: challenge,
            resources,
        };
        prop_assert_eq!(AuthorizationRequest::parse_query(&request.to_query()).unwrap(), request);
    }

    #[test]
    fn authorization_responses_round_trip(
        code in VSCHAR,
        state in option::of(VSCHAR),
        iss in option::of("https://[a-z]{1,8}\\.example(/[a-z]{1,5})?"),
        redirect in redirect_uri(),
        error in option::of(("[a-z_]{1,20}", option::of("[ !#-\\[\\]-~]{1,30}"), option::of(url()))),
    ) {
        let state = state.map(|s| State::parse(&s).unwrap());
        let iss = iss.map(|i| Issuer::parse(&i).unwrap());
        match error {
            None => {
                let response = AuthorizationResponse { code: AuthorizationCode::parse(&code).unwrap(), state, iss };
                let back = AuthorizationCallback::from_url(&response.redirect_url(&redirect)).unwrap();
                prop_assert_eq!(back, AuthorizationCallback::Success(response));
            }
            Some((code, description, uri)) => {
                let response = AuthorizationErrorResponse {
                    error: ErrorCode::from(code.as_str()),
                    error_description: description,
                    error_uri: uri,
                    state,
                    iss,
                };
                let back = AuthorizationCallback::from_url(&response.redirect_url(&redirect)).unwrap();
                prop_assert_eq!(back, AuthorizationCallback::Error(response));
            }
        }
    }

    // ---- Token, introspection, revocation endpoints ----

    #[test]
    fn form_parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = TokenRequest::parse_form(&bytes);
        let _ = IntrospectionRequest::parse_form(&bytes);
        let _ = RevocationRequest::parse_form(&bytes);
    }

    #[test]
    fn form_parsers_never_panic_on_form_soup(s in "(grant_type|code|resource|scope|token|client_id|%[0-9A-Fa-f]{0,2}|[=&+a-z_])*") {
        let _ = TokenRequest::parse_form(s.as_bytes());
        let _ = AuthorizationRequest::parse_query(&s);
    }

    #[test]
    fn token_requests_round_trip(request in token_request(), client in body_credentials()) {
        let form = request.to_form(&client);
        let parsed = TokenRequest::parse_form(form.as_bytes()).unwrap();
        prop_assert_eq!(&parsed.client, &client);
        prop_assert_eq!(parsed.request.to_form(&parsed.client), form);
    }

    #[test]
    fn token_hint_requests_round_trip(token in VSCHAR, hint in option::of("[a-z_]{1,15}"), client in body_credentials()) {
        let mut request = IntrospectionRequest::new(AccessToken::parse(&token).unwrap());
        request.token_type_hint = hint.map(|h| TokenTypeHint::from(h.as_str()));
        let parsed = IntrospectionRequest::parse_form(request.to_form(&client).as_bytes()).unwrap();
        prop_assert_eq!(&parsed.client, &client);
        prop_assert_eq!(parsed.request, request);
        let revoke = RevocationRequest::new(RefreshToken::parse(&token).unwrap());
        prop_assert_eq!(RevocationRequest::parse_form(revoke.to_form(&client).as_bytes()).unwrap().request, revoke);
    }

    #[test]
    fn json_parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = serde_json::from_slice::<TokenResponse>(&bytes);
        let _ = serde_json::from_slice::<IntrospectionResponse>(&bytes);
        let _ = serde_json::from_slice::<mcp_authz_token::ErrorResponse>(&bytes);
        let _ = JwtAccessTokenClaims::from_json(&bytes);
    }

    #[test]
    fn token_responses_round_trip(
        access in VSCHAR,
        expires_in in option::of(any::<u64>()),
        refresh in option::of(VSCHAR),
        scope in option::of(scope()),
        extra in proptest::collection::btree_map("x_[a-z]{1,6}", any::<i64>(), 0..3),
    ) {
        let mut response = TokenResponse::bearer(AccessToken::parse(&access).unwrap(), expires_in);
        response.refresh_token = refresh.map(|r| RefreshToken::parse(&r).unwrap());
        response.scope = scope;
        response.extra = extra.into_iter().map(|(k, v)| (k, v.into())).collect();
        let json = serde_json::to_string(&response).unwrap();
        prop_assert_eq!(serde_json::from_str::<TokenResponse>(&json).unwrap(), response);
    }

    #[test]
    fn introspection_responses_round_trip(
        active in any::<bool>(),
        scope in option::of(scope()),
        sub in option::of("[ -~]{0,12}"),
        exp in option::of(any::<u64>()),
        aud in option::of(proptest::collection::btree_set("https://[a-z]{1,6}\\.example", 1..3)),
    ) {
        let response = if active {
            IntrospectionResponse::Active(Box::new(ActiveToken {
                scope,
                sub,
                exp: exp.map(Into::into),
                aud: aud.map(|a| a.into_iter().collect()),
                ..ActiveToken::default()
            }))
        } else {
            IntrospectionResponse::Inactive
        };
        let json = serde_json::to_string(&response).unwrap();
        prop_assert_eq!(serde_json::from_str::<IntrospectionResponse>(&json).unwrap(), response);
    }
}
