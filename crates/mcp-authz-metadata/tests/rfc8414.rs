//! RFC 8414 authorization server metadata: the §3.2 example response, and the validation rules of §3.3
//! and of MCP (REQUIREMENTS CL-3, CL-4, AS-1, AS-6).
// Test helpers and strategies outside `#[test]` functions unwrap known-good literals.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use mcp_authz_metadata::{
    AuthorizationServerMetadata, AuthorizationServerMetadataError, CodeChallengeMethod,
    DocumentError, EndpointProblem, GrantType, Issuer, ResponseType, TokenEndpointAuthMethod, Url,
};

/// RFC 8414 §3.2, the example response body.
const RFC8414_EXAMPLE: &str = r#"{
  "issuer":
    "https://server.example.com",
  "authorization_endpoint":
    "https://server.example.com/authorize",
  "token_endpoint":
    "https://server.example.com/token",
  "token_endpoint_auth_methods_supported":
    ["client_secret_basic", "private_key_jwt"],
  "token_endpoint_auth_signing_alg_values_supported":
    ["RS256", "ES256"],
  "userinfo_endpoint":
    "https://server.example.com/userinfo",
  "jwks_uri":
    "https://server.example.com/jwks.json",
  "registration_endpoint":
    "https://server.example.com/register",
  "scopes_supported":
    ["openid", "profile", "email", "address",
     "phone", "offline_access"],
  "response_types_supported":
    ["code", "code token"],
  "service_documentation":
    "http://server.example.com/service_documentation.html",
  "ui_locales_supported":
    ["en-US", "en-GB", "en-CA", "fr-FR", "fr-CA"]
}"#;

fn issuer(s: &str) -> Issuer {
    Issuer::parse(s).unwrap()
}

/// The RFC example plus what MCP requires on top of it.
fn mcp_ready_example() -> AuthorizationServerMetadata {
    let mut doc = AuthorizationServerMetadata::parse(RFC8414_EXAMPLE.as_bytes()).unwrap();
    doc.code_challenge_methods_supported = Some(vec![CodeChallengeMethod::S256]);
    doc
}

#[test]
fn rfc8414_example_parses_into_typed_members() {
    let doc = AuthorizationServerMetadata::parse(RFC8414_EXAMPLE.as_bytes()).unwrap();
    assert_eq!(doc.issuer.as_str(), "https://server.example.com");
    assert_eq!(
        doc.authorization_endpoint.as_ref().unwrap().as_str(),
        "https://server.example.com/authorize"
    );
    assert_eq!(
        doc.token_endpoint_auth_methods_supported,
        Some(vec![
            TokenEndpointAuthMethod::ClientSecretBasic,
            TokenEndpointAuthMethod::PrivateKeyJwt
        ])
    );
    assert_eq!(
        doc.response_types_supported,
        Some(vec![
            ResponseType::Code,
            ResponseType::Unknown("code token".into())
        ])
    );
    assert_eq!(doc.scopes_supported.as_ref().unwrap().len(), 6);
    assert_eq!(
        doc.userinfo_endpoint.as_ref().unwrap().as_str(),
        "https://server.example.com/userinfo"
    );
    assert_eq!(doc.ui_locales_supported.as_ref().unwrap().len(), 5);
    assert!(
        doc.extra.is_empty(),
        "every member of the example is modelled"
    );
}

#[test]
fn rfc8414_example_round_trips_every_member() {
    let doc = AuthorizationServerMetadata::parse(RFC8414_EXAMPLE.as_bytes()).unwrap();
    let written: serde_json::Value = serde_json::to_value(&doc).unwrap();
    let original: serde_json::Value = serde_json::from_str(RFC8414_EXAMPLE).unwrap();
    assert_eq!(written, original);
}

#[test]
fn rfc8414_example_lacks_pkce_and_is_refused_cl4() {
    let doc = AuthorizationServerMetadata::parse(RFC8414_EXAMPLE.as_bytes()).unwrap();
    assert_eq!(
        doc.validate(&issuer("https://server.example.com")).err(),
        Some(AuthorizationServerMetadataError::MissingCodeChallengeMethods)
    );
}

