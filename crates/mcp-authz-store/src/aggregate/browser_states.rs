//! Short-lived state of browser flows (sessions, pending authorization requests, upstream logins),
//! for servers whose instances share it (REQUIREMENTS SC-1): any instance can serve any step.

use async_trait::async_trait;

use crate::{NumericDate, SecretHash, StoreError};

/// What a [`BrowserState`] is; each kind is a table of its own, keyed by [`BrowserState::key`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum BrowserStateKind {
    /// A signed-in browser session.
    Session,
    /// An authorization request of a browser that has not signed in.
    AnonymousRequest,
    /// An authorization request of a signed-in session.
    SignedInRequest,
    /// An upstream identity provider login in progress.
    UpstreamLogin,
    /// The CSRF token of an anonymous browser's account sign-in form.
    AccountSignIn,
}

impl BrowserStateKind {
    /// Every kind.
    pub const ALL: [Self; 5] = [
        Self::Session,
        Self::AnonymousRequest,
        Self::SignedInRequest,
        Self::UpstreamLogin,
        Self::AccountSignIn,
    ];

    /// The stored name of the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Session => "session",
            Self::AnonymousRequest => "anonymous_request",
            Self::SignedInRequest => "signed_in_request",
            Self::UpstreamLogin => "upstream_login",
            Self::AccountSignIn => "account_sign_in",
        }
    }
}

/// One record of browser-flow state. The value is the server's own serialization, opaque to the
/// store; the key is the SHA-256 of the random id the browser holds (cookie, form field or
/// `state`), so the store holds no usable id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserState {
    /// What it is.
    pub kind: BrowserStateKind,
    /// SHA-256 of the id the browser presents.
    pub key: SecretHash,
    /// Whom the record counts against for the per-owner bound (a peer address, a hashed session
    /// id); empty when unbounded.
    pub owner: String,
    /// The server's serialized record.
    pub value: Vec<u8>,
    /// The record is gone at or after this time.
    pub expires_at: NumericDate,
}

/// Shared browser-flow state.
///
/// **Concurrency.** Each operation is atomic. [`take_browser_state`](Self::take_browser_state)
/// returns a record to exactly one of any number of concurrent callers (a pending request is
/// consumed once).
///
/// **Bounds.** [`put_browser_state`](Self::put_browser_state) keeps at most `per_owner` live
/// records of one kind and owner: storing one more removes that owner's records closest to expiry,
/// never another owner's (SEC-17).
///
/// **SQL approach.** `browser_states (kind, key, owner, value, expires_at, PRIMARY KEY (kind, key))`
/// with an index on `(kind, owner, expires_at)`; put is an upsert followed, in the same
/// transaction, by a delete of the owner's surplus; take is `DELETE … RETURNING value`; expired
/// records are never returned and [`purge_browser_states`](Self::purge_browser_states) deletes them.
#[async_trait]
pub trait BrowserStateStore: Send + Sync {
    /// Stores `state`, replacing a record of the same kind and key; then, with `per_owner`, removes
    /// the owner's records of that kind beyond the `per_owner` latest-expiring live ones.
    async fn put_browser_state(
        &self,
        state: BrowserState,
        per_owner: Option<usize>,
        now: NumericDate,
    ) -> Result<(), StoreError>;

    /// The value of the live record `(kind, key)`.
    async fn get_browser_state(
        &self,
        kind: BrowserStateKind,
        key: &SecretHash,
        now: NumericDate,
    ) -> Result<Option<Vec<u8>>, StoreError>;

    /// Removes the record `(kind, key)`; its value if it was live. One caller at most gets it.
    async fn take_browser_state(
        &self,
        kind: BrowserStateKind,
        key: &SecretHash,
        now: NumericDate,
    ) -> Result<Option<Vec<u8>>, StoreError>;

    /// Removes every record with `expires_at <= now`; how many.
    async fn purge_browser_states(&self, now: NumericDate) -> Result<u64, StoreError>;
}
