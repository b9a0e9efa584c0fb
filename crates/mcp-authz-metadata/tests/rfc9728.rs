//! RFC 9728 protected resource metadata: the §3.2 example response, and the rules of MCP
//! (REQUIREMENTS RS-1, RS-9, CL-2).
// Test helpers and strategies outside `#[test]` functions unwrap known-good literals.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use mcp_authz_metadata::{
    BearerMethod, DocumentError, EndpointProblem, Issuer, ProtectedResourceMetadata,
    ProtectedResourceMetadataError, ResourceUri, Scope, Url,
};

/// RFC 9728 §3.2, the example response body.
const RFC9728_EXAMPLE: &str = r#"{
  "resource":
    "https://resource.example.com",
  "authorization_servers":
    ["https://as1.example.com",
     "https://as2.example.net"],
  "bearer_methods_supported":
    ["header", "body"],
  "scopes_supported":
    ["profile", "email", "phone"],
  "resource_documentation":
    "https://resource.example.com/resource_documentation.html"
}"#;

fn resource(s: &str) -> ResourceUri {
    ResourceUri::parse(s).unwrap()
}

#[test]
fn rfc9728_example_parses_and_validates() {
    let doc = ProtectedResourceMetadata::parse(RFC9728_EXAMPLE.as_bytes()).unwrap();
    assert_eq!(doc.resource.as_str(), "https://resource.example.com");
    assert_eq!(
        doc.bearer_methods_supported,
        Some(vec![BearerMethod::Header, BearerMethod::Body])
    );
    let validated = doc
        .validate(&resource("https://resource.example.com"))
        .unwrap();
    assert_eq!(
        validated.resource().as_str(),
        "https://resource.example.com"
    );
    let servers: Vec<&str> = validated
        .authorization_servers()
        .iter()
        .map(Issuer::as_str)
        .collect();
    assert_eq!(
        servers,
        ["https://as1.example.com", "https://as2.example.net"]
    );
    assert_eq!(
        validated.authorization_server().as_str(),
        "https://as1.example.com"
    );
    assert_eq!(
        validated.scopes_supported(),
        Some(Scope::parse("profile email phone").unwrap())
    );
}

#[test]
fn rfc9728_example_round_trips_every_member() {
    let doc = ProtectedResourceMetadata::parse(RFC9728_EXAMPLE.as_bytes()).unwrap();
    let written: serde_json::Value = serde_json::to_value(&doc).unwrap();
    let original: serde_json::Value = serde_json::from_str(RFC9728_EXAMPLE).unwrap();
    assert_eq!(written, original);
}

#[test]
fn resource_must_equal_the_expected_canonical_uri_cl2() {
    let doc = ProtectedResourceMetadata::parse(RFC9728_EXAMPLE.as_bytes()).unwrap();
    assert_eq!(
        doc.validate(&resource("https://resource.example.com/mcp"))
            .err(),
        Some(ProtectedResourceMetadataError::ResourceMismatch {
            expected: "https://resource.example.com/mcp".into(),
            found: "https://resource.example.com".into(),
        })
    );
    // Equal after TY-5 canonicalisation: case of scheme and host, default port, root slash.
    let doc = ProtectedResourceMetadata::parse(
        br#"{"resource":"HTTPS://Resource.Example.com:443/","authorization_servers":["https://as.example"]}"#,
    )
    .unwrap();
    assert!(
        doc.validate(&resource("https://resource.example.com"))
            .is_ok()
    );
}

#[test]
fn at_least_one_authorization_server_rs1() {
    for body in [
        r#"{"resource":"https://r.example"}"#,
        r#"{"resource":"https://r.example","authorization_servers":[]}"#,
    ] {
        let doc = ProtectedResourceMetadata::parse(body.as_bytes()).unwrap();
        assert_eq!(
            doc.validate(&resource("https://r.example")).err(),
            Some(ProtectedResourceMetadataError::NoAuthorizationServers),
            "{body}"
        );
    }
}

#[test]
fn jwks_uri_must_be_secure() {
    let mut doc = ProtectedResourceMetadata::parse(RFC9728_EXAMPLE.as_bytes()).unwrap();
    doc.jwks_uri = Some(Url::parse("http://resource.example.com/jwks").unwrap());
    assert_eq!(
        doc.validate(&resource("https://resource.example.com"))
            .err(),
        Some(ProtectedResourceMetadataError::InvalidJwksUri {
            url: "http://resource.example.com/jwks".into(),
            problem: EndpointProblem::InsecureScheme,
        })
    );
}

#[test]
fn resource_member_is_required_and_typed() {
    assert_eq!(
        ProtectedResourceMetadata::parse(br#"{"authorization_servers":["https://as.example"]}"#)
            .err(),
        Some(DocumentError::MissingMember("resource"))
    );
    assert!(matches!(
        ProtectedResourceMetadata::parse(br#"{"resource":"https://r.example#frag"}"#),
        Err(DocumentError::InvalidMember {
            member: "resource",
            ..
        })
    ));
    assert!(matches!(
        ProtectedResourceMetadata::parse(
            br#"{"resource":"https://r.example","authorization_servers":["http://as.example"]}"#
        ),
        Err(DocumentError::InvalidMember {
            member: "authorization_servers",
            ..
        })
    ));
}

#[test]
fn server_built_document_never_advertises_offline_access_rs9() {
    let doc = ProtectedResourceMetadata::new(
        resource("https://mcp.example.com/mcp"),
        vec![Issuer::parse("https://auth.example.com").unwrap()],
    )
    .with_scopes_supported(&Scope::parse("tools:call offline_access files:read").unwrap());
    let json: serde_json::Value = serde_json::to_value(&doc).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "resource": "https://mcp.example.com/mcp",
            "authorization_servers": ["https://auth.example.com"],
            "scopes_supported": ["files:read", "tools:call"],
            "bearer_methods_supported": ["header"],
        })
    );
    // A client reading a document that does list it drops it too (REQUIREMENTS CL-6).
    let received = ProtectedResourceMetadata::parse(
        br#"{"resource":"https://r.example","authorization_servers":["https://as.example"],"scopes_supported":["a","offline_access"]}"#,
    )
    .unwrap()
    .validate(&resource("https://r.example"))
    .unwrap();
    assert_eq!(
        received.scopes_supported(),
        Some(Scope::parse("a").unwrap())
    );
}

#[test]
fn unknown_members_are_kept() {
    let body = br#"{"resource":"https://r.example","resource_name#fr":"Ressource","signed_metadata":"x.y.z","authorization_servers":["https://as.example"]}"#;
    let doc = ProtectedResourceMetadata::parse(body).unwrap();
    assert_eq!(doc.extra.len(), 2);
    let written = serde_json::to_vec(&doc).unwrap();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&written).unwrap(),
        serde_json::from_slice::<serde_json::Value>(body).unwrap()
    );
}
