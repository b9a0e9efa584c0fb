//! Password guessing: per-account backoff and temporary lockout of the login form (REQUIREMENTS
//! SEC-19).
//!
//! Two counters of failed logins are kept, both keyed by the account name as typed (case-folded), so
//! that unknown accounts are treated exactly like existing ones:
//!
//! - per (address, account): after [`LoginLockout::address_failures`] failures, that address may
//!   not try that account for a while;
//! - per account, from every address: after [`LoginLockout::account_failures`] failures, the account
//!   is locked for every address except those it signed in from before (so that a distributed guess
//!   cannot lock its owner out of the places they use).
//!
//! A lock lasts the first duration, doubles with each further failure up to the maximum, and
//! expires; a counter is forgotten once its lock ended and the maximum duration passed without a
//! failure. Every attempt is counted as a failure before the password is checked (so parallel
//! guesses cannot all pass before the first failure is counted) and taken back if it succeeds; a
//! successful login clears its address's counter. Locked attempts are answered without a password
//! check. Memory is bounded: a full table drops forgotten counters, then the single least
//! informative one (unlocked, fewest failures, oldest), never everything at once.
//!
//! With a shared [`AttemptStore`] (`ServerConfigBuilder::shared_login_attempts`, REQUIREMENTS
//! SC-1), the per-account counter lives there instead (see [`shared`]), so that every instance
//! counts the same failures; the per-(address, account) counters and the addresses an account
//! signed in from stay in each instance's memory.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use mcp_authz_store::{AttemptStore, NumericDate, StoreError};

mod shared;

use shared::SharedAccounts;

/// How long an address that signed in to an account stays exempt from that account's lock.
const KNOWN_ADDRESS_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
/// The longest account key kept (longer names share a counter with their prefix).
const MAX_ACCOUNT_KEY: usize = 256;

/// The login lockout policy (REQUIREMENTS SEC-19), set with
/// [`ServerConfigBuilder::login_lockout`](crate::ServerConfigBuilder::login_lockout).
///
/// ```
/// use std::time::Duration;
/// use mcp_authz_server::LoginLockout;
/// let policy = LoginLockout::default()
///     .address_failures(3)
///     .durations(Duration::from_secs(30), Duration::from_secs(600));
/// assert_eq!(policy.first_lock(), Duration::from_secs(30));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLockout {
    address_failures: u32,
    account_failures: u32,
    first_lock: Duration,
    max_lock: Duration,
}

impl Default for LoginLockout {
    /// 5 failures per address and account, 20 per account, locks from 1 minute doubling to 15.
    fn default() -> Self {
        Self {
            address_failures: 5,
            account_failures: 20,
            first_lock: Duration::from_secs(60),
            max_lock: Duration::from_secs(15 * 60),
        }
    }
}

impl LoginLockout {
    /// Failures from one address for one account before that pair is locked (at least 1). Default 5.
    #[must_use]
    pub fn address_failures(mut self, failures: u32) -> Self {
        self.address_failures = failures.max(1);
        self
    }

    /// Failures for one account from all addresses before the account is locked for addresses it
    /// never signed in from (at least 1). Default 20.
    #[must_use]
    pub fn account_failures(mut self, failures: u32) -> Self {
        self.account_failures = failures.max(1);
        self
    }

    /// The first lock's duration and the cap of the doubling (each at least 1 s; `max` at least
    /// `first`). Default 1 minute and 15 minutes.
    #[must_use]
    pub fn durations(mut self, first: Duration, max: Duration) -> Self {
        self.first_lock = first.max(Duration::from_secs(1));
        self.max_lock = max.max(self.first_lock);
        self
    }

    /// The duration of the first lock.
    pub fn first_lock(&self) -> Duration {
        self.first_lock
    }

    /// The longest lock.
    pub fn max_lock(&self) -> Duration {
        self.max_lock
    }

    /// How long a shared per-account counter is kept after its last failure: the longest lock plus
    /// the maximum duration without a failure.
    pub(crate) fn shared_counter_window(&self) -> Duration {
        self.max_lock.saturating_mul(2)
    }

    /// The lock after `failures` failures with threshold `threshold`, if any.
    fn lock_for(&self, failures: u32, threshold: u32) -> Option<Duration> {
        let extra = failures.checked_sub(threshold)?;
        let factor = 2u32.checked_pow(extra).unwrap_or(u32::MAX);
        Some(
            self.first_lock
                .checked_mul(factor)
                .map_or(self.max_lock, |d| d.min(self.max_lock)),
        )
    }
}

/// Failed logins of one key.
#[derive(Debug, Clone, Copy)]
struct Counter {
    failures: u32,
    last_failure: NumericDate,
    locked_until: NumericDate,
    /// `locked_until` before the last failure was counted, restored if that failure is taken back.
    locked_before: NumericDate,
}

