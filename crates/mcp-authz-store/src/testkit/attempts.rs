//! Kit tests of [`AttemptStore`]: failures count per key within a window, are taken back and reset,
//! are purged by age, and concurrent failures are counted exactly.

use std::sync::Arc;
use std::time::Duration;

use super::fixtures::T0;
use crate::{AttemptStore, NumericDate, SecretHash};

fn at(secs: u64) -> NumericDate {
    T0.saturating_add(Duration::from_secs(secs))
}

/// Counts per key; a counter whose last failure is at or before `since` is absent and starts
/// again; take back never goes below zero; reset forgets; purge removes exactly the old counters.
pub async fn attempts_count_within_window<S: AttemptStore>(store: S) {
    let alice = SecretHash::of("alice");
    let bob = SecretHash::of("bob");
    assert_eq!(store.attempt_count(&alice, T0).await.unwrap(), None);
    for n in 1..=3 {
        let c = store
            .record_attempt_failure(&alice, at(n), T0)
            .await
            .unwrap();
        assert_eq!(
            (c.failures, c.last_failure),
            (u32::try_from(n).unwrap(), at(n))
        );
    }
    let c = store.record_attempt_failure(&bob, at(3), T0).await.unwrap();
    assert_eq!(c.failures, 1);
    let c = store.attempt_count(&alice, T0).await.unwrap().unwrap();
    assert_eq!((c.failures, c.last_failure), (3, at(3)));
    // Outside the window: absent, and the next failure starts again.
    assert_eq!(store.attempt_count(&alice, at(3)).await.unwrap(), None);
    let c = store
        .record_attempt_failure(&alice, at(10), at(3))
        .await
        .unwrap();
    assert_eq!((c.failures, c.last_failure), (1, at(10)));
    // Taken back, not below zero.
    store.take_back_attempt_failure(&alice).await.unwrap();
    store.take_back_attempt_failure(&alice).await.unwrap();
    assert_eq!(
        store
            .attempt_count(&alice, T0)
            .await
            .unwrap()
            .unwrap()
            .failures,
        0
    );
    store
        .take_back_attempt_failure(&SecretHash::of("nobody"))
        .await
        .unwrap();
    // Reset forgets one key only.
    store.reset_attempts(&alice).await.unwrap();
    assert_eq!(store.attempt_count(&alice, T0).await.unwrap(), None);
    assert_eq!(
        store
            .attempt_count(&bob, T0)
            .await
            .unwrap()
            .unwrap()
            .failures,
        1
    );
    // Purge: bob's last failure is at(3).
    store
        .record_attempt_failure(&alice, at(20), T0)
        .await
        .unwrap();
    assert_eq!(store.purge_attempts(at(3)).await.unwrap(), 1);
    assert_eq!(store.attempt_count(&bob, T0).await.unwrap(), None);
    assert!(store.attempt_count(&alice, T0).await.unwrap().is_some());
    assert_eq!(store.purge_attempts(at(3)).await.unwrap(), 0);
}

/// 64 concurrent failures of one key are counted exactly, each caller seeing a distinct count.
pub async fn attempts_concurrent_failures_counted_exactly<S: AttemptStore + 'static>(store: S) {
    let store = Arc::new(store);
    let key = SecretHash::of("victim");
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .record_attempt_failure(&key, at(1), T0)
                    .await
                    .unwrap()
                    .failures
            })
        })
        .collect();
    let mut seen = Vec::new();
    for task in tasks {
        seen.push(task.await.unwrap());
    }
    seen.sort_unstable();
    assert_eq!(seen, (1..=64).collect::<Vec<u32>>());
    assert_eq!(
        store
            .attempt_count(&key, T0)
            .await
            .unwrap()
            .unwrap()
            .failures,
        64
    );
}
