//! # mcp-authz-store-postgres
//!
//! The PostgreSQL storage backend of the mcp-authz authorization server, for **several server
//! instances sharing state**. [`PostgresStore`] implements every trait of
//! [`mcp_authz_store`] (it is a [`Store`](mcp_authz_store::Store)) with the same semantics as the
//! reference `MemoryStore`, and passes the store test kit unchanged.
//!
//! ```no_run
//! use std::sync::Arc;
//! use mcp_authz_store::Store;
//! use mcp_authz_store_postgres::PostgresStore;
//! # async fn demo() -> Result<(), mcp_authz_store_postgres::ConnectError> {
//! let store: Arc<dyn Store> = Arc::new(PostgresStore::connect("postgres://authz@db/authz").await?);
//! # let _ = store; Ok(()) }
//! ```
//!
//! ## Schema and migrations
//! The migrations in `migrations/` are embedded and applied by
//! [`PostgresStoreBuilder::connect`] under `sqlx`'s advisory lock, so instances starting at once do not
//! race. A database migrated by a newer release is refused ([`ConnectError::SchemaTooNew`]).
//! [`PostgresStoreBuilder::schema`] keeps the tables in a schema of their own.
//!
//! Codes and refresh tokens are stored only as SHA-256 digests (`BYTEA`), client secrets and passwords
//! as PHC strings; times are `BIGINT` seconds compared against the caller's `now`, never the
//! database clock.
//!
//! ## Atomicity (READ COMMITTED, no retries needed for correctness)
//! - `consume_code`: one statement — `UPDATE codes … WHERE consumed_at IS NULL AND expires_at > $now
//!   RETURNING` feeding `INSERT INTO grants` and `INSERT INTO refresh_tokens` in CTEs. Concurrent
//!   consumers wait on the row lock and re-check; exactly one updates the row. A loser then classifies
//!   the code and revokes its grant in a second single statement (fresh snapshot).
//! - `rotate_refresh_token`: one statement — the token and its grant are selected `FOR UPDATE` with
//!   every "active" condition, re-checked after any wait; CTEs mark the token rotated, insert the
//!   successor and record the scope. A loser classifies and, for reuse, revokes the family in one
//!   statement.
//! - Bulk revocations: one transaction deleting pending codes first, then revoking grants.
//! - Key activation: one transaction under `LOCK TABLE signing_keys`; a partial unique index keeps
//!   at most one active key.
//!
//! Deadlocks and serialization failures are retried (3 attempts) before they surface.
//!
//! ## Errors
//! Every operation maps `sqlx` errors totally: unique violations are
//! [`StoreError::Conflict`](mcp_authz_store::StoreError::Conflict) naming the record, a database that
//! is down, refusing, or too slow (pool acquire timeout, `statement_timeout`, I/O) is
//! [`StoreError::Unavailable`](mcp_authz_store::StoreError::Unavailable), and a row that does not
//! parse back (or a schema that is not ours) is
//! [`StoreError::Corrupt`](mcp_authz_store::StoreError::Corrupt).
// The README's code blocks are compiled and run as doc tests.
#![cfg_attr(doctest, doc = include_str!("../README.md"))]
#![forbid(unsafe_code)]

mod accounts;
mod attempts;
mod audit;
mod browser_states;
mod builder;
mod codes;
mod decode;
mod error;
mod grants;
mod keys;
mod purge;
mod stats;
mod store;

pub use builder::PostgresStoreBuilder;
pub use error::ConnectError;
pub use stats::{LATENCY_BUCKETS, OperationStats};
pub use store::PostgresStore;
