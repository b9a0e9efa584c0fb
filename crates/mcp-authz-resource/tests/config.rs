//! Configuration is validated at construction (secure defaults; REQUIREMENTS RS-1, RS-6, RS-9), and the
//! scope hierarchy behaves as a closure (RS-6).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use mcp_authz_metadata::{Issuer, ResourceUri, Scope, ScopeToken, Url};
use mcp_authz_resource::{
    ConfigError, JwtVerifier, ResourceServerConfig, ScopeHierarchy, dangerous,
};
use proptest::prelude::*;

fn resource(s: &str) -> ResourceUri {
    ResourceUri::parse(s).unwrap()
}

fn issuer() -> Issuer {
    Issuer::parse("https://auth.example.com").unwrap()
}

#[test]
fn rs1_at_least_one_authorization_server_is_required() {
    let built = ResourceServerConfig::builder(resource("https://mcp.example.com")).build();
    assert_eq!(built.err(), Some(ConfigError::NoAuthorizationServer));
}

#[test]
fn plain_http_resource_needs_loopback_or_dangerous_opt_in() {
    let http = || {
        ResourceServerConfig::builder(resource("http://mcp.example.com/mcp"))
            .authorization_server(issuer())
    };
    assert!(matches!(
        http().build(),
        Err(ConfigError::InsecureResource(_))
    ));
    assert!(dangerous::allow_http_resource(http()).build().is_ok());
    assert!(
        ResourceServerConfig::builder(resource("http://127.0.0.1:8000/mcp"))
            .authorization_server(issuer())
            .build()
            .is_ok()
    );
}

#[test]
fn required_scopes_must_be_listed_in_scopes_supported() {
    let built = ResourceServerConfig::builder(resource("https://mcp.example.com"))
        .authorization_server(issuer())
        .scopes_supported("a b".parse().unwrap())
        .tool_scope("t", "c".parse().unwrap())
        .build();
    assert_eq!(built.err(), Some(ConfigError::UnlistedScope("c".into())));
}

#[test]
fn rs9_scopes_supported_defaults_to_every_named_scope_without_offline_access() {
    let config = ResourceServerConfig::builder(resource("https://mcp.example.com/mcp"))
        .authorization_server(issuer())
        .required_scope("base".parse().unwrap())
        .tool_scope("t", "tool:x".parse().unwrap())
        .scope_implies("admin".parse().unwrap(), ["tool:x".parse().unwrap()])
        .build()
        .unwrap();
    assert_eq!(
        config.scopes_supported(),
        &"admin base tool:x".parse::<Scope>().unwrap()
    );
    assert_eq!(
        config.tool_scope("t"),
        "base tool:x".parse::<Scope>().unwrap()
    );
    assert_eq!(
        config.tool_scope("unknown"),
        "base".parse::<Scope>().unwrap()
    );
    let doc: serde_json::Value = serde_json::from_slice(config.metadata_json()).unwrap();
    assert_eq!(doc["resource"], "https://mcp.example.com/mcp");
    assert_eq!(
        doc["bearer_methods_supported"],
        serde_json::json!(["header"])
    );
    assert_eq!(
        config.metadata_url().as_str(),
        "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
    );
}

#[test]
fn jwt_verifier_refuses_insecure_jwks_uri_and_empty_allow_list() {
    let built = JwtVerifier::builder(issuer(), resource("https://mcp.example.com"))
        .jwks_uri(Url::parse("http://auth.example.com/jwks").unwrap())
        .build();
    assert!(matches!(
        built.err(),
        Some(ConfigError::InsecureEndpoint(_))
    ));
    let built = JwtVerifier::builder(issuer(), resource("https://mcp.example.com"))
        .algorithms([])
        .build();
    assert_eq!(
        built.err().map(|e| e.to_string()),
        Some(ConfigError::NoAlgorithms.to_string())
    );
}

fn token() -> impl Strategy<Value = ScopeToken> {
    "[a-e]".prop_map(|s| ScopeToken::parse(&s).unwrap())
}

fn scope() -> impl Strategy<Value = Scope> {
    proptest::collection::btree_set(token(), 0..5).prop_map(|set| set.into_iter().collect())
}

fn hierarchy() -> impl Strategy<Value = ScopeHierarchy> {
    proptest::collection::vec((token(), proptest::collection::vec(token(), 0..3)), 0..6).prop_map(
        |rules| {
            rules
                .into_iter()
                .fold(ScopeHierarchy::new(), |h, (broad, narrow)| {
                    h.imply(broad, narrow)
                })
        },
    )
}

proptest! {
    #[test]
    fn rs6_expansion_is_a_closure(h in hierarchy(), granted in scope()) {
        let expanded = h.expand(&granted);
        prop_assert!(granted.is_subset(&expanded));
        prop_assert_eq!(h.expand(&expanded), expanded.clone());
        prop_assert!(h.satisfies(&granted, &expanded));
        prop_assert!(h.satisfies(&granted, &granted));
    }

    #[test]
    fn rs6_missing_is_exactly_what_the_closure_lacks(h in hierarchy(), granted in scope(), required in scope()) {
        let missing = h.missing(&granted, &required);
        prop_assert_eq!(missing.clone(), required.difference(&h.expand(&granted)));
        prop_assert_eq!(h.satisfies(&granted, &required), missing.is_empty());
    }
}
