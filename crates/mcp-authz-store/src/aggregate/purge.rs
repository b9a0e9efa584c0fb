//! Expiry cleanup.

use async_trait::async_trait;

use crate::{NumericDate, StoreError};

/// How many records one [`PurgeStore::purge_expired`] call removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeCounts {
    /// Authorization codes with `expires_at <= now`, consumed or not.
    pub codes: u64,
    /// Grants with `expires_at <= now`, revoked or not.
    pub grants: u64,
    /// Refresh tokens with `expires_at <= now`, plus every token of a purged grant.
    pub refresh_tokens: u64,
    /// Revoked access-token ids with `expires_at <= now`.
    pub revoked_access_tokens: u64,
    /// Cached metadata-document clients whose cache `expires_at <= now`.
    pub metadata_document_clients: u64,
    /// Retired signing keys whose `until <= now`.
    pub signing_keys: u64,
}

impl PurgeCounts {
    /// The sum of all counts.
    pub fn total(&self) -> u64 {
        self.codes
            + self.grants
            + self.refresh_tokens
            + self.revoked_access_tokens
            + self.metadata_document_clients
            + self.signing_keys
    }
}

/// Removal of expired records, safe to run in the background on any instance at any time.
///
/// Only records that no operation would use at `now` anymore are removed, so a purge never changes an
/// outcome except turning `Expired` into `Unknown`. In particular a consumed code is kept until its own
/// expiry (replay detection, AS-7), a rotated refresh token until its own expiry (reuse detection, AS-8),
/// and a revoked grant until its expiry. Consents and users never expire.
///
/// **Concurrency.** A purge may interleave with other operations; each record is removed atomically
/// (per-table `DELETE … WHERE expires_at <= $now` statements need no common transaction).
///
/// **Errors.** May fail with [`StoreError::Unavailable`]; a failed purge is simply retried later.
#[async_trait]
pub trait PurgeStore: Send + Sync {
    /// Removes every record expired at `now` and says how many of each kind.
    async fn purge_expired(&self, now: NumericDate) -> Result<PurgeCounts, StoreError>;
}
