//! [`SqliteStore`]: opening a database (pragmas, pools, schema check, migrations) and closing it.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use mcp_authz_store::{Entity, StoreError};
use sqlx::ConnectOptions;
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};

use crate::error::{OpenError, db};
use crate::{SqliteOptions, Synchronous};

/// The schema migrations, embedded at build time from `migrations/`.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Every storage trait of `mcp-authz-store` on one SQLite database file.
///
/// - **One file, WAL.** The database runs in write-ahead-log mode with foreign keys on and the
///   configured busy timeout; durability follows [`Synchronous`] (default `NORMAL`: durable across
///   process crashes).
/// - **Migrations on open.** The embedded migrations are applied when the store opens; a database
///   whose schema is newer than this build is refused with [`OpenError::SchemaTooNew`] and left
///   untouched.
/// - **One writer, many readers.** Writes go through one dedicated connection, each multi-statement
///   operation in a `BEGIN IMMEDIATE` transaction, so the concurrency guarantees of the store traits
///   (a code spent exactly once, a refresh token rotated exactly once) hold within this process and
///   across processes sharing the file. Reads use a pool and never wait for the writer.
/// - **Errors.** A database that is gone, locked beyond the busy timeout, or a pool that times out
///   gives [`StoreError::Unavailable`]; unique violations give `Conflict`; rows that do not decode give
///   `Corrupt`.
/// - **No secret in clear.** Codes and refresh tokens are stored as their SHA-256 digests
///   ([`SecretHash`](mcp_authz_store::SecretHash)), client secrets and passwords as PHC strings.
///
/// Cloning is cheap and shares the pools.
///
/// ```no_run
/// use std::sync::Arc;
/// use mcp_authz_store::Store;
/// use mcp_authz_store_sqlite::SqliteStore;
/// # async fn demo() -> Result<(), mcp_authz_store_sqlite::OpenError> {
/// let store: Arc<dyn Store> = Arc::new(SqliteStore::open("/var/lib/mcp-authz/store.db").await?);
/// # let _ = store; Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// The pool that serves reads.
    reader: SqlitePool,
    /// The one connection that writes.
    writer: Arc<Writer>,
}

/// The one write connection, behind an async mutex: writers queue in FIFO order.
///
/// Not a one-connection pool: sqlx's pool pings every connection on release (a round trip to the
/// connection's worker thread) and spawns a task to return it, which on the write path that every
/// token request takes cost about a third of the throughput.
#[derive(Debug)]
struct Writer {
    /// How to (re)connect.
    options: SqliteConnectOptions,
    /// The connection; `None` until (re)connected, after a crashed worker, or once closed.
    conn: Mutex<Option<SqliteConnection>>,
    /// Set by [`SqliteStore::close`].
    closed: AtomicBool,
    /// How long an operation waits for the writer.
    acquire_timeout: Duration,
}

/// Exclusive use of the write connection.
pub(crate) type WriteConn<'a> = MappedMutexGuard<'a, SqliteConnection>;

impl Writer {
    fn new(
        options: SqliteConnectOptions,
        conn: SqliteConnection,
        acquire_timeout: Duration,
    ) -> Self {
        Self {
            options,
            conn: Mutex::new(Some(conn)),
            closed: AtomicBool::new(false),
            acquire_timeout,
        }
    }

    /// Waits (up to the acquire timeout) for the write connection, reconnecting if needed.
    async fn lock(&self, entity: Entity) -> Result<WriteConn<'_>, StoreError> {
        let closed = || StoreError::unavailable("the store is closed");
        if self.closed.load(Ordering::Acquire) {
            return Err(closed());
        }
        let mut guard = tokio::time::timeout(self.acquire_timeout, self.conn.lock())
            .await
            .map_err(|_| StoreError::unavailable("timed out waiting for the write connection"))?;
        if self.closed.load(Ordering::Acquire) {
            return Err(closed());
        }
        if guard.is_none() {
            *guard = Some(self.options.connect().await.map_err(db(entity))?);
        }
        MutexGuard::try_map(guard, Option::as_mut)
            .map_err(|_| StoreError::unavailable("the write connection is gone"))
    }
}

impl SqliteStore {
    /// Opens (creating if missing) the database file at `path` with default [`SqliteOptions`].
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, OpenError> {
        Self::open_with(SqliteOptions::new(path)).await
    }

