//! The write path: one writer thread that owns the write connection and **group-commits** queued
//! operations.
//!
//! # How
//! Every write operation of the store is a closure over the write connection
//! ([`Writer::run`]). It is queued on a channel to a dedicated writer thread and the caller waits for
//! its answer. The thread takes every operation waiting in the queue (up to [`MAX_BATCH`]) and runs
//! them, in queue order, inside **one** `BEGIN IMMEDIATE` … `COMMIT` transaction:
//!
//! ```text
//! BEGIN IMMEDIATE; SAVEPOINT op
//!   operation 1                      -- its own statements, its outcome decided here
//!                                    -- (ROLLBACK TO op if it failed)
//! RELEASE op; SAVEPOINT op
//!   operation 2
//! RELEASE op; SAVEPOINT op; operation 3   -- an operation that starts its first query with the
//!                                         -- step itself: one round trip instead of two
//! COMMIT
//! ```
//!
//! Exactly one savepoint is open at a time (its sub-journal stays small). Only when `COMMIT` has
//! returned does the thread answer the batch's callers.
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
//! - **Failures stay isolated.** Each operation runs inside its own savepoint. One that fails (a
//!   `Conflict` on a duplicate hash, a corrupt row) is rolled back to its savepoint alone and answered
//!   with its own error; the others of the batch are unaffected.
//! - **Operations that open their own savepoint** ([`Writer::run_in_savepoint`]: the hot paths,
//!   whose first query starts with [`savepoint!`], `RELEASE op; SAVEPOINT op;`) save a round trip
//!   per operation. If such an operation fails with anything but a `Conflict` (which only a
//!   statement after the `SAVEPOINT` can raise), it is not certain that its savepoint was opened,
//!   and `ROLLBACK TO op` could undo the operation before it: the whole batch is then rolled back
//!   instead, and every other operation of it fails with `Unavailable`.
//! - **Cancellation.** The thread, not the caller, drives the transaction: a caller that stops
//!   waiting cannot leave it half done. An operation whose caller is gone, or that waited longer than
//!   the acquire timeout, before its batch starts is not run at all.
//! - **Readers** (the pool) see a batch's writes only once it has committed, all at once, as with
//!   any transaction in WAL mode.
//! - **A panicking operation** (none is written to panic: no `unwrap`, no indexing) would end the
//!   writer thread: its open transaction is rolled back when the connection closes, nothing is
//!   acknowledged, and every later write fails with `Unavailable`.
//!
//! # Why it is fast
//! A commit is the expensive part of a small write (WAL frames written, wal-index updated, file
//! locks taken and released: system calls and context switches). With `n` callers waiting, one commit
//! serves `n` operations, and the step between two operations is at most one round trip to SQLite's
//! worker thread (`RELEASE op; SAVEPOINT op`), none for an operation that takes that step in its own
//! first query. The writer thread's runtime has no I/O driver:
//! it parks on a futex rather than epoll, which makes each wake-up from SQLite's worker cheaper.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mcp_authz_store::StoreError;
use sqlx::ConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use tokio::sync::{mpsc, oneshot};

/// The most operations one transaction holds: bounds how long the first caller of a batch waits
/// for the others.
pub(crate) const MAX_BATCH: usize = 64;

/// The step an operation run by [`Writer::run_in_savepoint`] starts its first query with (it
/// releases the previous operation's savepoint, or the one opened with `BEGIN`, and opens its own):
/// `concat!(savepoint!(), "UPDATE …")`.
macro_rules! savepoint {
    () => {
        "RELEASE op; SAVEPOINT op; "
    };
}
pub(crate) use savepoint;

/// A boxed, sendable future borrowing for `'a`.
pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

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
    /// Whether the operation's first query opens its savepoint ([`savepoint!`]).
    fn opens_savepoint(&self) -> bool;
    /// Runs the operation on `conn` (inside its savepoint); the result is held, not yet answered.
    fn run<'c>(self: Box<Self>, conn: &'c mut SqliteConnection) -> BoxFuture<'c, Box<dyn Ran>>;
    /// Answers `error` without running.
    fn fail(self: Box<Self>, error: StoreError);
}

/// An operation that has run, its answer held until the batch's transaction ends.
trait Ran: Send {
    /// Whether the operation succeeded (its savepoint stays, else it is rolled back).
    fn succeeded(&self) -> bool;
    /// Whether it failed with a `Conflict`, which only a statement after its savepoint can raise.
    fn conflicted(&self) -> bool;
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
    /// The operation's first query opens its savepoint.
    opens_savepoint: bool,
}

/// The concrete [`Ran`].
struct Done<T> {
    result: Result<T, StoreError>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> Job for Queued<T, F>
where
    T: Send + 'static,
    F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, StoreError>>
        + Send
        + 'static,
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

    fn opens_savepoint(&self) -> bool {
        self.opens_savepoint
    }

