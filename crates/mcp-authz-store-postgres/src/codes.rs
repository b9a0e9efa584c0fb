//! [`CodeStore`]: codes by SHA-256 hash, spent exactly once, replay revokes the grant (AS-7).
//!
//! `consume_code` is one statement on the success path: a data-modifying CTE marks the code consumed
//! (`UPDATE … WHERE consumed_at IS NULL AND expires_at > $now`), creates the grant and the first refresh
//! token from the returned row, all in the statement's implicit transaction. A concurrent consumer's
//! `UPDATE` waits for the winner's row lock and re-checks `consumed_at IS NULL` against the committed
//! row (READ COMMITTED re-evaluation), so it updates nothing. Only then, in a second statement with a
//! fresh snapshot that sees the winner's commit, does it classify the code and — if consumed — revoke
//! the grant in that same statement.

use async_trait::async_trait;
use mcp_authz_metadata::{ClientId, RedirectUri};
use mcp_authz_pkce::CodeChallenge;
use mcp_authz_store::{
    AuthorizationCode, CodeConsumption, CodeExchange, CodeStore, Entity, FamilyId, NumericDate,
    SecretHash, StoreError, Subject,
};
use sqlx::postgres::PgRow;

use crate::PostgresStore;
use crate::decode::{column, hash, opt_time, parsed, resources_of, scope_of, texts, time, time_of};
use crate::error::{Failure, retrying, store_error};

const E: Entity = Entity::AuthorizationCode;

/// The columns of a code, in the order [`code_at`] reads them.
const CODE_COLUMNS: &str = "hash, client_id, redirect_uri, code_challenge, resources, scope, \
                            subject, family_id, issued_at, expires_at, consumed_at";

/// Spends the code and creates its grant and first refresh token, or returns no row.
const CONSUME: &str = "
WITH spent AS (
    UPDATE codes SET consumed_at = $2
     WHERE hash = $1 AND consumed_at IS NULL AND expires_at > $2
 RETURNING hash, client_id, redirect_uri, code_challenge, resources, scope,
           subject, family_id, issued_at, expires_at, consumed_at
), created AS (
    INSERT INTO grants (id, client_id, subject, scope, resources, created_at, expires_at)
    SELECT family_id, client_id, subject, scope, resources, $2, $3 FROM spent
 RETURNING id
), first_token AS (
    INSERT INTO refresh_tokens (hash, family_id, issued_at, expires_at)
    SELECT $4::bytea, id, $2, $5::bigint FROM created WHERE $4::bytea IS NOT NULL
 RETURNING hash
)
SELECT spent.* FROM spent, created";

/// After a consume that changed nothing: what the code is now, revoking its grant if it was spent.
const CLASSIFY: &str = "
WITH presented AS (
    SELECT family_id, client_id, consumed_at, expires_at FROM codes WHERE hash = $1
), replay AS (
    UPDATE grants SET revoked_at = $2, revoked_reason = 'code_replay'
     WHERE id IN (SELECT family_id FROM presented WHERE consumed_at IS NOT NULL)
       AND revoked_at IS NULL
 RETURNING id
)
SELECT family_id, client_id, consumed_at IS NOT NULL, expires_at FROM presented";

/// A code from the eleven columns of [`CODE_COLUMNS`].
fn code_at(row: &PgRow) -> Result<AuthorizationCode, StoreError> {
    Ok(AuthorizationCode {
        hash: hash(row, 0, E)?,
        client_id: parsed(column(row, 1, E)?, ClientId::parse, E, "client id")?,
        redirect_uri: parsed(column(row, 2, E)?, RedirectUri::parse, E, "redirect uri")?,
        code_challenge: parsed(
            column(row, 3, E)?,
            str::parse::<CodeChallenge>,
            E,
            "code challenge",
        )?,
        resources: resources_of(&column::<Vec<String>>(row, 4, E)?, E)?,
        scope: scope_of(column(row, 5, E)?, E)?,
        subject: parsed(column(row, 6, E)?, Subject::parse, E, "subject")?,
        family_id: parsed(column(row, 7, E)?, FamilyId::parse, E, "family id")?,
        issued_at: time(row, 8, E)?,
        expires_at: time(row, 9, E)?,
        consumed_at: opt_time(row, 10, E)?,
    })
}

