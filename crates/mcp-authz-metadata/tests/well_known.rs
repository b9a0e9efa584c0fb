//! Well-known metadata URLs: the examples of authorization-server-discovery.mdx (REQUIREMENTS CL-1,
//! CL-3) and the paths servers serve (REQUIREMENTS RS-1, AS-1).
// Test helpers and strategies outside `#[test]` functions unwrap known-good literals.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use mcp_authz_metadata::{
    Issuer, ResourceUri, Url, authorization_server_metadata_path,
    authorization_server_metadata_paths, authorization_server_metadata_urls,
    protected_resource_metadata_path, protected_resource_metadata_url,
    protected_resource_metadata_urls,
};

fn strs(urls: &[Url]) -> Vec<&str> {
    urls.iter().map(Url::as_str).collect()
}

#[test]
fn prm_urls_with_a_path_cl1() {
    // "https://example.com/public/mcp could host metadata at
    //  https://example.com/.well-known/oauth-protected-resource/public/mcp", then the root.
    let resource = ResourceUri::parse("https://example.com/public/mcp").unwrap();
    assert_eq!(
        strs(&protected_resource_metadata_urls(&resource)),
        [
            "https://example.com/.well-known/oauth-protected-resource/public/mcp",
            "https://example.com/.well-known/oauth-protected-resource",
        ]
    );
    // The sequence diagram: GET /.well-known/oauth-protected-resource/mcp, then the root.
    let resource = ResourceUri::parse("https://mcp.example.com/mcp").unwrap();
    assert_eq!(
        strs(&protected_resource_metadata_urls(&resource)),
        [
            "https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
            "https://mcp.example.com/.well-known/oauth-protected-resource",
        ]
    );
}

#[test]
fn prm_urls_without_a_path_are_the_root_form_only() {
    for spelling in [
        "https://mcp.example.com",
        "https://mcp.example.com/",
        "HTTPS://MCP.EXAMPLE.COM:443",
    ] {
        let resource = ResourceUri::parse(spelling).unwrap();
        assert_eq!(
            strs(&protected_resource_metadata_urls(&resource)),
            ["https://mcp.example.com/.well-known/oauth-protected-resource"],
            "{spelling}"
        );
    }
    let with_port = ResourceUri::parse("http://localhost:8080").unwrap();
    assert_eq!(
        strs(&protected_resource_metadata_urls(&with_port)),
        ["http://localhost:8080/.well-known/oauth-protected-resource"]
    );
}

#[test]
fn prm_url_keeps_the_query_after_the_path() {
    // RFC 9728 §3.1: the well-known string goes between the host and the path and/or query.
    let resource = ResourceUri::parse("https://r.example/api?tenant=a").unwrap();
    assert_eq!(
        protected_resource_metadata_url(&resource).as_str(),
        "https://r.example/.well-known/oauth-protected-resource/api?tenant=a"
    );
    assert_eq!(
        protected_resource_metadata_path(&resource),
        "/.well-known/oauth-protected-resource/api"
    );
}

#[test]
fn prm_serving_path_rs1() {
    let resource = ResourceUri::parse("https://example.com/public/mcp").unwrap();
    assert_eq!(
        protected_resource_metadata_path(&resource),
        "/.well-known/oauth-protected-resource/public/mcp"
    );
    let root = ResourceUri::parse("https://example.com").unwrap();
    assert_eq!(
        protected_resource_metadata_path(&root),
        "/.well-known/oauth-protected-resource"
    );
    // The path served is the path of the first URL a client tries.
    assert_eq!(
        protected_resource_metadata_urls(&resource)[0].path(),
        protected_resource_metadata_path(&resource)
    );
}

#[test]
fn as_urls_with_a_path_cl3() {
    let issuer = Issuer::parse("https://auth.example.com/tenant1").unwrap();
    assert_eq!(
        strs(&authorization_server_metadata_urls(&issuer)),
        [
            "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
            "https://auth.example.com/.well-known/openid-configuration/tenant1",
            "https://auth.example.com/tenant1/.well-known/openid-configuration",
        ]
    );
    // A terminating slash of the issuer's path is dropped (RFC 8414 §3.1).
    let slash = Issuer::parse("https://auth.example.com/tenant1/").unwrap();
    assert_eq!(
        authorization_server_metadata_urls(&slash),
        authorization_server_metadata_urls(&issuer)
    );
}

#[test]
fn as_urls_without_a_path_cl3() {
    for spelling in ["https://auth.example.com", "https://auth.example.com/"] {
        let issuer = Issuer::parse(spelling).unwrap();
        assert_eq!(
            strs(&authorization_server_metadata_urls(&issuer)),
            [
                "https://auth.example.com/.well-known/oauth-authorization-server",
                "https://auth.example.com/.well-known/openid-configuration",
            ]
        );
    }
}

#[test]
fn as_serving_paths_as1() {
    let issuer = Issuer::parse("https://auth.example.com/tenant1").unwrap();
    assert_eq!(
        authorization_server_metadata_path(&issuer),
        "/.well-known/oauth-authorization-server/tenant1"
    );
    assert_eq!(
        authorization_server_metadata_paths(&issuer),
        [
            "/.well-known/oauth-authorization-server/tenant1",
            "/.well-known/openid-configuration/tenant1",
            "/tenant1/.well-known/openid-configuration",
        ]
    );
    let root = Issuer::parse("http://127.0.0.1:8400").unwrap();
    assert_eq!(
        authorization_server_metadata_path(&root),
        "/.well-known/oauth-authorization-server"
    );
}
