//! The store handle: a connection pool, and the embedded migrations applied under a lock.

use std::fmt;
use std::time::Duration;

use mcp_authz_store::StoreError;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::stats::{Counters, OperationStats};
use crate::{ConnectError, PostgresStoreBuilder};

/// The embedded migrations (`migrations/` of this crate).
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Every storage trait of `mcp-authz-store` on PostgreSQL, for several server instances sharing state.
///
/// Cloning is cheap (the pool is shared). Build one with [`PostgresStore::connect`] or a
/// [`PostgresStoreBuilder`]; see the crate docs for the schema and the atomicity of each operation.
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    migration_options: PgConnectOptions,
    connect_timeout: Duration,
    operation_timeout: Duration,
    counters: std::sync::Arc<Counters>,
}

impl PostgresStore {
    /// Connects with the [builder](PostgresStoreBuilder)'s defaults and migrates.
    pub async fn connect(url: &str) -> Result<Self, ConnectError> {
        PostgresStoreBuilder::new(url)?.connect().await
    }

    /// A builder for `url`, to set the schema, pool size and timeouts.
    pub fn builder(url: &str) -> Result<PostgresStoreBuilder, ConnectError> {
        PostgresStoreBuilder::new(url)
    }

    pub(crate) fn from_parts(
        pool: PgPool,
        migration_options: PgConnectOptions,
        connect_timeout: Duration,
        operation_timeout: Duration,
    ) -> Self {
        Self {
            pool,
            migration_options,
            connect_timeout,
            operation_timeout,
            counters: std::sync::Arc::default(),
        }
    }

    /// What this store's operations did so far (every clone counts into the same numbers): for
    /// an operator's metrics of store errors and latency.
    pub fn operation_stats(&self) -> OperationStats {
        self.counters.snapshot()
    }

    /// Runs one storage operation within the [operation
    /// timeout](PostgresStoreBuilder::operation_timeout), else fails with `Unavailable`.
    ///
    /// `statement_timeout` is enforced by the server, so it never fires when the network between
    /// here and the database drops packets: the statement, or the reply, never arrives, and the
    /// operation would wait for the operating system to give up on the connection (minutes). The
    /// abandoned operation's connection is not handed out again: `sqlx` pings it before returning
    /// it to the pool and closes it if the ping fails; until the ping is answered or fails, it
    /// holds its pool slot, so a long outage ends in acquire timeouts (still `Unavailable`, still
    /// bounded).
    pub(crate) async fn bounded<T>(
        &self,
        operation: impl std::future::Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let started = std::time::Instant::now();
        let outcome = tokio::time::timeout(self.operation_timeout, operation)
            .await
            .unwrap_or_else(|_| {
                Err(StoreError::unavailable(format!(
                    "no answer from PostgreSQL within {} ms",
                    self.operation_timeout.as_millis()
                )))
            });
        self.counters.record(
            started.elapsed(),
            outcome.is_err(),
            outcome.as_ref().is_err_and(StoreError::is_unavailable),
        );
        outcome
    }

    /// The latest schema version this build embeds (the version of its last migration).
    pub fn schema_version() -> i64 {
        MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
    }

    /// Applies the embedded migrations that the database lacks.
    ///
    /// Runs on a dedicated connection (not a pooled one) that first takes `sqlx`'s PostgreSQL advisory
    /// lock (`pg_advisory_lock`, keyed by database name), so that instances starting at once migrate
    /// one after the other, and the later ones find nothing left to do. The connection is closed
    /// afterwards, which also releases the lock if migrating failed halfway.
    ///
    /// Refuses a database migrated by a newer release ([`ConnectError::SchemaTooNew`]).
    pub async fn migrate(&self) -> Result<(), ConnectError> {
        // A pool of one connection of its own, closed afterwards: closing ends the session and with it
        // the advisory lock, even when migrating failed halfway.
        let dedicated = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(self.connect_timeout)
            .connect_lazy_with(self.migration_options.clone());
        let outcome = MIGRATOR
            .run(&dedicated)
            .await
            .map_err(|err| ConnectError::from_migrate(err, Self::schema_version()));
        dedicated.close().await;
        outcome
    }

    /// The connection pool, for health checks and operational queries.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes every pooled connection; later operations fail with `Unavailable`.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("pool_size", &self.pool.size())
            .field("idle", &self.pool.num_idle())
            .finish_non_exhaustive()
    }
}
