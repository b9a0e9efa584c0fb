//! The per-account counter of failed logins in a store shared by every instance (REQUIREMENTS
//! SC-1, SEC-19), so that N instances allow the account's limit in total, not N times it.
//!
//! The key is the SHA-256 of the case-folded account name (no name in clear). The lock follows
//! from the counter as in memory: after [`LoginLockout::account_failures`] failures, the account
//! is locked from the last failure for the first duration, doubling per further failure up to the
//! maximum. A counter is forgotten twice the maximum duration after its last failure (the longest
//! lock plus the maximum duration without a failure, as in memory at the most).
//!
//! An attempt reads the counter, refuses if it is locked, then counts its failure atomically; if
//! other attempts counted failures in between and the count before its own was already locked,
//! it takes its failure back and is refused too, so concurrent guesses on several instances cannot
//! all pass the threshold. A store that cannot answer refuses the attempt (the caller answers 503).

use std::sync::Arc;
use std::time::Duration;

use mcp_authz_store::{AttemptCount, AttemptStore, NumericDate, SecretHash, StoreError};

use super::{LoginLockout, remaining};

/// The shared per-account counters.
pub(super) struct SharedAccounts {
    store: Arc<dyn AttemptStore>,
    policy: LoginLockout,
}

/// The stored key of an account key.
fn key_of(account: &str) -> SecretHash {
    SecretHash::of(format!("login-account:{account}"))
}

impl SharedAccounts {
    pub(super) fn new(store: Arc<dyn AttemptStore>, policy: LoginLockout) -> Self {
        Self { store, policy }
    }

    /// How long `counter` still locks its account at `now`, if it does.
    fn locked(&self, counter: AttemptCount, now: NumericDate) -> Option<Duration> {
        let lock = self
            .policy
            .lock_for(counter.failures, self.policy.account_failures)?;
        let until = counter.last_failure.saturating_add(lock);
        (now < until).then(|| remaining(until, now))
    }

    /// An attempt on `account` (its case-folded key) at `now`, from an address it signed in from
    /// before when `known` (which the lock spares): `Ok(Err(wait))` when locked, nothing counted;
    /// else one failure is counted.
    pub(super) async fn attempt(
        &self,
        account: &str,
        known: bool,
        now: NumericDate,
    ) -> Result<Result<(), Duration>, StoreError> {
        let key = key_of(account);
        let since = now.saturating_sub(self.policy.shared_counter_window());
        let before = self.store.attempt_count(&key, since).await?;
        if !known && let Some(wait) = before.and_then(|c| self.locked(c, now)) {
            return Ok(Err(wait));
        }
        let after = self.store.record_attempt_failure(&key, now, since).await?;
        let expected = before.map_or(0, |c| c.failures).saturating_add(1);
        if !known && after.failures > expected {
            // Others counted failures since the look: judge by the count just before this one.
            let previous = AttemptCount {
                failures: after.failures.saturating_sub(1),
                last_failure: after.last_failure,
            };
            if let Some(wait) = self.locked(previous, now) {
                self.store.take_back_attempt_failure(&key).await?;
                return Ok(Err(wait));
            }
        }
        if after.failures == self.policy.account_failures {
            tracing::warn!(
                account_failures = after.failures,
                "login attempts on one account reach the lockout threshold across instances"
            );
        }
        Ok(Ok(()))
    }

    /// Takes back one failure counted by [`attempt`](Self::attempt). A store that cannot answer
    /// leaves the failure counted (the safe side) and is logged.
    pub(super) async fn take_back(&self, account: &str) {
        if let Err(error) = self.store.take_back_attempt_failure(&key_of(account)).await {
            tracing::warn!(%error, "a login failure could not be taken back");
        }
    }
}

#[cfg(test)]
mod tests {
    use mcp_authz_store::MemoryAttempts;

    use super::super::Lockout;
    use super::*;

    const T0: NumericDate = NumericDate::from_secs(1_000_000);

    fn instances(n: usize, store: &Arc<MemoryAttempts>) -> Vec<Lockout> {
        let policy = LoginLockout::default().account_failures(6);
        (0..n)
            .map(|_| Lockout::new(policy, 100).with_shared_accounts(store.clone()))
            .collect()
    }

    #[tokio::test]
    async fn failures_spread_over_instances_lock_the_account_in_total() {
        let store = Arc::new(MemoryAttempts::new());
        let lockouts = instances(3, &store);
        lockouts[0]
            .begin("home", "alice", T0)
            .await
            .unwrap()
            .unwrap();
        lockouts[0].success("home", "alice", T0).await;
        for i in 0..6 {
            let lockout = &lockouts[i % 3];
            let address = format!("bot{i}");
            assert!(lockout.begin(&address, "Alice", T0).await.unwrap().is_ok());
        }
        for lockout in &lockouts {
            assert_eq!(
                lockout.begin("new", "alice", T0).await.unwrap(),
                Err(Duration::from_secs(60))
            );
        }
        // The address it signed in from is spared, on the instance that saw it.
        assert!(
            lockouts[0]
                .begin("home", "alice", T0)
                .await
                .unwrap()
                .is_ok()
        );
        lockouts[0].success("home", "alice", T0).await;
        // It expires.
        let later = T0.saturating_add(Duration::from_secs(60));
        assert!(
            lockouts[1]
                .begin("new", "alice", later)
                .await
                .unwrap()
                .is_ok()
        );
    }

    #[tokio::test]
    async fn concurrent_guesses_do_not_pass_the_threshold() {
        let store = Arc::new(MemoryAttempts::new());
        let lockouts = Arc::new(instances(4, &store));
        let tasks: Vec<_> = (0..40)
            .map(|i| {
                let lockouts = lockouts.clone();
                tokio::spawn(async move {
                    let address = format!("bot{i}");
                    lockouts[i % 4]
                        .begin(&address, "bob", T0)
                        .await
                        .unwrap()
                        .is_ok()
                })
            })
            .collect();
        let mut passed = 0;
        for task in tasks {
            if task.await.unwrap() {
                passed += 1;
            }
        }
        assert_eq!(passed, 6);
    }

    #[tokio::test]
    async fn taken_back_and_successful_attempts_do_not_count() {
        let store = Arc::new(MemoryAttempts::new());
        let lockouts = instances(2, &store);
        for i in 0..20 {
            let address = format!("a{i}");
            assert!(
                lockouts[0]
                    .begin(&address, "carol", T0)
                    .await
                    .unwrap()
                    .is_ok()
            );
            lockouts[0].take_back(&address, "carol").await;
            assert!(
                lockouts[1]
                    .begin(&address, "carol", T0)
                    .await
                    .unwrap()
                    .is_ok()
            );
            lockouts[1].success(&address, "carol", T0).await;
        }
        assert!(lockouts[0].begin("z", "carol", T0).await.unwrap().is_ok());
    }
}
