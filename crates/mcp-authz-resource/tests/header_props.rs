//! Property tests of the header handling of the framework-neutral core (REQUIREMENTS RS-2, RS-7, TY-1):
//! any `Authorization` value or query string is answered, never with a panic, a 5xx or a pass.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::{Arc, Mutex};

use http::{HeaderValue, Request, StatusCode};
use mcp_authz_metadata::{Issuer, ResourceUri};
use mcp_authz_resource::{
    InvalidToken, ResourceServer, ResourceServerConfig, TokenVerifier, VerifiedClaims, VerifyError,
};
use mcp_authz_token::{AccessToken, BearerChallenge, BearerError};
use proptest::prelude::*;

/// Refuses every token and records what it was given.
#[derive(Default, Clone)]
struct Recorder(Arc<Mutex<Vec<String>>>);

impl TokenVerifier for Recorder {
    async fn verify(&self, token: &AccessToken) -> Result<VerifiedClaims, VerifyError> {
        self.0.lock().unwrap().push(token.secret().to_owned());
        Err(InvalidToken::BadSignature.into())
    }
}

fn server(recorder: Recorder) -> ResourceServer<Recorder> {
    let config =
        ResourceServerConfig::builder(ResourceUri::parse("https://mcp.example.com/mcp").unwrap())
            .authorization_server(Issuer::parse("https://auth.example.com").unwrap())
            .required_scope("mcp:tools".parse().unwrap())
            .build()
            .unwrap();
    ResourceServer::new(config, recorder)
}

fn authorize(
    server: &ResourceServer<Recorder>,
    uri: &str,
    auth: Option<HeaderValue>,
) -> (StatusCode, BearerChallenge) {
    let mut request = Request::builder().uri(uri);
    if let Some(value) = auth {
        request = request.header("authorization", value);
    }
    let (parts, ()) = request.body(()).unwrap().into_parts();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let rejection = runtime.block_on(server.authorize(&parts)).unwrap_err();
    let response = rejection.into_response();
    let challenge =
        BearerChallenge::from_header_values(response.headers().get_all("www-authenticate"))
            .unwrap()
            .unwrap();
    (response.status(), challenge)
}

fn b64token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9._~+/-]{1,200}=*"
}

proptest! {
    #[test]
    fn rs7_any_header_bytes_get_400_or_401_and_a_parseable_challenge(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let Ok(value) = HeaderValue::from_bytes(&bytes) else { return Ok(()) };
        let server = server(Recorder::default());
        let (status, challenge) = authorize(&server, "/mcp", Some(value));
        prop_assert!(status == StatusCode::BAD_REQUEST || status == StatusCode::UNAUTHORIZED);
        prop_assert_eq!(challenge.status(), status);
        prop_assert!(challenge.resource_metadata.is_some());
    }

    #[test]
    fn rs7_bearer_b64token_reaches_the_verifier_unchanged(token in b64token(), scheme in "(?i:bearer)", spaces in " {1,3}") {
        let recorder = Recorder::default();
        let server = server(recorder.clone());
        let value = HeaderValue::from_str(&format!("{scheme}{spaces}{token}")).unwrap();
        let (status, challenge) = authorize(&server, "/mcp", Some(value));
        prop_assert_eq!(status, StatusCode::UNAUTHORIZED);
        prop_assert_eq!(challenge.error, Some(BearerError::InvalidToken));
        prop_assert_eq!(recorder.0.lock().unwrap().clone(), vec![token]);
    }

    #[test]
    fn rs7_access_token_in_query_is_always_400(prefix in "[a-z]{1,5}=[a-z0-9]{0,5}", token in "[A-Za-z0-9]{0,20}", header_token in b64token()) {
        let recorder = Recorder::default();
        let server = server(recorder.clone());
        let uri = format!("/mcp?{prefix}&access_token={token}");
        let value = HeaderValue::from_str(&format!("Bearer {header_token}")).unwrap();
        let (status, challenge) = authorize(&server, &uri, Some(value));
        prop_assert_eq!(status, StatusCode::BAD_REQUEST);
        prop_assert_eq!(challenge.error, Some(BearerError::InvalidRequest));
        prop_assert!(recorder.0.lock().unwrap().is_empty());
    }

    #[test]
    fn rs2_no_header_is_401_without_error(query in proptest::option::of("[a-z]{1,8}=[a-z0-9]{0,8}")) {
        let server = server(Recorder::default());
        let uri = match query { Some(q) => format!("/mcp?{q}"), None => "/mcp".to_owned() };
        let (status, challenge) = authorize(&server, &uri, None);
        prop_assert_eq!(status, StatusCode::UNAUTHORIZED);
        prop_assert_eq!(challenge.error, None);
        prop_assert_eq!(challenge.scope.map(|s| s.to_string()), Some("mcp:tools".to_owned()));
    }
}
