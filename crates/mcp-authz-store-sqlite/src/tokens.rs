//! Codes, grants and refresh tokens, revoked access tokens: the [`SqliteStore`] implementations of
//! [`CodeStore`], [`GrantStore`] and [`RevokedTokenStore`], following the SQL each trait documents.

use async_trait::async_trait;
use mcp_authz_metadata::{ClientId, Scope};
use mcp_authz_store::{
    AuthorizationCode, CodeConsumption, CodeExchange, CodeStore, Entity, FamilyId, Grant,
    GrantStore, NewRefreshToken, NumericDate, RefreshLookup, RevocationCounts, RevocationReason,
    RevokedTokenStore, Rotation, SecretHash, StoreError, Subject, TokenId,
};
use rusqlite::{Connection, params};

use crate::SqliteStore;
use crate::codec::{list, parsed};
use crate::columns::Columns;
use crate::error::db;
use crate::point_reads;
use crate::rotation::{Guard, rotate_in};
use crate::rows::{self, TOKEN_WIDTH, code_columns, grant_columns, token_columns};
use crate::statement::{execute, first_row};
use crate::writes::{insert_refresh_in, orphan, revoke_in};

#[async_trait]
impl CodeStore for SqliteStore {
    async fn insert_code(&self, code: AuthorizationCode) -> Result<(), StoreError> {
        const E: Entity = Entity::AuthorizationCode;
        let resources = list(E, code.resources.iter().map(|r| r.as_str()))?;
        self.write(move |conn| {
            execute(
                conn,
                E,
                concat!(
                    "INSERT INTO codes (",
                    code_columns!(),
                    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
                ),
                params![
                    code.hash.as_bytes().as_slice(),
                    code.client_id.as_str(),
                    code.redirect_uri.as_str(),
                    code.code_challenge.to_string(),
                    resources,
                    code.scope.to_string(),
                    code.subject.as_str(),
                    code.family_id.as_str(),
                    code.issued_at.as_i64(),
                    code.expires_at.as_i64(),
                    code.consumed_at.map(NumericDate::as_i64),
                ],
            )
            .map(drop)
        })
        .await
    }

    async fn find_code(&self, hash: &SecretHash) -> Result<Option<AuthorizationCode>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            code_columns!(),
            " FROM codes WHERE hash = ?1"
        ))
        .bind(hash.as_bytes().as_slice())
        .fetch_optional(self.reader())
        .await
        .map_err(db(Entity::AuthorizationCode))?;
        row.map(|row| rows::code(&row, 0)).transpose()
    }

    async fn consume_code(
        &self,
        hash: &SecretHash,
        exchange: CodeExchange,
        now: NumericDate,
    ) -> Result<CodeConsumption, StoreError> {
        let hash = *hash;
        self.write(move |conn| consume_in(conn, &hash, &exchange, now))
            .await
    }
}

/// Spends the code `hash` on the write connection: the guarded spend returning the code, then the
/// grant and (if given) the first refresh token. A duplicate family id or token hash fails its
/// INSERT; the error rolls the operation's savepoint back, spend included.
fn consume_in(
    conn: &Connection,
    hash: &SecretHash,
    exchange: &CodeExchange,
    now: NumericDate,
) -> Result<CodeConsumption, StoreError> {
    const E: Entity = Entity::AuthorizationCode;
    let spent = first_row(
        conn,
        E,
        concat!(
            "UPDATE codes SET consumed_at = ?1 \
             WHERE hash = ?2 AND consumed_at IS NULL AND expires_at > ?1 RETURNING ",
            code_columns!()
        ),
        params![now.as_i64(), hash.as_bytes().as_slice()],
        |row| rows::code(row, 0),
    )?;

    if let Some(code) = spent {
        let grant = code.grant(exchange, now);
        let resources = list(Entity::Grant, grant.resources.iter().map(|r| r.as_str()))?;
        execute(
            conn,
            Entity::Grant,
            "INSERT INTO grants (id, client_id, subject, scope, resources, created_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                grant.id.as_str(),
                grant.client_id.as_str(),
                grant.subject.as_str(),
                grant.scope.to_string(),
                resources,
                grant.created_at.as_i64(),
                grant.expires_at.as_i64(),
            ],
        )?;
        if let Some(refresh) = &exchange.refresh_token {
            insert_refresh_in(conn, &refresh.issue(grant.id.clone(), now))?;
        }
        return Ok(CodeConsumption::Consumed { code, grant });
    }

    let found = first_row(
        conn,
        E,
        "SELECT consumed_at IS NOT NULL, family_id, client_id FROM codes WHERE hash = ?1",
        params![hash.as_bytes().as_slice()],
        |row| {
            Ok((
                row.flag(0, E)?,
                parsed(E, "family_id", FamilyId::parse(row.text(1, E)?))?,
                parsed(E, "client_id", ClientId::parse(row.text(2, E)?))?,
            ))
        },
    )?;
    let Some((consumed, family_id, client_id)) = found else {
        return Ok(CodeConsumption::Unknown);
    };
    if !consumed {
        // Not consumed, yet the guarded UPDATE missed it: `expires_at <= now`.
        return Ok(CodeConsumption::Expired);
    }
    revoke_in(conn, &family_id, RevocationReason::CodeReplay, now)?;
    Ok(CodeConsumption::AlreadyConsumed {
        family_id,
        client_id,
    })
}

