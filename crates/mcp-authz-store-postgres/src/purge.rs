//! [`PurgeStore`]: every expired record removed in one statement (one round trip, one snapshot).

use async_trait::async_trait;
use mcp_authz_store::{Entity, NumericDate, PurgeCounts, PurgeStore, StoreError};

use crate::PostgresStore;
use crate::decode::column;
use crate::error::{Failure, retrying};

/// Deletes what no operation would use at `$1` anymore and counts it. A grant's refresh tokens are
/// deleted (and counted) explicitly; the foreign key's `ON DELETE CASCADE` is only a safety net.
const PURGE: &str = "
WITH codes_gone AS (
    DELETE FROM codes WHERE expires_at <= $1 RETURNING 1
), tokens_gone AS (
    DELETE FROM refresh_tokens
     WHERE expires_at <= $1
        OR family_id IN (SELECT id FROM grants WHERE expires_at <= $1)
 RETURNING 1
), grants_gone AS (
    DELETE FROM grants WHERE expires_at <= $1 RETURNING 1
), jtis_gone AS (
    DELETE FROM revoked_access_tokens WHERE expires_at <= $1 RETURNING 1
), clients_gone AS (
    DELETE FROM clients WHERE kind = 'metadata_document' AND cache_expires_at <= $1 RETURNING 1
), keys_gone AS (
    DELETE FROM signing_keys WHERE state = 'retired' AND retired_until <= $1 RETURNING 1
)
SELECT (SELECT count(*) FROM codes_gone), (SELECT count(*) FROM grants_gone),
       (SELECT count(*) FROM tokens_gone), (SELECT count(*) FROM jtis_gone),
       (SELECT count(*) FROM clients_gone), (SELECT count(*) FROM keys_gone)";

/// A count column.
fn count(row: &sqlx::postgres::PgRow, index: usize, entity: Entity) -> Result<u64, StoreError> {
    let n = column::<i64>(row, index, entity)?;
    u64::try_from(n).map_err(|_| StoreError::corrupt(entity, "negative count"))
}

impl PostgresStore {
    async fn try_purge(&self, now: NumericDate) -> Result<PurgeCounts, Failure> {
        let row = sqlx::query(PURGE)
            .bind(now.as_i64())
            .fetch_one(self.pool())
            .await?;
        Ok(PurgeCounts {
            codes: count(&row, 0, Entity::AuthorizationCode)?,
            grants: count(&row, 1, Entity::Grant)?,
            refresh_tokens: count(&row, 2, Entity::RefreshToken)?,
            revoked_access_tokens: count(&row, 3, Entity::AccessToken)?,
            metadata_document_clients: count(&row, 4, Entity::Client)?,
            signing_keys: count(&row, 5, Entity::SigningKey)?,
        })
    }
}

#[async_trait]
impl PurgeStore for PostgresStore {
    async fn purge_expired(&self, now: NumericDate) -> Result<PurgeCounts, StoreError> {
        self.bounded(async move { retrying!(Entity::Grant, self.try_purge(now)) })
            .await
    }
}
