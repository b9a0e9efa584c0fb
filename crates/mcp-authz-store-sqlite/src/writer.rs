//! The write path: one writer thread that owns the write connection and **group-commits** queued
//! operations.
//!
//! # How
//! Every write operation of the store is a closure over the write connection
//! ([`Writer::run`]). It is queued on a channel to a dedicated writer thread and the caller waits for
//! its answer. The thread takes every operation waiting in the queue (up to [`MAX_BATCH`]) and runs
//! them, in queue order, inside **one** `BEGIN IMMEDIATE` … `COMMIT` transaction, each in a
//! savepoint of its own:
//!
//! ```text
//! BEGIN IMMEDIATE
//!   SAVEPOINT op; operation 1; RELEASE op           -- succeeded
//!   SAVEPOINT op; operation 2; ROLLBACK TO op; RELEASE op   -- failed: its writes undone
//!   SAVEPOINT op; operation 3; RELEASE op
//! COMMIT
//! ```
//!
//! Only when `COMMIT` has returned does the thread answer the batch's callers.
//!
//! # Why it is safe
//! - **Acknowledged only after COMMIT.** An operation's result is held back until the transaction
//!   that contains its writes has committed. If `BEGIN`, a savepoint step or `COMMIT` fails, the
//!   transaction is rolled back and every operation of the batch that had succeeded fails with
//!   [`StoreError::Unavailable`]: none of them is acknowledged, none of their writes is kept.
//! - **Same outcomes as one transaction per operation.** Operations run one after the other on one
//!   connection, each seeing the writes of those before it, exactly as if each had its own
//!   transaction in that order; SQLite's write lock is held from `BEGIN IMMEDIATE`, so no other
//!   connection or process interleaves. Each operation decides its outcome (for example `Rotated`
//!   versus `Reused`) from the state its own statements read.
//! - **Failures stay isolated.** One operation that fails (a `Conflict` on a duplicate hash, a row
//!   that does not decode) is rolled back to its savepoint alone and answered with its own error; the
//!   others of the batch are unaffected.
//! - **Cancellation.** The thread, not the caller, drives the transaction: a caller that stops
//!   waiting cannot leave it half done. An operation whose caller is gone, or that waited longer than
//!   the acquire timeout, before its batch starts is not run at all.
//! - **Readers** (the `sqlx` pool) see a batch's writes only once it has committed, all at once, as
//!   with any transaction in WAL mode.
//! - **A lost connection** (a transaction that cannot even be rolled back) is closed, which rolls
//!   it back, and reopened for the next batch.
//! - **A panicking operation** (none is written to panic: no `unwrap`, no indexing) would end the
//!   writer thread: its open transaction is rolled back when the connection closes, nothing is
//!   acknowledged, and every later write fails with `Unavailable`.
//!
//! # Why it is fast
//! The thread owns a `rusqlite` connection and calls SQLite directly: a statement is a function call
//! on a cached prepared statement, not a message to another thread and back (as every statement on
//! an `sqlx` connection is). A commit is the expensive part of a small write (WAL frames written,
//! wal-index updated, file locks taken and released); with `n` callers waiting, one commit serves
//! `n` operations.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use mcp_authz_store::StoreError;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

use crate::Synchronous;
use crate::error::{OpenError, sqlite_description};

/// The most operations one transaction holds: bounds how long the first caller of a batch waits
/// for the others.
pub(crate) const MAX_BATCH: usize = 64;

/// How many prepared statements the write connection keeps (every write statement of the store
/// fits).
const STATEMENT_CACHE: usize = 64;

/// Where and how the writer opens (and, after a lost connection, reopens) its connection.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// The database file, or a `file:` URI naming a shared in-memory database.
    pub(crate) path: PathBuf,
    /// A shared-cache in-memory database rather than a file.
    pub(crate) in_memory: bool,
    /// `PRAGMA synchronous`.
    pub(crate) synchronous: Synchronous,
    /// How long a statement waits for another process's lock.
    pub(crate) busy_timeout: Duration,
}

impl Target {
    /// Opens the write connection with its settings.
    ///
    /// For a file: a page cache (`cache_size`, in KiB when negative) of 8 MiB that holds the hot
    /// B-tree pages of the token tables, and a larger automatic checkpoint interval (pages of
    /// write-ahead log), so that a page written by many commits is copied back into the database
    /// file (and synced) less often. The cache is bounded well below the server's memory budget (the
    /// reading connections keep SQLite's default 2 MiB each): an earlier 64 MiB cache filled as the
    /// database grew and dominated the process's resident memory, and SQLite walks the cache's hash
    /// table when a transaction ends, so a larger cache also costs CPU on every commit.
    /// Memory-mapped I/O (`mmap_size`) is left off: it measured no faster here, and an I/O error on
    /// a mapped page is a signal that kills the process instead of a typed `Unavailable`.
    fn open(&self) -> rusqlite::Result<Connection> {
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if self.in_memory {
            flags |= OpenFlags::SQLITE_OPEN_MEMORY | OpenFlags::SQLITE_OPEN_SHARED_CACHE;
        }
        let conn = Connection::open_with_flags(&self.path, flags)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        conn.busy_timeout(self.busy_timeout)?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        if !self.in_memory {
            conn.pragma_update(
                None,
                "synchronous",
                match self.synchronous {
                    Synchronous::Normal => "NORMAL",
                    Synchronous::Full => "FULL",
                },
            )?;
            conn.pragma_update(None, "cache_size", -8192)?;
            conn.pragma_update(None, "wal_autocheckpoint", 4000)?;
        }
        Ok(conn)
    }
}

