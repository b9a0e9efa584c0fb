//! The in-memory token store.

use std::collections::HashMap;

use mcp_authz_metadata::Issuer;
use tokio::sync::Mutex;

use super::{ClientCredentials, GrantKey, StoreError, StoredGrant, TokenStore};

/// A [`TokenStore`] in memory: gone when the process ends.
#[derive(Debug, Default)]
pub struct MemoryTokenStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    grants: HashMap<GrantKey, StoredGrant>,
    clients: HashMap<Issuer, ClientCredentials>,
}

impl MemoryTokenStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait::async_trait]
impl TokenStore for MemoryTokenStore {
    async fn load_grant(&self, key: &GrantKey) -> Result<Option<StoredGrant>, StoreError> {
        Ok(self.inner.lock().await.grants.get(key).cloned())
    }

    async fn save_grant(&self, key: &GrantKey, grant: &StoredGrant) -> Result<(), StoreError> {
        self.inner
            .lock()
            .await
            .grants
            .insert(key.clone(), grant.clone());
        Ok(())
    }

    async fn remove_grant(&self, key: &GrantKey) -> Result<(), StoreError> {
        self.inner.lock().await.grants.remove(key);
        Ok(())
    }

    async fn load_client(&self, issuer: &Issuer) -> Result<Option<ClientCredentials>, StoreError> {
        Ok(self.inner.lock().await.clients.get(issuer).cloned())
    }

    async fn remove_client(&self, issuer: &Issuer) -> Result<(), StoreError> {
        self.inner.lock().await.clients.remove(issuer);
        Ok(())
    }

    async fn save_client(&self, credentials: &ClientCredentials) -> Result<(), StoreError> {
        self.inner
            .lock()
            .await
            .clients
            .insert(credentials.issuer.clone(), credentials.clone());
        Ok(())
    }
}
