//! Registered clients: dynamically registered (RFC 7591), pre-registered, and cached Client ID Metadata
//! Documents (REQUIREMENTS AS-10, AS-12, AS-13).

use async_trait::async_trait;
use mcp_authz_metadata::{
    ApplicationType, ClientId, GrantType, RedirectUri, ResourceUri, Scope, TokenEndpointAuthMethod,
};

use crate::{NumericDate, SecretHashString, StoreError};

/// How the server came to know a client.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientKind {
    /// Registered through the RFC 7591 registration endpoint.
    Dynamic,
    /// Configured by the operator.
    PreRegistered,
    /// A Client ID Metadata Document fetched from the client id URL and cached (REQUIREMENTS AS-10).
    MetadataDocument {
        /// When the document was fetched.
        fetched_at: NumericDate,
        /// When the cached copy goes stale (from the HTTP caching headers, capped by the server). The
        /// record may still be returned after that; [`purge_expired`](crate::PurgeStore::purge_expired)
        /// removes it.
        expires_at: NumericDate,
    },
}

/// A client as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRecord {
    /// The client identifier (primary key).
    pub client_id: ClientId,
    /// How the client was registered.
    pub kind: ClientKind,
    /// The client secret's hash (PHC string); `None` for public clients (`token_endpoint_auth_method`
    /// `none`). The secret itself is shown once at registration and never stored.
    pub secret_hash: Option<SecretHashString>,
    /// When the secret expires (RFC 7591 `client_secret_expires_at`); `None` for never.
    pub secret_expires_at: Option<NumericDate>,
    /// Registered redirect URIs, in registration order (REQUIREMENTS AS-4).
    pub redirect_uris: Vec<RedirectUri>,
    /// Allowed grant types.
    pub grant_types: Vec<GrantType>,
    /// How the client authenticates at the token endpoint (REQUIREMENTS AS-13).
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    /// `web` or `native` (REQUIREMENTS AS-12).
    pub application_type: ApplicationType,
    /// Human-readable name shown on the consent screen (REQUIREMENTS AS-11).
    pub client_name: Option<String>,
    /// Resources this client may request tokens for; `None` for the server's default policy.
    pub allowed_resources: Option<Vec<ResourceUri>>,
    /// For an operator-registered client, the widest scope it may be granted; for a dynamically
    /// registered or metadata-document client, the `scope` it registered, which the server uses as the
    /// default when a request names no scope (never as a ceiling: the resources' scopes and the user's
    /// consent bound what such a client gets). `None` for the server's default policy.
    pub allowed_scope: Option<Scope>,
    /// The full client metadata document as JSON text, so that the registration response and the
    /// metadata (including members this crate does not model) round-trip.
    pub metadata_json: String,
    /// When the record was first stored.
    pub created_at: NumericDate,
}

impl ClientRecord {
    /// `false` for a cached metadata document whose cache time has passed: the server refetches it.
    pub fn is_fresh(&self, now: NumericDate) -> bool {
        match &self.kind {
            ClientKind::MetadataDocument { expires_at, .. } => now < *expires_at,
            ClientKind::Dynamic | ClientKind::PreRegistered => true,
        }
    }
}

/// Storage of clients.
///
/// **Concurrency.** Each operation is atomic on one record. `insert_client` is the uniqueness point for
/// client ids: of two concurrent inserts of the same id exactly one succeeds and the other gets
/// [`StoreError::Conflict`]. `upsert_client` is last-writer-wins (used to refresh a metadata-document
/// cache, where any fresh copy is fine).
///
/// **SQL approach.** A `clients` table keyed by `client_id` (PRIMARY KEY gives the conflict); list-valued
/// fields as JSON or space-separated text; `upsert` as `INSERT … ON CONFLICT (client_id) DO UPDATE`.
/// Deleting a client does not revoke its grants: call
/// [`GrantStore::revoke_client_grants`](crate::GrantStore::revoke_client_grants) too.
///
/// **Errors.** Every method may fail with [`StoreError::Unavailable`] (backend down, timeout, pool
/// exhausted), which the server answers with 503 and `Retry-After`; a row that does not parse back gives
/// [`StoreError::Corrupt`].
#[async_trait]
pub trait ClientStore: Send + Sync {
    /// Stores a new client; [`StoreError::Conflict`] if the client id exists.
    async fn insert_client(&self, client: ClientRecord) -> Result<(), StoreError>;

    /// Stores a client, replacing any record with the same id.
    async fn upsert_client(&self, client: ClientRecord) -> Result<(), StoreError>;

    /// Replaces an existing client; [`StoreError::NotFound`] if there is none.
    async fn update_client(&self, client: ClientRecord) -> Result<(), StoreError>;

    /// The client with this id, if any (also a stale metadata-document cache entry: see
    /// [`ClientRecord::is_fresh`]).
    async fn get_client(&self, client_id: &ClientId) -> Result<Option<ClientRecord>, StoreError>;

    /// Removes a client; `false` if there was none.
    async fn delete_client(&self, client_id: &ClientId) -> Result<bool, StoreError>;

    /// Every stored client (also cached metadata documents), ordered by client id: for operators.
    async fn list_clients(&self) -> Result<Vec<ClientRecord>, StoreError>;
}
