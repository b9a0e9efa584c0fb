//! A third-party storage backend for `mcp-authz-server`: [`AuditedStore`] keeps an audit trail of
//! every change an authorization server makes (a client registered, a code spent, a grant revoked,
//! a key activated, ...) and stores through any other backend.
//!
//! What a backend author implements: the eight aggregate traits of `mcp-authz-store`
//! ([`ClientStore`], [`CodeStore`], [`GrantStore`], [`RevokedTokenStore`], [`ConsentStore`],
//! [`KeyStore`], [`UserStore`], [`PurgeStore`]); [`Store`] is then implemented for it, so an
//! `Arc<AuditedStore<_>>` is an `Arc<dyn Store>` for `AuthorizationServer::new`. How they prove it:
//! `tests/kit.rs` runs the shared test kit (`mcp-authz-store`'s `testkit` feature,
//! `testkit_tests!`), the same behaviour every backend of the project passes.
//!
//! [`Store`]: mcp_authz_store::Store

use std::sync::Mutex;

use async_trait::async_trait;
use mcp_authz_metadata::{ClientId, Scope};
use mcp_authz_store::{
    AuditEvent, AuditQuery, AuditStore, AuthorizationCode, ClientRecord, ClientStore,
    CodeConsumption, CodeExchange, CodeStore, Consent, ConsentStore, FamilyId, Grant, GrantStore,
    KeyId, KeyStore, NewRefreshToken, NumericDate, PurgeCounts, PurgeStore, RefreshLookup,
    RevocationCounts, RevocationReason, RevokedTokenStore, Rotation, SecretHash, SecretHashString,
    SigningKey, StoreError, Subject, TokenId, User, UserStore, Username,
};

/// One change the authorization server made: the operation and the record it names (never a
/// secret: hashes and tokens are not recorded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// The store operation, e.g. `insert_client`.
    pub operation: &'static str,
    /// The record: a client id, a grant's family id, a key id, a subject; empty when none.
    pub record: String,
}

/// A store that records every successful change in an audit trail and stores through `S`.
#[derive(Debug, Default)]
pub struct AuditedStore<S> {
    inner: S,
    trail: Mutex<Vec<AuditEntry>>,
}

impl<S> AuditedStore<S> {
    /// Audits the changes made to `inner`.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            trail: Mutex::new(Vec::new()),
        }
    }

    /// The changes so far, oldest first.
    pub fn trail(&self) -> Vec<AuditEntry> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<AuditEntry>> {
        self.trail
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records `operation` on `record` when `outcome` is a success, and passes it on.
    fn audit<T>(
        &self,
        operation: &'static str,
        record: &str,
        outcome: Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if outcome.is_ok() {
            self.lock().push(AuditEntry {
                operation,
                record: record.to_owned(),
            });
        }
        outcome
    }
}

#[async_trait]
impl<S: ClientStore> ClientStore for AuditedStore<S> {
    async fn insert_client(&self, client: ClientRecord) -> Result<(), StoreError> {
        let id = client.client_id.as_str().to_owned();
        self.audit("insert_client", &id, self.inner.insert_client(client).await)
    }
    async fn upsert_client(&self, client: ClientRecord) -> Result<(), StoreError> {
        let id = client.client_id.as_str().to_owned();
        self.audit("upsert_client", &id, self.inner.upsert_client(client).await)
    }
    async fn update_client(&self, client: ClientRecord) -> Result<(), StoreError> {
        let id = client.client_id.as_str().to_owned();
        self.audit("update_client", &id, self.inner.update_client(client).await)
    }
    async fn get_client(&self, client_id: &ClientId) -> Result<Option<ClientRecord>, StoreError> {
        self.inner.get_client(client_id).await
    }
    async fn delete_client(&self, client_id: &ClientId) -> Result<bool, StoreError> {
        let outcome = self.inner.delete_client(client_id).await;
        self.audit("delete_client", client_id.as_str(), outcome)
    }
    async fn list_clients(&self) -> Result<Vec<ClientRecord>, StoreError> {
        self.inner.list_clients().await
    }
}

