//! [`GrantStore`]: refresh-token rotation with reuse detection (AS-8) and revocation cascades; and the
//! [`RevokedTokenStore`] deny-list.
//!
//! `rotate_refresh_token` is one statement on the success path. Its first CTE selects the presented
//! token and its grant `FOR UPDATE OF t, g` with every condition of an active token; a concurrent
//! rotation waits for the row locks and, under READ COMMITTED, re-checks the conditions against the
//! committed rows (`rotated_at` now set, or the grant now revoked) and so selects nothing. The other
//! CTEs mark the token rotated, insert the successor and record the scope, in the statement's implicit
//! transaction. A rotation that changed nothing runs a second statement with a fresh snapshot that
//! classifies the token and, for a rotated one, revokes the family in that same statement.

use async_trait::async_trait;
use mcp_authz_metadata::{ClientId, Scope};
use mcp_authz_store::{
    Entity, FamilyId, Grant, GrantStore, NewRefreshToken, NumericDate, RefreshLookup,
    RefreshStatus, RevocationCounts, RevocationReason, RevokedTokenStore, Rotation, SecretHash,
    StoreError, Subject, TokenId,
};
use sqlx::Row;

use crate::PostgresStore;
use crate::decode::{column, grant_at, parsed, refresh_token_at, time_of};
use crate::error::{Failure, retrying, store_error};

const E: Entity = Entity::RefreshToken;

/// Rotates an active token: returns the grant with the new scope, or no row.
const ROTATE: &str = "
WITH current AS (
    SELECT t.hash, t.family_id
      FROM refresh_tokens t JOIN grants g ON g.id = t.family_id
     WHERE t.hash = $1 AND t.rotated_at IS NULL AND t.expires_at > $3
       AND g.revoked_at IS NULL AND g.expires_at > $3
       FOR UPDATE OF t, g
), rotated AS (
    UPDATE refresh_tokens SET rotated_at = $3
      FROM current WHERE refresh_tokens.hash = current.hash
 RETURNING refresh_tokens.family_id
), successor AS (
    INSERT INTO refresh_tokens (hash, family_id, issued_at, expires_at)
    SELECT $2, family_id, $3, $4 FROM rotated
 RETURNING family_id
), scoped AS (
    UPDATE grants SET scope = $5
      FROM rotated WHERE grants.id = rotated.family_id
 RETURNING grants.id, grants.client_id, grants.subject, grants.scope, grants.resources,
           grants.created_at, grants.expires_at, grants.revoked_at, grants.revoked_reason
)
SELECT scoped.* FROM scoped, successor";

/// After a rotation that changed nothing: the token's state now, revoking its family if rotated.
const CLASSIFY: &str = "
WITH presented AS (
    SELECT t.family_id, t.rotated_at IS NOT NULL AS rotated, t.expires_at,
           g.id AS grant_id, g.revoked_at IS NOT NULL AS revoked, g.expires_at AS grant_expires_at
      FROM refresh_tokens t LEFT JOIN grants g ON g.id = t.family_id
     WHERE t.hash = $1
), reuse AS (
    UPDATE grants SET revoked_at = $2, revoked_reason = 'refresh_token_reuse'
     WHERE id IN (SELECT family_id FROM presented WHERE rotated) AND revoked_at IS NULL
 RETURNING id
)
SELECT family_id, rotated, expires_at, grant_id, revoked, grant_expires_at FROM presented";

/// A token and its grant (left join: a missing grant is reported as corrupt).
const LOOKUP: &str = "
SELECT t.hash, t.family_id, t.issued_at, t.expires_at, t.rotated_at,
       g.id, g.client_id, g.subject, g.scope, g.resources, g.created_at, g.expires_at,
       g.revoked_at, g.revoked_reason
  FROM refresh_tokens t LEFT JOIN grants g ON g.id = t.family_id
 WHERE t.hash = $1";

/// A refresh token whose grant is missing: the schema's foreign key makes this impossible unless the
/// rows were edited by hand.
fn orphan() -> StoreError {
    StoreError::corrupt(Entity::RefreshToken, "refresh token without its grant")
}

