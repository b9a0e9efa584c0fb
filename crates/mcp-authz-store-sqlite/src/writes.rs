//! The writes that codes, grants and rotation share on the write connection: revoking a grant and
//! storing a refresh token. (The rules that decide them live on `mcp_authz_store`'s aggregates.)

#[cfg(doc)]
use mcp_authz_store::NewRefreshToken;
use mcp_authz_store::{Entity, FamilyId, NumericDate, RefreshToken, RevocationReason, StoreError};
use rusqlite::{Connection, params};

use crate::statement::execute;

/// A refresh token whose grant is missing: the store's own invariant is broken.
pub(crate) fn orphan() -> StoreError {
    StoreError::corrupt(Entity::RefreshToken, "refresh token without its grant")
}

/// Revokes one grant on the write connection if it is not revoked yet; `true` if this call revoked
/// it.
pub(crate) fn revoke_in(
    conn: &Connection,
    family_id: &FamilyId,
    reason: RevocationReason,
    now: NumericDate,
) -> Result<bool, StoreError> {
    let changed = execute(
        conn,
        Entity::Grant,
        "UPDATE grants SET revoked_at = ?1, revoked_reason = ?2 \
         WHERE id = ?3 AND revoked_at IS NULL",
        params![now.as_i64(), reason.as_str(), family_id.as_str()],
    )?;
    Ok(changed > 0)
}

/// Inserts a refresh token (as [`NewRefreshToken::issue`] made it); a duplicate hash is a
/// `Conflict`.
pub(crate) fn insert_refresh_in(conn: &Connection, token: &RefreshToken) -> Result<(), StoreError> {
    execute(
        conn,
        Entity::RefreshToken,
        "INSERT INTO refresh_tokens (hash, family_id, issued_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4)",
        params![
            token.hash.as_bytes().as_slice(),
            token.family_id.as_str(),
            token.issued_at.as_i64(),
            token.expires_at.as_i64(),
        ],
    )
    .map(drop)
}
