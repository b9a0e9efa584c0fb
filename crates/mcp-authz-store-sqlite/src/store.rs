//! [`SqliteStore`]: opening a database (pragmas, pools, schema check, migrations) and closing it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use mcp_authz_store::StoreError;
use sqlx::ConnectOptions;
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};

use crate::error::OpenError;
use crate::file_mode;
use crate::point_reads::{Outcome, PointReads, ReadFailure};
use crate::writer::{Target, Writer};
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
/// - **One writer, many readers.** Writes go through one dedicated connection owned by a writer
///   thread (a `rusqlite` connection it calls directly), inside `BEGIN IMMEDIATE` transactions, so the concurrency guarantees of the store traits
///   (a code spent exactly once, a refresh token rotated exactly once) hold within this process and
///   across processes sharing the file. Reads use a pool and never wait for the writer; the point
///   reads of the revocation check (a revoked `jti`, a grant, a client by its key) run on
///   `rusqlite` connections on the caller's thread instead (see `point_reads.rs`), falling back to
///   the pool when SQLite answers busy.
/// - **Group commit.** The write operations waiting when a transaction starts (up to 64) share it,
///   each in its own savepoint: one that fails is rolled back alone, and every one is answered only
///   after the shared `COMMIT` (if that fails, all of them fail with `Unavailable`).
/// - **Errors.** A database that is gone, locked beyond the busy timeout, or a pool that times out
///   gives [`StoreError::Unavailable`]; unique violations give `Conflict`; rows that do not decode give
///   `Corrupt`.
/// - **No secret in clear.** Codes and refresh tokens are stored as their SHA-256 digests
///   ([`SecretHash`](mcp_authz_store::SecretHash)), client secrets and passwords as PHC strings.
/// - **Private files.** A database file created by [`open`](Self::open) is mode 0600 (owner only)
///   whatever the umask, and so are its `-wal` and `-shm` files; an existing file keeps its mode.
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
    /// Point reads on the caller's thread (files only; `None` for the shared-cache in-memory
    /// database, whose table locks a reader would wait for).
    points: Option<Arc<PointReads>>,
    /// The writer thread and its one connection.
    writer: Arc<Writer>,
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
        let created = file_mode::create_private(&options.path, options.create_if_missing)?;
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
        if created == file_mode::Created::New {
            file_mode::private_companions(&options.path)?;
        }
        // Best effort: the migrations are committed whether or not closing succeeds.
        let _ = sqlx::Connection::close(conn).await;
        let reader = SqlitePoolOptions::new()
            .max_connections(options.max_connections)
            .acquire_timeout(options.acquire_timeout)
            .test_before_acquire(false)
            .connect_with(connect)
            .await?;
        let target = Target {
            path: options.path.clone(),
            in_memory: false,
            synchronous: options.synchronous,
            busy_timeout: options.busy_timeout,
        };
        let writer = Writer::start(target, options.acquire_timeout).await?;
        Ok(Self {
            reader,
            points: Some(Arc::new(PointReads::new(options.path.clone()))),
            writer: Arc::new(writer),
        })
    }

    /// A private in-memory database, for tests: lost when the store (and its clones) are dropped.
    ///
    /// It runs on a single connection; prefer a file in a temporary directory when behaviour under
    /// concurrency or durability matters.
    ///
    /// ```
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// use mcp_authz_store::{RevokedTokenStore, TokenId, NumericDate};
    /// let store = mcp_authz_store_sqlite::SqliteStore::in_memory().await.unwrap();
    /// let jti = TokenId::parse("jti-1").unwrap();
    /// store.revoke_access_token(&jti, NumericDate::from_secs(2_000)).await.unwrap();
    /// assert!(store.is_access_token_revoked(&jti, NumericDate::from_secs(1_000)).await.unwrap());
    /// # });
    /// ```
    pub async fn in_memory() -> Result<Self, OpenError> {
        // A uniquely named shared-cache database: the writer and the reader share it while either
        // is open.
        static SEQUENCE: AtomicU64 = AtomicU64::new(0);
        let name = PathBuf::from(format!(
            "file:mcp-authz-in-memory-{}-{}",
            std::process::id(),
            SEQUENCE.fetch_add(1, Ordering::Relaxed)
        ));
        let connect = SqliteConnectOptions::new()
            .filename(&name)
            .in_memory(true)
            .shared_cache(true)
            .foreign_keys(true);
        let mut conn = connect.connect().await?;
        check_schema_version(&mut conn).await?;
        MIGRATOR.run(&mut conn).await.map_err(migration_error)?;
        let target = Target {
            path: name,
            in_memory: true,
            synchronous: Synchronous::Normal,
            busy_timeout: SqliteOptions::DEFAULT_BUSY_TIMEOUT,
        };
        let writer = Writer::start(target, SqliteOptions::DEFAULT_ACQUIRE_TIMEOUT).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .test_before_acquire(false)
            .connect_with(connect)
            .await?;
        // The writer's and the reader's connections keep the database alive from here on.
        let _ = sqlx::Connection::close(conn).await;
        Ok(Self {
            reader,
            points: None,
            writer: Arc::new(writer),
        })
    }

    /// The highest schema version this build knows (the last embedded migration).
    pub fn supported_schema_version() -> i64 {
        MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
    }

    /// Closes every connection, waiting for operations in progress. Later operations fail with
    /// [`StoreError::Unavailable`]. Dropping the store also closes it, without waiting.
    pub async fn close(&self) {
        self.writer.close().await;
        if let Some(points) = &self.points {
            points.close();
        }
        self.reader.close().await;
    }

    /// The pool for reads.
    pub(crate) fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    /// Runs the point read `read` on the caller's thread; `None` when it must go through the pool
    /// instead (an in-memory database, or SQLite answered busy).
    pub(crate) fn point_read<T>(
        &self,
        read: impl FnOnce(&rusqlite::Connection) -> Result<T, ReadFailure>,
    ) -> Option<Result<T, StoreError>> {
        match self.points.as_ref()?.run(read) {
            Outcome::Done(result) => Some(result),
            Outcome::Busy => None,
        }
    }

    /// Runs the write operation `op` on the write connection, inside a transaction shared with the
    /// other operations waiting at that moment and a savepoint of its own (group commit: see the
    /// `writer` module), and answers its result once that transaction has committed.
    ///
    /// `op` runs on the writer thread; an error it returns rolls back its own writes only.
    pub(crate) async fn write<T, F>(&self, op: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> Result<T, StoreError> + Send + 'static,
    {
        self.writer.run(op).await
    }
}

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