impl Counter {
    fn locked(&self, now: NumericDate) -> bool {
        now < self.locked_until
    }

    /// Carries no information any more: treated as absent.
    fn forgotten(&self, now: NumericDate, policy: &LoginLockout) -> bool {
        now >= self
            .last_failure
            .max(self.locked_until)
            .saturating_add(policy.max_lock)
    }
}

/// A bounded map of counters (see the module documentation for the eviction order).
struct Table<K> {
    capacity: usize,
    counters: HashMap<K, Counter>,
}

impl<K: Hash + Eq + Clone> Table<K> {
    fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            counters: HashMap::new(),
        }
    }

    fn live(&self, key: &K, now: NumericDate, policy: &LoginLockout) -> Option<Counter> {
        self.counters
            .get(key)
            .filter(|c| !c.forgotten(now, policy))
            .copied()
    }

    /// Takes back one failure counted by [`fail`](Self::fail) for an attempt that did not fail,
    /// with the lock it set or extended.
    fn refund(&mut self, key: &K) {
        if let Some(c) = self.counters.get_mut(key) {
            c.failures = c.failures.saturating_sub(1);
            c.locked_until = c.locked_before;
        }
    }

    /// Counts one failure; the new counter.
    fn fail(
        &mut self,
        key: &K,
        now: NumericDate,
        policy: &LoginLockout,
        threshold: u32,
    ) -> Counter {
        let previous = self.live(key, now, policy);
        if previous.is_none() && !self.counters.contains_key(key) {
            self.make_room(now, policy);
        }
        let failures = previous.map_or(0, |c| c.failures).saturating_add(1);
        let locked_before = previous.map_or(now, |c| c.locked_until);
        let locked_until = match policy.lock_for(failures, threshold) {
            Some(lock) => now.saturating_add(lock),
            None => locked_before,
        };
        let counter = Counter {
            failures,
            last_failure: now,
            locked_until,
            locked_before,
        };
        self.counters.insert(key.clone(), counter);
        counter
    }

    fn make_room(&mut self, now: NumericDate, policy: &LoginLockout) {
        if self.counters.len() < self.capacity {
            return;
        }
        self.counters.retain(|_, c| !c.forgotten(now, policy));
        if self.counters.len() < self.capacity {
            return;
        }
        let least = self
            .counters
            .iter()
            .min_by_key(|(_, c)| (c.locked(now), c.failures, c.last_failure))
            .map(|(k, _)| k.clone());
        if let Some(key) = least {
            self.counters.remove(&key);
        }
    }
}

struct Tables {
    pairs: Table<(String, String)>,
    accounts: Table<String>,
    /// (address, account) -> when it last signed in.
    known: HashMap<(String, String), NumericDate>,
}

/// The lockout state of the login form.
pub(crate) struct Lockout {
    policy: LoginLockout,
    capacity: usize,
    tables: Mutex<Tables>,
    /// The per-account counters shared by every instance, when configured (SC-1).
    shared: Option<SharedAccounts>,
}

/// The counter key of an account name: case-folded, bounded.
fn account_key(username: &str) -> String {
    let mut key = username.trim().to_lowercase();
    if key.len() > MAX_ACCOUNT_KEY {
        let mut end = MAX_ACCOUNT_KEY;
        while !key.is_char_boundary(end) {
            end -= 1;
        }
        key.truncate(end);
    }
    key
}

/// `true` when the (address, account) `pair` signed in within [`KNOWN_ADDRESS_TTL`] before `now`.
fn signed_in_recently(
    known: &HashMap<(String, String), NumericDate>,
    pair: &(String, String),
    now: NumericDate,
) -> bool {
    known
        .get(pair)
        .is_some_and(|at| now < at.saturating_add(KNOWN_ADDRESS_TTL))
}

fn remaining(until: NumericDate, now: NumericDate) -> Duration {
    Duration::from_secs(until.as_secs().saturating_sub(now.as_secs()).max(1))
}

impl Lockout {
    pub(crate) fn new(policy: LoginLockout, capacity: usize) -> Self {
        Self {
            policy,
            capacity: capacity.max(1),
            tables: Mutex::new(Tables {
                pairs: Table::new(capacity),
                accounts: Table::new(capacity),
                known: HashMap::new(),
            }),
            shared: None,
        }
    }

    /// Keeps the per-account counters in `store`, shared by every instance (SC-1).
    pub(crate) fn with_shared_accounts(mut self, store: Arc<dyn AttemptStore>) -> Self {
        self.shared = Some(SharedAccounts::new(store, self.policy));
        self
    }

