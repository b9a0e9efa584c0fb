//! RFC 7591 dynamic client registration: the §3.1 request example, the §3.2.1 response example, the
//! §3.2.2 error examples, and validation for registration (REQUIREMENTS AS-12).
// Test helpers and strategies outside `#[test]` functions unwrap known-good literals.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use mcp_authz_metadata::{
    ApplicationType, ClientMetadata, ClientMetadataError, ClientRegistrationResponse, ClientSecret,
    DocumentError, GrantType, RegistrationErrorCode, RegistrationErrorResponse,
    TokenEndpointAuthMethod,
};

/// RFC 7591 §3.1, the example request body (non-normative; with the extension member).
const RFC7591_REQUEST: &str = r#"{
 "redirect_uris": [
   "https://client.example.org/callback",
   "https://client.example.org/callback2"],
 "client_name": "My Example Client",
 "client_name#ja-Jpan-JP":
    "\u30AF\u30E9\u30A4\u30A2\u30F3\u30C8\u540D",
 "token_endpoint_auth_method": "client_secret_basic",
 "logo_uri": "https://client.example.org/logo.png",
 "jwks_uri": "https://client.example.org/my_public_keys.jwks",
 "example_extension_parameter": "example_value"
}"#;

/// RFC 7591 §3.2.1, the example response body.
const RFC7591_RESPONSE: &str = r#"{
 "client_id": "s6BhdRkqt3",
 "client_secret": "cf136dc3c1fc93f31185e5885805d",
 "client_id_issued_at": 2893256800,
 "client_secret_expires_at": 2893276800,
 "redirect_uris": [
   "https://client.example.org/callback",
   "https://client.example.org/callback2"],
 "grant_types": ["authorization_code", "refresh_token"],
 "client_name": "My Example Client",
 "client_name#ja-Jpan-JP":
    "\u30AF\u30E9\u30A4\u30A2\u30F3\u30C8\u540D",
 "token_endpoint_auth_method": "client_secret_basic",
 "logo_uri": "https://client.example.org/logo.png",
 "jwks_uri": "https://client.example.org/my_public_keys.jwks",
 "example_extension_parameter": "example_value"
}"#;

fn json(s: &[u8]) -> serde_json::Value {
    serde_json::from_slice(s).unwrap()
}

#[test]
fn rfc7591_request_example_parses_and_validates() {
    let metadata = ClientMetadata::parse(RFC7591_REQUEST.as_bytes()).unwrap();
    assert_eq!(metadata.client_name.as_deref(), Some("My Example Client"));
    assert_eq!(
        metadata.token_endpoint_auth_method,
        Some(TokenEndpointAuthMethod::ClientSecretBasic)
    );
    assert_eq!(metadata.redirect_uris.as_ref().unwrap().len(), 2);
    assert_eq!(
        metadata
            .extra
            .get("client_name#ja-Jpan-JP")
            .and_then(|v| v.as_str()),
        Some("クライアント名")
    );
    assert_eq!(
        metadata
            .extra
            .get("example_extension_parameter")
            .and_then(|v| v.as_str()),
        Some("example_value")
    );
    let validated = metadata.validate().unwrap();
    assert_eq!(
        validated.redirect_uris()[0].as_str(),
        "https://client.example.org/callback"
    );
}

#[test]
fn rfc7591_request_example_round_trips() {
    let metadata = ClientMetadata::parse(RFC7591_REQUEST.as_bytes()).unwrap();
    let written = serde_json::to_vec(&metadata).unwrap();
    assert_eq!(json(&written), json(RFC7591_REQUEST.as_bytes()));
    assert_eq!(ClientMetadata::parse(&written).unwrap(), metadata);
}

