//! # mcp-authz-resource
//!
//! OAuth 2.1 protection for MCP servers acting as resource servers (MCP authorization, RFC 9728,
//! RFC 6750, RFC 9068, RFC 7662): what the official Rust SDK leaves to every server author.
//!
//! - **Configuration**: [`ResourceServerConfig`] — the canonical resource URI, the authorization
//!   servers, `scopes_supported`, a [`ScopeHierarchy`] and the scopes each tool needs; validated at
//!   construction, secure defaults, weakening settings only in [`dangerous`].
//! - **Metadata**: the RFC 9728 document, served at `/.well-known/oauth-protected-resource<path>`.
//! - **Core** over `http` types: [`ResourceServer::authorize`] gives [`VerifiedClaims`] or a
//!   [`Rejection`], whose [`Rejection::into_response`] is the status, `WWW-Authenticate` challenge
//!   (with `resource_metadata` and `scope`) and JSON body; [`ResourceServer::check_tool`] for
//!   per-operation scopes.
//! - **tower middleware**: [`RequireBearerLayer`] / [`RequireBearer`] / [`ResponseFuture`], usable from
//!   axum and rmcp's streamable HTTP service; it also checks `tools/call` scopes.
//! - **Verifiers** behind [`TokenVerifier`]: [`JwtVerifier`] (RFC 9068 against the JWKS discovered from
//!   RFC 8414 metadata) and [`IntrospectionVerifier`] (RFC 7662), both with a bounded cache keyed by
//!   the token's SHA-256; HTTP through the shared [`HttpClient`] ([`ReqwestHttpClient`]), size- and time-limited;
//!   time through [`Clock`].
//!
//! | Situation | Answer |
//! |---|---|
//! | no token | 401, `Bearer resource_metadata=…, scope=…` without `error` |
//! | invalid, expired, wrong issuer or audience, bad signature, `alg` not allowed | 401 `invalid_token` |
//! | token in the query string, malformed `Authorization` | 400 `invalid_request` |
//! | valid token, missing scope | 403 `insufficient_scope` with every scope needed |
//! | JWKS / introspection unreachable and nothing cached decides | 503 with `Retry-After` |
//! | revoked, as a [`RevocationCheck`] says | 401 `invalid_token` |
//! | `Mcp-Session-Id` of another principal, or unknown to the layer | 404 |
//!
//! ```no_run
//! use mcp_authz_metadata::{Issuer, ResourceUri};
//! use mcp_authz_resource::{JwtVerifier, RequireBearerLayer, ResourceServer, ResourceServerConfig, VerifiedClaims};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let resource = ResourceUri::parse("https://mcp.example.com/mcp")?;
//! let issuer = Issuer::parse("https://auth.example.com")?;
//! let config = ResourceServerConfig::builder(resource.clone())
//!     .authorization_server(issuer.clone())
//!     .required_scope("mcp:tools".parse()?)
//!     .build()?;
//! let verifier = JwtVerifier::builder(issuer, resource).build()?;
//! let app: axum::Router = axum::Router::new()
//!     .route("/mcp", axum::routing::get(|claims: VerifiedClaims| async move {
//!         format!("hello {:?}", claims.subject())
//!     }))
//!     .layer(RequireBearerLayer::new(ResourceServer::new(config, verifier)));
//! # let _ = app;
//! # Ok(())
//! # }
//! ```
// The README's code blocks are compiled and run as doc tests.
#![cfg_attr(doctest, doc = include_str!("../README.md"))]
#![forbid(unsafe_code)]

#[cfg(feature = "axum")]
mod axum;
mod body;
mod cache;
mod claims;
mod clock;
mod config;
pub mod dangerous;
mod fetch;
mod hierarchy;
mod jsonrpc;
mod layer;
mod rejection;
mod resource_server;
mod session;
mod verifier;

pub use body::ResponseBody;
// What a user needs to call this crate's API, so that depending on this crate is enough.
pub use claims::VerifiedClaims;
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{
    ConfigError, DEFAULT_MAX_INSPECTED_BODY, ResourceServerConfig, ResourceServerConfigBuilder,
};
pub use fetch::DEFAULT_FETCH_TIMEOUT;
pub use hierarchy::ScopeHierarchy;
/// The `http` crate, whose [`request::Parts`](http::request::Parts) [`ResourceServer::authorize`]
/// takes (and rmcp tool handlers receive).
pub use http;
pub use http::request::Parts;
pub use layer::{RequireBearer, RequireBearerLayer, ResponseFuture};
pub use mcp_authz_metadata::{
    ClientId, ClientSecret, Issuer, NumericDate, ResourceUri, Scope, ScopeToken, Url,
};
pub use mcp_authz_token::JwsAlgorithm;
/// The shared outbound-HTTP types ([`mcp_authz_token::fetch`]), re-exported here so configuring a
/// verifier needs no other crate.
pub use mcp_authz_token::fetch::{
    FetchError, HttpClient, HttpRequest, HttpResponse, ReqwestHttpClient, ReqwestHttpClientBuilder,
    TransportError,
};
pub use mcp_authz_token::{AccessToken, Audience, BearerTokenError, ClaimsError};
pub use rejection::{Rejection, RejectionReason};
pub use resource_server::ResourceServer;
pub use verifier::{
    CheckError, DEFAULT_CACHE_CAPACITY, DEFAULT_JWKS_MAX_AGE, DEFAULT_JWKS_STALE_GRACE,
    DEFAULT_MAX_CACHE_TTL, DEFAULT_MAX_DOCUMENT_SIZE, DEFAULT_REFETCH_INTERVAL,
    DEFAULT_RETRY_AFTER, IntrospectionVerifier, IntrospectionVerifierBuilder, InvalidToken,
    JwtVerifier, JwtVerifierBuilder, Misconfiguration, RevocationCheck, RevocationFuture,
    RevocationUnavailable, SigningAlgorithm, TokenVerifier, VerifyError,
};
