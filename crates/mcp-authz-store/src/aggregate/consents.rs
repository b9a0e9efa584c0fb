//! Remembered user consents (REQUIREMENTS AS-11).

use async_trait::async_trait;
use mcp_authz_metadata::{ClientId, Scope};

use crate::{StoreError, Subject, UnixTime};

/// A user's remembered consent for a client: the consent screen is skipped when the requested scope is
/// a subset of `scope`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    /// The user.
    pub subject: Subject,
    /// The client.
    pub client_id: ClientId,
    /// The scope consented to (the server stores the union when a user consents to more).
    pub scope: Scope,
    /// When the consent was last given.
    pub granted_at: UnixTime,
}

/// Storage of consents, keyed by `(subject, client_id)`.
///
/// **Concurrency.** Each operation is atomic; `put_consent` is last-writer-wins (the server computes the
/// union of the old and new scope before writing, and a lost union only means asking again).
///
/// **SQL approach.** `consents (subject, client_id, scope, granted_at, PRIMARY KEY (subject, client_id))`
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

    /// Forgets a consent; `false` if there was none.
    async fn revoke_consent(
        &self,
        subject: &Subject,
        client_id: &ClientId,
    ) -> Result<bool, StoreError>;
}
