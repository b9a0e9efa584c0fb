//! How to open a database: [`SqliteOptions`] and the durability setting [`Synchronous`].

use std::path::{Path, PathBuf};
use std::time::Duration;

/// When SQLite waits for the disk (`PRAGMA synchronous`), in WAL mode.
///
/// | setting | a process crash (SIGKILL, panic, OOM kill) | a power loss or kernel crash |
/// |---|---|---|
/// | [`Normal`](Self::Normal) (default) | every committed write survives | the database stays consistent, but the last transactions before the loss may be rolled back |
/// | [`Full`](Self::Full) | every committed write survives | every committed write survives |
///
/// With `Normal`, a commit appends to the write-ahead log without `fsync`; the log is synced at
/// checkpoints. The operating system still holds the written pages, so a crash of the server process
/// loses nothing (the crash test of this crate kills a writer with SIGKILL and finds every
/// acknowledged rotation). Only losing the machine itself can drop recent commits — for an
/// authorization server that means a few refresh rotations or consumed codes may be undone: a rotated
/// refresh token could become usable once more, a spent code spendable again within its 60 s life.
/// Choose `Full` when that matters more than write throughput (one `fsync` per commit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Synchronous {
    /// `PRAGMA synchronous = NORMAL`: durable across process crashes; recent commits may be lost on
    /// power failure. The default.
    #[default]
    Normal,
    /// `PRAGMA synchronous = FULL`: every commit is synced to disk before it is acknowledged.
    Full,
}

/// Options for [`SqliteStore::open_with`](crate::SqliteStore::open_with), built by value.
///
/// ```
/// use std::time::Duration;
/// use mcp_authz_store_sqlite::{SqliteOptions, Synchronous};
/// let options = SqliteOptions::new("/var/lib/mcp-authz/store.db")
///     .busy_timeout(Duration::from_secs(2))
///     .max_connections(8)
///     .synchronous(Synchronous::Full);
/// assert_eq!(options.path().to_str(), Some("/var/lib/mcp-authz/store.db"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqliteOptions {
    pub(crate) path: PathBuf,
    pub(crate) busy_timeout: Duration,
    pub(crate) max_connections: u32,
    pub(crate) acquire_timeout: Duration,
    pub(crate) synchronous: Synchronous,
    pub(crate) create_if_missing: bool,
}

impl SqliteOptions {
    /// The default [`busy_timeout`](Self::busy_timeout): 5 seconds.
    pub const DEFAULT_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
    /// The default [`max_connections`](Self::max_connections): 4 reading connections.
    pub const DEFAULT_MAX_CONNECTIONS: u32 = 4;
    /// The default [`acquire_timeout`](Self::acquire_timeout): 10 seconds.
    pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

    /// Options for the database file at `path`, with every other setting at its default.
    #[must_use]
    pub fn new(path: impl AsRef<Path>) -> Self {
        Self {
            path: path.as_ref().to_path_buf(),
            busy_timeout: Self::DEFAULT_BUSY_TIMEOUT,
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
            acquire_timeout: Self::DEFAULT_ACQUIRE_TIMEOUT,
            synchronous: Synchronous::Normal,
            create_if_missing: true,
        }
    }

    /// How long a statement waits for a lock held by another connection or process
    /// (`PRAGMA busy_timeout`) before the operation fails with
    /// [`StoreError::Unavailable`](mcp_authz_store::StoreError::Unavailable). Default 5 s.
    #[must_use]
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// The number of connections that serve reads, at least 1. Default 4.
    ///
    /// Writes always go through one dedicated connection on a writer thread: SQLite admits one
    /// writer at a time, and queueing writers in the process (committing those that wait together)
    /// is much cheaper than letting them collide on the file lock.
    /// With WAL, readers never wait for the writer.
    #[must_use]
    pub fn max_connections(mut self, connections: u32) -> Self {
        self.max_connections = connections;
        self
    }

    /// How long an operation waits for a free connection of the store's pools, or a write operation
    /// in the writer's queue before its transaction starts, before it fails with
    /// [`StoreError::Unavailable`](mcp_authz_store::StoreError::Unavailable) (a write that timed out
    /// is never run). Default 10 s.
    #[must_use]
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// Durability of commits; see [`Synchronous`]. Default [`Synchronous::Normal`].
    #[must_use]
    pub fn synchronous(mut self, synchronous: Synchronous) -> Self {
        self.synchronous = synchronous;
        self
    }

    /// Whether a missing database file is created. Default `true`; with `false`, opening a missing
    /// file fails with [`OpenError::Unavailable`](crate::OpenError::Unavailable).
    #[must_use]
    pub fn create_if_missing(mut self, create: bool) -> Self {
        self.create_if_missing = create;
        self
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
