//! Clients, consents, signing keys and users: the [`MemoryStore`] implementations.

use async_trait::async_trait;
use mcp_authz_metadata::ClientId;

use super::MemoryStore;
use crate::{
    ClientRecord, ClientStore, Consent, ConsentStore, Entity, KeyId, KeyState, KeyStore,
    NumericDate, SecretHashString, SigningKey, StoreError, Subject, User, UserStore, Username,
};

#[async_trait]
impl ClientStore for MemoryStore {
    async fn insert_client(&self, client: ClientRecord) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if inner.clients.contains_key(&client.client_id) {
            return Err(StoreError::conflict(Entity::Client, "duplicate client id"));
        }
        inner.clients.insert(client.client_id.clone(), client);
        Ok(())
    }

    async fn upsert_client(&self, client: ClientRecord) -> Result<(), StoreError> {
        self.lock().clients.insert(client.client_id.clone(), client);
        Ok(())
    }

    async fn update_client(&self, client: ClientRecord) -> Result<(), StoreError> {
        let mut inner = self.lock();
        match inner.clients.get_mut(&client.client_id) {
            Some(stored) => {
                *stored = client;
                Ok(())
            }
            None => Err(StoreError::NotFound {
                entity: Entity::Client,
            }),
        }
    }

    async fn get_client(&self, client_id: &ClientId) -> Result<Option<ClientRecord>, StoreError> {
        Ok(self.lock().clients.get(client_id).cloned())
    }

    async fn delete_client(&self, client_id: &ClientId) -> Result<bool, StoreError> {
        Ok(self.lock().clients.remove(client_id).is_some())
    }

    async fn list_clients(&self) -> Result<Vec<ClientRecord>, StoreError> {
        let mut clients: Vec<ClientRecord> = self.lock().clients.values().cloned().collect();
        clients.sort_by(|a, b| a.client_id.as_str().cmp(b.client_id.as_str()));
        Ok(clients)
    }
}

#[async_trait]
impl ConsentStore for MemoryStore {
    async fn put_consent(&self, consent: Consent) -> Result<(), StoreError> {
        let key = (consent.subject.clone(), consent.client_id.clone());
        self.lock().consents.insert(key, consent);
        Ok(())
    }

    async fn get_consent(
        &self,
        subject: &Subject,
        client_id: &ClientId,
    ) -> Result<Option<Consent>, StoreError> {
        Ok(self
            .lock()
            .consents
            .get(&(subject.clone(), client_id.clone()))
            .cloned())
    }

    async fn subject_consents(&self, subject: &Subject) -> Result<Vec<Consent>, StoreError> {
        // Keys sort by (subject, client id), so the result is ordered by client id.
        Ok(self
            .lock()
            .consents
            .values()
            .filter(|c| &c.subject == subject)
            .cloned()
            .collect())
    }

    async fn list_consents(
        &self,
        subject: Option<&Subject>,
        client_id: Option<&ClientId>,
    ) -> Result<Vec<Consent>, StoreError> {
        // Keys sort by (subject, client id).
        Ok(self
            .lock()
            .consents
            .values()
            .filter(|c| subject.is_none_or(|s| &c.subject == s))
            .filter(|c| client_id.is_none_or(|id| &c.client_id == id))
            .cloned()
            .collect())
    }

    async fn revoke_consent(
        &self,
        subject: &Subject,
        client_id: &ClientId,
    ) -> Result<bool, StoreError> {
        Ok(self
            .lock()
            .consents
            .remove(&(subject.clone(), client_id.clone()))
            .is_some())
    }
}

