//! Operator actions on users, grants and consents (REQUIREMENTS OB-3, OB-4), for the
//! `mcp-authz users|grants|consents` commands and applications embedding the server; the account
//! page uses the same [`Applications`](crate::applications::Applications).

use mcp_authz_metadata::ClientId;
use mcp_authz_store::{
    AuditEvent, AuditKind, AuditOutcome, AuditQuery, AuditReason, Consent, FamilyId, Grant,
    RevocationReason, StoreError, Subject, User, Username,
};

use super::AuthorizationServer;
use crate::applications::{ApplicationRevocation, ConnectedApplication};
use crate::secrets::HashError;

/// What [`AuthorizationServer::remove_user`] and
/// [`disable_user`](AuthorizationServer::disable_user) took back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserRevocation {
    /// Grants newly revoked (their refresh and access tokens stop working).
    pub grants: u64,
    /// Unconsumed authorization codes deleted.
    pub pending_codes: u64,
    /// Remembered consents forgotten (only when removing).
    pub consents: u64,
}

/// Everything the server keeps about one user, without any secret (no password hash, no token):
/// what [`AuthorizationServer::export_user`] returns for a data export (OB-4).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserExport {
    /// The subject (the tokens' `sub`).
    pub subject: Subject,
    /// The login name.
    pub username: Username,
    /// When the user was created.
    pub created_at: mcp_authz_store::NumericDate,
    /// Whether the user is disabled.
    pub disabled: bool,
    /// Every grant of the user, revoked or not, oldest first.
    pub grants: Vec<Grant>,
    /// Every remembered consent of the user, by client id.
    pub consents: Vec<Consent>,
    /// The user's latest audit events (at most 10,000), oldest first.
    pub audit_events: Vec<AuditEvent>,
}