#[async_trait]
impl GrantStore for SqliteStore {
    async fn rotate_refresh_token(
        &self,
        presented: &SecretHash,
        next: NewRefreshToken,
        scope: Scope,
        now: NumericDate,
    ) -> Result<Rotation, StoreError> {
        let presented = *presented;
        self.write(move |conn| rotate_in(conn, &presented, next, &Guard::RecordScope(scope), now))
            .await
    }

    async fn rotate_client_refresh_token(
        &self,
        presented: &SecretHash,
        client_id: &ClientId,
        next: NewRefreshToken,
        now: NumericDate,
    ) -> Result<Rotation, StoreError> {
        let (presented, client_id) = (*presented, client_id.clone());
        self.write(move |conn| rotate_in(conn, &presented, next, &Guard::Client(client_id), now))
            .await
    }

    async fn find_refresh_token(
        &self,
        hash: &SecretHash,
        now: NumericDate,
    ) -> Result<Option<RefreshLookup>, StoreError> {
        const E: Entity = Entity::RefreshToken;
        let row = sqlx::query(concat!(
            "SELECT ",
            token_columns!("t."),
            ", g.id IS NOT NULL, ",
            grant_columns!("g."),
            " FROM refresh_tokens t LEFT JOIN grants g ON g.id = t.family_id WHERE t.hash = ?1"
        ))
        .bind(hash.as_bytes().as_slice())
        .fetch_optional(self.reader())
        .await
        .map_err(db(E))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let token = rows::token(&row, 0)?;
        if !row.flag(TOKEN_WIDTH, E)? {
            return Err(orphan());
        }
        let grant = rows::grant(&row, TOKEN_WIDTH + 1)?;
        Ok(Some(RefreshLookup {
            status: token.status(&grant, now),
            token,
            grant,
        }))
    }

    async fn get_grant(&self, family_id: &FamilyId) -> Result<Option<Grant>, StoreError> {
        const SQL: &str = concat!("SELECT ", grant_columns!(), " FROM grants WHERE id = ?1");
        if let Some(result) = self.point_read(|conn| {
            point_reads::first_row(conn, Entity::Grant, SQL, [family_id.as_str()], |row| {
                rows::grant(row, 0)
            })
        }) {
            return result;
        }
        let row = sqlx::query(SQL)
            .bind(family_id.as_str())
            .fetch_optional(self.reader())
            .await
            .map_err(db(Entity::Grant))?;
        row.map(|row| rows::grant(&row, 0)).transpose()
    }