    /// Opens a database with explicit options: sets the pragmas, checks the schema version and applies
    /// the embedded migrations.
    pub async fn open_with(options: SqliteOptions) -> Result<Self, OpenError> {
        if options.max_connections == 0 {
            return Err(OpenError::InvalidOptions {
                description: "max_connections must be at least 1".to_owned(),
            });
        }
        let connect = SqliteConnectOptions::new()
            .filename(&options.path)
            .create_if_missing(options.create_if_missing)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match options.synchronous {
                Synchronous::Normal => SqliteSynchronous::Normal,
                Synchronous::Full => SqliteSynchronous::Full,
            })
            .foreign_keys(true)
            .busy_timeout(options.busy_timeout);
        let mut conn = connect.connect().await?;
        check_schema_version(&mut conn).await?;
        MIGRATOR.run(&mut conn).await.map_err(migration_error)?;
        let reader = SqlitePoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .test_before_acquire(false)
            .connect_with(connect.clone())
            .await?;
        Ok(Self {
            reader,
            writer: Arc::new(Writer::new(connect, conn, options.acquire_timeout)),
        })
    }

    /// A private in-memory database, for tests: lost when the store (and its clones) are dropped.
    ///
    /// It runs on a single connection; prefer a file in a temporary directory when behaviour under
    /// concurrency or durability matters.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use mcp_authz_store::{RevokedTokenStore, TokenId, UnixTime};
    /// let store = mcp_authz_store_sqlite::SqliteStore::in_memory().await.unwrap();
    /// let jti = TokenId::parse("jti-1").unwrap();
    /// store.revoke_access_token(&jti, UnixTime::from_secs(2_000)).await.unwrap();
    /// assert!(store.is_access_token_revoked(&jti, UnixTime::from_secs(1_000)).await.unwrap());
    /// # });
    /// ```
    pub async fn in_memory() -> Result<Self, OpenError> {
        // A uniquely named shared-cache database: the writer and the reader share it while either
        // is open.
        let connect = SqliteConnectOptions::from_str("sqlite::memory:")?.foreign_keys(true);
        let mut conn = connect.connect().await?;
        check_schema_version(&mut conn).await?;
        MIGRATOR.run(&mut conn).await.map_err(migration_error)?;
        let reader = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .test_before_acquire(false)
            .connect_with(connect.clone())
            .await?;
        Ok(Self {
            reader,
            writer: Arc::new(Writer::new(
                connect,
                conn,
                SqliteOptions::DEFAULT_ACQUIRE_TIMEOUT,
            )),
        })
    }

    /// The highest schema version this build knows (the last embedded migration).
    pub fn supported_schema_version() -> i64 {
        MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
    }

    /// Closes every connection, waiting for operations in progress. Later operations fail with
    /// [`StoreError::Unavailable`]. Dropping the store also closes it, without waiting.
    pub async fn close(&self) {
        self.writer.closed.store(true, Ordering::Release);
        if let Some(conn) = self.writer.conn.lock().await.take() {
            // Closing is best effort: the file is consistent whether or not this succeeds.
            let _ = sqlx::Connection::close(conn).await;
        }
        self.reader.close().await;
    }

    /// The pool for reads.
    pub(crate) fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    /// Exclusive use of the write connection. Start multi-statement writes with [`BEGIN`]
    /// (`conn.begin_with(BEGIN)`).
    pub(crate) async fn write(&self, entity: Entity) -> Result<WriteConn<'_>, StoreError> {
        self.writer.lock(entity).await
    }
}

/// How write transactions begin: the write lock is taken at once, waiting up to the busy timeout, so a
/// transaction never fails half-way on a lock upgrade.
pub(crate) const BEGIN: &str = "BEGIN IMMEDIATE";

/// Refuses a database migrated by a newer build, before any migration touches it.
async fn check_schema_version(conn: &mut SqliteConnection) -> Result<(), OpenError> {
    let table: Option<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_optional(&mut *conn)
    .await?;
    if table.is_none() {
        return Ok(());
    }
    let found: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(&mut *conn)
        .await?;
    let supported = SqliteStore::supported_schema_version();
    match found {
        Some(found) if found > supported => Err(OpenError::SchemaTooNew { found, supported }),
        _ => Ok(()),
    }
}

/// A failed migration: `Unavailable` when the database could not be reached, else `Migration`.
fn migration_error(error: MigrateError) -> OpenError {
    match error {
        MigrateError::Execute(error) | MigrateError::ExecuteMigration(error, _) => {
            match OpenError::from(error) {
                unavailable @ OpenError::Unavailable { .. } => unavailable,
                other => OpenError::Migration {
                    description: other.to_string(),
                },
            }
        }
        other => OpenError::Migration {
            description: other.to_string(),
        },
    }
}
