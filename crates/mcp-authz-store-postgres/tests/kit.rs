//! The shared behavioural kit of `mcp-authz-store`, unchanged, against PostgreSQL: one named test per
//! kit test, each in a fresh schema of its own.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

mcp_authz_store::testkit_tests!(common::kit_store());

/// The browser-state part of the kit (not in `Store`: shared only on PostgreSQL).
mod browser_states {
    use mcp_authz_store::testkit;

    use super::common;

    #[test]
    fn browser_states_round_trip() {
        testkit::run(async { testkit::browser_states_round_trip(common::kit_store().await).await });
    }

    #[test]
    fn browser_states_taken_once() {
        testkit::run(async { testkit::browser_states_taken_once(common::kit_store().await).await });
    }

    #[test]
    fn browser_states_bounded_per_owner() {
        testkit::run(async {
            testkit::browser_states_bounded_per_owner(common::kit_store().await).await;
        });
    }
}

/// The failure-counter part of the kit (not in `Store`: shared only on PostgreSQL).
mod attempts {
    use mcp_authz_store::testkit;

    use super::common;

    #[test]
    fn attempts_count_within_window() {
        testkit::run(async {
            testkit::attempts_count_within_window(common::kit_store().await).await
        });
    }

    #[test]
    fn attempts_concurrent_failures_counted_exactly() {
        testkit::run(async {
            testkit::attempts_concurrent_failures_counted_exactly(common::kit_store().await).await;
        });
    }
}
