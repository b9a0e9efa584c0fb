//! The demo MCP server `serve` hosts at `/mcp`: an rmcp streamable-HTTP service with three tools
//! behind `mcp_authz_resource::RequireBearerLayer`, whose tokens come from the same process's
//! authorization server.
//!
//! Every request needs `mcp:tools`; `read_notes` needs `notes:read`, `add_note` needs `notes:write`
//! (which implies `notes:read`); `whoami` needs nothing more.

mod tools;

use std::sync::Arc;

use axum::Router;
use mcp_authz_metadata::{Issuer, ResourceUri, Scope, ScopeToken};
use mcp_authz_resource::{
    ConfigError, JwtVerifier, RequireBearerLayer, ReqwestHttpClient, ResourceServer,
    ResourceServerConfig, RevocationCheck, RevocationFuture, VerifiedClaims,
};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tower_layer::Layer as _;

use tools::Notes;

/// No revocation check: a resource server without access to the authorization server's state
/// (resource-server-only mode) accepts a verified token until it expires.
pub(crate) struct NoRevocationCheck;

impl RevocationCheck for NoRevocationCheck {
    fn is_revoked<'a>(&'a self, _claims: &'a VerifiedClaims) -> RevocationFuture<'a> {
        Box::pin(async { Ok(false) })
    }
}

/// Every scope the demo server knows.
pub(crate) const SCOPES: &str = "mcp:tools notes:read notes:write";

/// What each demo scope allows, for the consent page.
pub(crate) const SCOPE_DESCRIPTIONS: [(&str, &str); 3] = [
    ("mcp:tools", "List and call the demo server's tools"),
    ("notes:read", "Read your notes"),
    ("notes:write", "Add notes (and read them)"),
];

/// Longer explanations of the demo's scopes, folded under the description on the consent page.
pub(crate) const SCOPE_DETAILS: [(&str, &str); 2] = [
    (
        "notes:read",
        "The read_notes tool returns every note stored under your account. Notes are kept only \
         while this demo server runs.",
    ),
    (
        "notes:write",
        "The add_note tool stores the text the application sends as a new note under your \
         account. It cannot change or delete notes.",
    ),
];

/// The scope `read_notes` needs.
pub(crate) const READ_SCOPE: &str = "notes:read";

/// The scope `add_note` needs.
pub(crate) const WRITE_SCOPE: &str = "notes:write";

/// The tool `_meta` member naming the scope a call needs (space-separated scope tokens), which
/// `mcp-authz tools` shows. The resource layer enforces the scope; this only tells it.
pub(crate) const REQUIRED_SCOPE_META: &str = "mcp-authz/required_scope";

fn scope(s: &str) -> Result<Scope, ConfigError> {
    s.parse()
        .map_err(|_| ConfigError::UnlistedScope(s.to_owned()))
}

fn token(s: &str) -> Result<ScopeToken, ConfigError> {
    s.parse()
        .map_err(|_| ConfigError::UnlistedScope(s.to_owned()))
}

/// The demo's authorization configuration.
fn config(resource: ResourceUri, issuer: Issuer) -> Result<ResourceServerConfig, ConfigError> {
    ResourceServerConfig::builder(resource)
        .authorization_server(issuer)
        .resource_name("mcp-authz demo server")
        .scopes_supported(scope(SCOPES)?)
        .required_scope(scope("mcp:tools")?)
        .tool_scope("read_notes", scope(READ_SCOPE)?)
        .tool_scope("add_note", scope(WRITE_SCOPE)?)
        .scope_implies(token(WRITE_SCOPE)?, [token(READ_SCOPE)?])
        .build()
}

/// How long the demo waits for the authorization server's metadata and JWKS.
const FETCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// The demo's token verifier: RFC 9068 JWTs of `issuer` for `resource`, keys from `jwks_uri` (default:
/// discovered from the issuer's metadata). `trusted_pem` is a certificate the HTTP client trusts
/// besides the public roots: `serve`'s own, possibly self-signed, TLS certificate.
pub(crate) fn verifier(
    issuer: Issuer,
    resource: ResourceUri,
    jwks_uri: Option<url::Url>,
    trusted_pem: Option<&[u8]>,
) -> Result<JwtVerifier, ConfigError> {
    let mut builder = JwtVerifier::builder(issuer, resource);
    if let Some(uri) = jwks_uri {
        builder = builder.jwks_uri(uri);
    }
    if let Some(pem) = trusted_pem {
        let certificate = reqwest::Certificate::from_pem(pem)
            .map_err(|e| ConfigError::HttpClient(e.to_string()))?;
        let client = reqwest::Client::builder()
            .add_root_certificate(certificate)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(FETCH_TIMEOUT)
            .build()
            .map_err(|e| ConfigError::HttpClient(e.to_string()))?;
        builder = builder.http_client(Arc::new(ReqwestHttpClient::from_client(client)));
    }
    builder.build()
}

/// The routes of the demo: the MCP service at the resource's path and its protected resource
/// metadata at the RFC 9728 well-known path, both behind the bearer layer. Every other path is left
/// to the router this is merged into. With `revocation`, tokens revoked since they were issued are
/// refused at once (REQUIREMENTS SEC-16).
pub(crate) fn routes(
    resource: &ResourceUri,
    issuer: Issuer,
    allowed_hosts: Vec<String>,
    verifier: JwtVerifier,
    revocation: Option<impl RevocationCheck>,
) -> Result<Router, ConfigError> {
    let mut server = ResourceServer::new(config(resource.clone(), issuer)?, verifier);
    if let Some(check) = revocation {
        server = server.with_revocation_check(check);
    }
    let notes = Notes::new();
    let mcp = StreamableHttpService::new(
        move || Ok(notes.clone()),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default().with_allowed_hosts(allowed_hosts),
    );
    let guarded = RequireBearerLayer::new(server).layer(mcp);
    let path = match resource.path() {
        "" => "/",
        path => path,
    };
    let metadata_path = format!("/.well-known/oauth-protected-resource{path}");
    Ok(Router::new()
        .route_service(path, guarded.clone())
        .route_service(&metadata_path, guarded))
}
