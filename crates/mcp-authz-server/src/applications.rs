//! The applications a user authorized, and taking that authorization back: the one answer the
//! account page (REQUIREMENTS OB-3) and the operator commands (OB-4) share.

use std::collections::BTreeMap;
use std::sync::Arc;

use mcp_authz_metadata::ClientId;
use mcp_authz_store::{
    ClientRecord, Consent, Grant, NumericDate, RevocationReason, Store, StoreError, Subject,
};

/// One application (client) a user authorized: its active grants and the consent remembered for
/// it, as [`AuthorizationServer::connected_applications`](crate::AuthorizationServer::connected_applications)
/// lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectedApplication {
    /// The client.
    pub client_id: ClientId,
    /// Its registration; `None` when it is no longer registered (removed, or a metadata document
    /// client whose cached document was purged).
    pub client: Option<ClientRecord>,
    /// Its active grants (refresh-token families) of this user, oldest first.
    pub grants: Vec<Grant>,
    /// The consent remembered for it, if any.
    pub consent: Option<Consent>,
    /// When the user first authorized it: the oldest of the active grants' creation and the
    /// consent's time.
    pub granted_at: NumericDate,
    /// When it last received tokens: the newest refresh token of its grants (its last refresh, or
    /// its code exchange); `None` when no grant has a refresh token.
    pub last_used: Option<NumericDate>,
}

impl ConnectedApplication {
    /// The name to show: the registered name, else the client id.
    pub fn display_name(&self) -> &str {
        self.client
            .as_ref()
            .and_then(|c| c.client_name.as_deref())
            .unwrap_or(self.client_id.as_str())
    }
}

/// What [`AuthorizationServer::revoke_application`](crate::AuthorizationServer::revoke_application)
/// took back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApplicationRevocation {
    /// Grants newly revoked (with their refresh tokens, and so their access tokens).
    pub grants: u64,
    /// Whether a remembered consent was forgotten.
    pub consent: bool,
}

/// The applications of a user over the store.
pub(crate) struct Applications {
    store: Arc<dyn Store>,
}

impl Applications {
    /// Over `store`.
    pub(crate) fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Every application `subject` has an active grant or a remembered consent for, ordered by
    /// client id.
    pub(crate) async fn list(
        &self,
        subject: &Subject,
        now: NumericDate,
    ) -> Result<Vec<ConnectedApplication>, StoreError> {
        let mut by_client: BTreeMap<ClientId, (Vec<Grant>, Option<Consent>)> = BTreeMap::new();
        for grant in self.store.subject_grants(subject).await? {
            if grant.is_active(now) {
                by_client
                    .entry(grant.client_id.clone())
                    .or_default()
                    .0
                    .push(grant);
            }
        }
        for consent in self.store.subject_consents(subject).await? {
            let client_id = consent.client_id.clone();
            by_client.entry(client_id).or_default().1 = Some(consent);
        }
        let mut applications = Vec::with_capacity(by_client.len());
        for (client_id, (grants, consent)) in by_client {
            let mut last_used = None;
            for grant in &grants {
                let used = self.store.family_last_used(&grant.id).await?;
                last_used = last_used.max(used);
            }
            let granted_at = grants
                .iter()
                .map(|g| g.created_at)
                .chain(consent.as_ref().map(|c| c.granted_at))
                .min()
                .unwrap_or(now);
            applications.push(ConnectedApplication {
                client: self.store.get_client(&client_id).await?,
                client_id,
                grants,
                consent,
                granted_at,
                last_used,
            });
        }
        Ok(applications)
    }

    /// Revokes every grant of `subject` to `client_id` (their refresh tokens, and through the
    /// revocation check their access tokens, whose `jti` names the grant) and forgets the consent
    /// remembered for it, so the next authorization asks again. Only `subject`'s own grants and
    /// consent are touched, whatever `client_id` is.
    pub(crate) async fn revoke(
        &self,
        subject: &Subject,
        client_id: &ClientId,
        now: NumericDate,
    ) -> Result<ApplicationRevocation, StoreError> {
        let mut revoked = ApplicationRevocation::default();
        for grant in self
            .store
            .list_grants(Some(subject), Some(client_id))
            .await?
        {
            if grant.revoked.is_none()
                && self
                    .store
                    .revoke_grant(&grant.id, RevocationReason::Requested, now)
                    .await?
            {
                revoked.grants += 1;
            }
        }
        revoked.consent = self.store.revoke_consent(subject, client_id).await?;
        Ok(revoked)
    }
}