#[test]
fn s256_missing_from_methods_is_refused_cl4() {
    let mut doc = mcp_ready_example();
    doc.code_challenge_methods_supported = Some(vec![CodeChallengeMethod::Plain]);
    assert_eq!(
        doc.validate(&issuer("https://server.example.com")).err(),
        Some(AuthorizationServerMetadataError::S256NotSupported {
            advertised: vec!["plain".into()]
        })
    );
}

#[test]
fn validated_example_exposes_infallible_accessors() {
    let validated = mcp_ready_example()
        .validate(&issuer("https://server.example.com"))
        .unwrap();
    assert_eq!(validated.issuer().as_str(), "https://server.example.com");
    assert_eq!(
        validated.token_endpoint().as_str(),
        "https://server.example.com/token"
    );
    assert_eq!(
        validated.registration_endpoint().unwrap().as_str(),
        "https://server.example.com/register"
    );
    assert!(validated.supports_offline_access());
    assert!(!validated.supports_client_id_metadata_documents());
    assert!(!validated.supports_authorization_response_iss());
}

#[test]
fn issuer_must_be_identical_cl3() {
    // The attack from authorization-server-discovery.mdx: a document from attacker.example claiming
    // to be honest.example.
    let mut doc = mcp_ready_example();
    doc.issuer = issuer("https://honest.example");
    assert_eq!(
        doc.validate(&issuer("https://attacker.example")).err(),
        Some(AuthorizationServerMetadataError::IssuerMismatch {
            expected: "https://attacker.example".into(),
            found: "https://honest.example".into(),
        })
    );
    // Exact string comparison: a trailing slash is a different issuer.
    let doc = mcp_ready_example();
    assert!(matches!(
        doc.validate(&issuer("https://server.example.com/")),
        Err(AuthorizationServerMetadataError::IssuerMismatch { .. })
    ));
}

#[test]
fn endpoints_are_required_and_secure() {
    let expected = issuer("https://server.example.com");
    let mut doc = mcp_ready_example();
    doc.authorization_endpoint = None;
    assert_eq!(
        doc.validate(&expected).err(),
        Some(AuthorizationServerMetadataError::MissingAuthorizationEndpoint)
    );
    let mut doc = mcp_ready_example();
    doc.token_endpoint = None;
    assert_eq!(
        doc.validate(&expected).err(),
        Some(AuthorizationServerMetadataError::MissingTokenEndpoint)
    );
    let mut doc = mcp_ready_example();
    doc.token_endpoint = Some(Url::parse("http://server.example.com/token").unwrap());
    assert_eq!(
        doc.validate(&expected).err(),
        Some(AuthorizationServerMetadataError::InvalidEndpoint {
            member: "token_endpoint",
            url: "http://server.example.com/token".into(),
            problem: EndpointProblem::InsecureScheme,
        })
    );
    let mut doc = mcp_ready_example();
    doc.registration_endpoint = Some(Url::parse("https://server.example.com/r#f").unwrap());
    assert!(matches!(
        doc.validate(&expected),
        Err(AuthorizationServerMetadataError::InvalidEndpoint {
            member: "registration_endpoint",
            problem: EndpointProblem::HasFragment,
            ..
        })
    ));
    let mut doc = mcp_ready_example();
    doc.jwks_uri = Some(Url::parse("https://u:p@server.example.com/jwks").unwrap());
    assert!(matches!(
        doc.validate(&expected),
        Err(AuthorizationServerMetadataError::InvalidEndpoint {
            member: "jwks_uri",
            problem: EndpointProblem::HasUserinfo,
            ..
        })
    ));
}

#[test]
fn loopback_http_is_accepted_for_development() {
    let local = issuer("http://127.0.0.1:8400");
    let doc = AuthorizationServerMetadata::for_mcp(
        local.clone(),
        Url::parse("http://127.0.0.1:8400/authorize").unwrap(),
        Url::parse("http://localhost:8400/token").unwrap(),
    );
    assert!(doc.validate(&local).is_ok());
}

