//! Counters of failed attempts (failed logins of an account), for servers whose instances share
//! them (REQUIREMENTS SC-1, SEC-19): a limit then holds across every instance, not per instance.

use async_trait::async_trait;

use crate::{NumericDate, SecretHash, StoreError};

/// One key's failures: how many, and when the last one was counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptCount {
    /// Failures counted since the counter last started again.
    pub failures: u32,
    /// When the last failure was counted.
    pub last_failure: NumericDate,
}

/// Shared counters of failed attempts, keyed by a [`SecretHash`] of what is counted (the server
/// hashes the account name, so no name is stored in clear).
///
/// A counter is **live** while its last failure is after the `since` the caller gives (the start
/// of its window); a counter that is not live counts as absent and starts again at 1.
///
/// **Concurrency.** Each operation is atomic: `n` concurrent
/// [`record_attempt_failure`](Self::record_attempt_failure)s of one key count exactly `n`
/// failures, and each caller gets a distinct count.
///
/// **SQL approach.** `login_attempts (key PRIMARY KEY, failures, last_failure)` with an index on
/// `last_failure`; recording is one `INSERT … ON CONFLICT (key) DO UPDATE … RETURNING`.
#[async_trait]
pub trait AttemptStore: Send + Sync {
    /// The live counter of `key` (last failure after `since`), if any.
    async fn attempt_count(
        &self,
        key: &SecretHash,
        since: NumericDate,
    ) -> Result<Option<AttemptCount>, StoreError>;

    /// Counts one failure of `key` at `now`: the counter after it. A counter that is not live
    /// (last failure at or before `since`) starts again at 1.
    async fn record_attempt_failure(
        &self,
        key: &SecretHash,
        now: NumericDate,
        since: NumericDate,
    ) -> Result<AttemptCount, StoreError>;

    /// Takes back one failure of `key` (for an attempt that did not fail after all); never below 0.
    async fn take_back_attempt_failure(&self, key: &SecretHash) -> Result<(), StoreError>;

    /// Forgets the counter of `key`.
    async fn reset_attempts(&self, key: &SecretHash) -> Result<(), StoreError>;

    /// Removes every counter whose last failure is at or before `since`; how many.
    async fn purge_attempts(&self, since: NumericDate) -> Result<u64, StoreError>;
}