    fn run<'c>(self: Box<Self>, conn: &'c mut SqliteConnection) -> BoxFuture<'c, Box<dyn Ran>> {
        let Queued { op, reply, .. } = *self;
        Box::pin(async move {
            let result = op(conn).await;
            Box::new(Done { result, reply }) as Box<dyn Ran>
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

    fn conflicted(&self) -> bool {
        matches!(self.result, Err(StoreError::Conflict { .. }))
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
    queue: mpsc::UnboundedSender<Message>,
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
    /// Starts the writer thread on `conn`; `options` reconnect it after a lost connection.
    pub(crate) fn start(
        options: SqliteConnectOptions,
        conn: SqliteConnection,
        acquire_timeout: Duration,
    ) -> std::io::Result<Self> {
        let (queue, receiver) = mpsc::unbounded_channel();
        // No I/O driver: the thread only waits on channels (SQLite's worker answers through them),
        // and parking on a futex is cheaper than on epoll plus an eventfd wake-up.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()?;
        std::thread::Builder::new()
            .name("mcp-authz-sqlite-writer".to_owned())
            .spawn(move || runtime.block_on(serve(options, Some(conn), receiver)))?;
        Ok(Self {
            queue,
            closed: AtomicBool::new(false),
            acquire_timeout,
        })
    }

    /// Runs `op` on the write connection inside a transaction (see the [module](self) docs) and
    /// answers its result once that transaction has committed.
    pub(crate) async fn run<T, F>(&self, op: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        self.queue(op, false).await
    }

    /// [`run`](Self::run) for an operation whose **first query starts with [`savepoint!`]** and
    /// which runs no statement before it: the writer does not open the savepoint for it, which
    /// saves a round trip. See the [module](self) docs for how its failures are handled.
    pub(crate) async fn run_in_savepoint<T, F>(&self, op: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        self.queue(op, true).await
    }

    async fn queue<T, F>(&self, op: F, opens_savepoint: bool) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        if self.closed.load(Ordering::Acquire) {
            return Err(closed());
        }
        let (reply, answer) = oneshot::channel();
        let job = Queued {
            op,
            reply,
            deadline: Instant::now().checked_add(self.acquire_timeout),
            opens_savepoint,
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
async fn serve(
    options: SqliteConnectOptions,
    mut conn: Option<SqliteConnection>,
    mut receiver: mpsc::UnboundedReceiver<Message>,
) {
    let mut messages = Vec::with_capacity(MAX_BATCH);
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    let mut open = true;
    while receiver.recv_many(&mut messages, MAX_BATCH).await > 0 {
        for message in messages.drain(..) {
            match message {
                Message::Job(job) if open => jobs.push(job),
                // Queued behind a `Close`: never run, never reconnect.
                Message::Job(job) => job.fail(closed()),
                Message::Close(done) => {
                    if open {
                        batch(&options, &mut conn, std::mem::take(&mut jobs)).await;
                        if let Some(conn) = conn.take() {
                            // Best effort: the file is consistent whether or not this succeeds.
                            let _ = sqlx::Connection::close(conn).await;
                        }
                        open = false;
                        receiver.close();
                    }
                    let _ = done.send(());
                }
            }
        }
        if !jobs.is_empty() {
            batch(&options, &mut conn, std::mem::take(&mut jobs)).await;
        }
    }
    // Every handle dropped (or closed and drained).
    if let Some(conn) = conn {
        let _ = sqlx::Connection::close(conn).await;
    }
}

/// A batch-level failure: every operation of the batch is unavailable.
fn unavailable(error: &sqlx::Error) -> StoreError {
    StoreError::unavailable(match error {
        sqlx::Error::Database(db) => db.message().to_owned(),
        other => other.to_string(),
    })
}

/// Runs `jobs` in one transaction, each in its own savepoint, and answers them after it ends.
async fn batch(
    options: &SqliteConnectOptions,
    slot: &mut Option<SqliteConnection>,
    jobs: Vec<Box<dyn Job>>,
) {
    if slot.is_none() && !jobs.is_empty() {
        // Reconnect after a lost connection (or after closing, where `jobs` is empty).
        match options.connect().await {
            Ok(conn) => *slot = Some(conn),
            Err(error) => {
                let error = unavailable(&error);
                jobs.into_iter().for_each(|job| job.fail(error.clone()));
                return;
            }
        }
    }
    let Some(conn) = slot.as_mut() else {
        jobs.into_iter().for_each(|job| job.fail(closed()));
        return;
    };
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

    let mut pending = pending.into_iter();
    let mut ran: Vec<Box<dyn Ran>> = Vec::with_capacity(pending.len());
    let outcome: Result<(), StoreError> = async {
        let mut begun = false;
        for job in pending.by_ref() {
            let opens = job.opens_savepoint();
            let step = match (begun, opens) {
                (false, _) => Some("BEGIN IMMEDIATE; SAVEPOINT op"),
                (true, false) => Some("RELEASE op; SAVEPOINT op"),
                (true, true) => None,
            };
            if let Some(step) = step {
                execute(conn, step).await?;
            }
            begun = true;
            let done = job.run(conn).await;
            let failed = !done.succeeded();
            let uncertain = failed && opens && !done.conflicted();
            ran.push(done);
            if uncertain {
                return Err(StoreError::unavailable(
                    "another write of the same transaction failed",
                ));
            }
            if failed {
                // The savepoint stays open after `ROLLBACK TO`, for the next step to release.
                execute(conn, "ROLLBACK TO op").await?;
            }
        }
        if begun {
            execute(conn, "COMMIT").await?;
        }
        Ok(())
    }
    .await;

    match outcome {
        Ok(()) => ran.into_iter().for_each(|done| done.answer(None)),
        Err(error) => {
            // Leave no transaction open. "No transaction is active" is a database error and fine;
            // anything else means the connection itself is lost: reconnect for the next batch.
            let rollback = sqlx::query("ROLLBACK").execute(&mut *conn).await;
            if matches!(rollback, Err(ref error) if !matches!(error, sqlx::Error::Database(_))) {
                *slot = None;
            }
            ran.into_iter().for_each(|done| done.answer(Some(&error)));
            pending.for_each(|job| job.fail(error.clone()));
        }
    }
}

/// Runs one transaction-control step; a failure fails the whole batch as `Unavailable`.
async fn execute(conn: &mut SqliteConnection, step: &'static str) -> Result<(), StoreError> {
    sqlx::query(step)
        .execute(&mut *conn)
        .await
        .map(drop)
        .map_err(|error| unavailable(&error))
}
