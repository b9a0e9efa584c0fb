//! The shared behavioural kit, run against the in-memory store: one named test per kit test, plus
//! `run_all` from a Tokio test.
#![cfg(feature = "testkit")]

use mcp_authz_store::MemoryStore;

mcp_authz_store::testkit_tests!(async { MemoryStore::new() });

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn run_all_passes_on_memory() {
    mcp_authz_store::testkit::run_all(|| async { MemoryStore::new() }).await;
}

#[test]
fn kit_lists_every_test_once() {
    let names = mcp_authz_store::testkit::TEST_NAMES;
    let unique: std::collections::BTreeSet<_> = names.iter().collect();
    assert_eq!(unique.len(), names.len());
    assert!(names.len() >= 21);
    for required in [
        "code_concurrent_consume_exactly_once",
        "refresh_concurrent_rotation_exactly_once",
        "code_expiry_follows_clock",
        "purge_counts",
    ] {
        assert!(names.contains(&required), "{required} missing");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn browser_states_pass_on_memory() {
    use mcp_authz_store::{MemoryBrowserStates, testkit};
    testkit::browser_states_round_trip(MemoryBrowserStates::new(100)).await;
    testkit::browser_states_taken_once(MemoryBrowserStates::new(100)).await;
    testkit::browser_states_bounded_per_owner(MemoryBrowserStates::new(100)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn attempts_pass_on_memory() {
    use mcp_authz_store::{MemoryAttempts, testkit};
    testkit::attempts_count_within_window(MemoryAttempts::new()).await;
    testkit::attempts_concurrent_failures_counted_exactly(MemoryAttempts::new()).await;
}
