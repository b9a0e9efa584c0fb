//! [`OperationStats`]: how many storage operations ran, failed and how long they took, for an
//! operator's metrics (REQUIREMENTS OB-2). Counted in [`PostgresStore::bounded`](crate::PostgresStore),
//! the one place every operation passes through; relaxed atomics, a few nanoseconds each.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The upper bounds, in seconds, of the latency buckets of [`OperationStats::latency_buckets`].
pub const LATENCY_BUCKETS: [f64; 8] = [0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.05, 0.25, 1.0];

/// What the store's operations did since it was built (shared by its clones).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct OperationStats {
    /// Operations completed (successfully or not).
    pub operations: u64,
    /// Operations that failed for any reason (a conflict, corrupt data, the database away).
    pub failures: u64,
    /// Of the failures, those with `StoreError::Unavailable` (database unreachable, timed out).
    pub unavailable: u64,
    /// Operations at or under each bound of [`LATENCY_BUCKETS`], cumulative (Prometheus style).
    pub latency_buckets: [u64; LATENCY_BUCKETS.len()],
    /// The sum of all operations' durations, in seconds.
    pub latency_sum_seconds: f64,
}

/// The counters behind [`OperationStats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    operations: AtomicU64,
    failures: AtomicU64,
    unavailable: AtomicU64,
    /// Per bucket, not cumulative.
    buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    sum_micros: AtomicU64,
}

impl Counters {
    /// Counts one operation that took `elapsed`; `failed` / `unavailable` as it ended.
    pub(crate) fn record(&self, elapsed: Duration, failed: bool, unavailable: bool) {
        self.operations.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.failures.fetch_add(1, Ordering::Relaxed);
        }
        if unavailable {
            self.unavailable.fetch_add(1, Ordering::Relaxed);
        }
        let seconds = elapsed.as_secs_f64();
        if let Some(slot) = LATENCY_BUCKETS.iter().position(|bound| seconds <= *bound)
            && let Some(bucket) = self.buckets.get(slot)
        {
            bucket.fetch_add(1, Ordering::Relaxed);
        }
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    /// A snapshot.
    pub(crate) fn snapshot(&self) -> OperationStats {
        let mut latency_buckets = [0; LATENCY_BUCKETS.len()];
        let mut cumulative = 0;
        for (out, bucket) in latency_buckets.iter_mut().zip(&self.buckets) {
            cumulative += bucket.load(Ordering::Relaxed);
            *out = cumulative;
        }
        OperationStats {
            operations: self.operations.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
            unavailable: self.unavailable.load(Ordering::Relaxed),
            latency_buckets,
            // Micro-second resolution is plenty for a rate of latency.
            #[allow(clippy::cast_precision_loss)]
            latency_sum_seconds: self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_failures_counted() {
        let counters = Counters::default();
        counters.record(Duration::from_micros(300), false, false);
        counters.record(Duration::from_millis(3), true, false);
        counters.record(Duration::from_secs(12), true, true);
        let stats = counters.snapshot();
        assert_eq!(stats.operations, 3);
        assert_eq!(stats.failures, 2);
        assert_eq!(stats.unavailable, 1);
        assert_eq!(stats.latency_buckets, [1, 1, 1, 2, 2, 2, 2, 2]);
        assert!((stats.latency_sum_seconds - 12.0033).abs() < 1e-6);
    }
}
