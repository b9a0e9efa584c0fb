//! Refresh-token rotation on the write connection: the guarded rotation, reuse detection and the
//! client binding of [`GrantStore::rotate_client_refresh_token`](mcp_authz_store::GrantStore).

use mcp_authz_metadata::{ClientId, Scope};
use mcp_authz_store::{
    Entity, FamilyId, NewRefreshToken, NumericDate, RefreshStatus, RevocationReason, Rotation,
    SecretHash, StoreError,
};
use rusqlite::{Connection, params};

use crate::codec::parsed;
use crate::columns::Columns;
use crate::rows::{self, TOKEN_WIDTH, grant_columns, token_columns};
use crate::statement::first_row;
use crate::writes::{insert_refresh_in, orphan, revoke_in};

/// What a rotation guards or records besides the token itself.
pub(crate) enum Guard {
    /// Record this scope on the family (`rotate_refresh_token`).
    RecordScope(Scope),
    /// Rotate only a token of this client's grant; keep the family's scope
    /// (`rotate_client_refresh_token`).
    Client(ClientId),
}

/// The guarded rotation of the presented token (`?2`) at `?1`: only an unrotated, unexpired token
/// of an active grant. For one client (`?3`) the grant must also be that client's.
const ROTATE: &str = "UPDATE refresh_tokens SET rotated_at = ?1 \
     WHERE hash = ?2 AND rotated_at IS NULL AND expires_at > ?1 \
       AND EXISTS (SELECT 1 FROM grants g WHERE g.id = refresh_tokens.family_id \
                   AND g.revoked_at IS NULL AND g.expires_at > ?1) \
     RETURNING family_id";

/// [`ROTATE`] for one client.
const ROTATE_FOR_CLIENT: &str = "UPDATE refresh_tokens SET rotated_at = ?1 \
     WHERE hash = ?2 AND rotated_at IS NULL AND expires_at > ?1 \
       AND EXISTS (SELECT 1 FROM grants g WHERE g.id = refresh_tokens.family_id \
                   AND g.revoked_at IS NULL AND g.expires_at > ?1 AND g.client_id = ?3) \
     RETURNING family_id";

/// Rotates `presented` into `next` on the write connection (inside the operation's savepoint: a
/// duplicate successor hash fails the INSERT and rolls the rotation back with it). Three
/// statements: the guarded rotation, the successor in the same family, the grant (its scope
/// recorded, or only read). When the guard misses, one read tells why.
pub(crate) fn rotate_in(
    conn: &Connection,
    presented: &SecretHash,
    next: NewRefreshToken,
    guard: &Guard,
    now: NumericDate,
) -> Result<Rotation, StoreError> {
    const E: Entity = Entity::RefreshToken;
    let family = |row: &rusqlite::Row<'_>| parsed(E, "family_id", FamilyId::parse(row.text(0, E)?));
    let rotated = match guard {
        Guard::RecordScope(_) => first_row(
            conn,
            E,
            ROTATE,
            params![now.as_i64(), presented.as_bytes().as_slice()],
            family,
        )?,
        Guard::Client(client_id) => first_row(
            conn,
            E,
            ROTATE_FOR_CLIENT,
            params![
                now.as_i64(),
                presented.as_bytes().as_slice(),
                client_id.as_str()
            ],
            family,
        )?,
    };

    if let Some(family_id) = rotated {
        let token = next.issue(family_id.clone(), now);
        insert_refresh_in(conn, &token)?;
        let grant = match guard {
            Guard::RecordScope(scope) => first_row(
                conn,
                Entity::Grant,
                concat!(
                    "UPDATE grants SET scope = ?1 WHERE id = ?2 RETURNING ",
                    grant_columns!()
                ),
                params![scope.to_string(), family_id.as_str()],
                |row| rows::grant(row, 0),
            )?,
            Guard::Client(_) => first_row(
                conn,
                Entity::Grant,
                concat!("SELECT ", grant_columns!(), " FROM grants WHERE id = ?1"),
                params![family_id.as_str()],
                |row| rows::grant(row, 0),
            )?,
        };
        let grant = grant.ok_or_else(orphan)?;
        return Ok(Rotation::Rotated { grant, token });
    }

    let found = first_row(
        conn,
        E,
        concat!(
            "SELECT ",
            token_columns!("t."),
            ", g.id IS NOT NULL, ",
            grant_columns!("g."),
            " FROM refresh_tokens t LEFT JOIN grants g ON g.id = t.family_id WHERE t.hash = ?1"
        ),
        params![presented.as_bytes().as_slice()],
        |row| {
            let token = rows::token(row, 0)?;
            if !row.flag(TOKEN_WIDTH, E)? {
                return Err(orphan());
            }
            Ok((token, rows::grant(row, TOKEN_WIDTH + 1)?))
        },
    )?;
    let Some((token, grant)) = found else {
        return Ok(Rotation::Unknown);
    };
    if let Guard::Client(client_id) = guard
        && grant.client_id != *client_id
    {
        return Ok(Rotation::OtherClient);
    }
    let family_id = grant.id.clone();
    let status = token.status(&grant, now);
    if status == RefreshStatus::Rotated {
        revoke_in(conn, &family_id, RevocationReason::RefreshTokenReuse, now)?;
    }
    // `Active` cannot be seen here (the guarded UPDATE would have matched): report the only
    // remaining reason the UPDATE missed.
    Ok(Rotation::refused(status, family_id).unwrap_or(Rotation::Expired))
}