/// A message to the writer thread.
enum Message {
    /// Run an operation.
    Job(Box<dyn Job>),
    /// Close the connection after the operations queued before, then stop.
    Close(oneshot::Sender<()>),
}

/// A queued operation with its caller's answer channel, its result type erased.
trait Job: Send {
    /// Why the operation must not run any more: its caller is gone or it waited too long.
    fn stale(&self, now: Instant) -> Option<StoreError>;
    /// Runs the operation on `conn` (inside its savepoint); the result is held, not yet answered.
    fn run(self: Box<Self>, conn: &Connection) -> Box<dyn Ran>;
    /// Answers `error` without running.
    fn fail(self: Box<Self>, error: StoreError);
}

/// An operation that has run, its answer held until the batch's transaction ends.
trait Ran: Send {
    /// Whether the operation succeeded (its savepoint is released, else rolled back first).
    fn succeeded(&self) -> bool;
    /// Answers the caller: its own result if the batch committed (`None`), else the batch's error
    /// (its own error if it had failed anyway).
    fn answer(self: Box<Self>, batch_error: Option<&StoreError>);
}

/// The concrete [`Job`]: operation `op` answering a `T`.
struct Queued<T, F> {
    op: F,
    reply: oneshot::Sender<Result<T, StoreError>>,
    /// When the caller stops accepting that the operation starts; `None`: no limit.
    deadline: Option<Instant>,
}

/// The concrete [`Ran`].
struct Done<T> {
    result: Result<T, StoreError>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Job for Queued<T, F>
where
    T: Send + 'static,
    F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
{
    fn stale(&self, now: Instant) -> Option<StoreError> {
        if self.reply.is_closed() {
            Some(StoreError::unavailable("the caller stopped waiting"))
        } else if self.deadline.is_some_and(|deadline| now >= deadline) {
            Some(StoreError::unavailable(
                "timed out waiting for the write connection",
            ))
        } else {
            None
        }
    }

    fn run(self: Box<Self>, conn: &Connection) -> Box<dyn Ran> {
        let Queued { op, reply, .. } = *self;
        Box::new(Done {
            result: op(conn),
            reply,
        })
    }

    fn fail(self: Box<Self>, error: StoreError) {
        // A caller that is gone needs no answer.
        let _ = self.reply.send(Err(error));
    }
}

impl<T: Send> Ran for Done<T> {
    fn succeeded(&self) -> bool {
        self.result.is_ok()
    }

    fn answer(self: Box<Self>, batch_error: Option<&StoreError>) {
        let result = match (self.result, batch_error) {
            (Ok(_), Some(error)) => Err(error.clone()),
            (result, _) => result,
        };
        let _ = self.reply.send(result);
    }
}

/// The handle on the writer thread, shared by every clone of the store.
#[derive(Debug)]
pub(crate) struct Writer {
    queue: mpsc::Sender<Message>,
    /// Set by [`close`](Self::close).
    closed: AtomicBool,
    /// How long an operation may wait in the queue before its batch starts.
    acquire_timeout: Duration,
}

/// The error of an operation on a closed store.
fn closed() -> StoreError {
    StoreError::unavailable("the store is closed")
}

impl Writer {
    /// Starts the writer thread, which opens its connection to `target` first: an error opening it
    /// is returned here and the thread ends.
    pub(crate) async fn start(
        target: Target,
        acquire_timeout: Duration,
    ) -> Result<Self, OpenError> {
        let (queue, receiver) = mpsc::channel();
        let (opened, open) = oneshot::channel();
        std::thread::Builder::new()
            .name("mcp-authz-sqlite-writer".to_owned())
            .spawn(move || match target.open() {
                Ok(conn) => {
                    let _ = opened.send(Ok(()));
                    serve(&target, Some(conn), &receiver);
                }
                Err(error) => {
                    let _ = opened.send(Err(OpenError::from(error)));
                }
            })
            .map_err(|error| OpenError::Unavailable {
                description: format!("cannot start the SQLite writer thread: {error}"),
            })?;
        open.await.map_err(|_| OpenError::Unavailable {
            description: "the SQLite writer thread stopped while opening".to_owned(),
        })??;
        Ok(Self {
            queue,
            closed: AtomicBool::new(false),
            acquire_timeout,
        })
    }

