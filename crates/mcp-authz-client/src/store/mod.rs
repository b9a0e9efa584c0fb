//! Token storage (REQUIREMENTS CL-12, CL-13): a trait, an in-memory store and an atomic file store.

mod file;
mod memory;

use mcp_authz_metadata::{
    ClientId, ClientSecret, Issuer, ResourceUri, Scope, TokenEndpointAuthMethod,
};
use mcp_authz_token::{AccessToken, RefreshToken};
use serde::{Deserialize, Serialize};

pub use file::{FileTokenStore, TokenFileContents};
pub use memory::MemoryTokenStore;

/// What a grant is stored under: the MCP server the user logged in to and the authorization server
/// that issued it. A token is only ever sent to the server it was obtained for, and only refreshed
/// at its issuer (REQUIREMENTS CL-11).
///
/// `resource` is the exact server URL the client was built for, not the metadata's `resource`
/// (which may be a parent of it): two servers under one parent resource never share a grant
/// (REQUIREMENTS CL-2, SEC-7).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GrantKey {
    /// The canonical URI of the MCP server the user logged in to.
    pub resource: ResourceUri,
    /// The issuer of the authorization server.
    pub issuer: Issuer,
}

impl GrantKey {
    /// `resource` and `issuer` joined by a space (neither contains one): the key in a file store.
    pub fn storage_key(&self) -> String {
        format!("{} {}", self.resource.as_str(), self.issuer.as_str())
    }

    /// The key [`storage_key`](Self::storage_key) wrote, or `None` when `text` is not one.
    pub fn from_storage_key(text: &str) -> Option<Self> {
        let (resource, issuer) = text.split_once(' ')?;
        Some(Self {
            resource: ResourceUri::parse(resource).ok()?,
            issuer: Issuer::parse(issuer).ok()?,
        })
    }
}

/// A grant: the access token, the refresh token if one was issued, and when the access token
/// expires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredGrant {
    /// The access token.
    pub access_token: AccessToken,
    /// The current refresh token; replaced as soon as the server rotates it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<RefreshToken>,
    /// Expiry of the access token, seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// The scope granted (or requested, when the response did not say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
}

/// Client credentials at one authorization server (REQUIREMENTS CL-5): never used at another one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientCredentials {
    /// The authorization server these credentials belong to.
    pub issuer: Issuer,
    /// The client identifier (a CIMD URL, a registered id or a pre-registered one).
    pub client_id: ClientId,
    /// The client secret, for confidential clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<ClientSecret>,
    /// How the client authenticates at the token endpoint.
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
}

/// Why the store failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Reading or writing the backing storage failed.
    #[error("token store I/O failed: {0}")]
    Io(String),
    /// The stored data does not parse.
    #[error("the token store holds malformed data: {0}")]
    Corrupt(String),
}

/// Where grants and client registrations live between runs (REQUIREMENTS CL-13).
///
/// `save_grant` must be durable when it returns: the client persists a rotated refresh token
/// before it uses the new access token (CL-12).
#[async_trait::async_trait]
pub trait TokenStore: Send + Sync {
    /// The grant for `key`, if any.
    async fn load_grant(&self, key: &GrantKey) -> Result<Option<StoredGrant>, StoreError>;
    /// Stores (replaces) the grant for `key`.
    async fn save_grant(&self, key: &GrantKey, grant: &StoredGrant) -> Result<(), StoreError>;
    /// Forgets the grant for `key`.
    async fn remove_grant(&self, key: &GrantKey) -> Result<(), StoreError>;
    /// The client registered at `issuer`, if any.
    async fn load_client(&self, issuer: &Issuer) -> Result<Option<ClientCredentials>, StoreError>;
    /// Stores (replaces) the client registered at `credentials.issuer`.
    async fn save_client(&self, credentials: &ClientCredentials) -> Result<(), StoreError>;
    /// Forgets the client registered at `issuer` (the server no longer knows it, or the user logged
    /// out); the next authorization registers again.
    async fn remove_client(&self, issuer: &Issuer) -> Result<(), StoreError>;
}