    /// An attempt of `address` to sign in as `username`: `Ok(Err(retry_after))` when locked
    /// (nothing is counted), else the attempt is counted as a failure until
    /// [`success`](Self::success) or [`take_back`](Self::take_back) takes it back. With shared
    /// counters, a store that cannot answer is an error: the attempt is refused, never let through
    /// unlocked.
    pub(crate) async fn begin(
        &self,
        address: &str,
        username: &str,
        now: NumericDate,
    ) -> Result<Result<(), Duration>, StoreError> {
        let Some(shared) = &self.shared else {
            return Ok(self.attempt(address, username, now));
        };
        if let Err(wait) = self.attempt_here(address, username, now, false) {
            return Ok(Err(wait));
        }
        let known = self.is_known(address, username, now);
        let outcome = shared.attempt(&account_key(username), known, now).await;
        if !matches!(outcome, Ok(Ok(()))) {
            self.refund_here(address, username, false);
        }
        outcome
    }

    /// Takes back the failure counted by [`begin`](Self::begin) for an attempt that could not be
    /// judged (the authenticator was unavailable).
    pub(crate) async fn take_back(&self, address: &str, username: &str) {
        match &self.shared {
            None => self.refund(address, username),
            Some(shared) => {
                self.refund_here(address, username, false);
                shared.take_back(&account_key(username)).await;
            }
        }
    }

    /// A successful login after [`begin`](Self::begin): see [`succeeded`](Self::succeeded).
    pub(crate) async fn success(&self, address: &str, username: &str, now: NumericDate) {
        match &self.shared {
            None => self.succeeded(address, username, now),
            Some(shared) => {
                self.succeeded_here(address, username, now, false);
                shared.take_back(&account_key(username)).await;
            }
        }
    }

    /// `true` when `address` signed in as `username` within [`KNOWN_ADDRESS_TTL`].
    fn is_known(&self, address: &str, username: &str, now: NumericDate) -> bool {
        let pair = (address.to_owned(), account_key(username));
        signed_in_recently(&self.lock().known, &pair, now)
    }

    fn lock(&self) -> MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// An attempt of `address` to sign in as `username`: `Err(retry_after)` when locked (nothing is
    /// counted), else the attempt is counted as a failure until [`succeeded`](Self::succeeded) or
    /// [`refund`](Self::refund) takes it back.
    pub(crate) fn attempt(
        &self,
        address: &str,
        username: &str,
        now: NumericDate,
    ) -> Result<(), Duration> {
        self.attempt_here(address, username, now, true)
    }

    /// [`attempt`](Self::attempt), with the per-account counter in this memory only when
    /// `accounts_here`.
    fn attempt_here(
        &self,
        address: &str,
        username: &str,
        now: NumericDate,
        accounts_here: bool,
    ) -> Result<(), Duration> {
        let account = account_key(username);
        let pair = (address.to_owned(), account.clone());
        let policy = self.policy;
        let mut tables = self.lock();
        if let Some(c) = tables
            .pairs
            .live(&pair, now, &policy)
            .filter(|c| c.locked(now))
        {
            return Err(remaining(c.locked_until, now));
        }
        let known = signed_in_recently(&tables.known, &pair, now);
        if accounts_here
            && !known
            && let Some(c) = tables
                .accounts
                .live(&account, now, &policy)
                .filter(|c| c.locked(now))
        {
            return Err(remaining(c.locked_until, now));
        }
        let c = tables
            .pairs
            .fail(&pair, now, &policy, policy.address_failures);
        let account_failures = if accounts_here {
            tables
                .accounts
                .fail(&account, now, &policy, policy.account_failures)
                .failures
        } else {
            0
        };
        if c.failures == policy.address_failures || account_failures == policy.account_failures {
            tracing::warn!(
                address,
                pair_failures = c.failures,
                account_failures,
                "login attempts reach the lockout threshold"
            );
        }
        Ok(())
    }

    /// Takes back the failure counted for an attempt that could not be judged (the authenticator
    /// was unavailable).
    pub(crate) fn refund(&self, address: &str, username: &str) {
        self.refund_here(address, username, true);
    }

    /// [`refund`](Self::refund), of the per-account counter too when `accounts_here`.
    fn refund_here(&self, address: &str, username: &str, accounts_here: bool) {
        let account = account_key(username);
        let pair = (address.to_owned(), account.clone());
        let mut tables = self.lock();
        tables.pairs.refund(&pair);
        if accounts_here {
            tables.accounts.refund(&account);
        }
    }

    /// A successful login of `username` from `address`: takes back its attempt's failure, clears
    /// that pair's counter and remembers the address as one the account signs in from.
    pub(crate) fn succeeded(&self, address: &str, username: &str, now: NumericDate) {
        self.succeeded_here(address, username, now, true);
    }

