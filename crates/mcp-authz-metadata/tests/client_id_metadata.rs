//! Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document; MCP client-registration):
//! the example document of the MCP specification and the validation rules (REQUIREMENTS AS-10, CL-5).
// Test helpers and strategies outside `#[test]` functions unwrap known-good literals.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use mcp_authz_metadata::{
    ClientId, ClientIdMetadataDocument, ClientIdMetadataDocumentError, DocumentError,
};

/// The example metadata document of the MCP specification (client-registration.mdx).
const MCP_EXAMPLE: &str = r#"{
  "client_id": "https://app.example.com/oauth/client-metadata.json",
  "client_name": "Example MCP Client",
  "client_uri": "https://app.example.com",
  "logo_uri": "https://app.example.com/logo.png",
  "redirect_uris": [
    "http://127.0.0.1:3000/callback",
    "http://localhost:3000/callback"
  ],
  "grant_types": ["authorization_code"],
  "response_types": ["code"],
  "token_endpoint_auth_method": "none"
}"#;

const URL: &str = "https://app.example.com/oauth/client-metadata.json";

fn url() -> ClientId {
    ClientId::parse(URL).unwrap()
}

fn with(member: &str, value: serde_json::Value) -> Vec<u8> {
    let mut doc: serde_json::Value = serde_json::from_str(MCP_EXAMPLE).unwrap();
    if value.is_null() {
        doc.as_object_mut().unwrap().remove(member);
    } else {
        doc[member] = value;
    }
    serde_json::to_vec(&doc).unwrap()
}

fn validate(body: &[u8]) -> Result<(), ClientIdMetadataDocumentError> {
    ClientIdMetadataDocument::parse(body)
        .unwrap()
        .validate(&url())
        .map(|_| ())
}

#[test]
fn mcp_example_validates() {
    let validated = ClientIdMetadataDocument::parse(MCP_EXAMPLE.as_bytes())
        .unwrap()
        .validate(&url())
        .unwrap();
    assert_eq!(validated.client_id().as_str(), URL);
    assert_eq!(validated.client_name(), "Example MCP Client");
    assert_eq!(validated.redirect_uris().len(), 2);
    assert!(validated.has_only_loopback_redirect_uris());
}

#[test]
fn mcp_example_round_trips() {
    let doc = ClientIdMetadataDocument::parse(MCP_EXAMPLE.as_bytes()).unwrap();
    let written = serde_json::to_vec(&doc).unwrap();
    // Every member is kept; URL members are written in the URL parser's normalised form, so the
    // empty path of `client_uri` becomes `/`. Identifiers compared as strings (client_id, redirect
    // URIs) are kept verbatim.
    let mut expected: serde_json::Value = serde_json::from_str(MCP_EXAMPLE).unwrap();
    expected["client_uri"] = "https://app.example.com/".into();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&written).unwrap(),
        expected
    );
    assert_eq!(ClientIdMetadataDocument::parse(&written).unwrap(), doc);
}

#[test]
fn client_id_must_equal_the_document_url_exactly() {
    for other in [
        "https://app.example.com/oauth/client-metadata.json/",
        "https://APP.example.com/oauth/client-metadata.json",
        "https://app.example.com/oauth/other.json",
    ] {
        assert_eq!(
            validate(&with("client_id", other.into())),
            Err(ClientIdMetadataDocumentError::ClientIdMismatch {
                expected: URL.into(),
                found: other.into(),
            })
        );
    }
    assert_eq!(
        ClientIdMetadataDocument::parse(&with("client_id", serde_json::Value::Null)).err(),
        Some(DocumentError::MissingMember("client_id"))
    );
}

#[test]
fn the_fetched_url_must_be_a_client_id_url() {
    let doc = ClientIdMetadataDocument::parse(MCP_EXAMPLE.as_bytes()).unwrap();
    for bad in [
        "s6BhdRkqt3",
        "https://app.example.com",
        "https://app.example.com/",
        "http://app.example.com/client.json",
        "https://app.example.com/a/../client.json",
        "https://user@app.example.com/client.json",
    ] {
        assert_eq!(
            doc.clone().validate(&ClientId::parse(bad).unwrap()).err(),
            Some(ClientIdMetadataDocumentError::NotAMetadataDocumentUrl(
                bad.into()
            )),
            "{bad}"
        );
    }
}

#[test]
fn no_shared_secrets() {
    assert_eq!(
        validate(&with("client_secret", "s3cr3t".into())),
        Err(ClientIdMetadataDocumentError::SharedSecretMember(
            "client_secret"
        ))
    );
    assert_eq!(
        validate(&with("client_secret_expires_at", 0.into())),
        Err(ClientIdMetadataDocumentError::SharedSecretMember(
            "client_secret_expires_at"
        ))
    );
    for method in [
        "client_secret_basic",
        "client_secret_post",
        "client_secret_jwt",
    ] {
        assert_eq!(
            validate(&with("token_endpoint_auth_method", method.into())),
            Err(ClientIdMetadataDocumentError::SharedSecretAuthMethod(
                method.into()
            ))
        );
    }
    assert!(
        validate(&with(
            "token_endpoint_auth_method",
            "private_key_jwt".into()
        ))
        .is_ok()
    );
}

#[test]
fn redirect_uris_and_client_name_are_required() {
    assert_eq!(
        validate(&with("redirect_uris", serde_json::Value::Null)),
        Err(ClientIdMetadataDocumentError::MissingRedirectUris)
    );
    assert_eq!(
        validate(&with("redirect_uris", serde_json::json!([]))),
        Err(ClientIdMetadataDocumentError::MissingRedirectUris)
    );
    assert_eq!(
        validate(&with("client_name", serde_json::Value::Null)),
        Err(ClientIdMetadataDocumentError::MissingClientName)
    );
}

#[test]
fn documents_over_the_limit_are_refused_sec6() {
    let padding = "x".repeat(70 * 1024);
    let body = with("x_padding", padding.into());
    assert!(matches!(
        ClientIdMetadataDocument::parse(&body),
        Err(DocumentError::TooLarge { limit: 65536, .. })
    ));
    assert!(ClientIdMetadataDocument::parse_with_limit(&body, 128 * 1024).is_ok());
}
