//! The shared vocabulary: scopes (REQUIREMENTS TY-3), the canonical server URI examples of the MCP
//! specification (TY-5), issuers, client identifiers, redirect URIs (AS-4) and open registries.
// Test helpers and strategies outside `#[test]` functions unwrap known-good literals.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use mcp_authz_metadata::{
    ApplicationType, ClientId, ClientIdError, ClientSecret, GrantType, Issuer, IssuerError,
    RedirectUri, RedirectUriError, ResourceUri, ResourceUriError, ResponseType, Scope, ScopeError,
    ScopeToken, TokenEndpointAuthMethod,
};

#[test]
fn scope_tokens_are_nqchar_ty3() {
    // NQCHAR = %x21 / %x23-5B / %x5D-7E
    assert!(ScopeToken::parse("!").is_ok());
    assert!(ScopeToken::parse("#[]~").is_ok());
    assert!(ScopeToken::parse("https://mcp.example.com/tools:call").is_ok());
    assert_eq!(ScopeToken::parse("a\"b"), Err(ScopeError::InvalidChar('"')));
    assert_eq!(
        ScopeToken::parse("a\\b"),
        Err(ScopeError::InvalidChar('\\'))
    );
    assert_eq!(
        ScopeToken::parse("a\u{7f}"),
        Err(ScopeError::InvalidChar('\u{7f}'))
    );
    assert_eq!(ScopeToken::parse("é"), Err(ScopeError::InvalidChar('é')));
    assert_eq!(
        ScopeToken::parse("a\tb"),
        Err(ScopeError::InvalidChar('\t'))
    );
    assert_eq!(ScopeToken::parse(""), Err(ScopeError::EmptyToken));
}

#[test]
fn scope_is_a_set_with_a_space_delimited_wire_form_ty3() {
    let scope = Scope::parse("tools:call files:read tools:call").unwrap();
    assert_eq!(scope, Scope::parse("files:read tools:call").unwrap());
    assert_eq!(scope.len(), 2);
    assert_eq!(scope.to_string(), "files:read tools:call");
    assert!(scope.contains("tools:call"));
    assert!(!scope.contains("tools"));
    for bad in ["", " a", "a ", "a  b"] {
        assert_eq!(Scope::parse(bad), Err(ScopeError::EmptyToken), "{bad:?}");
    }
    assert_eq!(
        serde_json::to_string(&scope).unwrap(),
        "\"files:read tools:call\""
    );
    assert_eq!(
        serde_json::from_str::<Scope>("\"b a\"")
            .unwrap()
            .to_string(),
        "a b"
    );
    assert_eq!(serde_json::from_str::<Scope>("\"\"").unwrap(), Scope::new());
    assert!(serde_json::from_str::<Scope>("\"a\\\\b\"").is_err());
}

#[test]
fn scope_set_operations() {
    let granted = Scope::parse("a b offline_access").unwrap();
    let needed = Scope::parse("b c").unwrap();
    assert_eq!(granted.union(&needed).to_string(), "a b c offline_access");
    assert_eq!(granted.intersection(&needed).to_string(), "b");
    assert_eq!(granted.difference(&needed).to_string(), "a offline_access");
    assert!(Scope::parse("b").unwrap().is_subset(&needed));
    assert!(!granted.is_subset(&needed));
    assert_eq!(granted.without_offline_access().to_string(), "a b");
    let mut scope = Scope::new();
    assert!(scope.insert(ScopeToken::parse("x").unwrap()));
    assert!(!scope.insert(ScopeToken::parse("x").unwrap()));
    assert!(scope.remove(&ScopeToken::parse("x").unwrap()));
    assert!(scope.is_empty());
}

#[test]
fn mcp_canonical_uri_valid_examples_ty5() {
    for valid in [
        "https://mcp.example.com/mcp",
        "https://mcp.example.com",
        "https://mcp.example.com:8443",
        "https://mcp.example.com/server/mcp",
    ] {
        let uri = ResourceUri::parse(valid).unwrap();
        assert_eq!(uri.as_str(), valid, "already canonical");
    }
}

