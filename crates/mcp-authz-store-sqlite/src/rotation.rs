//! Refresh-token rotation on the write connection: the guarded rotation, reuse detection and the
//! client binding of [`GrantStore::rotate_client_refresh_token`](mcp_authz_store::GrantStore).

use mcp_authz_metadata::{ClientId, Scope};
use mcp_authz_store::{
    Entity, Grant, NewRefreshToken, RefreshStatus, RefreshToken, RevocationReason, Rotation,
    SecretHash, StoreError, UnixTime,
};
use sqlx::SqliteConnection;

use crate::codec::col;
use crate::error::db;
use crate::rows::{self, TOKEN_WIDTH, grant_columns, token_columns};
use crate::tokens::{orphan, revoke_in, status};
use crate::writer::savepoint;

/// What a rotation guards or records besides the token itself.
pub(crate) enum Guard {
    /// Record this scope on the family (`rotate_refresh_token`).
    RecordScope(Scope),
    /// Rotate only a token of this client's grant; keep the family's scope
    /// (`rotate_client_refresh_token`).
    Client(ClientId),
}

/// The hot path in one round trip: the operation's savepoint (see the `writer` module), then three
/// statements, each acting only if the previous one changed
/// exactly one row (`changes()` is the count of the last *completed* statement). 1. the guarded
/// rotation of the presented token; 2. its successor, in the same family; 3. the scope recorded on
/// the family, returning the grant. A duplicate successor hash fails statement 2: the error rolls
/// the operation's savepoint back, statement 1 included.
const ROTATE_RECORDING_SCOPE: &str = concat!(
    savepoint!(),
    "UPDATE refresh_tokens SET rotated_at = ?1 \
     WHERE hash = ?2 AND rotated_at IS NULL AND expires_at > ?1 \
       AND EXISTS (SELECT 1 FROM grants g WHERE g.id = refresh_tokens.family_id \
                   AND g.revoked_at IS NULL AND g.expires_at > ?1); \
     INSERT INTO refresh_tokens (hash, family_id, issued_at, expires_at) \
       SELECT ?3, family_id, ?1, ?4 FROM refresh_tokens WHERE hash = ?2 AND changes() = 1; \
     UPDATE grants SET scope = ?5 \
       WHERE changes() = 1 AND id = (SELECT family_id FROM refresh_tokens WHERE hash = ?3) \
       RETURNING ",
    grant_columns!()
);

/// The same for one client: the guard also requires the grant's `client_id`, and statement 3 only
/// reads the grant (its page is not written).
const ROTATE_FOR_CLIENT: &str = concat!(
    savepoint!(),
    "UPDATE refresh_tokens SET rotated_at = ?1 \
     WHERE hash = ?2 AND rotated_at IS NULL AND expires_at > ?1 \
       AND EXISTS (SELECT 1 FROM grants g WHERE g.id = refresh_tokens.family_id \
                   AND g.revoked_at IS NULL AND g.expires_at > ?1 AND g.client_id = ?5); \
     INSERT INTO refresh_tokens (hash, family_id, issued_at, expires_at) \
       SELECT ?3, family_id, ?1, ?4 FROM refresh_tokens WHERE hash = ?2 AND changes() = 1; \
     SELECT ",
    grant_columns!(),
    " FROM grants \
       WHERE changes() = 1 AND id = (SELECT family_id FROM refresh_tokens WHERE hash = ?3)"
);

/// Rotates `presented` into `next` on the write connection: run it with
/// [`SqliteStore::write_in_savepoint`](crate::SqliteStore) (its first query opens its savepoint).
pub(crate) async fn rotate_in(
    conn: &mut SqliteConnection,
    presented: SecretHash,
    next: NewRefreshToken,
    guard: Guard,
    now: UnixTime,
) -> Result<Rotation, StoreError> {
    const E: Entity = Entity::RefreshToken;
    let (sql, fifth) = match &guard {
        Guard::RecordScope(scope) => (ROTATE_RECORDING_SCOPE, scope.to_string()),
        Guard::Client(client_id) => (ROTATE_FOR_CLIENT, client_id.as_str().to_owned()),
    };
    let rotated = sqlx::query(sql)
        .bind(now.as_i64())
        .bind(presented.as_bytes().as_slice())
        .bind(next.hash.as_bytes().as_slice())
        .bind(next.expires_at.as_i64())
        .bind(fifth)
        .fetch_all(&mut *conn)
        .await
        .map_err(db(E))?;

    if let Some(row) = rotated.first() {
        let grant = rows::grant(row, 0)?;
        let token = RefreshToken {
            hash: next.hash,
            family_id: grant.id.clone(),
            issued_at: now,
            expires_at: next.expires_at,
            rotated_at: None,
        };
        return Ok(Rotation::Rotated { grant, token });
    }

    let row = sqlx::query(concat!(
        "SELECT ",
        token_columns!("t."),
        ", g.id IS NOT NULL, ",
        grant_columns!("g."),
        " FROM refresh_tokens t LEFT JOIN grants g ON g.id = t.family_id WHERE t.hash = ?1"
    ))
    .bind(presented.as_bytes().as_slice())
    .fetch_optional(&mut *conn)
    .await
    .map_err(db(E))?;
    let Some(row) = row else {
        return Ok(Rotation::Unknown);
    };
    let token = rows::token(&row, 0)?;
    if !col::<bool>(&row, TOKEN_WIDTH, E)? {
        return Err(orphan());
    }
    let grant: Grant = rows::grant(&row, TOKEN_WIDTH + 1)?;
    if let Guard::Client(client_id) = &guard
        && grant.client_id != *client_id
    {
        return Ok(Rotation::OtherClient);
    }
    let family_id = grant.id.clone();
    match status(&token, &grant, now) {
        RefreshStatus::Rotated => {
            revoke_in(conn, &family_id, RevocationReason::RefreshTokenReuse, now).await?;
            Ok(Rotation::Reused { family_id })
        }
        RefreshStatus::Revoked => Ok(Rotation::Revoked { family_id }),
        // `Active` cannot be seen here (the guarded UPDATE would have matched): report the only
        // remaining reason the UPDATE missed.
        _ => Ok(Rotation::Expired),
    }
}