    async fn subject_grants(&self, subject: &Subject) -> Result<Vec<Grant>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            grant_columns!(),
            " FROM grants WHERE subject = ?1 ORDER BY created_at, id"
        ))
        .bind(subject.as_str())
        .fetch_all(self.reader())
        .await
        .map_err(db(Entity::Grant))?;
        rows.iter().map(|row| rows::grant(row, 0)).collect()
    }

    async fn list_grants(
        &self,
        subject: Option<&Subject>,
        client_id: Option<&ClientId>,
    ) -> Result<Vec<Grant>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            grant_columns!(),
            " FROM grants WHERE (?1 IS NULL OR subject = ?1) AND (?2 IS NULL OR client_id = ?2) \
             ORDER BY created_at, id"
        ))
        .bind(subject.map(Subject::as_str))
        .bind(client_id.map(ClientId::as_str))
        .fetch_all(self.reader())
        .await
        .map_err(db(Entity::Grant))?;
        rows.iter().map(|row| rows::grant(row, 0)).collect()
    }

    async fn family_last_used(
        &self,
        family_id: &FamilyId,
    ) -> Result<Option<NumericDate>, StoreError> {
        let last: Option<i64> =
            sqlx::query_scalar("SELECT MAX(issued_at) FROM refresh_tokens WHERE family_id = ?1")
                .bind(family_id.as_str())
                .fetch_one(self.reader())
                .await
                .map_err(db(Entity::RefreshToken))?;
        last.map(|secs| crate::codec::time(Entity::RefreshToken, "issued_at", secs))
            .transpose()
    }

    async fn revoke_grant(
        &self,
        family_id: &FamilyId,
        reason: RevocationReason,
        now: NumericDate,
    ) -> Result<bool, StoreError> {
        let family_id = family_id.clone();
        self.write(move |conn| revoke_in(conn, &family_id, reason, now))
            .await
    }

    async fn revoke_client_grants(
        &self,
        client_id: &ClientId,
        now: NumericDate,
    ) -> Result<RevocationCounts, StoreError> {
        self.revoke_where(Owner::Client, client_id.as_str(), now)
            .await
    }

    async fn revoke_subject_grants(
        &self,
        subject: &Subject,
        now: NumericDate,
    ) -> Result<RevocationCounts, StoreError> {
        self.revoke_where(Owner::Subject, subject.as_str(), now)
            .await
    }
}

/// Whose grants a bulk revocation targets.
#[derive(Debug, Clone, Copy)]
enum Owner {
    /// Every grant of one client.
    Client,
    /// Every grant of one user.
    Subject,
}

impl SqliteStore {
    /// Revokes every active grant of `owner` `value` and deletes its unconsumed codes, in one
    /// transaction.
    async fn revoke_where(
        &self,
        owner: Owner,
        value: &str,
        now: NumericDate,
    ) -> Result<RevocationCounts, StoreError> {
        let (revoke, delete, reason) = match owner {
            Owner::Client => (
                "UPDATE grants SET revoked_at = ?1, revoked_reason = ?2 \
                 WHERE client_id = ?3 AND revoked_at IS NULL",
                "DELETE FROM codes WHERE client_id = ?1 AND consumed_at IS NULL",
                RevocationReason::Client,
            ),
            Owner::Subject => (
                "UPDATE grants SET revoked_at = ?1, revoked_reason = ?2 \
                 WHERE subject = ?3 AND revoked_at IS NULL",
                "DELETE FROM codes WHERE subject = ?1 AND consumed_at IS NULL",
                RevocationReason::Subject,
            ),
        };
        let value = value.to_owned();
        self.write(move |conn| {
            let grants = execute(
                conn,
                Entity::Grant,
                revoke,
                params![now.as_i64(), reason.as_str(), value.as_str()],
            )?;
            let pending_codes = execute(
                conn,
                Entity::AuthorizationCode,
                delete,
                params![value.as_str()],
            )?;
            Ok(RevocationCounts {
                grants,
                pending_codes,
            })
        })
        .await
    }
}

#[async_trait]
impl RevokedTokenStore for SqliteStore {
    async fn revoke_access_token(
        &self,
        jti: &TokenId,
        expires_at: NumericDate,
    ) -> Result<(), StoreError> {
        let jti = jti.clone();
        self.write(move |conn| {
            execute(
                conn,
                Entity::AccessToken,
                "INSERT INTO revoked_access_tokens (jti, expires_at) VALUES (?1, ?2) \
                 ON CONFLICT (jti) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)",
                params![jti.as_str(), expires_at.as_i64()],
            )
            .map(drop)
        })
        .await
    }

    async fn is_access_token_revoked(
        &self,
        jti: &TokenId,
        now: NumericDate,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "SELECT 1 FROM revoked_access_tokens WHERE jti = ?1 AND expires_at > ?2";
        if let Some(result) = self.point_read(|conn| {
            point_reads::first_row(
                conn,
                Entity::AccessToken,
                SQL,
                params![jti.as_str(), now.as_i64()],
                |_| Ok(()),
            )
        }) {
            return result.map(|found| found.is_some());
        }
        let found: Option<i64> = sqlx::query_scalar(SQL)
            .bind(jti.as_str())
            .bind(now.as_i64())
            .fetch_optional(self.reader())
            .await
            .map_err(db(Entity::AccessToken))?;
        Ok(found.is_some())
    }
}
