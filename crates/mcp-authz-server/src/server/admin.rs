//! Operator actions on a running server: pre-registering confidential clients, rotating signing keys,
//! and the revocation check a co-located resource server uses.

use mcp_authz_metadata::{
    ApplicationType, ClientId, ClientSecret, GrantType, ResourceUri, TokenEndpointAuthMethod,
};
use mcp_authz_store::{ClientKind, ClientRecord, StoreError};

use super::AuthorizationServer;
use crate::keys::{KeyError, KeyRotation};
use crate::secrets::hash_client_secret;
use crate::session::random_id;
use crate::signing::SigningAlgorithm;

impl AuthorizationServer {
    /// Pre-registers a confidential client authenticating with `client_secret_basic` or
    /// `client_secret_post`: a machine client (`client_credentials`) or a resource server that
    /// introspects tokens whose audience is one of `allowed_resources` (REQUIREMENTS AS-15). Returns the
    /// generated 256-bit secret, which is stored only as a hash: show it once.
    pub async fn register_confidential_client(
        &self,
        client_id: ClientId,
        client_name: &str,
        grant_types: Vec<GrantType>,
        allowed_resources: Option<Vec<ResourceUri>>,
    ) -> Result<ClientSecret, StoreError> {
        let secret = ClientSecret::new(random_id().ok_or(StoreError::RandomnessUnavailable)?);
        let hash =
            hash_client_secret(secret.secret()).map_err(|_| StoreError::RandomnessUnavailable)?;
        let record = ClientRecord {
            client_id,
            kind: ClientKind::PreRegistered,
            secret_hash: Some(hash),
            secret_expires_at: None,
            redirect_uris: Vec::new(),
            grant_types,
            token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretBasic,
            application_type: ApplicationType::Web,
            client_name: Some(client_name.to_owned()),
            allowed_resources,
            allowed_scope: None,
            metadata_json: "{}".to_owned(),
            created_at: self.now(),
        };
        self.inner.store.insert_client(record).await?;
        Ok(secret)
    }

    /// `true` when an access token of this server, whose signature, issuer, audience and expiry were
    /// already checked, must no longer be accepted: its `jti` is on the deny-list (`/revoke`,
    /// `tokens revoke`), its grant is revoked or gone (refresh-token revocation, code replay,
    /// `tokens revoke --client/--user`, `clients remove`), or, for a token issued without a grant
    /// (client credentials), its client is no longer registered.
    ///
    /// Cost: one or two indexed store reads (the deny-list, then the grant or the client), no
    /// cryptography. A resource server sharing the store calls this per request, so that revocation
    /// takes effect at once rather than when the token expires.
    pub async fn is_access_token_revoked(
        &self,
        token_id: &str,
        client_id: &ClientId,
    ) -> Result<bool, StoreError> {
        self.inner
            .tokens
            .is_access_token_revoked(token_id, client_id)
            .await
    }

    /// Generates a new signing key of the configured algorithm
    /// ([`ServerConfigBuilder::signing_algorithm`](crate::ServerConfigBuilder::signing_algorithm)) and
    /// publishes it in the JWKS at once; it starts signing after
    /// [`DEFAULT_KEY_PUBLICATION_DELAY`](crate::DEFAULT_KEY_PUBLICATION_DELAY) (10 min), when resource
    /// servers have refetched the JWKS (REQUIREMENTS SEC-15). The previous key then stays in the JWKS
    /// until every token it signed has expired (REQUIREMENTS AS-9).
    pub async fn rotate_signing_key(&self) -> Result<KeyRotation, KeyError> {
        self.rotate_signing_key_after(crate::DEFAULT_KEY_PUBLICATION_DELAY)
            .await
    }

    /// Like [`rotate_signing_key`](Self::rotate_signing_key) with another publication delay. Keep it
    /// longer than the JWKS lifetime of your resource servers (the JWKS is served with `max-age` of
    /// [`JWKS_MAX_AGE`](crate::JWKS_MAX_AGE)), or tokens signed with the new key may be refused.
    pub async fn rotate_signing_key_after(
        &self,
        delay: std::time::Duration,
    ) -> Result<KeyRotation, KeyError> {
        self.rotate_signing_key_to(self.inner.config.signing_algorithm, delay)
            .await
    }

    /// Rotates with no publication delay: the new key signs at once. For a compromised key, or when
    /// no remote resource server caches the JWKS; other verifiers refuse the new tokens until they
    /// refetch it (on the unknown `kid`, at most once per their refetch interval).
    pub async fn rotate_signing_key_now(&self) -> Result<KeyRotation, KeyError> {
        self.rotate_signing_key_after(std::time::Duration::ZERO)
            .await
    }

    /// Like [`rotate_signing_key_after`](Self::rotate_signing_key_after) with a key of `algorithm`:
    /// switching algorithms keeps the tokens of the previous key verifiable (the JWKS lists both).
    pub async fn rotate_signing_key_to(
        &self,
        algorithm: SigningAlgorithm,
        delay: std::time::Duration,
    ) -> Result<KeyRotation, KeyError> {
        self.inner.keys.rotate(algorithm, self.now(), delay).await
    }
}
