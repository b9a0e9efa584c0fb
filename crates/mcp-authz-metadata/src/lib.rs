//! # mcp-authz-metadata
//!
//! The shared vocabulary of OAuth 2.1 for the Model Context Protocol, and the metadata documents that
//! MCP authorization discovers and validates. Typed and I/O-free: no HTTP client, server or runtime.
//!
//! - **Vocabulary** (REQUIREMENTS TY-3, TY-5): [`Scope`] / [`ScopeToken`], [`Issuer`], [`ResourceUri`]
//!   (the MCP canonical server URI), [`ClientId`], [`RedirectUri`], [`ClientSecret`], and the open
//!   registries [`GrantType`], [`ResponseType`], [`TokenEndpointAuthMethod`], [`ApplicationType`].
//! - **Documents**, each read with `parse(&[u8])` (64 KiB cap, [`DocumentError`]) and checked with
//!   `validate`, which returns a verified type whose accessors cannot fail:
//!   - [`AuthorizationServerMetadata`] (RFC 8414, RFC 9207, OIDC Discovery members, CIMD support flag)
//!     -> [`ValidatedAuthorizationServerMetadata`];
//!   - [`ProtectedResourceMetadata`] (RFC 9728) -> [`ValidatedProtectedResourceMetadata`];
//!   - [`ClientMetadata`] (RFC 7591 §2) -> [`ValidatedClientMetadata`], [`ClientRegistrationResponse`],
//!     [`RegistrationErrorResponse`];
//!   - [`ClientIdMetadataDocument`] -> [`ValidatedClientIdMetadataDocument`].
//!
//!   Unknown members are kept in each document's `extra` map and written back when serialised.
//! - **Caching**: [`cache_control_max_age`] reads the freshness lifetime of a fetched document
//!   (RFC 9111 `Cache-Control`), for the JWKS cache of the resource layer (SEC-15).
//! - **Time**: [`NumericDate`] (RFC 7519 seconds since the epoch) and the [`Clock`] every crate
//!   injects ([`SystemClock`], [`ManualClock`] for tests): the one home of both.
//! - **Addresses**: [`classify_address`] is the one classifier every outbound fetch uses (SEC-12).
//! - **Well-known URLs**: [`protected_resource_metadata_urls`] and [`authorization_server_metadata_urls`]
//!   give the ordered discovery candidates; [`protected_resource_metadata_path`] and
//!   [`authorization_server_metadata_paths`] give the paths a server serves.
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
//!
//! Discovery, from a resource to a validated authorization server:
//!
//! ```
//! use mcp_authz_metadata::{
//!     AuthorizationServerMetadata, ProtectedResourceMetadata, ResourceUri,
//!     authorization_server_metadata_urls, protected_resource_metadata_urls,
//! };
//! let resource = ResourceUri::parse("https://mcp.example.com/mcp")?;
//! let _try_these = protected_resource_metadata_urls(&resource);
//! let prm = ProtectedResourceMetadata::parse(
//!     br#"{"resource":"https://mcp.example.com/mcp","authorization_servers":["https://auth.example.com"]}"#,
//! )?
//! .validate(&resource)?;
//! let issuer = prm.authorization_server();
//! let _then_these = authorization_server_metadata_urls(issuer);
//! let asm = AuthorizationServerMetadata::parse(br#"{
//!     "issuer": "https://auth.example.com",
//!     "authorization_endpoint": "https://auth.example.com/authorize",
//!     "token_endpoint": "https://auth.example.com/token",
//!     "response_types_supported": ["code"],
//!     "code_challenge_methods_supported": ["S256"]
//! }"#)?
//! .validate(issuer)?;
//! assert_eq!(asm.authorization_endpoint().as_str(), "https://auth.example.com/authorize");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
// The README's code blocks are compiled and run as doc tests.
#![cfg_attr(doctest, doc = include_str!("../README.md"))]
#![forbid(unsafe_code)]

mod address;
mod authorization_server;
mod cache_control;
mod client_id_metadata;
mod client_metadata;
mod document;
mod endpoint;
mod protected_resource;
mod registration;
mod time;
mod vocab;
mod well_known;

pub use address::{AddressClass, classify_address, embedded_ipv4};
pub use authorization_server::{
    AuthorizationServerMetadata, AuthorizationServerMetadataError,
    ValidatedAuthorizationServerMetadata,
};
pub use cache_control::cache_control_max_age;
pub use client_id_metadata::{
    ClientIdMetadataDocument, ClientIdMetadataDocumentError, ValidatedClientIdMetadataDocument,
};
pub use client_metadata::{ClientMetadata, ClientMetadataError, ValidatedClientMetadata};
pub use document::{DEFAULT_MAX_DOCUMENT_SIZE, DocumentError, ExtraMembers};
pub use endpoint::EndpointProblem;
pub use mcp_authz_pkce::CodeChallengeMethod;
pub use protected_resource::{
    BearerMethod, ProtectedResourceMetadata, ProtectedResourceMetadataError,
    ValidatedProtectedResourceMetadata,
};
pub use registration::{
    ClientRegistrationResponse, RegistrationAccessToken, RegistrationErrorCode,
    RegistrationErrorResponse,
};
pub use time::{Clock, ManualClock, NumericDate, SystemClock};
pub use url::Url;
pub use vocab::{
    ApplicationType, ClientId, ClientIdError, ClientSecret, GrantType, Issuer, IssuerError,
    RedirectUri, RedirectUriError, ResourceUri, ResourceUriError, ResponseType, Scope, ScopeError,
    ScopeToken, TokenEndpointAuthMethod, is_loopback_host,
};
pub use well_known::{
    AUTHORIZATION_SERVER_WELL_KNOWN, OPENID_CONFIGURATION_WELL_KNOWN,
    PROTECTED_RESOURCE_WELL_KNOWN, authorization_server_metadata_path,
    authorization_server_metadata_paths, authorization_server_metadata_urls,
    protected_resource_metadata_path, protected_resource_metadata_url,
    protected_resource_metadata_urls,
};