#[async_trait]
impl<S: CodeStore> CodeStore for AuditedStore<S> {
    async fn insert_code(&self, code: AuthorizationCode) -> Result<(), StoreError> {
        let client = code.client_id.as_str().to_owned();
        self.audit("insert_code", &client, self.inner.insert_code(code).await)
    }
    async fn find_code(&self, hash: &SecretHash) -> Result<Option<AuthorizationCode>, StoreError> {
        self.inner.find_code(hash).await
    }
    async fn consume_code(
        &self,
        hash: &SecretHash,
        exchange: CodeExchange,
        now: NumericDate,
    ) -> Result<CodeConsumption, StoreError> {
        let outcome = self.inner.consume_code(hash, exchange, now).await;
        self.audit("consume_code", "", outcome)
    }
}

#[async_trait]
impl<S: GrantStore> GrantStore for AuditedStore<S> {
    async fn rotate_refresh_token(
        &self,
        presented: &SecretHash,
        next: NewRefreshToken,
        scope: Scope,
        now: NumericDate,
    ) -> Result<Rotation, StoreError> {
        let outcome = self
            .inner
            .rotate_refresh_token(presented, next, scope, now)
            .await;
        self.audit("rotate_refresh_token", "", outcome)
    }
    async fn rotate_client_refresh_token(
        &self,
        presented: &SecretHash,
        client_id: &ClientId,
        next: NewRefreshToken,
        now: NumericDate,
    ) -> Result<Rotation, StoreError> {
        let outcome = self
            .inner
            .rotate_client_refresh_token(presented, client_id, next, now)
            .await;
        self.audit("rotate_refresh_token", client_id.as_str(), outcome)
    }
    async fn find_refresh_token(
        &self,
        hash: &SecretHash,
        now: NumericDate,
    ) -> Result<Option<RefreshLookup>, StoreError> {
        self.inner.find_refresh_token(hash, now).await
    }
    async fn get_grant(&self, family_id: &FamilyId) -> Result<Option<Grant>, StoreError> {
        self.inner.get_grant(family_id).await
    }
    async fn subject_grants(&self, subject: &Subject) -> Result<Vec<Grant>, StoreError> {
        self.inner.subject_grants(subject).await
    }
    async fn list_grants(
        &self,
        subject: Option<&Subject>,
        client_id: Option<&ClientId>,
    ) -> Result<Vec<Grant>, StoreError> {
        self.inner.list_grants(subject, client_id).await
    }
    async fn family_last_used(
        &self,
        family_id: &FamilyId,
    ) -> Result<Option<NumericDate>, StoreError> {
        self.inner.family_last_used(family_id).await
    }
    async fn revoke_grant(
        &self,
        family_id: &FamilyId,
        reason: RevocationReason,
        now: NumericDate,
    ) -> Result<bool, StoreError> {
        let outcome = self.inner.revoke_grant(family_id, reason, now).await;
        self.audit("revoke_grant", family_id.as_str(), outcome)
    }
    async fn revoke_client_grants(
        &self,
        client_id: &ClientId,
        now: NumericDate,
    ) -> Result<RevocationCounts, StoreError> {
        let outcome = self.inner.revoke_client_grants(client_id, now).await;
        self.audit("revoke_client_grants", client_id.as_str(), outcome)
    }
    async fn revoke_subject_grants(
        &self,
        subject: &Subject,
        now: NumericDate,
    ) -> Result<RevocationCounts, StoreError> {
        let outcome = self.inner.revoke_subject_grants(subject, now).await;
        self.audit("revoke_subject_grants", subject.as_str(), outcome)
    }
}

#[async_trait]
impl<S: RevokedTokenStore> RevokedTokenStore for AuditedStore<S> {
    async fn revoke_access_token(
        &self,
        jti: &TokenId,
        expires_at: NumericDate,
    ) -> Result<(), StoreError> {
        let outcome = self.inner.revoke_access_token(jti, expires_at).await;
        self.audit("revoke_access_token", jti.as_str(), outcome)
    }
    async fn is_access_token_revoked(
        &self,
        jti: &TokenId,
        now: NumericDate,
    ) -> Result<bool, StoreError> {
        self.inner.is_access_token_revoked(jti, now).await
    }
}

