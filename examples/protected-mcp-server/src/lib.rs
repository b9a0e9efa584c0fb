//! The protected MCP server of the `protected-mcp-server` example, as a library so that its
//! end-to-end test can start it: an rmcp streamable-HTTP service with three tools behind
//! `mcp_authz_resource::RequireBearerLayer`.
// The examples' README (composing a server from the crates) is compiled as doc tests here, where
// its dependencies are.
#![cfg_attr(doctest, doc = include_str!("../../README.md"))]

mod tools;

use std::sync::Arc;

use mcp_authz_metadata::{Issuer, ResourceUri};
use mcp_authz_resource::{
    ConfigError, RequireBearerLayer, ResourceServer, ResourceServerConfig, TokenVerifier,
};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tower_layer::Layer as _;

pub use tools::Notes;

/// The example's authorization configuration: every request needs `mcp:tools`; `read_notes` needs
/// `notes:read`, `add_note` needs `notes:write`, which implies `notes:read`.
pub fn config(resource: ResourceUri, issuer: Issuer) -> Result<ResourceServerConfig, ConfigError> {
    let scope = |s: &str| {
        s.parse()
            .map_err(|_| ConfigError::UnlistedScope(s.to_owned()))
    };
    let token = |s: &str| {
        s.parse()
            .map_err(|_| ConfigError::UnlistedScope(s.to_owned()))
    };
    ResourceServerConfig::builder(resource)
        .authorization_server(issuer)
        .resource_name("protected-mcp-server example")
        .scopes_supported(scope("mcp:tools notes:read notes:write")?)
        .required_scope(scope("mcp:tools")?)
        .tool_scope("read_notes", scope("notes:read")?)
        .tool_scope("add_note", scope("notes:write")?)
        .scope_implies(token("notes:write")?, [token("notes:read")?])
        .build()
}

/// The axum app: the MCP service at the resource's path and its RFC 9728 metadata at
/// `/.well-known/oauth-protected-resource<path>`, both behind the layer (which answers the metadata
/// request itself). Both paths are routes of their own, so the app can be merged into another router
/// (an authorization server's, with its own fallback) and still serve the metadata.
pub fn app<V: TokenVerifier>(
    resource: &ResourceUri,
    server: ResourceServer<V>,
    mcp_config: StreamableHttpServerConfig,
) -> axum::Router {
    let notes = Notes::new();
    let mcp = StreamableHttpService::new(
        move || Ok(notes.clone()),
        Arc::new(LocalSessionManager::default()),
        mcp_config,
    );
    let path = match resource.path() {
        "" => "/",
        path => path,
    };
    let guarded = RequireBearerLayer::new(server).layer(mcp);
    let metadata_path = format!("/.well-known/oauth-protected-resource{path}");
    axum::Router::new()
        .route_service(path, guarded.clone())
        .route_service(&metadata_path, guarded)
}