#[test]
fn rfc7591_response_example_parses_and_round_trips() {
    let response = ClientRegistrationResponse::parse(RFC7591_RESPONSE.as_bytes()).unwrap();
    assert_eq!(response.client_id.as_str(), "s6BhdRkqt3");
    assert_eq!(
        response.client_secret,
        Some(ClientSecret::new("cf136dc3c1fc93f31185e5885805d"))
    );
    assert_eq!(response.client_id_issued_at, Some(2_893_256_800));
    assert_eq!(response.client_secret_expires_at, Some(2_893_276_800));
    assert_eq!(
        response.metadata.grant_types,
        Some(vec![GrantType::AuthorizationCode, GrantType::RefreshToken])
    );
    assert!(!response.is_secret_expired(2_893_276_799));
    assert!(response.is_secret_expired(2_893_276_800));
    let written = serde_json::to_vec(&response).unwrap();
    assert_eq!(json(&written), json(RFC7591_RESPONSE.as_bytes()));
    assert_eq!(
        ClientRegistrationResponse::parse(&written).unwrap(),
        response
    );
}

#[test]
fn secrets_in_a_response_are_redacted_in_debug() {
    let mut body = json(RFC7591_RESPONSE.as_bytes());
    body["registration_access_token"] = "reg-23410913-abewfq.123483".into();
    let response = ClientRegistrationResponse::parse(&serde_json::to_vec(&body).unwrap()).unwrap();
    let shown = format!("{response:?}");
    assert!(!shown.contains("cf136dc3c1fc93f31185e5885805d"), "{shown}");
    assert!(!shown.contains("reg-23410913"), "{shown}");
    assert_eq!(
        response
            .registration_access_token
            .as_ref()
            .unwrap()
            .secret(),
        "reg-23410913-abewfq.123483"
    );
}

