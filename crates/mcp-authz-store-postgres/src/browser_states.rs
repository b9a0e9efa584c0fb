//! [`BrowserStateStore`]: browser-flow state shared by every instance (SC-1). A put is an upsert
//! and the owner's surplus delete in one transaction; a take is one `DELETE … RETURNING`, so one
//! caller at most gets a record.

use async_trait::async_trait;
use mcp_authz_store::{
    BrowserState, BrowserStateKind, BrowserStateStore, Entity, NumericDate, SecretHash, StoreError,
};

use crate::PostgresStore;
use crate::decode::column;
use crate::error::{Failure, retrying, store_error};

const E: Entity = Entity::BrowserState;

const UPSERT: &str = "
INSERT INTO browser_states (kind, key, owner, value, expires_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (kind, key) DO UPDATE
   SET owner = EXCLUDED.owner, value = EXCLUDED.value, expires_at = EXCLUDED.expires_at";

/// The owner's records beyond the `$3` latest-expiring live ones, and its expired ones.
const TRIM_OWNER: &str = "
DELETE FROM browser_states
 WHERE kind = $1 AND owner = $2
   AND (expires_at <= $4
        OR key NOT IN (SELECT key FROM browser_states
                        WHERE kind = $1 AND owner = $2 AND expires_at > $4
                        ORDER BY expires_at DESC, key
                        LIMIT $3))";

impl PostgresStore {
    async fn try_put_browser_state(
        &self,
        state: &BrowserState,
        per_owner: Option<usize>,
        now: NumericDate,
    ) -> Result<(), Failure> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(UPSERT)
            .bind(state.kind.as_str())
            .bind(state.key.as_bytes().as_slice())
            .bind(&state.owner)
            .bind(&state.value)
            .bind(state.expires_at.as_i64())
            .execute(&mut *tx)
            .await?;
        if let Some(bound) = per_owner {
            sqlx::query(TRIM_OWNER)
                .bind(state.kind.as_str())
                .bind(&state.owner)
                .bind(i64::try_from(bound.max(1)).unwrap_or(i64::MAX))
                .bind(now.as_i64())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

#[async_trait]
impl BrowserStateStore for PostgresStore {
    async fn put_browser_state(
        &self,
        state: BrowserState,
        per_owner: Option<usize>,
        now: NumericDate,
    ) -> Result<(), StoreError> {
        self.bounded(
            async move { retrying!(E, self.try_put_browser_state(&state, per_owner, now)) },
        )
        .await
    }

    async fn get_browser_state(
        &self,
        kind: BrowserStateKind,
        key: &SecretHash,
        now: NumericDate,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.bounded(async move {
            let row = sqlx::query(
                "SELECT value FROM browser_states WHERE kind = $1 AND key = $2 AND expires_at > $3",
            )
            .bind(kind.as_str())
            .bind(key.as_bytes().as_slice())
            .bind(now.as_i64())
            .fetch_optional(self.pool())
            .await
            .map_err(|err| store_error(&err, E))?;
            row.map(|row| column::<Vec<u8>>(&row, 0, E)).transpose()
        })
        .await
    }

    async fn take_browser_state(
        &self,
        kind: BrowserStateKind,
        key: &SecretHash,
        now: NumericDate,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.bounded(async move {
            let row = sqlx::query(
                "DELETE FROM browser_states WHERE kind = $1 AND key = $2 \
                 RETURNING value, expires_at > $3",
            )
            .bind(kind.as_str())
            .bind(key.as_bytes().as_slice())
            .bind(now.as_i64())
            .fetch_optional(self.pool())
            .await
            .map_err(|err| store_error(&err, E))?;
            let Some(row) = row else {
                return Ok(None);
            };
            let live: bool = column(&row, 1, E)?;
            Ok(if live {
                Some(column::<Vec<u8>>(&row, 0, E)?)
            } else {
                None
            })
        })
        .await
    }

    async fn purge_browser_states(&self, now: NumericDate) -> Result<u64, StoreError> {
        self.bounded(async move {
            let done = sqlx::query("DELETE FROM browser_states WHERE expires_at <= $1")
                .bind(now.as_i64())
                .execute(self.pool())
                .await
                .map_err(|err| store_error(&err, E))?;
            Ok(done.rows_affected())
        })
        .await
    }
}
