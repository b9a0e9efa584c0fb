//! Reading documents: the size cap (REQUIREMENTS SEC-6), malformed input, duplicates, non-objects
//! (REQUIREMENTS TY-1) — the same for every document type.
// Test helpers and strategies outside `#[test]` functions unwrap known-good literals.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use mcp_authz_metadata::{
    AuthorizationServerMetadata, ClientIdMetadataDocument, ClientMetadata,
    ClientRegistrationResponse, DEFAULT_MAX_DOCUMENT_SIZE, DocumentError,
    ProtectedResourceMetadata, RegistrationErrorResponse,
};

type Parser = fn(&[u8], usize) -> Result<(), DocumentError>;

fn parsers() -> [(&'static str, Parser); 6] {
    [
        ("as", |b, l| {
            AuthorizationServerMetadata::parse_with_limit(b, l).map(|_| ())
        }),
        ("prm", |b, l| {
            ProtectedResourceMetadata::parse_with_limit(b, l).map(|_| ())
        }),
        ("client", |b, l| {
            ClientMetadata::parse_with_limit(b, l).map(|_| ())
        }),
        ("response", |b, l| {
            ClientRegistrationResponse::parse_with_limit(b, l).map(|_| ())
        }),
        ("error", |b, l| {
            RegistrationErrorResponse::parse_with_limit(b, l).map(|_| ())
        }),
        ("cimd", |b, l| {
            ClientIdMetadataDocument::parse_with_limit(b, l).map(|_| ())
        }),
    ]
}

#[test]
fn default_limit_is_64_kib_sec6() {
    assert_eq!(DEFAULT_MAX_DOCUMENT_SIZE, 65_536);
    let big = format!(
        r#"{{"issuer":"https://as.example","x":"{}"}}"#,
        "a".repeat(DEFAULT_MAX_DOCUMENT_SIZE)
    );
    assert_eq!(
        AuthorizationServerMetadata::parse(big.as_bytes()).err(),
        Some(DocumentError::TooLarge {
            size: big.len(),
            limit: DEFAULT_MAX_DOCUMENT_SIZE
        })
    );
    assert_eq!(
        ProtectedResourceMetadata::parse(big.as_bytes()).err(),
        Some(DocumentError::TooLarge {
            size: big.len(),
            limit: DEFAULT_MAX_DOCUMENT_SIZE
        })
    );
    // Exactly at the limit is fine.
    let body = br#"{"issuer":"https://as.example"}"#;
    assert!(AuthorizationServerMetadata::parse_with_limit(body, body.len()).is_ok());
}

#[test]
fn every_parser_applies_its_limit_before_parsing_sec6() {
    for (name, parse) in parsers() {
        // Not even JSON: the size is refused first.
        assert_eq!(
            parse(b"not json at all", 4),
            Err(DocumentError::TooLarge { size: 15, limit: 4 }),
            "{name}"
        );
    }
}

#[test]
fn malformed_and_non_object_input_ty1() {
    for (name, parse) in parsers() {
        for bad in [
            &b""[..],
            b"{",
            b"{\"a\":}",
            b"{} {}",
            b"\xff\xfe",
            b"{\"a\":\"\xff\"}",
        ] {
            assert!(
                matches!(parse(bad, 1024), Err(DocumentError::Malformed { .. })),
                "{name}: {bad:?} -> {:?}",
                parse(bad, 1024)
            );
        }
        for not_object in [&b"[]"[..], b"1", b"\"s\"", b"null", b"true"] {
            assert_eq!(
                parse(not_object, 1024),
                Err(DocumentError::NotAnObject),
                "{name}"
            );
        }
        assert_eq!(
            parse(br#"{"a":1,"a":2}"#, 1024),
            Err(DocumentError::DuplicateMember("a".into())),
            "{name}"
        );
    }
}

#[test]
fn duplicate_known_members_are_refused() {
    assert_eq!(
        AuthorizationServerMetadata::parse(
            br#"{"issuer":"https://as.example","issuer":"https://evil.example"}"#
        )
        .err(),
        Some(DocumentError::DuplicateMember("issuer".into()))
    );
}

#[test]
fn malformed_reports_position() {
    let err = AuthorizationServerMetadata::parse(b"{\n  \"issuer\": }").unwrap_err();
    match err {
        DocumentError::Malformed { line, column, .. } => {
            assert_eq!(line, 2);
            assert!(column > 0);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!(
        r#"{{"issuer":"https://as.example","x":{}{}}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    assert!(matches!(
        AuthorizationServerMetadata::parse(deep.as_bytes()),
        Err(DocumentError::Malformed { .. })
    ));
}
