//! # mcp-authz-client
//!
//! The client side of MCP authorization: from a bare MCP server URL to a working token, kept working
//! for weeks (REQUIREMENTS CL-1 .. CL-14).
//!
//! - **Discovery** ([`Discovery`]): the `WWW-Authenticate` challenge, protected resource metadata
//!   (RFC 9728) with the `resource` check, authorization server metadata (RFC 8414 / OpenID) with the
//!   `issuer` check and S256 PKCE support.
//! - **Registration**: [`PreRegisteredClient`], a Client ID Metadata Document URL, or dynamic
//!   registration with `application_type`; credentials keyed by issuer ([`ClientCredentials`]).
//! - **Authorization**: scope selection, PKCE, `state`, `resource` on every request, the RFC 9207
//!   `iss` check before the code is used, through an [`AuthorizationStep`]: [`LoopbackRedirect`]
//!   (browser plus a one-shot `127.0.0.1` listener) or a headless implementation.
//! - **Access** ([`OAuthClient::send`]): Bearer on every request, refresh before expiry and on
//!   `invalid_token`, rotated refresh tokens saved before use, `invalid_grant` drops the grant, step-up
//!   on `403 insufficient_scope` with the union of scopes, at most three authorizations per call.
//! - **Storage** ([`TokenStore`]): [`MemoryTokenStore`] and [`FileTokenStore`] (atomic, `0600`).
//! - **Transport**: the workspace's one [`HttpClient`] trait and [`FetchError`] (from
//!   `mcp_authz_token::fetch`; [`ReqwestHttpClient`] with the default `reqwest` feature) behind a [`UrlPolicy`] (https; loopback only by a development setting; private,
//!   link-local and metadata-service addresses refused; 64 KiB documents; time limits; no redirects).
//! - **MCP** ([`McpClient`]): `initialize`/`server/discover`, `tools/list`, `tools/call` over
//!   streamable HTTP (JSON or SSE responses), every request authorized; with the `rmcp` feature,
//!   `AuthorizedRmcpClient` is an rmcp streamable-HTTP client transport over the same client.
//! - **Machine clients**: [`Flow::ClientCredentials`] and `private_key_jwt` through a
//!   [`ClientAssertionSigner`].
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use mcp_authz_client::{FileTokenStore, McpClient, OAuthClient};
//!
//! let oauth = OAuthClient::builder("https://mcp.example.com/mcp")?
//!     .token_store(Arc::new(FileTokenStore::new("/home/me/.config/app/tokens.json")))
//!     .build()?;
//! let mcp = McpClient::new(Arc::new(oauth), "2025-11-25");
//! mcp.connect().await?;
//! for tool in mcp.list_tools().await? {
//!     println!("{}", tool.name);
//! }
//! # Ok(()) }
//! ```
// The README's code blocks are compiled and run as doc tests.
#![cfg_attr(doctest, doc = include_str!("../README.md"))]
#![forbid(unsafe_code)]

mod assertion;
mod client;
mod discovery;
mod error;
mod fetch;
mod logout;
mod loopback;
mod mcp;
mod policy;
mod registration;
#[cfg(feature = "rmcp")]
mod rmcp_adapter;
mod step;
mod store;
mod text;
mod token;

pub use assertion::{ClientAssertionClaims, ClientAssertionSigner};
// What a user needs to call this crate's API, so that depending on this crate is enough.
pub use client::{Flow, MAX_AUTHORIZATIONS_PER_OPERATION, OAuthClient, OAuthClientBuilder};
pub use discovery::{Discovery, DiscoveryError};
pub use error::{AuthorizationError, ClientError};
pub use logout::Logout;
pub use loopback::{BrowserLaunch, LoopbackRedirect};
pub use mcp::{CallToolResult, ContentItem, McpClient, McpError, ToolInfo};
pub use mcp_authz_metadata::{
    ApplicationType, ClientId, ClientSecret, Issuer, NumericDate, RedirectUri, ResourceUri, Scope,
    ScopeToken, TokenEndpointAuthMethod, Url,
};
/// The shared outbound-HTTP types ([`mcp_authz_token::fetch`]), re-exported here so configuring a
/// client needs no other crate.
pub use mcp_authz_token::fetch::{
    AddressGuard, FetchError, HttpClient, HttpRequest, HttpResponse, PolicyError, TransportError,
};
#[cfg(feature = "reqwest")]
pub use mcp_authz_token::fetch::{ReqwestHttpClient, ReqwestHttpClientBuilder};
pub use mcp_authz_token::{AccessToken, BearerChallenge, ErrorCode, RefreshToken};
pub use policy::UrlPolicy;
pub use registration::{PreRegisteredClient, RegistrationError};
#[cfg(feature = "rmcp")]
pub use rmcp_adapter::AuthorizedRmcpClient;
pub use step::{AuthorizationStep, AuthorizationStepError, RedirectCapture};
pub use store::{
    ClientCredentials, FileTokenStore, GrantKey, MemoryTokenStore, StoreError, StoredGrant,
    TokenFileContents, TokenStore,
};
pub use token::TokenError;

/// Entry points for property tests and fuzzing; not a stable interface.
#[doc(hidden)]
pub mod internal {
    pub use crate::discovery::covers;
    pub use crate::mcp::sse_data;
}
