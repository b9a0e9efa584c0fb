//! [`AttemptStore`]: failure counters shared by every instance (SC-1, SEC-19). Counting is one
//! `INSERT … ON CONFLICT … DO UPDATE … RETURNING`, so concurrent failures are counted exactly.

use async_trait::async_trait;
use mcp_authz_store::{AttemptCount, AttemptStore, Entity, NumericDate, SecretHash, StoreError};
use sqlx::postgres::PgRow;

use crate::PostgresStore;
use crate::decode::{column, time_of};
use crate::error::store_error;

const E: Entity = Entity::AttemptCount;

/// `$1` key, `$2` now, `$3` since: a counter whose last failure is at or before `$3` starts again.
const RECORD: &str = "
INSERT INTO login_attempts AS a (key, failures, last_failure) VALUES ($1, 1, $2)
ON CONFLICT (key) DO UPDATE
   SET failures = CASE WHEN a.last_failure <= $3 THEN 1 ELSE a.failures + 1 END,
       last_failure = GREATEST(a.last_failure, EXCLUDED.last_failure)
RETURNING failures, last_failure";

fn count_of(row: &PgRow) -> Result<AttemptCount, StoreError> {
    let failures: i64 = column(row, 0, E)?;
    let last_failure: i64 = column(row, 1, E)?;
    Ok(AttemptCount {
        failures: u32::try_from(failures.max(0)).unwrap_or(u32::MAX),
        last_failure: time_of(last_failure, E)?,
    })
}

#[async_trait]
impl AttemptStore for PostgresStore {
    async fn attempt_count(
        &self,
        key: &SecretHash,
        since: NumericDate,
    ) -> Result<Option<AttemptCount>, StoreError> {
        self.bounded(async move {
            let row = sqlx::query(
                "SELECT failures, last_failure FROM login_attempts \
                 WHERE key = $1 AND last_failure > $2",
            )
            .bind(key.as_bytes().as_slice())
            .bind(since.as_i64())
            .fetch_optional(self.pool())
            .await
            .map_err(|err| store_error(&err, E))?;
            row.as_ref().map(count_of).transpose()
        })
        .await
    }

    async fn record_attempt_failure(
        &self,
        key: &SecretHash,
        now: NumericDate,
        since: NumericDate,
    ) -> Result<AttemptCount, StoreError> {
        self.bounded(async move {
            let row = sqlx::query(RECORD)
                .bind(key.as_bytes().as_slice())
                .bind(now.as_i64())
                .bind(since.as_i64())
                .fetch_one(self.pool())
                .await
                .map_err(|err| store_error(&err, E))?;
            count_of(&row)
        })
        .await
    }

    async fn take_back_attempt_failure(&self, key: &SecretHash) -> Result<(), StoreError> {
        self.bounded(async move {
            sqlx::query(
                "UPDATE login_attempts SET failures = GREATEST(failures - 1, 0) WHERE key = $1",
            )
            .bind(key.as_bytes().as_slice())
            .execute(self.pool())
            .await
            .map_err(|err| store_error(&err, E))?;
            Ok(())
        })
        .await
    }

    async fn reset_attempts(&self, key: &SecretHash) -> Result<(), StoreError> {
        self.bounded(async move {
            sqlx::query("DELETE FROM login_attempts WHERE key = $1")
                .bind(key.as_bytes().as_slice())
                .execute(self.pool())
                .await
                .map_err(|err| store_error(&err, E))?;
            Ok(())
        })
        .await
    }

    async fn purge_attempts(&self, since: NumericDate) -> Result<u64, StoreError> {
        self.bounded(async move {
            let done = sqlx::query("DELETE FROM login_attempts WHERE last_failure <= $1")
                .bind(since.as_i64())
                .execute(self.pool())
                .await
                .map_err(|err| store_error(&err, E))?;
            Ok(done.rows_affected())
        })
        .await
    }
}
