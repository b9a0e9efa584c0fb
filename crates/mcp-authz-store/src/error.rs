//! The one error type of every store operation.

use std::fmt;

/// The kind of stored record an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Entity {
    /// A registered client ([`ClientRecord`](crate::ClientRecord)).
    Client,
    /// An authorization code ([`AuthorizationCode`](crate::AuthorizationCode)).
    AuthorizationCode,
    /// A grant, that is a refresh-token family ([`Grant`](crate::Grant)).
    Grant,
    /// A refresh token ([`RefreshToken`](crate::RefreshToken)).
    RefreshToken,
    /// A revoked access-token id.
    AccessToken,
    /// A remembered consent ([`Consent`](crate::Consent)).
    Consent,
    /// A signing key ([`SigningKey`](crate::SigningKey)).
    SigningKey,
    /// A local user ([`User`](crate::User)).
    User,
    /// An audit event ([`AuditEvent`](crate::AuditEvent)).
    AuditEvent,
    /// Browser-flow state ([`BrowserState`](crate::BrowserState)).
    BrowserState,
    /// A counter of failed attempts ([`AttemptCount`](crate::AttemptCount)).
    AttemptCount,
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Client => "client",
            Self::AuthorizationCode => "authorization code",
            Self::Grant => "grant",
            Self::RefreshToken => "refresh token",
            Self::AccessToken => "access token",
            Self::Consent => "consent",
            Self::SigningKey => "signing key",
            Self::User => "user",
            Self::AuditEvent => "audit event",
            Self::BrowserState => "browser state",
            Self::AttemptCount => "attempt counter",
        })
    }
}

/// Why a store operation failed.
///
/// Protocol outcomes (a replayed code, a reused refresh token, an expired record) are **not** errors: they
/// are the `Ok` variants of the operation's outcome enum ([`CodeConsumption`](crate::CodeConsumption),
/// [`Rotation`](crate::Rotation)). An error means the operation did not take effect.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend cannot answer now: database down, connection refused, timeout, pool exhausted, a
    /// serialization failure that retries did not resolve. The operation had no effect (a SQL backend
    /// rolls its transaction back). Handlers answer `503 Service Unavailable` with `Retry-After`, never
    /// an OAuth error that would make a client drop its grant.
    #[error("store unavailable: {description}")]
    Unavailable {
        /// What failed, for logs. Never contains a secret.
        description: String,
    },
    /// The record an update or delete names does not exist.
    #[error("{entity} not found")]
    NotFound {
        /// The kind of record.
        entity: Entity,
    },
    /// A uniqueness rule was violated (duplicate client id, username, code hash, refresh-token hash, key
    /// id, a second active signing key). Nothing was written.
    #[error("{entity} conflict: {description}")]
    Conflict {
        /// The kind of record.
        entity: Entity,
        /// Which rule, for logs.
        description: String,
    },
    /// A requested state change is not allowed from the record's current state (for example activating
    /// a retired signing key). Nothing was written.
    #[error("{entity}: invalid state transition: {description}")]
    InvalidTransition {
        /// The kind of record.
        entity: Entity,
        /// Which transition, for logs.
        description: String,
    },
    /// A stored record does not parse back into its typed form (a corrupted or hand-edited row, a
    /// schema mismatch). The server treats the record as unusable and logs loudly.
    #[error("stored {entity} is corrupt: {description}")]
    Corrupt {
        /// The kind of record.
        entity: Entity,
        /// What did not parse, for logs. Never contains a secret.
        description: String,
    },
    /// The operating system's random number generator failed (id generation).
    #[error("the operating system's random number generator is unavailable")]
    RandomnessUnavailable,
}

impl StoreError {
    /// An [`Unavailable`](Self::Unavailable) error with a description.
    pub fn unavailable(description: impl fmt::Display) -> Self {
        Self::Unavailable {
            description: description.to_string(),
        }
    }

    /// A [`Corrupt`](Self::Corrupt) error: a stored `entity` whose column did not parse.
    pub fn corrupt(entity: Entity, description: impl fmt::Display) -> Self {
        Self::Corrupt {
            entity,
            description: description.to_string(),
        }
    }

    /// A [`Conflict`](Self::Conflict) error.
    pub fn conflict(entity: Entity, description: impl fmt::Display) -> Self {
        Self::Conflict {
            entity,
            description: description.to_string(),
        }
    }

    /// `true` for [`Unavailable`](Self::Unavailable): the caller may retry later (HTTP 503).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }
}
