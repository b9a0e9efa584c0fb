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

/// The axum app: the MCP service at the resource's path, behind the layer (which also serves the
/// protected resource metadata).
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
    axum::Router::new()
        .route_service(path, mcp)
        .layer(RequireBearerLayer::new(server))
}