impl PostgresStore {
    async fn try_rotate(
        &self,
        presented: &SecretHash,
        next: &NewRefreshToken,
        scope: &Scope,
        now: NumericDate,
    ) -> Result<Rotation, Failure> {
        let rotated = sqlx::query(ROTATE)
            .bind(presented.as_bytes().as_slice())
            .bind(next.hash.as_bytes().as_slice())
            .bind(now.as_i64())
            .bind(next.expires_at.as_i64())
            .bind(scope.to_string())
            .fetch_optional(self.pool())
            .await?;
        if let Some(row) = rotated {
            let grant = grant_at(&row, 0)?;
            let token = next.issue(grant.id.clone(), now);
            return Ok(Rotation::Rotated { grant, token });
        }
        let Some(row) = sqlx::query(CLASSIFY)
            .bind(presented.as_bytes().as_slice())
            .bind(now.as_i64())
            .fetch_optional(self.pool())
            .await?
        else {
            return Ok(Rotation::Unknown);
        };
        let family_id = parsed(column(&row, 0, E)?, FamilyId::parse, E, "family id")?;
        if column::<Option<&str>>(&row, 3, E)?.is_none() {
            return Err(orphan().into());
        }
        // The statement revoked the family of a rotated token already.
        let rotated = column::<bool>(&row, 1, E)?;
        let revoked = column::<Option<bool>>(&row, 4, E)? == Some(true);
        let token_expires = time_of(column(&row, 2, E)?, E)?;
        let grant_expires = time_of(column::<Option<i64>>(&row, 5, E)?.ok_or_else(orphan)?, E)?;
        let expired = now >= token_expires || now >= grant_expires;
        let status = RefreshStatus::classify(rotated, revoked, expired);
        // Active now, yet the rotation found nothing: the token was stored after the rotation
        // statement ran, so at that point it was unknown.
        Ok(Rotation::refused(status, family_id).unwrap_or(Rotation::Unknown))
    }

    /// Deletes the pending codes, then revokes the grants, matching `column = value`, in one
    /// transaction. Deleting first makes a concurrent consume of a matching code either lose (the
    /// code is gone) or finish before the delete, so that the revoking statement (a fresh snapshot)
    /// sees its grant.
    async fn try_revoke_where(
        &self,
        column: &str,
        value: &str,
        reason: RevocationReason,
        now: NumericDate,
    ) -> Result<RevocationCounts, Failure> {
        let mut tx = self.pool().begin().await?;
        let codes = sqlx::query(&format!(
            "DELETE FROM codes WHERE {column} = $1 AND consumed_at IS NULL"
        ))
        .bind(value)
        .execute(&mut *tx)
        .await?;
        let grants = sqlx::query(&format!(
            "UPDATE grants SET revoked_at = $2, revoked_reason = $3 \
             WHERE {column} = $1 AND revoked_at IS NULL"
        ))
        .bind(value)
        .bind(now.as_i64())
        .bind(reason.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(RevocationCounts {
            grants: grants.rows_affected(),
            pending_codes: codes.rows_affected(),
        })
    }
}

#[async_trait]
impl GrantStore for PostgresStore {
    async fn rotate_refresh_token(
        &self,
        presented: &SecretHash,
        next: NewRefreshToken,
        scope: Scope,
        now: NumericDate,
    ) -> Result<Rotation, StoreError> {
        self.bounded(async move { retrying!(E, self.try_rotate(presented, &next, &scope, now)) })
            .await
    }

    async fn find_refresh_token(
        &self,
        hash: &SecretHash,
        now: NumericDate,
    ) -> Result<Option<RefreshLookup>, StoreError> {
        self.bounded(async move {
            let Some(row) = sqlx::query(LOOKUP)
                .bind(hash.as_bytes().as_slice())
                .fetch_optional(self.pool())
                .await
                .map_err(|err| store_error(&err, E))?
            else {
                return Ok(None);
            };
            let token = refresh_token_at(&row, 0)?;
            if row
                .try_get::<Option<&str>, usize>(5)
                .map_err(|err| store_error(&err, Entity::Grant))?
                .is_none()
            {
                return Err(orphan());
            }
            let grant = grant_at(&row, 5)?;
            Ok(Some(RefreshLookup {
                status: token.status(&grant, now),
                token,
                grant,
            }))
        })
        .await
    }

    async fn get_grant(&self, family_id: &FamilyId) -> Result<Option<Grant>, StoreError> {
        self.bounded(async move {
            let row = sqlx::query(
                "SELECT id, client_id, subject, scope, resources, created_at, expires_at, \
             revoked_at, revoked_reason FROM grants WHERE id = $1",
            )
            .bind(family_id.as_str())
            .fetch_optional(self.pool())
            .await
            .map_err(|err| store_error(&err, Entity::Grant))?;
            row.map(|row| grant_at(&row, 0)).transpose()
        })
        .await
    }

