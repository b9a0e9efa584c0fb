//! # mcp-authz-metadata
//!
//! The shared vocabulary of OAuth 2.1 for the Model Context Protocol, and the metadata documents that
//! MCP authorization discovers and validates.
//!
//! - **Vocabulary** (REQUIREMENTS TY-3, TY-5): [`Scope`] / [`ScopeToken`], [`Issuer`], [`ResourceUri`]
//!   (the MCP canonical server URI), [`ClientId`], [`RedirectUri`], [`ClientSecret`], and the open
//!   registries [`GrantType`], [`ResponseType`], [`TokenEndpointAuthMethod`], [`ApplicationType`].
//!
//! Every type parses through one validating constructor (`parse`, also behind `FromStr`, `TryFrom` and
//! serde), so a value of the type is always valid.
//!
//! ```
//! use mcp_authz_metadata::{ResourceUri, Scope};
//! let resource = ResourceUri::parse("HTTPS://MCP.example.com/")?;
//! assert_eq!(resource.as_str(), "https://mcp.example.com");
//! let scope: Scope = "tools:call files:read".parse()?;
//! assert!(scope.contains("files:read"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

mod vocab;

pub use url::Url;
pub use vocab::{
    ApplicationType, ClientId, ClientIdError, ClientSecret, GrantType, Issuer, IssuerError,
    RedirectUri, RedirectUriError, ResourceUri, ResourceUriError, ResponseType, Scope, ScopeError,
    ScopeToken, TokenEndpointAuthMethod, is_loopback_host,
};
