//! # mcp-authz-store-sqlite
//!
//! The embedded default storage backend of the mcp-authz authorization server: every storage trait
//! of [`mcp_authz_store`] on **one SQLite file**.
//!
//! - **WAL** journal, foreign keys on, a busy timeout, `synchronous = NORMAL` by default (durable
//!   across process crashes; see [`Synchronous`] for the power-loss trade-off and `FULL`).
//! - **Migrations embedded** in the binary and applied on open; a database whose schema is newer than
//!   this build is refused ([`OpenError::SchemaTooNew`]) and left untouched.
//! - **Typed unavailability.** A database that is gone, locked beyond the busy timeout, or a pool
//!   that times out gives [`StoreError::Unavailable`](mcp_authz_store::StoreError::Unavailable), never
//!   `NotFound` or `Conflict`, so handlers answer 503 with `Retry-After`.
//! - **The store's guarantees.** A code is spent exactly once and a refresh token rotated exactly
//!   once however many callers race (single guarded `UPDATE … RETURNING` statements inside
//!   `BEGIN IMMEDIATE` transactions on one writer connection); reuse revokes the family; revocations
//!   cascade. The shared test kit of `mcp-authz-store` runs unchanged against real files.
//! - **Group commit.** A writer thread runs the write operations waiting at a moment in one
//!   transaction, each in its own savepoint (a failing one is rolled back alone), and answers them
//!   only once that transaction has committed: one commit serves many concurrent token requests.
//!   The thread owns a `rusqlite` connection and calls SQLite directly; reads, migrations and the
//!   schema check use `sqlx`'s async pool, except the point reads of the revocation check (a revoked
//!   `jti`, a grant, a client), which run on `rusqlite` connections on the caller's thread. Both
//!   libraries link the same bundled SQLite.
//! - **No secret in clear.** Codes and refresh tokens are stored only as SHA-256 digests.
//! - **Private files.** A database file the store creates, and its `-wal` and `-shm` files, are
//!   mode 0600 whatever the umask: they hold the server's private signing keys.
//!
//! ```no_run
//! use mcp_authz_store::{CodeConsumption, CodeExchange, CodeStore, SecretHash, NumericDate};
//! use mcp_authz_store_sqlite::{SqliteOptions, SqliteStore, Synchronous};
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let store = SqliteStore::open_with(
//!     SqliteOptions::new("/var/lib/mcp-authz/store.db").synchronous(Synchronous::Full),
//! )
//! .await?;
//! let now = NumericDate::from_secs(1_700_000_000);
//! let exchange = CodeExchange { grant_expires_at: NumericDate::from_secs(1_702_592_000), refresh_token: None };
//! match store.consume_code(&SecretHash::of("code from the request"), exchange, now).await {
//!     Ok(CodeConsumption::Consumed { grant, .. }) => { /* issue tokens for grant.id */ }
//!     Ok(_) => { /* invalid_grant */ }
//!     Err(e) if e.is_unavailable() => { /* 503 + Retry-After */ }
//!     Err(e) => return Err(e.into()),
//! }
//! # Ok(()) }
//! ```
// The README's code blocks are compiled and run as doc tests.
#![cfg_attr(doctest, doc = include_str!("../README.md"))]
#![forbid(unsafe_code)]

mod accounts;
mod audit;
mod clients;
mod codec;
mod columns;
mod error;
mod file_mode;
mod options;
mod point_reads;
mod purge;
mod rotation;
mod rows;
mod statement;
mod store;
mod tokens;
mod writer;
mod writes;

pub use error::OpenError;
pub use options::{SqliteOptions, Synchronous};
pub use store::SqliteStore;
