//! Revoked access-token ids (`jti`), kept until the token would have expired anyway (REQUIREMENTS AS-15).

use async_trait::async_trait;

use crate::{NumericDate, StoreError, TokenId};

/// The deny-list of access tokens revoked before their expiry.
///
/// **Concurrency.** Each operation is atomic and idempotent; a revocation is visible to every later
/// `is_access_token_revoked` on any instance sharing the backend.
///
/// **SQL approach.** `revoked_access_tokens (jti PRIMARY KEY, expires_at)`; revoke is `INSERT … ON
/// CONFLICT (jti) DO UPDATE SET expires_at = GREATEST(expires_at, EXCLUDED.expires_at)`; the check is
/// `SELECT 1 … WHERE jti = $1 AND expires_at > $now`.
///
/// **Errors.** Every method may fail with [`StoreError::Unavailable`]. A resource server or
/// introspection endpoint that cannot check the deny-list must fail closed (503), not accept the token.
#[async_trait]
pub trait RevokedTokenStore: Send + Sync {
    /// Records that the token `jti`, which expires at `expires_at`, is revoked. Revoking twice keeps the
    /// later expiry.
    async fn revoke_access_token(
        &self,
        jti: &TokenId,
        expires_at: NumericDate,
    ) -> Result<(), StoreError>;

    /// `true` if `jti` is revoked and `now < expires_at` (after that the token is expired anyway and
    /// the entry is purgeable).
    async fn is_access_token_revoked(
        &self,
        jti: &TokenId,
        now: NumericDate,
    ) -> Result<bool, StoreError>;
}