#[async_trait]
impl KeyStore for MemoryStore {
    async fn insert_key(&self, key: SigningKey) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if inner.keys.contains_key(&key.kid) {
            return Err(StoreError::conflict(Entity::SigningKey, "duplicate kid"));
        }
        if key.state == KeyState::Active && inner.keys.values().any(|k| k.state == KeyState::Active)
        {
            return Err(StoreError::conflict(
                Entity::SigningKey,
                "another key is active",
            ));
        }
        inner.keys.insert(key.kid.clone(), key);
        Ok(())
    }

    async fn get_key(&self, kid: &KeyId) -> Result<Option<SigningKey>, StoreError> {
        Ok(self.lock().keys.get(kid).cloned())
    }

    async fn active_key(&self) -> Result<Option<SigningKey>, StoreError> {
        Ok(self
            .lock()
            .keys
            .values()
            .find(|k| k.state == KeyState::Active)
            .cloned())
    }

    async fn published_keys(&self, now: NumericDate) -> Result<Vec<SigningKey>, StoreError> {
        let mut keys: Vec<SigningKey> = self
            .lock()
            .keys
            .values()
            .filter(|k| k.is_published(now))
            .cloned()
            .collect();
        keys.sort_by(|a, b| {
            a.created_at
                .cmp(&b.created_at)
                .then_with(|| a.kid.cmp(&b.kid))
        });
        Ok(keys)
    }

    async fn list_keys(&self) -> Result<Vec<SigningKey>, StoreError> {
        let mut keys: Vec<SigningKey> = self.lock().keys.values().cloned().collect();
        keys.sort_by(|a, b| {
            a.created_at
                .cmp(&b.created_at)
                .then_with(|| a.kid.cmp(&b.kid))
        });
        Ok(keys)
    }

    async fn activate_key(
        &self,
        kid: &KeyId,
        retire_previous_until: NumericDate,
    ) -> Result<Option<KeyId>, StoreError> {
        let mut inner = self.lock();
        let target = inner.keys.get(kid).ok_or(StoreError::NotFound {
            entity: Entity::SigningKey,
        })?;
        match target.state {
            KeyState::Active => return Ok(None),
            KeyState::Retired { .. } => {
                return Err(StoreError::InvalidTransition {
                    entity: Entity::SigningKey,
                    description: "a retired key cannot become active again".to_owned(),
                });
            }
            KeyState::Published => {}
        }
        let mut previous = None;
        for key in inner.keys.values_mut() {
            if key.state == KeyState::Active {
                key.state = KeyState::Retired {
                    until: retire_previous_until,
                };
                previous = Some(key.kid.clone());
            }
        }
        if let Some(key) = inner.keys.get_mut(kid) {
            key.state = KeyState::Active;
        }
        Ok(previous)
    }
}

#[async_trait]
impl UserStore for MemoryStore {
    async fn insert_user(&self, user: User) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if inner.users.contains_key(&user.id) {
            return Err(StoreError::conflict(Entity::User, "duplicate user id"));
        }
        if inner.usernames.contains_key(&user.username) {
            return Err(StoreError::conflict(Entity::User, "duplicate username"));
        }
        inner
            .usernames
            .insert(user.username.clone(), user.id.clone());
        inner.users.insert(user.id.clone(), user);
        Ok(())
    }

    async fn get_user(&self, id: &Subject) -> Result<Option<User>, StoreError> {
        Ok(self.lock().users.get(id).cloned())
    }

    async fn find_user_by_username(&self, username: &Username) -> Result<Option<User>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .usernames
            .get(username)
            .and_then(|id| inner.users.get(id))
            .cloned())
    }

    async fn set_user_disabled(&self, id: &Subject, disabled: bool) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let user = inner.users.get_mut(id).ok_or(StoreError::NotFound {
            entity: Entity::User,
        })?;
        user.disabled = disabled;
        Ok(())
    }

    async fn set_password_hash(
        &self,
        id: &Subject,
        password_hash: SecretHashString,
    ) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let user = inner.users.get_mut(id).ok_or(StoreError::NotFound {
            entity: Entity::User,
        })?;
        user.password_hash = password_hash;
        Ok(())
    }

    async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let mut users: Vec<User> = self.lock().users.values().cloned().collect();
        users.sort_by(|a, b| a.username.as_str().cmp(b.username.as_str()));
        Ok(users)
    }

    async fn delete_user(&self, id: &Subject) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        let Some(user) = inner.users.remove(id) else {
            return Ok(false);
        };
        inner.usernames.remove(&user.username);
        Ok(true)
    }
}