    async fn subject_grants(&self, subject: &Subject) -> Result<Vec<Grant>, StoreError> {
        self.bounded(async move {
            let rows = sqlx::query(
                "SELECT id, client_id, subject, scope, resources, created_at, expires_at, \
             revoked_at, revoked_reason FROM grants WHERE subject = $1 ORDER BY created_at, id",
            )
            .bind(subject.as_str())
            .fetch_all(self.pool())
            .await
            .map_err(|err| store_error(&err, Entity::Grant))?;
            rows.iter().map(|row| grant_at(row, 0)).collect()
        })
        .await
    }

    async fn list_grants(
        &self,
        subject: Option<&Subject>,
        client_id: Option<&ClientId>,
    ) -> Result<Vec<Grant>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, client_id, subject, scope, resources, created_at, expires_at, \
             revoked_at, revoked_reason FROM grants \
             WHERE ($1::text IS NULL OR subject = $1) AND ($2::text IS NULL OR client_id = $2) \
             ORDER BY created_at, id",
        )
        .bind(subject.map(Subject::as_str))
        .bind(client_id.map(ClientId::as_str))
        .fetch_all(self.pool())
        .await
        .map_err(|err| store_error(&err, Entity::Grant))?;
        rows.iter().map(|row| grant_at(row, 0)).collect()
    }

    async fn family_last_used(
        &self,
        family_id: &FamilyId,
    ) -> Result<Option<NumericDate>, StoreError> {
        let last: Option<i64> =
            sqlx::query_scalar("SELECT MAX(issued_at) FROM refresh_tokens WHERE family_id = $1")
                .bind(family_id.as_str())
                .fetch_one(self.pool())
                .await
                .map_err(|err| store_error(&err, Entity::RefreshToken))?;
        last.map(|secs| time_of(secs, Entity::RefreshToken))
            .transpose()
    }

    async fn revoke_grant(
        &self,
        family_id: &FamilyId,
        reason: RevocationReason,
        now: NumericDate,
    ) -> Result<bool, StoreError> {
        self.bounded(async move {
            let done = sqlx::query(
                "UPDATE grants SET revoked_at = $2, revoked_reason = $3 \
             WHERE id = $1 AND revoked_at IS NULL",
            )
            .bind(family_id.as_str())
            .bind(now.as_i64())
            .bind(reason.as_str())
            .execute(self.pool())
            .await
            .map_err(|err| store_error(&err, Entity::Grant))?;
            Ok(done.rows_affected() == 1)
        })
        .await
    }

    async fn revoke_client_grants(
        &self,
        client_id: &ClientId,
        now: NumericDate,
    ) -> Result<RevocationCounts, StoreError> {
        self.bounded(async move {
            retrying!(
                Entity::Grant,
                self.try_revoke_where(
                    "client_id",
                    client_id.as_str(),
                    RevocationReason::Client,
                    now
                )
            )
        })
        .await
    }

    async fn revoke_subject_grants(
        &self,
        subject: &Subject,
        now: NumericDate,
    ) -> Result<RevocationCounts, StoreError> {
        self.bounded(async move {
            retrying!(
                Entity::Grant,
                self.try_revoke_where("subject", subject.as_str(), RevocationReason::Subject, now)
            )
        })
        .await
    }
}

#[async_trait]
impl RevokedTokenStore for PostgresStore {
    async fn revoke_access_token(
        &self,
        jti: &TokenId,
        expires_at: NumericDate,
    ) -> Result<(), StoreError> {
        self.bounded(async move {
            sqlx::query(
                "INSERT INTO revoked_access_tokens (jti, expires_at) VALUES ($1, $2) \
             ON CONFLICT (jti) DO UPDATE \
             SET expires_at = GREATEST(revoked_access_tokens.expires_at, EXCLUDED.expires_at)",
            )
            .bind(jti.as_str())
            .bind(expires_at.as_i64())
            .execute(self.pool())
            .await
            .map_err(|err| store_error(&err, Entity::AccessToken))?;
            Ok(())
        })
        .await
    }

    async fn is_access_token_revoked(
        &self,
        jti: &TokenId,
        now: NumericDate,
    ) -> Result<bool, StoreError> {
        self.bounded(async move {
        let row = sqlx::query(
            "SELECT EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti = $1 AND expires_at > $2)",
        )
        .bind(jti.as_str())
        .bind(now.as_i64())
        .fetch_one(self.pool())
        .await
        .map_err(|err| store_error(&err, Entity::AccessToken))?;
        column(&row, 0, Entity::AccessToken)
        }).await
    }
}
