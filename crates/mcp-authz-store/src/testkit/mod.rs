//! The behavioural test kit every storage backend runs unchanged (feature `testkit`).
//!
//! Each kit test is a `pub async fn name<S: Store>(store: S)` taking a **fresh, empty, isolated** store.
//! A backend instantiates all of them, one named `#[test]` each, with [`testkit_tests!`](crate::testkit_tests):
//!
//! ```
//! // In a backend crate's tests/kit.rs, e.g. `SqliteStore::connect("sqlite::memory:").await.unwrap()`.
//! async fn fresh() -> mcp_authz_store::MemoryStore {
//!     mcp_authz_store::MemoryStore::new()
//! }
//! mcp_authz_store::testkit_tests!(fresh());
//! ```
//!
//! The argument is an expression evaluating to a **future** of a store; it is evaluated anew in each
//! test (`async { MemoryStore::new() }` for the memory store). Each generated test runs on its own
//! multi-threaded Tokio runtime ([`run`]), so the race tests (64 tasks released together by a
//! [`Barrier`](tokio::sync::Barrier)) really run in parallel, and the backend crate needs no Tokio
//! macros. Alternatively [`run_all`] runs every kit test in sequence from one test.
//!
//! Times in the kit start at 1_700_000_000 and move only through the `now` arguments (and a
//! [`ManualClock`](crate::ManualClock)), never the system clock.
// A test kit reports failures by panicking, like any test: assertions, `unwrap` and `panic!` are its
// vocabulary. This module is compiled only with the `testkit` feature, for tests of backends.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod accounts;
mod attempts;
mod audit;
mod browser_states;
mod codes;
mod fixtures;
mod grants;
mod operator;

use std::future::Future;

pub use accounts::{
    clients_crud, consent_resources_round_trip, consents_remembered, purge_counts,
    revoked_access_tokens, signing_key_lifecycle, users_unique_usernames,
};
pub use attempts::{attempts_concurrent_failures_counted_exactly, attempts_count_within_window};
pub use audit::audit_events_round_trip;
pub use browser_states::{
    browser_states_bounded_per_owner, browser_states_round_trip, browser_states_taken_once,
};
pub use codes::{
    code_concurrent_consume_exactly_once, code_consume_conflict_changes_nothing,
    code_duplicate_hash_conflicts, code_expiry_follows_clock, code_replay_revokes_issued_tokens,
    code_round_trip_and_consume, code_unknown_is_reported,
};
pub use grants::{
    refresh_client_bound_rotation, refresh_concurrent_rotation_exactly_once, refresh_expiry,
    refresh_reuse_revokes_family, refresh_rotation_chain, revoke_by_client_cascades,
    revoke_by_subject_cascades, revoke_single_grant_and_list, rotation_conflict_changes_nothing,
};
pub use operator::{operator_grant_and_consent_listings, operator_listings};

use crate::Store;

/// Runs `test` to completion on a fresh multi-threaded Tokio runtime with 4 worker threads.
///
/// Used by the tests [`testkit_tests!`](crate::testkit_tests) generates; panics (fails the test) if
/// the runtime cannot be built.
pub fn run<F: Future<Output = ()>>(test: F) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("build a Tokio runtime for the store test kit");
    runtime.block_on(test);
}

/// Runs every kit test in sequence, each on a fresh store from `make`.
///
/// Call it from a multi-threaded runtime (`#[tokio::test(flavor = "multi_thread")]`) so that the race
/// tests run in parallel; prefer [`testkit_tests!`](crate::testkit_tests), which names each failure.
pub async fn run_all<S, F, Fut>(make: F)
where
    S: Store + 'static,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
{
    crate::__testkit_for_each!(__testkit_emit_run_all! { make });
}

/// The names of every kit test, in the order [`run_all`] runs them.
pub const TEST_NAMES: &[&str] = crate::__testkit_for_each!(__testkit_emit_names! {});

/// Calls the callback macro with the list of kit tests: the one place that lists them.
#[doc(hidden)]
#[macro_export]
macro_rules! __testkit_for_each {
    ($callback:ident ! { $($args:tt)* }) => {
        $crate::$callback! {
            { $($args)* }
            code_round_trip_and_consume,
            code_duplicate_hash_conflicts,
            code_unknown_is_reported,
            code_expiry_follows_clock,
            code_concurrent_consume_exactly_once,
            code_replay_revokes_issued_tokens,
            code_consume_conflict_changes_nothing,
            refresh_rotation_chain,
            refresh_reuse_revokes_family,
            refresh_concurrent_rotation_exactly_once,
            refresh_client_bound_rotation,
            refresh_expiry,
            revoke_by_client_cascades,
            revoke_by_subject_cascades,
            revoke_single_grant_and_list,
            rotation_conflict_changes_nothing,
            clients_crud,
            consents_remembered,
            consent_resources_round_trip,
            users_unique_usernames,
            signing_key_lifecycle,
            revoked_access_tokens,
            purge_counts,
            operator_listings,
            audit_events_round_trip,
            operator_grant_and_consent_listings,
        }
    };
}

/// Emits one `#[test]` per kit test.
#[doc(hidden)]
#[macro_export]
macro_rules! __testkit_emit_tests {
    ({ $make:expr } $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                $crate::testkit::run(async {
                    let store = $make.await;
                    $crate::testkit::$name(store).await;
                });
            }
        )*
    };
}

/// Emits the body of `run_all`.
#[doc(hidden)]
#[macro_export]
macro_rules! __testkit_emit_run_all {
    ({ $make:ident } $($name:ident),* $(,)?) => {
        $( $crate::testkit::$name($make().await).await; )*
    };
}

/// Emits the list of test names.
#[doc(hidden)]
#[macro_export]
macro_rules! __testkit_emit_names {
    ({} $($name:ident),* $(,)?) => {
        &[$(stringify!($name)),*]
    };
}

/// Expands into one `#[test]` per kit test, each running on a fresh store, so that failures are named.
///
/// `$make` is an expression of a future that yields a fresh, isolated store implementing
/// [`Store`](crate::Store); it is evaluated once per test. Use it at the top level of a test file or
/// inside a `mod`.
///
/// ```
/// mcp_authz_store::testkit_tests!(async { mcp_authz_store::MemoryStore::new() });
/// ```
#[macro_export]
macro_rules! testkit_tests {
    ($make:expr) => {
        $crate::__testkit_for_each!(__testkit_emit_tests! { $make });
    };
    ($make:expr,) => {
        $crate::testkit_tests!($make);
    };
}
