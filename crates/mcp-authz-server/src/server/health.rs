//! Whether the server can do its work now (for `/readyz`): the store answers, and a signing key is
//! loaded. Cheap enough to be polled every few seconds: one primary-key read and the cached JWKS.

use mcp_authz_metadata::ClientId;

use super::AuthorizationServer;
use crate::keys::KeyError;

/// Why the server is not ready.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotReady {
    /// The store did not answer a read.
    #[error("the store is not reachable: {0}")]
    Store(#[from] mcp_authz_store::StoreError),
    /// No signing key could be loaded (or created).
    #[error("no signing key is loaded: {0}")]
    SigningKey(#[from] KeyError),
}

/// The client id the readiness read looks up (never registered: the read finds nothing).
const PROBE_CLIENT_ID: &str = "mcp-authz-readiness-probe";

impl AuthorizationServer {
    /// `Ok` when the store answers a read and a signing key is loaded: the server can sign tokens
    /// and keep state. A load balancer sends traffic only to a ready instance.
    pub async fn readiness(&self) -> Result<(), NotReady> {
        let probe = ClientId::parse(PROBE_CLIENT_ID).map_err(|e| {
            NotReady::Store(mcp_authz_store::StoreError::Unavailable {
                description: e.to_string(),
            })
        })?;
        self.inner.store.get_client(&probe).await?;
        self.inner.keys.jwks(self.now()).await?;
        Ok(())
    }
}