#[test]
fn secret_requires_its_expiry() {
    assert_eq!(
        ClientRegistrationResponse::parse(br#"{"client_id":"a","client_secret":"b"}"#).err(),
        Some(DocumentError::MissingMember("client_secret_expires_at"))
    );
    assert_eq!(
        ClientRegistrationResponse::parse(br#"{"client_name":"x"}"#).err(),
        Some(DocumentError::MissingMember("client_id"))
    );
    let never = ClientRegistrationResponse::parse(
        br#"{"client_id":"a","client_secret":"b","client_secret_expires_at":0}"#,
    )
    .unwrap();
    assert!(!never.is_secret_expired(u64::MAX));
}

#[test]
fn rfc7591_error_examples() {
    let e = RegistrationErrorResponse::parse(
        br#"{
 "error": "invalid_redirect_uri",
 "error_description": "The redirection URI
   http://sketchy.example.com is not allowed by this server."
}"#
        .iter()
        .copied()
        .filter(|b| *b != b'\n')
        .collect::<Vec<_>>()
        .as_slice(),
    )
    .unwrap();
    assert_eq!(e.error, RegistrationErrorCode::InvalidRedirectUri);
    let e = RegistrationErrorResponse::parse(
        br#"{
 "error": "invalid_client_metadata",
 "error_description": "The grant type 'authorization_code' must be registered along with the response type 'code' but found only 'implicit' instead."
}"#,
    )
    .unwrap();
    assert_eq!(e.error, RegistrationErrorCode::InvalidClientMetadata);
    for (wire, code) in [
        (
            "invalid_software_statement",
            RegistrationErrorCode::InvalidSoftwareStatement,
        ),
        (
            "unapproved_software_statement",
            RegistrationErrorCode::UnapprovedSoftwareStatement,
        ),
        (
            "slow_down",
            RegistrationErrorCode::Unknown("slow_down".into()),
        ),
    ] {
        let body = format!(r#"{{"error":"{wire}"}}"#);
        let parsed = RegistrationErrorResponse::parse(body.as_bytes()).unwrap();
        assert_eq!(parsed.error, code);
        assert_eq!(
            json(&serde_json::to_vec(&parsed).unwrap()),
            json(body.as_bytes())
        );
    }
    let built = RegistrationErrorResponse::new(RegistrationErrorCode::InvalidRedirectUri, "nope");
    assert_eq!(
        serde_json::to_value(&built).unwrap(),
        serde_json::json!({"error":"invalid_redirect_uri","error_description":"nope"})
    );
}

#[test]
fn unreadable_requests_map_to_registration_error_codes() {
    let bad_redirect =
        ClientMetadata::parse(br#"{"redirect_uris":["http://sketchy.example.com"]}"#).unwrap_err();
    assert_eq!(
        RegistrationErrorCode::for_document_error(&bad_redirect),
        RegistrationErrorCode::InvalidRedirectUri
    );
    let bad_statement = ClientMetadata::parse(br#"{"software_statement":1}"#).unwrap_err();
    assert_eq!(
        RegistrationErrorCode::for_document_error(&bad_statement),
        RegistrationErrorCode::InvalidSoftwareStatement
    );
    let bad_uri = ClientMetadata::parse(br#"{"logo_uri":"not a uri"}"#).unwrap_err();
    assert_eq!(
        RegistrationErrorCode::for_document_error(&bad_uri),
        RegistrationErrorCode::InvalidClientMetadata
    );
}

#[test]
fn application_type_governs_redirect_uris_as12() {
    let native_ok = br#"{"application_type":"native","redirect_uris":["http://127.0.0.1:3000/cb","com.example.app:/oauth","http://localhost/cb"]}"#;
    assert!(ClientMetadata::parse(native_ok).unwrap().validate().is_ok());
    let web_loopback = ClientMetadata::parse(
        br#"{"application_type":"web","redirect_uris":["https://app.example.com/cb","http://localhost:3000/cb"]}"#,
    )
    .unwrap();
    let err = web_loopback.validate().unwrap_err();
    assert_eq!(
        err,
        ClientMetadataError::RedirectUriNotAllowed {
            application_type: "web".into(),
            redirect_uri: "http://localhost:3000/cb".into(),
        }
    );
    assert_eq!(
        err.registration_error_code(),
        RegistrationErrorCode::InvalidRedirectUri
    );
    let web_custom = ClientMetadata::parse(
        br#"{"application_type":"web","redirect_uris":["com.example.app:/oauth"]}"#,
    )
    .unwrap();
    assert!(web_custom.validate().is_err());
    let parsed = ClientMetadata::parse(br#"{"application_type":"native"}"#).unwrap();
    assert_eq!(parsed.application_type, Some(ApplicationType::Native));
}

#[test]
fn registration_rules() {
    let cases: [(&[u8], ClientMetadataError); 5] = [
        (br#"{}"#, ClientMetadataError::MissingRedirectUris),
        (br#"{"redirect_uris":[]}"#, ClientMetadataError::MissingRedirectUris),
        (
            br#"{"redirect_uris":["https://a.example/cb"],"response_types":["token"]}"#,
            ClientMetadataError::InconsistentGrantAndResponseTypes,
        ),
        (
            br#"{"redirect_uris":["https://a.example/cb"],"grant_types":["client_credentials"],"response_types":[]}"#,
            ClientMetadataError::NoAuthorizationCodeGrant,
        ),
        (
            br#"{"redirect_uris":["https://a.example/cb"],"jwks_uri":"https://a.example/jwks","jwks":{"keys":[]}}"#,
            ClientMetadataError::BothJwksAndJwksUri,
        ),
    ];
    for (body, expected) in cases {
        let metadata = ClientMetadata::parse(body).unwrap();
        assert_eq!(metadata.validate().err(), Some(expected.clone()));
        assert_eq!(
            expected.registration_error_code().as_str(),
            if matches!(expected, ClientMetadataError::MissingRedirectUris) {
                "invalid_redirect_uri"
            } else {
                "invalid_client_metadata"
            }
        );
    }
}

#[test]
fn defaults_of_rfc7591() {
    let metadata = ClientMetadata::parse(br#"{"redirect_uris":["https://a.example/cb"]}"#).unwrap();
    assert_eq!(
        metadata.effective_grant_types(),
        [GrantType::AuthorizationCode]
    );
    assert_eq!(
        metadata.effective_token_endpoint_auth_method(),
        TokenEndpointAuthMethod::ClientSecretBasic
    );
    assert_eq!(metadata.effective_response_types().len(), 1);
}
