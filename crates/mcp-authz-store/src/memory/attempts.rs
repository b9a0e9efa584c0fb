//! [`MemoryAttempts`]: failure counters of one process.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;

use crate::{AttemptCount, AttemptStore, NumericDate, SecretHash, StoreError};

/// Failure counters in this process's memory: for one instance, and for tests of the
/// [`AttemptStore`] contract. Not bounded by a count: [`purge_attempts`](AttemptStore::purge_attempts)
/// bounds it by age.
#[derive(Debug, Default)]
pub struct MemoryAttempts {
    counters: Mutex<HashMap<SecretHash, AttemptCount>>,
}

impl MemoryAttempts {
    /// No counters.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<SecretHash, AttemptCount>> {
        self.counters.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl AttemptStore for MemoryAttempts {
    async fn attempt_count(
        &self,
        key: &SecretHash,
        since: NumericDate,
    ) -> Result<Option<AttemptCount>, StoreError> {
        Ok(self
            .lock()
            .get(key)
            .filter(|c| c.last_failure > since)
            .copied())
    }

    async fn record_attempt_failure(
        &self,
        key: &SecretHash,
        now: NumericDate,
        since: NumericDate,
    ) -> Result<AttemptCount, StoreError> {
        let mut counters = self.lock();
        let counter = counters.entry(*key).or_insert(AttemptCount {
            failures: 0,
            last_failure: now,
        });
        if counter.last_failure <= since {
            counter.failures = 0;
        }
        counter.failures = counter.failures.saturating_add(1);
        counter.last_failure = counter.last_failure.max(now);
        Ok(*counter)
    }

    async fn take_back_attempt_failure(&self, key: &SecretHash) -> Result<(), StoreError> {
        if let Some(counter) = self.lock().get_mut(key) {
            counter.failures = counter.failures.saturating_sub(1);
        }
        Ok(())
    }

    async fn reset_attempts(&self, key: &SecretHash) -> Result<(), StoreError> {
        self.lock().remove(key);
        Ok(())
    }

    async fn purge_attempts(&self, since: NumericDate) -> Result<u64, StoreError> {
        let mut counters = self.lock();
        let before = counters.len();
        counters.retain(|_, c| c.last_failure > since);
        Ok(u64::try_from(before - counters.len()).unwrap_or(u64::MAX))
    }
}