#[test]
fn mcp_canonical_uri_invalid_examples_ty5() {
    assert!(matches!(
        ResourceUri::parse("mcp.example.com"),
        Err(ResourceUriError::NotAbsolute(_))
    ));
    assert_eq!(
        ResourceUri::parse("https://mcp.example.com#fragment").err(),
        Some(ResourceUriError::HasFragment)
    );
}

#[test]
fn canonicalisation_rules_ty5() {
    // Uppercase scheme and host accepted, lowercased; no trailing slash for the root; default port
    // dropped; a trailing slash on a longer path kept.
    for (input, canonical) in [
        ("HTTPS://MCP.EXAMPLE.COM", "https://mcp.example.com"),
        ("https://mcp.example.com/", "https://mcp.example.com"),
        ("https://mcp.example.com:443/", "https://mcp.example.com"),
        ("http://localhost:80", "http://localhost"),
        ("https://Mcp.Example.com/MCP", "https://mcp.example.com/MCP"),
        (
            "https://mcp.example.com/mcp/",
            "https://mcp.example.com/mcp/",
        ),
        (
            "https://mcp.example.com/a/./b/../mcp",
            "https://mcp.example.com/a/mcp",
        ),
        ("https://[::1]:8443/mcp", "https://[::1]:8443/mcp"),
    ] {
        assert_eq!(
            ResourceUri::parse(input).unwrap().as_str(),
            canonical,
            "{input}"
        );
    }
    assert_eq!(
        ResourceUri::parse("https://MCP.example.com/").unwrap(),
        ResourceUri::parse("https://mcp.example.com").unwrap()
    );
    assert_eq!(
        ResourceUri::parse("ftp://mcp.example.com").err(),
        Some(ResourceUriError::UnsupportedScheme("ftp".into()))
    );
    assert_eq!(
        ResourceUri::parse("https://u:p@mcp.example.com").err(),
        Some(ResourceUriError::HasUserinfo)
    );
    assert_eq!(
        ResourceUri::parse(" https://mcp.example.com").err(),
        Some(ResourceUriError::InvalidChar(' '))
    );
    assert_eq!(
        ResourceUri::parse("https://mcp.example.com/")
            .unwrap()
            .path(),
        ""
    );
    assert_eq!(
        ResourceUri::parse("https://mcp.example.com/public/mcp")
            .unwrap()
            .path(),
        "/public/mcp"
    );
}

#[test]
fn issuer_rules() {
    assert_eq!(
        Issuer::parse("https://as.example/tenant").unwrap().as_str(),
        "https://as.example/tenant"
    );
    for loopback in [
        "http://localhost:8400",
        "http://127.0.0.1",
        "http://[::1]:9000/x",
    ] {
        assert!(
            Issuer::parse(loopback).unwrap().is_insecure_loopback(),
            "{loopback}"
        );
    }
    assert_eq!(
        Issuer::parse("http://as.example").err(),
        Some(IssuerError::InsecureScheme("http".into()))
    );
    assert_eq!(
        Issuer::parse("https://as.example?a=b").err(),
        Some(IssuerError::HasQuery)
    );
    assert_eq!(
        Issuer::parse("https://as.example#f").err(),
        Some(IssuerError::HasFragment)
    );
    assert_eq!(
        Issuer::parse("https://u@as.example").err(),
        Some(IssuerError::HasUserinfo)
    );
    assert!(matches!(
        Issuer::parse("as.example"),
        Err(IssuerError::NotAUrl(_))
    ));
    // Regression: the URL parser drops tabs, newlines and surrounding spaces; the verbatim text would
    // then differ from the URL it names.
    assert_eq!(
        Issuer::parse("https://as.exa\tmple").err(),
        Some(IssuerError::InvalidChar('\t'))
    );
    assert_eq!(
        Issuer::parse("https://as.example ").err(),
        Some(IssuerError::InvalidChar(' '))
    );
    // Exact-string identity.
    assert_ne!(
        Issuer::parse("https://as.example").unwrap(),
        Issuer::parse("https://as.example/").unwrap()
    );
}