    /// Runs `op` on the write connection inside a transaction and a savepoint of its own (see the
    /// [module](self) docs) and answers its result once that transaction has committed. `op` runs on
    /// the writer thread: it must only run statements, never wait for anything else.
    pub(crate) async fn run<T, F>(&self, op: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        if self.closed.load(Ordering::Acquire) {
            return Err(closed());
        }
        let (reply, answer) = oneshot::channel();
        let job = Queued {
            op,
            reply,
            deadline: Instant::now().checked_add(self.acquire_timeout),
        };
        self.queue
            .send(Message::Job(Box::new(job)))
            .map_err(|_| closed())?;
        // The writer answers every job it receives; a dropped sender means it stopped.
        answer.await.map_err(|_| closed())?
    }

    /// Refuses new operations, lets those already queued finish, closes the connection.
    pub(crate) async fn close(&self) {
        self.closed.store(true, Ordering::Release);
        let (done, closed) = oneshot::channel();
        if self.queue.send(Message::Close(done)).is_ok() {
            let _ = closed.await;
        }
    }
}

/// The writer thread's loop: batches of queued jobs until closed or every handle is dropped.
fn serve(target: &Target, mut conn: Option<Connection>, receiver: &mpsc::Receiver<Message>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while let Ok(first) = receiver.recv() {
        let mut next = Some(first);
        let mut close = None;
        while let Some(message) = next.take() {
            match message {
                Message::Job(job) => jobs.push(job),
                Message::Close(done) => {
                    close = Some(done);
                    break;
                }
            }
            if jobs.len() < MAX_BATCH {
                next = receiver.try_recv().ok();
            }
        }
        if !jobs.is_empty() {
            batch(target, &mut conn, std::mem::take(&mut jobs));
        }
        if let Some(done) = close {
            shut(conn);
            // Queued behind the `Close`: never run, never reconnect.
            while let Ok(message) = receiver.try_recv() {
                match message {
                    Message::Job(job) => job.fail(closed()),
                    Message::Close(done) => {
                        let _ = done.send(());
                    }
                }
            }
            let _ = done.send(());
            return;
        }
    }
    // Every handle dropped.
    shut(conn);
}

/// Closes the connection. Best effort: the file is consistent whether or not this succeeds.
fn shut(conn: Option<Connection>) {
    if let Some(conn) = conn {
        let _ = conn.close();
    }
}

/// A batch-level failure: every operation of the batch is unavailable.
fn unavailable(error: rusqlite::Error) -> StoreError {
    StoreError::Unavailable {
        description: sqlite_description(&error),
    }
}

/// Runs `jobs` in one transaction, each in its own savepoint, and answers them after it ends.
fn batch(target: &Target, slot: &mut Option<Connection>, jobs: Vec<Box<dyn Job>>) {
    let now = Instant::now();
    let mut pending = Vec::with_capacity(jobs.len());
    for job in jobs {
        match job.stale(now) {
            Some(error) => job.fail(error),
            None => pending.push(job),
        }
    }
    if pending.is_empty() {
        return;
    }
    if slot.is_none() {
        // Reconnect after a lost connection.
        match target.open() {
            Ok(conn) => *slot = Some(conn),
            Err(error) => {
                let error = unavailable(error);
                pending.into_iter().for_each(|job| job.fail(error.clone()));
                return;
            }
        }
    }
    let Some(conn) = slot.as_ref() else {
        pending.into_iter().for_each(|job| job.fail(closed()));
        return;
    };

    let mut ran: Vec<Box<dyn Ran>> = Vec::with_capacity(pending.len());
    let mut pending = pending.into_iter();
    match transaction(conn, &mut pending, &mut ran) {
        Ok(()) => ran.into_iter().for_each(|done| done.answer(None)),
        Err(error) => {
            // Leave no transaction open; a connection that cannot even roll back is closed (which
            // rolls back) and reopened for the next batch.
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            if !conn.is_autocommit() {
                shut(slot.take());
            }
            ran.into_iter().for_each(|done| done.answer(Some(&error)));
            pending.for_each(|job| job.fail(error.clone()));
        }
    }
}

/// The batch's transaction: every job in its savepoint, then `COMMIT`. Jobs that ran are moved to
/// `ran` (answered by the caller); on an error, those not yet run stay in `pending`.
fn transaction(
    conn: &Connection,
    pending: &mut impl Iterator<Item = Box<dyn Job>>,
    ran: &mut Vec<Box<dyn Ran>>,
) -> Result<(), StoreError> {
    step(conn, "BEGIN IMMEDIATE")?;
    for job in pending {
        step(conn, "SAVEPOINT op")?;
        let done = job.run(conn);
        let failed = !done.succeeded();
        ran.push(done);
        if failed {
            step(conn, "ROLLBACK TO op")?;
        }
        step(conn, "RELEASE op")?;
    }
    step(conn, "COMMIT")
}

/// Runs one transaction-control statement; a failure fails the whole batch as `Unavailable`.
fn step(conn: &Connection, sql: &'static str) -> Result<(), StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut statement| statement.execute([]))
        .map(drop)
        .map_err(unavailable)
}
