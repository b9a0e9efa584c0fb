//! # mcp-authz-store
//!
//! The storage of the mcp-authz authorization server: one async trait per aggregate, an in-memory
//! implementation, and (feature `testkit`) the behavioural test kit that every backend runs unchanged.
//!
//! | trait | holds | key guarantee |
//! |---|---|---|
//! | [`ClientStore`] | registered, pre-registered and metadata-document clients | unique client ids |
//! | [`CodeStore`] | authorization codes, by SHA-256 hash | **spent exactly once**; replay revokes the grant (AS-7) |
//! | [`GrantStore`] | grants = refresh-token families | **rotated exactly once**; reuse revokes the family (AS-8) |
//! | [`RevokedTokenStore`] | revoked access-token `jti`s until expiry | idempotent deny-list |
//! | [`ConsentStore`] | remembered consents | one per (user, client) |
//! | [`KeyStore`] | signing keys: published → active → retired | at most one active |
//! | [`UserStore`] | local users | unique usernames |
//! | [`AuditStore`] | audit events (OB-1) | append-only; purged by age, never by expiry |
//! | [`PurgeStore`] | — | removes only what no operation would use anymore |
//! | [`BrowserStateStore`] | sessions and pending requests of browser flows (not part of [`Store`]: shared by instances on PostgreSQL, in server memory otherwise) | taken once; bounded per owner |
//! | [`AttemptStore`] | counters of failed logins per account (not part of [`Store`]: shared by instances on PostgreSQL, in server memory otherwise) | concurrent failures counted exactly |
//!
//! [`Store`] is all of them at once (blanket impl); the server holds an `Arc<dyn Store>`.
//!
//! ## Principles
//! - **No secret in clear.** Codes and refresh tokens are stored as [`SecretHash`] (SHA-256); client
//!   secrets and passwords as [`SecretHashString`] (PHC); private keys as redacted [`PrivateKeyMaterial`].
//! - **Time is an argument.** Every time-dependent operation takes `now: NumericDate`; stores never read a
//!   clock (see [`Clock`] for why). **Ids are the caller's**: [`IdGenerator`] with [`RandomIds`] and
//!   [`CounterIds`].
//! - **Outcomes are not errors.** A replayed code or a reused refresh token is an `Ok` outcome
//!   ([`CodeConsumption`], [`Rotation`]); [`StoreError`] means the operation had no effect, and
//!   [`StoreError::Unavailable`] (503 + `Retry-After`) is kept distinct from every "no" the protocol gives.
//! - **Atomicity is specified for SQL.** Each trait documents its concurrency guarantee and the intended
//!   SQL statements, which the SQLite and PostgreSQL backends implement and the test kit checks with 64
//!   concurrent tasks.
//!
//! ```
//! use mcp_authz_store::{CodeConsumption, CodeExchange, CodeStore, MemoryStore, NumericDate, SecretHash};
//! # async fn demo(store: &MemoryStore, code_from_request: &str) -> Result<(), mcp_authz_store::StoreError> {
//! let now = NumericDate::from_secs(1_700_000_000);
//! let exchange = CodeExchange { grant_expires_at: NumericDate::from_secs(1_702_592_000), refresh_token: None };
//! match store.consume_code(&SecretHash::of(code_from_request), exchange, now).await? {
//!     CodeConsumption::Consumed { code, grant } => { /* issue tokens for grant.id */ }
//!     CodeConsumption::AlreadyConsumed { family_id, .. } => { /* replay: grant revoked, invalid_grant */ }
//!     _ => { /* invalid_grant */ }
//! }
//! # Ok(()) }
//! ```
//!
//! ## Features
//! - `testkit`: the `testkit` module and the `testkit_tests!` macro (see their docs when built with
//!   the feature).
// The README's code blocks are compiled and run as doc tests.
#![cfg_attr(doctest, doc = include_str!("../README.md"))]
#![forbid(unsafe_code)]

mod aggregate;
mod error;
mod ids;
mod memory;
mod secret;
#[cfg(feature = "testkit")]
pub mod testkit;
mod time;

pub use aggregate::{
    AttemptCount, AttemptStore, AuditEvent, AuditKind, AuditOutcome, AuditParseError, AuditQuery,
    AuditReason, AuditStore, AuthorizationCode, BrowserState, BrowserStateKind, BrowserStateStore,
    ClientKind, ClientRecord, ClientStore, CodeConsumption, CodeExchange, CodeStore, Consent,
    ConsentStore, Grant, GrantStore, KeyState, KeyStore, NewRefreshToken, PurgeCounts, PurgeStore,
    RefreshLookup, RefreshStatus, RefreshToken, Revocation, RevocationCounts, RevocationReason,
    RevokedTokenStore, Rotation, SigningKey, Store, User, UserStore,
};
pub use error::{Entity, StoreError};
pub use ids::{
    CounterIds, FamilyId, IdError, IdGenerator, KeyAlgorithm, KeyId, RandomIds, Subject, TokenId,
    Username,
};
pub use memory::{MemoryAttempts, MemoryBrowserStates, MemoryStore};
pub use secret::{PrivateKeyMaterial, SecretFormatError, SecretHash, SecretHashString};
#[allow(deprecated)]
pub use time::UnixTime;
pub use time::{Clock, ManualClock, NumericDate, SystemClock};