#[test]
fn response_and_grant_types_must_allow_the_code_flow() {
    let expected = issuer("https://server.example.com");
    let mut doc = mcp_ready_example();
    doc.response_types_supported = None;
    assert_eq!(
        doc.validate(&expected).err(),
        Some(AuthorizationServerMetadataError::MissingResponseTypes)
    );
    let mut doc = mcp_ready_example();
    doc.response_types_supported = Some(vec![ResponseType::Unknown("token".into())]);
    assert_eq!(
        doc.validate(&expected).err(),
        Some(
            AuthorizationServerMetadataError::CodeResponseTypeNotSupported {
                advertised: vec!["token".into()]
            }
        )
    );
    let mut doc = mcp_ready_example();
    doc.grant_types_supported = Some(vec![GrantType::ClientCredentials]);
    assert_eq!(
        doc.validate(&expected).err(),
        Some(
            AuthorizationServerMetadataError::AuthorizationCodeGrantNotSupported {
                advertised: vec!["client_credentials".into()]
            }
        )
    );
}

#[test]
fn for_mcp_publishes_what_as1_and_as6_require() {
    let doc = AuthorizationServerMetadata::for_mcp(
        issuer("https://auth.example.com"),
        Url::parse("https://auth.example.com/authorize").unwrap(),
        Url::parse("https://auth.example.com/token").unwrap(),
    );
    let json: serde_json::Value = serde_json::to_value(&doc).unwrap();
    assert_eq!(json["issuer"], "https://auth.example.com");
    assert_eq!(
        json["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        json["response_types_supported"],
        serde_json::json!(["code"])
    );
    assert_eq!(json["authorization_response_iss_parameter_supported"], true);
    assert!(json.get("jwks_uri").is_none(), "absent members are omitted");
}

#[test]
fn mcp_and_rfc9207_members_and_extras_round_trip() {
    let json = br#"{
        "issuer": "https://auth.example.com/tenant1",
        "authorization_endpoint": "https://auth.example.com/tenant1/authorize",
        "token_endpoint": "https://auth.example.com/tenant1/token",
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256", "plain"],
        "authorization_response_iss_parameter_supported": true,
        "client_id_metadata_document_supported": true,
        "signed_metadata": "eyJhbGciOiJub25lIn0.e30.",
        "x_vendor": {"nested": [1, 2.5, null, true]}
    }"#;
    let doc = AuthorizationServerMetadata::parse(json).unwrap();
    assert_eq!(doc.extra.len(), 2);
    let validated = doc
        .clone()
        .validate(&issuer("https://auth.example.com/tenant1"))
        .unwrap();
    assert!(validated.supports_client_id_metadata_documents());
    assert!(validated.supports_authorization_response_iss());
    let written = serde_json::to_vec(&doc).unwrap();
    assert_eq!(AuthorizationServerMetadata::parse(&written).unwrap(), doc);
    let a: serde_json::Value = serde_json::from_slice(json).unwrap();
    let b: serde_json::Value = serde_json::from_slice(&written).unwrap();
    assert_eq!(a, b);
}

#[test]
fn member_errors_name_the_member() {
    assert_eq!(
        AuthorizationServerMetadata::parse(br#"{"issuer":"http://as.example"}"#)
            .err()
            .map(|e| matches!(
                e,
                DocumentError::InvalidMember {
                    member: "issuer",
                    ..
                }
            )),
        Some(true)
    );
    assert!(matches!(
        AuthorizationServerMetadata::parse(
            br#"{"issuer":"https://as.example","token_endpoint":42}"#
        ),
        Err(DocumentError::InvalidMember {
            member: "token_endpoint",
            ..
        })
    ));
    assert!(matches!(
        AuthorizationServerMetadata::parse(
            br#"{"issuer":"https://as.example","scopes_supported":["a b"]}"#
        ),
        Err(DocumentError::InvalidMember {
            member: "scopes_supported",
            ..
        })
    ));
    // null is absent.
    let doc =
        AuthorizationServerMetadata::parse(br#"{"issuer":"https://as.example","jwks_uri":null}"#)
            .unwrap();
    assert_eq!(doc.jwks_uri, None);
}
