//! Remembered user consents (REQUIREMENTS AS-11, SEC-13).

use std::collections::BTreeSet;

use async_trait::async_trait;
use mcp_authz_metadata::{ClientId, ResourceUri, Scope};

use crate::{NumericDate, StoreError, Subject};

/// A user's remembered consent for a client: the consent screen is skipped only when the request's
/// resources and scope are both within what the user was shown and approved ([`covers`](Self::covers),
/// REQUIREMENTS SEC-13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    /// The user.
    pub subject: Subject,
    /// The client.
    pub client_id: ClientId,
    /// The resources (RFC 8707) consented to. A consent stored before resources were remembered has
    /// none, so it covers no request and the user is asked again.
    pub resources: BTreeSet<ResourceUri>,
    /// The scope consented to (the server stores the union when a user consents to more).
    pub scope: Scope,
    /// When the consent was last given.
    pub granted_at: NumericDate,
}

impl Consent {
    /// `true` when every one of `resources` and every token of `scope` was consented to: only then
    /// may the consent page be skipped. An empty `resources` is covered only by the scope check, so
    /// callers always pass the resources the grant will carry.
    ///
    /// ```
    /// # use mcp_authz_metadata::{ClientId, ResourceUri, Scope};
    /// # use mcp_authz_store::{Consent, Subject, NumericDate};
    /// let mcp = ResourceUri::parse("https://mcp.example.com/mcp")?;
    /// let other = ResourceUri::parse("https://mcp.example.com/other")?;
    /// let consent = Consent {
    ///     subject: Subject::parse("alice")?,
    ///     client_id: ClientId::parse("client")?,
    ///     resources: [mcp.clone()].into(),
    ///     scope: Scope::parse("read")?,
    ///     granted_at: NumericDate::from_secs(0),
    /// };
    /// assert!(consent.covers(&[mcp.clone()], &Scope::parse("read")?));
    /// assert!(!consent.covers(&[other], &Scope::parse("read")?));
    /// assert!(!consent.covers(&[mcp], &Scope::parse("read write")?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn covers(&self, resources: &[ResourceUri], scope: &Scope) -> bool {
        resources.iter().all(|r| self.resources.contains(r)) && scope.is_subset(&self.scope)
    }
}

/// Storage of consents, keyed by `(subject, client_id)`.
///
/// **Concurrency.** Each operation is atomic; `put_consent` is last-writer-wins (the server computes the
/// union of the old and new scope before writing, and a lost union only means asking again).
///
/// **SQL approach.** `consents (subject, client_id, scope, granted_at, resources,
/// PRIMARY KEY (subject, client_id))`
/// with `INSERT … ON CONFLICT (subject, client_id) DO UPDATE`.
///
/// **Errors.** Every method may fail with [`StoreError::Unavailable`]; a stored scope that does not
/// parse gives [`StoreError::Corrupt`].
#[async_trait]
pub trait ConsentStore: Send + Sync {
    /// Stores a consent, replacing any for the same user and client.
    async fn put_consent(&self, consent: Consent) -> Result<(), StoreError>;

    /// The user's consent for the client, if remembered.
    async fn get_consent(
        &self,
        subject: &Subject,
        client_id: &ClientId,
    ) -> Result<Option<Consent>, StoreError>;

    /// Every consent of a user, ordered by client id.
    async fn subject_consents(&self, subject: &Subject) -> Result<Vec<Consent>, StoreError>;

    /// The consents of `subject` and/or of `client_id`, ordered by subject then client id; every
    /// consent when both are `None`. For operators (`mcp-authz consents list`).
    async fn list_consents(
        &self,
        subject: Option<&Subject>,
        client_id: Option<&ClientId>,
    ) -> Result<Vec<Consent>, StoreError>;

    /// Forgets a consent; `false` if there was none.
    async fn revoke_consent(
        &self,
        subject: &Subject,
        client_id: &ClientId,
    ) -> Result<bool, StoreError>;
}