#[async_trait]
impl<S: ConsentStore> ConsentStore for AuditedStore<S> {
    async fn put_consent(&self, consent: Consent) -> Result<(), StoreError> {
        let subject = consent.subject.as_str().to_owned();
        self.audit(
            "put_consent",
            &subject,
            self.inner.put_consent(consent).await,
        )
    }
    async fn get_consent(
        &self,
        subject: &Subject,
        client_id: &ClientId,
    ) -> Result<Option<Consent>, StoreError> {
        self.inner.get_consent(subject, client_id).await
    }
    async fn subject_consents(&self, subject: &Subject) -> Result<Vec<Consent>, StoreError> {
        self.inner.subject_consents(subject).await
    }
    async fn list_consents(
        &self,
        subject: Option<&Subject>,
        client_id: Option<&ClientId>,
    ) -> Result<Vec<Consent>, StoreError> {
        self.inner.list_consents(subject, client_id).await
    }
    async fn revoke_consent(
        &self,
        subject: &Subject,
        client_id: &ClientId,
    ) -> Result<bool, StoreError> {
        let outcome = self.inner.revoke_consent(subject, client_id).await;
        self.audit("revoke_consent", subject.as_str(), outcome)
    }
}

#[async_trait]
impl<S: KeyStore> KeyStore for AuditedStore<S> {
    async fn insert_key(&self, key: SigningKey) -> Result<(), StoreError> {
        let kid = key.kid.as_str().to_owned();
        self.audit("insert_key", &kid, self.inner.insert_key(key).await)
    }
    async fn get_key(&self, kid: &KeyId) -> Result<Option<SigningKey>, StoreError> {
        self.inner.get_key(kid).await
    }
    async fn active_key(&self) -> Result<Option<SigningKey>, StoreError> {
        self.inner.active_key().await
    }
    async fn published_keys(&self, now: NumericDate) -> Result<Vec<SigningKey>, StoreError> {
        self.inner.published_keys(now).await
    }
    async fn list_keys(&self) -> Result<Vec<SigningKey>, StoreError> {
        self.inner.list_keys().await
    }
    async fn activate_key(
        &self,
        kid: &KeyId,
        retire_previous_until: NumericDate,
    ) -> Result<Option<KeyId>, StoreError> {
        let outcome = self.inner.activate_key(kid, retire_previous_until).await;
        self.audit("activate_key", kid.as_str(), outcome)
    }
}

#[async_trait]
impl<S: UserStore> UserStore for AuditedStore<S> {
    async fn insert_user(&self, user: User) -> Result<(), StoreError> {
        let id = user.id.as_str().to_owned();
        self.audit("insert_user", &id, self.inner.insert_user(user).await)
    }
    async fn get_user(&self, id: &Subject) -> Result<Option<User>, StoreError> {
        self.inner.get_user(id).await
    }
    async fn find_user_by_username(&self, username: &Username) -> Result<Option<User>, StoreError> {
        self.inner.find_user_by_username(username).await
    }
    async fn set_user_disabled(&self, id: &Subject, disabled: bool) -> Result<(), StoreError> {
        let outcome = self.inner.set_user_disabled(id, disabled).await;
        self.audit("set_user_disabled", id.as_str(), outcome)
    }
    async fn set_password_hash(
        &self,
        id: &Subject,
        password_hash: SecretHashString,
    ) -> Result<(), StoreError> {
        let outcome = self.inner.set_password_hash(id, password_hash).await;
        self.audit("set_password_hash", id.as_str(), outcome)
    }
    async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        self.inner.list_users().await
    }
    async fn delete_user(&self, id: &Subject) -> Result<bool, StoreError> {
        let outcome = self.inner.delete_user(id).await;
        self.audit("delete_user", id.as_str(), outcome)
    }
}

#[async_trait]
impl<S: PurgeStore> PurgeStore for AuditedStore<S> {
    async fn purge_expired(&self, now: NumericDate) -> Result<PurgeCounts, StoreError> {
        let outcome = self.inner.purge_expired(now).await;
        self.audit("purge_expired", "", outcome)
    }
}

/// The server's own audit trail passes through unchanged (this wrapper's log is of storage
/// operations; the audit events are already a record of acts).
#[async_trait]
impl<S: AuditStore> AuditStore for AuditedStore<S> {
    async fn append_audit_event(&self, event: AuditEvent) -> Result<(), StoreError> {
        self.inner.append_audit_event(event).await
    }

    async fn audit_events(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>, StoreError> {
        self.inner.audit_events(query).await
    }

    async fn purge_audit_events(&self, before: NumericDate) -> Result<u64, StoreError> {
        self.inner.purge_audit_events(before).await
    }
}