#[test]
fn client_id_rules() {
    assert_eq!(ClientId::parse(""), Err(ClientIdError::Empty));
    assert_eq!(
        ClientId::parse("a\u{1}"),
        Err(ClientIdError::InvalidChar('\u{1}'))
    );
    assert_eq!(
        ClientId::parse(&"a".repeat(2049)),
        Err(ClientIdError::TooLong)
    );
    assert!(ClientId::parse(&"a".repeat(2048)).is_ok());
    let cimd = ClientId::parse("https://app.example.com/client.json?v=1").unwrap();
    assert!(cimd.metadata_document_url().is_some());
    // Not in normalised form: the URL fetched would differ from the identifier.
    for not_cimd in [
        "https://APP.example.com/client.json",
        "https://app.example.com:443/client.json",
        "https://app.example.com/./client.json",
        "https://app.example.com/client.json#x",
    ] {
        assert!(
            ClientId::parse(not_cimd)
                .unwrap()
                .metadata_document_url()
                .is_none(),
            "{not_cimd}"
        );
    }
}

#[test]
fn redirect_uri_rules_as4() {
    assert_eq!(
        RedirectUri::parse("http://app.example.com/cb"),
        Err(RedirectUriError::InsecureScheme)
    );
    assert_eq!(
        RedirectUri::parse("javascript:alert(1)"),
        Err(RedirectUriError::ForbiddenScheme("javascript".into()))
    );
    assert_eq!(
        RedirectUri::parse("https://app.example.com/c b"),
        Err(RedirectUriError::InvalidChar(' '))
    );
    assert_eq!(
        RedirectUri::parse("https://app.example.com/cb\n"),
        Err(RedirectUriError::InvalidChar('\n'))
    );
    let registered = RedirectUri::parse("http://127.0.0.1/callback").unwrap();
    let presented = RedirectUri::parse("http://127.0.0.1:51004/callback").unwrap();
    assert!(presented.matches_registered(&registered));
    let https = RedirectUri::parse("https://app.example.com/cb").unwrap();
    assert!(
        !RedirectUri::parse("https://app.example.com/cb/")
            .unwrap()
            .matches_registered(&https)
    );
    assert!(
        !RedirectUri::parse("https://app.example.com:8443/cb")
            .unwrap()
            .matches_registered(&https)
    );
    assert!(
        RedirectUri::parse("com.example.app:/oauth")
            .unwrap()
            .is_private_use_scheme()
    );
}

#[test]
fn registries_keep_unknown_values() {
    assert_eq!(
        GrantType::from("authorization_code"),
        GrantType::AuthorizationCode
    );
    assert_eq!(
        GrantType::from("implicit"),
        GrantType::Unknown("implicit".into())
    );
    assert_eq!(ResponseType::from("code"), ResponseType::Code);
    assert_eq!(
        TokenEndpointAuthMethod::from("tls_client_auth").as_str(),
        "tls_client_auth"
    );
    assert_eq!(ApplicationType::from("native"), ApplicationType::Native);
    let json = r#"["web","native","browser"]"#;
    let parsed: Vec<ApplicationType> = serde_json::from_str(json).unwrap();
    assert_eq!(parsed[2], ApplicationType::Unknown("browser".into()));
    assert_eq!(serde_json::to_string(&parsed).unwrap(), json);
}

#[test]
fn client_secret_is_redacted_and_compared_in_constant_time_ty4() {
    let secret = ClientSecret::new("cf136dc3c1fc93f31185e5885805d");
    assert!(!format!("{secret:?}").contains("cf136"));
    assert_eq!(secret, ClientSecret::new("cf136dc3c1fc93f31185e5885805d"));
    assert_ne!(secret, ClientSecret::new("cf136dc3c1fc93f31185e5885805e"));
    assert_eq!(secret.secret(), "cf136dc3c1fc93f31185e5885805d");
}

#[test]
fn serde_goes_through_validation() {
    assert!(serde_json::from_str::<Issuer>("\"http://as.example\"").is_err());
    assert!(serde_json::from_str::<ResourceUri>("\"https://r.example#f\"").is_err());
    assert!(serde_json::from_str::<RedirectUri>("\"http://evil.example/cb\"").is_err());
    assert!(serde_json::from_str::<ClientId>("\"\"").is_err());
    assert!(serde_json::from_str::<ScopeToken>("\"a b\"").is_err());
    let resource: ResourceUri = serde_json::from_str("\"HTTPS://R.example/\"").unwrap();
    assert_eq!(
        serde_json::to_string(&resource).unwrap(),
        "\"https://r.example\""
    );
}