    /// [`succeeded`](Self::succeeded), taking back the per-account failure too when
    /// `accounts_here`.
    fn succeeded_here(&self, address: &str, username: &str, now: NumericDate, accounts_here: bool) {
        let account = account_key(username);
        let pair = (address.to_owned(), account.clone());
        let mut tables = self.lock();
        if accounts_here {
            tables.accounts.refund(&account);
        }
        tables.pairs.counters.remove(&pair);
        if !tables.known.contains_key(&pair) && tables.known.len() >= self.capacity {
            tables
                .known
                .retain(|_, at| now < at.saturating_add(KNOWN_ADDRESS_TTL));
            if tables.known.len() >= self.capacity {
                let oldest = tables
                    .known
                    .iter()
                    .min_by_key(|(_, at)| **at)
                    .map(|(k, _)| k.clone());
                if let Some(key) = oldest {
                    tables.known.remove(&key);
                }
            }
        }
        tables.known.insert(pair, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: NumericDate = NumericDate::from_secs(1_000_000);

    fn at(secs: u64) -> NumericDate {
        T0.saturating_add(Duration::from_secs(secs))
    }

    #[test]
    fn locks_per_pair_then_doubles_and_expires() {
        let lockout = Lockout::new(LoginLockout::default(), 100);
        for _ in 0..5 {
            assert!(lockout.attempt("a", "alice", T0).is_ok());
        }
        assert_eq!(
            lockout.attempt("a", "Alice", T0),
            Err(Duration::from_secs(60))
        );
        // Another address is not affected.
        assert!(lockout.attempt("b", "alice", T0).is_ok());
        // Expired: one more failure locks for twice as long.
        assert!(lockout.attempt("a", "alice", at(60)).is_ok());
        assert_eq!(
            lockout.attempt("a", "alice", at(60)),
            Err(Duration::from_secs(120))
        );
        let mut t = 180;
        for _ in 0..6 {
            assert!(lockout.attempt("a", "alice", at(t)).is_ok());
            t += 900;
        }
        // Capped at 15 minutes, and it expires.
        assert_eq!(
            lockout.attempt("a", "alice", at(t - 900)),
            Err(Duration::from_secs(900))
        );
        assert!(lockout.attempt("a", "alice", at(t)).is_ok());
    }

    #[test]
    fn account_lock_spares_known_addresses_and_success_resets() {
        let policy = LoginLockout::default().account_failures(6);
        let lockout = Lockout::new(policy, 100);
        assert!(lockout.attempt("home", "alice", T0).is_ok());
        lockout.succeeded("home", "alice", T0);
        for i in 0..6 {
            assert!(lockout.attempt(&format!("bot{i}"), "alice", T0).is_ok());
        }
        assert_eq!(
            lockout.attempt("new", "alice", T0),
            Err(Duration::from_secs(60))
        );
        // The owner's successful login neither extends nor lifts the account's lock.
        assert!(lockout.attempt("home", "alice", T0).is_ok());
        lockout.succeeded("home", "alice", T0);
        assert_eq!(
            lockout.attempt("new", "alice", T0),
            Err(Duration::from_secs(60))
        );
        // Four failures at home, then a success: the pair starts again from zero.
        for _ in 0..4 {
            assert!(lockout.attempt("home", "alice", T0).is_ok());
        }
        assert!(lockout.attempt("home", "alice", T0).is_ok());
        lockout.succeeded("home", "alice", T0);
        for _ in 0..5 {
            assert!(lockout.attempt("home", "alice", T0).is_ok());
        }
        assert!(lockout.attempt("home", "alice", T0).is_err());
    }

    #[test]
    fn taken_back_attempts_do_not_lock() {
        let lockout = Lockout::new(LoginLockout::default().account_failures(3), 100);
        for _ in 0..20 {
            assert!(lockout.attempt("a", "bob", T0).is_ok());
            lockout.refund("a", "bob");
            assert!(lockout.attempt("b", "bob", T0).is_ok());
            lockout.succeeded("b", "bob", T0);
        }
        assert!(lockout.attempt("c", "bob", T0).is_ok());
    }

    #[test]
    fn bounded_without_forgetting_locks() {
        let lockout = Lockout::new(LoginLockout::default(), 8);
        for _ in 0..5 {
            assert!(lockout.attempt("a", "victim", T0).is_ok());
        }
        for i in 0..1000 {
            let _ = lockout.attempt("b", &format!("spray{i}"), T0);
        }
        let tables = lockout.lock();
        assert!(tables.pairs.counters.len() <= 8);
        assert!(tables.accounts.counters.len() <= 8);
        drop(tables);
        assert!(lockout.attempt("a", "victim", T0).is_err());
    }

    #[test]
    fn long_names_are_bounded() {
        assert_eq!(account_key(&"é".repeat(1000)).len(), MAX_ACCOUNT_KEY);
    }
}
