//! The fast read path: primary-key point reads on `rusqlite` connections, run on the caller's
//! thread.
//!
//! # Why
//! A read through the `sqlx` pool is a round trip to that connection's worker thread for every
//! statement, and the rows come back through a channel: ~50 µs per point read under load on a
//! 2-core machine, of which SQLite itself takes a few. The revocation check (SEC-16) that every
//! introspection and every request at a co-located resource server pays is two such reads. Here the
//! same statement is a function call on a cached prepared statement.
//!
//! # Why it may run on an async worker thread
//! Only point reads on a primary key go this way: a B-tree descent of a few pages that are in
//! SQLite's page cache or the operating system's. In WAL mode a reader never waits for the writer,
//! so nothing here blocks for long. The one wait SQLite could impose on a reader (`SQLITE_BUSY` while
//! another connection recovers the WAL, or holds an exclusive lock taken by an outside tool) is not
//! waited for here: these connections have no busy timeout, and a busy or locked answer sends the
//! read to the `sqlx` pool, which waits for it on its own thread ([`Outcome::Busy`]).
//!
//! # Connections
//! A connection is taken from the idle list for one read and put back after it. A read is
//! synchronous, so at most one connection is in use per thread at a time: the list grows to the
//! number of threads that read at once (the runtime's workers) and is kept at most [`MAX_IDLE`]
//! long. Each connection keeps SQLite's default page cache (2 MiB at most), like the pool's.
//! They are opened read-write (WAL needs write access to the shared-memory index even for reads)
//! with `query_only` set, so a statement that writes is refused.

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use mcp_authz_store::{Entity, StoreError};
use rusqlite::{Connection, ErrorCode, OpenFlags, Params, Row};

use crate::error::sqlite;

/// The most idle connections kept.
const MAX_IDLE: usize = 8;

/// How many prepared statements a read connection keeps (every point read fits).
const STATEMENT_CACHE: usize = 16;

/// What a point read gave.
pub(crate) enum Outcome<T> {
    /// The read ran (its own result, a decoding error included).
    Done(Result<T, StoreError>),
    /// SQLite answered busy or locked, or no connection could be opened: read through the pool,
    /// which waits (up to the busy timeout) on a thread of its own.
    Busy,
}

/// Why a point read did not give a value.
pub(crate) enum ReadFailure {
    /// Busy or locked: a wait could change the answer.
    Busy,
    /// Any other failure, as the store reports it.
    Store(StoreError),
}

impl From<StoreError> for ReadFailure {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

/// Runs the query `sql` with `params` and decodes its first row, if any, with `decode`.
pub(crate) fn first_row<T>(
    conn: &Connection,
    entity: Entity,
    sql: &str,
    params: impl Params,
    decode: impl FnOnce(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Option<T>, ReadFailure> {
    let failure = |error: rusqlite::Error| {
        if is_busy(&error) {
            ReadFailure::Busy
        } else {
            ReadFailure::Store(sqlite(entity)(error))
        }
    };
    let mut statement = conn.prepare_cached(sql).map_err(failure)?;
    let mut rows = statement.query(params).map_err(failure)?;
    match rows.next().map_err(failure)? {
        Some(row) => Ok(Some(decode(row)?)),
        None => Ok(None),
    }
}

/// The idle read connections of one database file.
#[derive(Debug)]
pub(crate) struct PointReads {
    path: PathBuf,
    /// Idle connections; `None` once closed.
    idle: Mutex<Option<Vec<Connection>>>,
}

impl PointReads {
    /// Point reads on the database file at `path` (connections are opened on first use).
    pub(crate) fn new(path: PathBuf) -> Self {
        Self {
            path,
            idle: Mutex::new(Some(Vec::new())),
        }
    }

    /// Runs `read` on an idle connection (opening one when none is idle).
    pub(crate) fn run<T>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, ReadFailure>,
    ) -> Outcome<T> {
        let taken = match self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_mut()
        {
            None => return Outcome::Done(Err(StoreError::unavailable("the store is closed"))),
            Some(idle) => idle.pop(),
        };
        let conn = match taken {
            Some(conn) => conn,
            None => match self.open() {
                Ok(conn) => conn,
                // The pool reports what is wrong (a file that is gone, a lock) in its own way.
                Err(_) => return Outcome::Busy,
            },
        };
        let outcome = match read(&conn) {
            Ok(value) => Outcome::Done(Ok(value)),
            Err(ReadFailure::Busy) => Outcome::Busy,
            Err(ReadFailure::Store(error)) => Outcome::Done(Err(error)),
        };
        if let Some(idle) = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_mut()
            && idle.len() < MAX_IDLE
        {
            idle.push(conn);
        }
        outcome
    }

    /// Closes the idle connections; later reads fail with `Unavailable`.
    pub(crate) fn close(&self) {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        for conn in idle.into_iter().flatten() {
            let _ = conn.close();
        }
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        conn.busy_timeout(std::time::Duration::ZERO)?;
        conn.pragma_update(None, "query_only", "ON")?;
        Ok(conn)
    }
}

/// `true` for the answers that a wait could change (busy, locked).
fn is_busy(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columns::Columns;

    const E: Entity = Entity::Grant;

    fn n_of_a(conn: &Connection) -> Result<Option<i64>, ReadFailure> {
        first_row(conn, E, "SELECT n FROM t WHERE k = ?1", ["a"], |row| {
            row.int(0, E)
        })
    }

    #[test]
    fn a_locked_database_is_busy_for_the_pool_to_wait_for_and_reads_resume_after() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        // A rollback-journal file: a writer's exclusive lock keeps every reader out (in WAL mode
        // readers never wait for the writer, which is why the store's reads come this way).
        let owner = Connection::open(&path).unwrap();
        owner
            .execute_batch(
                "CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER); INSERT INTO t VALUES ('a', 1)",
            )
            .unwrap();
        let reads = PointReads::new(path);
        assert!(matches!(reads.run(n_of_a), Outcome::Done(Ok(Some(1)))));

        owner.execute_batch("BEGIN EXCLUSIVE").unwrap();
        assert!(
            matches!(reads.run(n_of_a), Outcome::Busy),
            "a lock is waited for by the pool, not reported as a failure"
        );
        owner.execute_batch("UPDATE t SET n = 2; COMMIT").unwrap();
        assert!(matches!(reads.run(n_of_a), Outcome::Done(Ok(Some(2)))));

        // Other failures are the store's errors; writing is refused.
        let missing = |conn: &Connection| first_row(conn, E, "SELECT nope FROM t", [], |_| Ok(()));
        assert!(matches!(
            reads.run(missing),
            Outcome::Done(Err(StoreError::Corrupt { .. }))
        ));
        let write = |conn: &Connection| {
            first_row(
                conn,
                E,
                "INSERT INTO t VALUES ('b', 3) RETURNING n",
                [],
                |_| Ok(()),
            )
        };
        assert!(matches!(reads.run(write), Outcome::Done(Err(_))));
        let rows: i64 = owner
            .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
            .unwrap();
        assert_eq!(rows, 1, "query_only: nothing was written");

        reads.close();
        assert!(matches!(
            reads.run(n_of_a),
            Outcome::Done(Err(StoreError::Unavailable { .. }))
        ));
    }
}
