//! [`KeyStore`]: at most one active signing key, enforced by a partial unique index; activation is one
//! transaction under a table lock so that concurrent activations on any instance serialize (AS-9).

use async_trait::async_trait;
use mcp_authz_store::{
    Entity, KeyAlgorithm, KeyId, KeyState, KeyStore, NumericDate, PrivateKeyMaterial, SigningKey,
    StoreError,
};
use sqlx::postgres::PgRow;

use crate::PostgresStore;
use crate::decode::{column, opt_time, parsed, time};
use crate::error::{Failure, retrying, store_error};

const E: Entity = Entity::SigningKey;

const KEY_COLUMNS: &str =
    "kid, algorithm, private_key, public_jwk_json, created_at, state, retired_until, activates_at";

/// A key from the eight columns of [`KEY_COLUMNS`].
fn key_at(row: &PgRow) -> Result<SigningKey, StoreError> {
    let state = match column::<&str>(row, 5, E)? {
        "published" => KeyState::Published,
        "active" => KeyState::Active,
        "retired" => KeyState::Retired {
            until: opt_time(row, 6, E)?
                .ok_or_else(|| StoreError::corrupt(E, "retired key without end"))?,
        },
        _ => return Err(StoreError::corrupt(E, "unknown key state")),
    };
    Ok(SigningKey {
        kid: parsed(column(row, 0, E)?, KeyId::parse, E, "kid")?,
        algorithm: parsed(column(row, 1, E)?, KeyAlgorithm::parse, E, "algorithm")?,
        private_key: PrivateKeyMaterial::new(column::<Vec<u8>>(row, 2, E)?),
        public_jwk_json: column(row, 3, E)?,
        created_at: time(row, 4, E)?,
        state,
        activates_at: opt_time(row, 7, E)?,
    })
}

/// A state as stored: its name and the end of a retired key.
fn state_columns(state: KeyState) -> (&'static str, Option<i64>) {
    match state {
        KeyState::Active => ("active", None),
        KeyState::Retired { until } => ("retired", Some(until.as_i64())),
        // `KeyState` is non-exhaustive: anything else is a key not yet in use.
        _ => ("published", None),
    }
}

impl PostgresStore {
    async fn select_keys(&self, filter: &str, now: Option<i64>) -> Result<Vec<PgRow>, StoreError> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM signing_keys {filter}");
        let mut query = sqlx::query(&sql);
        if let Some(now) = now {
            query = query.bind(now);
        }
        query
            .fetch_all(self.pool())
            .await
            .map_err(|err| store_error(&err, E))
    }

    async fn try_activate(
        &self,
        kid: &KeyId,
        until: NumericDate,
    ) -> Result<Option<KeyId>, Failure> {
        let mut tx = self.pool().begin().await?;
        // Serializes activations and inserts on every instance; the statements below then read the
        // committed state.
        sqlx::query("LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await?;
        let Some(row) = sqlx::query("SELECT state FROM signing_keys WHERE kid = $1")
            .bind(kid.as_str())
            .fetch_optional(&mut *tx)
            .await?
        else {
            return Err(StoreError::NotFound { entity: E }.into());
        };
        match column::<&str>(&row, 0, E)? {
            "active" => return Ok(None),
            "retired" => {
                return Err(StoreError::InvalidTransition {
                    entity: E,
                    description: "a retired key cannot become active again".to_owned(),
                }
                .into());
            }
            "published" => {}
            _ => return Err(StoreError::corrupt(E, "unknown key state").into()),
        }
        let previous = sqlx::query(
            "UPDATE signing_keys SET state = 'retired', retired_until = $1 \
             WHERE state = 'active' RETURNING kid",
        )
        .bind(until.as_i64())
        .fetch_optional(&mut *tx)
        .await?;
        sqlx::query("UPDATE signing_keys SET state = 'active' WHERE kid = $1")
            .bind(kid.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        previous
            .map(|row| parsed(column(&row, 0, E)?, KeyId::parse, E, "kid"))
            .transpose()
            .map_err(Failure::from)
    }
}

#[async_trait]
impl KeyStore for PostgresStore {
    async fn insert_key(&self, key: SigningKey) -> Result<(), StoreError> {
        self.bounded(async move {
            let (state, retired_until) = state_columns(key.state);
            sqlx::query(
            "INSERT INTO signing_keys (kid, algorithm, private_key, public_jwk_json, created_at, \
             state, retired_until, activates_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(key.kid.as_str())
        .bind(key.algorithm.as_str())
        .bind(key.private_key.secret())
        .bind(key.public_jwk_json.as_str())
        .bind(key.created_at.as_i64())
        .bind(state)
        .bind(retired_until)
        .bind(key.activates_at.map(|at| at.as_i64()))
        .execute(self.pool())
        .await
        .map_err(|err| store_error(&err, E))?;
            Ok(())
        })
        .await
    }

    async fn get_key(&self, kid: &KeyId) -> Result<Option<SigningKey>, StoreError> {
        self.bounded(async move {
            let row = sqlx::query(&format!(
                "SELECT {KEY_COLUMNS} FROM signing_keys WHERE kid = $1"
            ))
            .bind(kid.as_str())
            .fetch_optional(self.pool())
            .await
            .map_err(|err| store_error(&err, E))?;
            row.as_ref().map(key_at).transpose()
        })
        .await
    }

    async fn active_key(&self) -> Result<Option<SigningKey>, StoreError> {
        self.bounded(async move {
            let rows = self.select_keys("WHERE state = 'active'", None).await?;
            rows.first().map(key_at).transpose()
        })
        .await
    }

    async fn published_keys(&self, now: NumericDate) -> Result<Vec<SigningKey>, StoreError> {
        self.bounded(async move {
            let rows = self
                .select_keys(
                    "WHERE state <> 'retired' OR retired_until > $1 ORDER BY created_at, kid",
                    Some(now.as_i64()),
                )
                .await?;
            rows.iter().map(key_at).collect()
        })
        .await
    }

    async fn list_keys(&self) -> Result<Vec<SigningKey>, StoreError> {
        self.bounded(async move {
            let rows = self.select_keys("ORDER BY created_at, kid", None).await?;
            rows.iter().map(key_at).collect()
        })
        .await
    }

    async fn activate_key(
        &self,
        kid: &KeyId,
        retire_previous_until: NumericDate,
    ) -> Result<Option<KeyId>, StoreError> {
        self.bounded(async move { retrying!(E, self.try_activate(kid, retire_previous_until)) })
            .await
    }
}