impl PostgresStore {
    async fn try_consume(
        &self,
        presented: &SecretHash,
        exchange: &CodeExchange,
        now: NumericDate,
    ) -> Result<CodeConsumption, Failure> {
        let refresh = exchange.refresh_token.as_ref();
        let spent = sqlx::query(CONSUME)
            .bind(presented.as_bytes().as_slice())
            .bind(now.as_i64())
            .bind(exchange.grant_expires_at.as_i64())
            .bind(refresh.map(|r| r.hash.as_bytes().as_slice()))
            .bind(refresh.map(|r| r.expires_at.as_i64()))
            .fetch_optional(self.pool())
            .await?;
        if let Some(row) = spent {
            let code = code_at(&row)?;
            let grant = code.grant(exchange, now);
            return Ok(CodeConsumption::Consumed { code, grant });
        }
        let Some(row) = sqlx::query(CLASSIFY)
            .bind(presented.as_bytes().as_slice())
            .bind(now.as_i64())
            .fetch_optional(self.pool())
            .await?
        else {
            return Ok(CodeConsumption::Unknown);
        };
        if column::<bool>(&row, 2, E)? {
            return Ok(CodeConsumption::AlreadyConsumed {
                family_id: parsed(column(&row, 0, E)?, FamilyId::parse, E, "family id")?,
                client_id: parsed(column(&row, 1, E)?, ClientId::parse, E, "client id")?,
            });
        }
        if now >= time_of(column(&row, 3, E)?, E)? {
            return Ok(CodeConsumption::Expired);
        }
        // Unspent and unexpired now, yet the consume found nothing: the code was inserted after the
        // consume statement ran, so at that point it was unknown.
        Ok(CodeConsumption::Unknown)
    }
}

#[async_trait]
impl CodeStore for PostgresStore {
    async fn insert_code(&self, code: AuthorizationCode) -> Result<(), StoreError> {
        self.bounded(async move {
            sqlx::query(
            "INSERT INTO codes (hash, client_id, redirect_uri, code_challenge, resources, scope, \
             subject, family_id, issued_at, expires_at, consumed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(code.hash.as_bytes().as_slice())
        .bind(code.client_id.as_str())
        .bind(code.redirect_uri.as_str())
        .bind(code.code_challenge.to_string())
        .bind(texts(&code.resources))
        .bind(code.scope.to_string())
        .bind(code.subject.as_str())
        .bind(code.family_id.as_str())
        .bind(code.issued_at.as_i64())
        .bind(code.expires_at.as_i64())
        .bind(code.consumed_at.map(NumericDate::as_i64))
        .execute(self.pool())
        .await
        .map_err(|err| store_error(&err, E))?;
            Ok(())
        })
        .await
    }

    async fn find_code(&self, hash: &SecretHash) -> Result<Option<AuthorizationCode>, StoreError> {
        self.bounded(async move {
            let row = sqlx::query(&format!("SELECT {CODE_COLUMNS} FROM codes WHERE hash = $1"))
                .bind(hash.as_bytes().as_slice())
                .fetch_optional(self.pool())
                .await
                .map_err(|err| store_error(&err, E))?;
            row.as_ref().map(code_at).transpose()
        })
        .await
    }

    async fn consume_code(
        &self,
        hash: &SecretHash,
        exchange: CodeExchange,
        now: NumericDate,
    ) -> Result<CodeConsumption, StoreError> {
        self.bounded(async move { retrying!(E, self.try_consume(hash, &exchange, now)) })
            .await
    }
}
