//! # mcp-authz-server
//!
//! An OAuth 2.1 authorization server for the Model Context Protocol, composed from the typed
//! mcp-authz crates and any storage backend (`Arc<dyn Store>`).
//!
//! | endpoint | path (under the issuer's path) | requirement |
//! |---|---|---|
//! | RFC 8414 metadata | `/.well-known/oauth-authorization-server`, `/.well-known/openid-configuration` | AS-1, AS-6 |
//! | JWKS | `/jwks.json` | AS-9 |
//! | authorization (code + PKCE S256 only) with login and consent pages | `/authorize`, `/authorize/login`, `/authorize/resume`, `/authorize/consent`, `/authorize/upstream[/callback]` | AS-2..AS-6, AS-11 |
//! | token: `authorization_code`, `refresh_token`, `client_credentials` | `/token` | AS-5, AS-7..AS-9, AS-13, AS-14 |
//! | dynamic registration (RFC 7591) | `/register` | AS-12 |
//! | revocation (RFC 7009), introspection (RFC 7662) | `/revoke`, `/introspect` | AS-15 |
//! | the signed-in user's connected applications, with revocation | `/account/applications`, `/account/signin`, `/account/applications/revoke`, `/account/signout` | OB-3 |
//!
//! URL client ids are resolved as Client ID Metadata Documents behind an SSRF guard (AS-10, SEC-6).
//! Access tokens are RFC 9068 JWTs signed with keys kept in the store: ES256 by default, EdDSA
//! (Ed25519) with [`ServerConfigBuilder::signing_algorithm`].
//!
//! The core is framework-neutral (`http::Request<Bytes>` in, `http::Response<Bytes>` out:
//! [`AuthorizationServer::handle`] and one method per endpoint); [`AuthorizationServer::router`] is the
//! axum adapter.
//!
//! ```no_run
//! use std::sync::Arc;
//! use mcp_authz_server::{AuthorizationServer, Issuer, MemoryStore, ResourceUri, Scope, ServerConfig};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = ServerConfig::builder(Issuer::parse("https://auth.example.com")?)
//!     .resource(ResourceUri::parse("https://mcp.example.com/mcp")?, Scope::parse("tools:read")?)
//!     .build()?;
//! let server = AuthorizationServer::new(config, Arc::new(MemoryStore::new()))?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! server.serve(listener).await?; // with client addresses for the rate limits
//! # Ok(()) }
//! ```
//!
//! Confidential clients (resource servers, machine clients) are provisioned idempotently from
//! configuration with [`ConfidentialClient`] and [`AuthorizationServer::provision_client`]; see the
//! README for mounting the [`router`](AuthorizationServer::router) in an application of your own.
//!
//! Expired codes, tokens and cached documents are removed by a background task:
//! [`AuthorizationServer::spawn_purge`] returns a [`PurgeTask`] that stops when dropped.
//!
//! Test-only shortcuts (skipping login and consent) live in [`dangerous`] and are refused unless the
//! issuer is a loopback `http` URL.
// The README's code blocks are compiled and run as doc tests.
#![cfg_attr(doctest, doc = include_str!("../README.md"))]
#![forbid(unsafe_code)]

// Composition: the public server type, its path dispatcher and the axum adapter.
mod router;
mod server;

// One module per endpoint, each owning exactly its dependencies.
mod endpoint;

// Shared by the endpoints (endpoints depend on these, never on each other).
mod account_pages;
mod applications;
mod browser;
mod client_limits;
mod clients;
mod error;
mod flow;
mod grant_policy;
mod pages;
mod paths;
mod respond;
mod token_status;

// Lower building blocks: configuration, keys, storage-side helpers.
mod audit;
mod cimd;
mod cimd_error;
mod config;
pub mod dangerous;
mod fetch_budget;
mod forwarded;
mod key_error;
mod keys;
mod lockout;
mod password_checks;
mod provenance;
mod provisioning;
mod purge;
mod rate_limit;
mod secrets;
mod session;
mod sign_in;
mod signing;
mod templates;
mod users;

pub use applications::{ApplicationRevocation, ConnectedApplication};
pub use audit::AUDIT_TARGET;
pub use cimd::{CimdError, GuardedResolver, is_public_address};
// What a user needs to call this crate's API, so that depending on this crate (and a store backend)
// is enough.
pub use config::{
    ConfigError, DEFAULT_AUDIT_RETENTION, MAX_ACCESS_TOKEN_LIFETIME, MAX_AUDIT_RETENTION,
    MAX_CODE_LIFETIME, MAX_SCOPE_DESCRIPTION_LEN, MAX_SCOPE_DETAILS_LEN, MAX_SERVICE_NAME_LEN,
    MetadataDocumentConfig, ResourcePolicy, ServerConfig, ServerConfigBuilder,
};
pub use forwarded::{IpNet, TrustedProxies};
pub use keys::{DEFAULT_KEY_PUBLICATION_DELAY, JWKS_MAX_AGE, KeyError, KeyRotation};
pub use lockout::LoginLockout;
pub use mcp_authz_metadata::{
    ClientId, ClientSecret, GrantType, Issuer, RedirectUri, ResourceUri, Scope, ScopeToken, Url,
};
pub use mcp_authz_store::{
    AuditEvent, AuditKind, AuditOutcome, AuditQuery, AuditReason, Clock, IdGenerator, ManualClock,
    MemoryStore, RandomIds, Store, StoreError, SystemClock,
};
/// The shared fetch error ([`mcp_authz_token::fetch`]) a [`CimdError::Fetch`] carries.
pub use mcp_authz_token::fetch::FetchError;
pub use mcp_authz_token::{JwsAlgorithm, UnsupportedAlgorithm};
pub use provisioning::{
    ClientResources, ClientSetting, ConfidentialClient, ConfidentialClientBuilder, ProvisionError,
    Provisioned,
};
pub use purge::{MIN_PURGE_INTERVAL, PurgeProgress, PurgeTask};
pub use rate_limit::{MAX_RATE, RateLimit, RateLimitParseError};
pub use respond::ClientAddr;
pub use secrets::{HashError, hash_client_secret, hash_password, verify_secret};
pub use server::{
    AuthorizationServer, NotReady, OperatorRevocation, SetPasswordError, UserExport, UserRevocation,
};
pub use signing::SigningAlgorithm;
pub use templates::{MAX_TEMPLATE_LEN, PageTemplate, PageTemplates, TemplateError};
pub use users::{CreateUserError, LocalUsers, UpstreamIdentityProvider, UserAuthenticator};
