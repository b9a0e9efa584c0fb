//! Operator actions on a running server: provisioning, rotating and removing confidential clients,
//! rotating signing keys,
//! and the revocation check a co-located resource server uses.

use mcp_authz_metadata::{ClientId, ClientSecret};
use mcp_authz_store::{SecretHashString, StoreError};

use super::AuthorizationServer;
use crate::clients::is_confidential;
use crate::keys::{KeyError, KeyRotation};
use crate::provisioning::{ConfidentialClient, ProvisionError, Provisioned};
use crate::secrets::hash_client_secret;
use crate::session::random_id;
use crate::signing::SigningAlgorithm;

/// A generated 256-bit client secret.
fn new_secret() -> Result<ClientSecret, ProvisionError> {
    random_id()
        .map(ClientSecret::new)
        .ok_or(ProvisionError::RandomnessUnavailable)
}

/// The stored form of `secret`.
fn hash(secret: &ClientSecret) -> Result<SecretHashString, ProvisionError> {
    hash_client_secret(secret.secret()).map_err(|_| ProvisionError::RandomnessUnavailable)
}

impl AuthorizationServer {
    /// Registers a confidential client (a resource server that introspects, a machine client):
    /// returns its secret, the configured one or a generated 256-bit one, stored only as a hash
    /// (show it once). [`ProvisionError::AlreadyRegistered`] when the id is taken; to make sure a
    /// client from configuration exists, at every start, use
    /// [`provision_client`](Self::provision_client).
    pub async fn register_client(
        &self,
        client: &ConfidentialClient,
    ) -> Result<ClientSecret, ProvisionError> {
        let id = client.client_id();
        let secret = match client.secret() {
            Some(secret) => secret.clone(),
            None => new_secret()?,
        };
        let record = client.record(hash(&secret)?, self.now());
        self.inner
            .store
            .insert_client(record)
            .await
            .map_err(|e| ProvisionError::store(id, e))?;
        Ok(secret)
    }

    /// Makes sure `client` is registered, idempotently (get-or-register), for clients provisioned
    /// from configuration at every start: registers it when its id is free
    /// ([`Provisioned::Registered`], with the generated secret when none was configured); does
    /// nothing when it is registered with the same settings (name, grant types, resources, and the
    /// configured secret if any) ([`Provisioned::Unchanged`]); otherwise
    /// [`ProvisionError::SettingsConflict`] naming the differing setting, changing nothing. Safe
    /// when several instances start at once on a shared store.
    pub async fn provision_client(
        &self,
        client: &ConfidentialClient,
    ) -> Result<Provisioned, ProvisionError> {
        let id = client.client_id();
        // Twice at most: a concurrent start may register it between the read and the insert.
        for _ in 0..2 {
            let stored = self
                .inner
                .store
                .get_client(id)
                .await
                .map_err(|e| ProvisionError::store(id, e))?;
            if let Some(stored) = stored {
                return match client.difference(&stored) {
                    None => Ok(Provisioned::Unchanged),
                    Some(setting) => Err(ProvisionError::SettingsConflict {
                        client_id: id.clone(),
                        setting,
                    }),
                };
            }
            match self.register_client(client).await {
                Ok(secret) => {
                    return Ok(Provisioned::Registered {
                        generated_secret: client.secret().is_none().then_some(secret),
                    });
                }
                Err(ProvisionError::AlreadyRegistered { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Err(ProvisionError::AlreadyRegistered {
            client_id: id.clone(),
        })
    }

    /// Gives a confidential client a new generated secret (256 bits, returned once, stored as a
    /// hash); the old one stops authenticating at once (on other instances sharing the store within
    /// their 5-second client cache). Tokens already issued stay valid.
    pub async fn rotate_client_secret(
        &self,
        client_id: &ClientId,
    ) -> Result<ClientSecret, ProvisionError> {
        let secret = new_secret()?;
        self.set_client_secret(client_id, &secret).await?;
        Ok(secret)
    }

    /// Replaces a confidential client's secret with `secret` (from the operator's configuration).
    pub async fn set_client_secret(
        &self,
        client_id: &ClientId,
        secret: &ClientSecret,
    ) -> Result<(), ProvisionError> {
        let store = &self.inner.store;
        let mut record = store
            .get_client(client_id)
            .await
            .map_err(|e| ProvisionError::store(client_id, e))?
            .ok_or_else(|| ProvisionError::NotRegistered {
                client_id: client_id.clone(),
            })?;
        if !is_confidential(&record) {
            return Err(ProvisionError::NotConfidential {
                client_id: client_id.clone(),
            });
        }
        record.secret_hash = Some(hash(secret)?);
        store
            .update_client(record)
            .await
            .map_err(|e| ProvisionError::store(client_id, e))?;
        self.inner.clients.forget(client_id);
        Ok(())
    }

    /// Removes a client and revokes its grants (and their refresh tokens, and through
    /// [`is_access_token_revoked`](Self::is_access_token_revoked) their access tokens); returns the
    /// number of grants revoked. [`ProvisionError::NotRegistered`] when there is no such client.
    pub async fn remove_client(&self, client_id: &ClientId) -> Result<u64, ProvisionError> {
        let store = &self.inner.store;
        let removed = store
            .delete_client(client_id)
            .await
            .map_err(|e| ProvisionError::store(client_id, e))?;
        self.inner.clients.forget(client_id);
        if !removed {
            return Err(ProvisionError::NotRegistered {
                client_id: client_id.clone(),
            });
        }
        let revoked = store
            .revoke_client_grants(client_id, self.now())
            .await
            .map_err(|e| ProvisionError::store(client_id, e))?;
        Ok(revoked.grants)
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