/// Why [`AuthorizationServer::set_user_password`] did not change the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SetPasswordError {
    /// Hashing failed (or too many password checks are running).
    #[error(transparent)]
    Hash(#[from] HashError),
    /// The store failed, or has no such user ([`StoreError::NotFound`]).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AuthorizationServer {
    /// The local user named `name`: a username, or else a subject.
    pub async fn find_user(&self, name: &str) -> Result<Option<User>, StoreError> {
        let store = &self.inner.store;
        if let Ok(username) = Username::parse(name)
            && let Some(user) = store.find_user_by_username(&username).await?
        {
            return Ok(Some(user));
        }
        match Subject::parse(name) {
            Ok(subject) => store.get_user(&subject).await,
            Err(_) => Ok(None),
        }
    }

    /// The applications `subject` authorized, as the account page lists them: each client with an
    /// active grant or a remembered consent (OB-3).
    pub async fn connected_applications(
        &self,
        subject: &Subject,
    ) -> Result<Vec<ConnectedApplication>, StoreError> {
        self.inner.applications.list(subject, self.now()).await
    }

    /// Revokes every grant of `subject` to `client_id` (refresh tokens at once; access tokens
    /// through [`is_access_token_revoked`](Self::is_access_token_revoked)) and forgets the consent,
    /// as the account page's revoke button does (OB-3, OB-4).
    pub async fn revoke_application(
        &self,
        subject: &Subject,
        client_id: &ClientId,
    ) -> Result<ApplicationRevocation, StoreError> {
        let revoked = self
            .inner
            .applications
            .revoke(subject, client_id, self.now())
            .await?;
        let mut event = self.audit_event(AuditKind::ConsentRevoked, AuditOutcome::Success);
        event.client_id = Some(client_id.clone());
        event.subject = Some(subject.clone());
        event.reason = AuditReason::lossy("operator_revoked_application");
        self.record_audit_event(event).await;
        Ok(revoked)
    }

    /// The grants of `subject` and/or `client_id` (every grant when both are `None`), revoked or
    /// not, oldest first.
    pub async fn grants(
        &self,
        subject: Option<&Subject>,
        client_id: Option<&ClientId>,
    ) -> Result<Vec<Grant>, StoreError> {
        self.inner.store.list_grants(subject, client_id).await
    }

    /// The consents of `subject` and/or `client_id` (every consent when both are `None`).
    pub async fn consents(
        &self,
        subject: Option<&Subject>,
        client_id: Option<&ClientId>,
    ) -> Result<Vec<Consent>, StoreError> {
        self.inner.store.list_consents(subject, client_id).await
    }

    /// Revokes one grant (a refresh-token family) for an operator; `false` when it was already
    /// revoked or does not exist.
    pub async fn revoke_grant(&self, family_id: &FamilyId) -> Result<bool, StoreError> {
        self.inner
            .store
            .revoke_grant(family_id, RevocationReason::Requested, self.now())
            .await
    }

    /// Forgets the consent `subject` gave `client_id`, so the next authorization asks again;
    /// `false` when there was none. Grants stay (see [`revoke_application`](Self::revoke_application)).
    pub async fn revoke_consent(
        &self,
        subject: &Subject,
        client_id: &ClientId,
    ) -> Result<bool, StoreError> {
        let revoked = self.inner.store.revoke_consent(subject, client_id).await?;
        if revoked {
            let mut event = self.audit_event(AuditKind::ConsentRevoked, AuditOutcome::Success);
            event.client_id = Some(client_id.clone());
            event.subject = Some(subject.clone());
            event.reason = AuditReason::lossy("operator");
            self.record_audit_event(event).await;
        }
        Ok(revoked)
    }

    /// Replaces a local user's password with an Argon2id hash of `password` (the caller checks
    /// its strength); their sessions and grants stay.
    pub async fn set_user_password(
        &self,
        subject: &Subject,
        password: &str,
    ) -> Result<(), SetPasswordError> {
        let hash = self.inner.password_checks.hash(password).await?;
        self.inner.store.set_password_hash(subject, hash).await?;
        Ok(())
    }

    /// Disables a local user: they can no longer sign in or obtain codes, and every grant of
    /// theirs is revoked with its unconsumed codes, so their refresh tokens fail with
    /// `invalid_grant` and their access tokens are refused (OB-4).
    /// [`StoreError::NotFound`] when there is no such user.
    pub async fn disable_user(&self, subject: &Subject) -> Result<UserRevocation, StoreError> {
        let store = &self.inner.store;
        // Disabled first: a code issued between the two steps is then refused or deleted.
        store.set_user_disabled(subject, true).await?;
        let counts = store.revoke_subject_grants(subject, self.now()).await?;
        Ok(UserRevocation {
            grants: counts.grants,
            pending_codes: counts.pending_codes,
            consents: 0,
        })
    }

    /// Enables a disabled user again: they can sign in; grants revoked when disabling stay
    /// revoked. [`StoreError::NotFound`] when there is no such user.
    pub async fn enable_user(&self, subject: &Subject) -> Result<(), StoreError> {
        self.inner.store.set_user_disabled(subject, false).await
    }

    /// Removes a user and everything they granted: every grant revoked (with its codes and
    /// tokens), every consent forgotten, then the user deleted (OB-4). Also for subjects that
    /// are not local users (an upstream identity provider's), whose grants and consents go.
    pub async fn remove_user(&self, subject: &Subject) -> Result<UserRevocation, StoreError> {
        let store = &self.inner.store;
        // Revoke first: a user removed but still holding live refresh tokens would be worse than
        // the reverse.
        let counts = store.revoke_subject_grants(subject, self.now()).await?;
        let mut consents = 0;
        for consent in store.subject_consents(subject).await? {
            if store.revoke_consent(subject, &consent.client_id).await? {
                consents += 1;
            }
        }
        store.delete_user(subject).await?;
        Ok(UserRevocation {
            grants: counts.grants,
            pending_codes: counts.pending_codes,
            consents,
        })
    }

    /// Everything kept about the local user `subject`, without secrets; `None` when there is no
    /// such user.
    pub async fn export_user(&self, subject: &Subject) -> Result<Option<UserExport>, StoreError> {
        let store = &self.inner.store;
        let Some(user) = store.get_user(subject).await? else {
            return Ok(None);
        };
        Ok(Some(UserExport {
            grants: store.list_grants(Some(subject), None).await?,
            consents: store.subject_consents(subject).await?,
            audit_events: store
                .audit_events(&AuditQuery {
                    subject: Some(subject.clone()),
                    username: Some(user.username.clone()),
                    limit: 10_000,
                    ..AuditQuery::default()
                })
                .await?,
            subject: user.id,
            username: user.username,
            created_at: user.created_at,
            disabled: user.disabled,
        }))
    }
}
