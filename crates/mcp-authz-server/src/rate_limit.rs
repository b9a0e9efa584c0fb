//! A bounded in-memory token-bucket rate limiter (REQUIREMENTS AS-12, SEC-8).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A rate: `per_second` tokens refill each second, up to `burst`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    per_second: f64,
    burst: f64,
}

impl RateLimit {
    /// `per_second` requests per second sustained, `burst` at once (both at least 1).
    pub fn per_second(per_second: u32, burst: u32) -> Self {
        Self {
            per_second: f64::from(per_second.max(1)),
            burst: f64::from(burst.max(1)),
        }
    }

    /// `per_minute` requests per minute sustained, `burst` at once (both at least 1).
    pub const fn per_minute(per_minute: u32, burst: u32) -> Self {
        let per_minute = if per_minute == 0 { 1 } else { per_minute };
        let burst = if burst == 0 { 1 } else { burst };
        Self {
            per_second: per_minute as f64 / 60.0,
            burst: burst as f64,
        }
    }

    /// No practical limit (a billion per second), for load tests.
    pub fn unlimited() -> Self {
        Self::per_second(1_000_000_000, 1_000_000_000)
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets keyed by client id or IP address, at most `capacity` of them.
///
/// When a new key arrives at capacity, buckets that have refilled completely are dropped (they carry
/// no state); if none has, the single fullest bucket (ties: the least recently touched) is evicted.
/// So spraying new keys evicts other sprayed keys, never a drained bucket: nobody can reset another
/// key's limit by filling the table (SEC-11).
#[derive(Debug)]
pub(crate) struct RateLimiter {
    limit: RateLimit,
    capacity: usize,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    pub(crate) fn new(limit: RateLimit, capacity: usize) -> Self {
        Self {
            limit,
            capacity: capacity.max(1),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Bucket>> {
        self.buckets.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes room for one new key (see the type's documentation).
    fn make_room(&self, buckets: &mut HashMap<String, Bucket>, now: Instant) {
        if buckets.len() < self.capacity {
            return;
        }
        let limit = self.limit;
        buckets.retain(|_, b| refill(limit, *b, now) < limit.burst);
        if buckets.len() < self.capacity {
            return;
        }
        let fullest = buckets
            .iter()
            .max_by(|(_, a), (_, b)| {
                refill(limit, **a, now)
                    .total_cmp(&refill(limit, **b, now))
                    .then(b.at.cmp(&a.at))
            })
            .map(|(k, _)| k.clone());
        if let Some(key) = fullest {
            buckets.remove(&key);
        }
    }

    /// Takes one token for `key`; `Err(retry_after)` when the bucket is empty.
    pub(crate) fn check(&self, key: &str) -> Result<(), Duration> {
        self.take(key, true)
    }

    /// Takes one token for `key` if there is one, never refusing: charges what already happened
    /// (a failed request) so that the next [`peek`](Self::peek) sees it.
    pub(crate) fn charge(&self, key: &str) {
        let _ = self.take(key, false);
    }

    /// `Err(retry_after)` when `key`'s bucket is empty; takes nothing.
    pub(crate) fn peek(&self, key: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let buckets = self.lock();
        match buckets.get(key) {
            Some(bucket) => self.verdict(refill(self.limit, *bucket, now)),
            None => Ok(()),
        }
    }

    fn take(&self, key: &str, refuse: bool) -> Result<(), Duration> {
        let now = Instant::now();
        let mut buckets = self.lock();
        if !buckets.contains_key(key) {
            self.make_room(&mut buckets, now);
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: self.limit.burst,
            at: now,
        });
        let tokens = refill(self.limit, *bucket, now);
        let verdict = self.verdict(tokens);
        let tokens = if verdict.is_ok() || !refuse {
            (tokens - 1.0).max(0.0)
        } else {
            tokens
        };
        *bucket = Bucket { tokens, at: now };
        verdict
    }

    fn verdict(&self, tokens: f64) -> Result<(), Duration> {
        if tokens >= 1.0 {
            Ok(())
        } else {
            let wait = (1.0 - tokens) / self.limit.per_second;
            Err(Duration::from_secs_f64(wait.max(0.0)).max(Duration::from_secs(1)))
        }
    }
}

fn refill(limit: RateLimit, bucket: Bucket, now: Instant) -> f64 {
    let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
    (bucket.tokens + elapsed * limit.per_second).min(limit.burst)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refusal_per_key() {
        let limiter = RateLimiter::new(RateLimit::per_second(1, 3), 10);
        for _ in 0..3 {
            assert!(limiter.check("a").is_ok());
        }
        assert!(limiter.check("a").is_err());
        assert!(limiter.check("b").is_ok());
    }

    #[test]
    fn bounded_in_size() {
        let limiter = RateLimiter::new(RateLimit::per_second(1, 1), 4);
        for i in 0..100 {
            let _ = limiter.check(&format!("k{i}"));
        }
        let len = limiter.buckets.lock().unwrap().len();
        assert!(len <= 4, "{len}");
    }

    #[test]
    fn spraying_keys_does_not_reset_a_drained_bucket() {
        let limiter = RateLimiter::new(RateLimit::per_second(1, 3), 4);
        for _ in 0..3 {
            assert!(limiter.check("victim-of-limit").is_ok());
        }
        assert!(limiter.check("victim-of-limit").is_err());
        for i in 0..1000 {
            let _ = limiter.check(&format!("spray{i}"));
        }
        assert!(limiter.peek("victim-of-limit").is_err());
        assert!(limiter.check("victim-of-limit").is_err());
    }

    #[test]
    fn peek_takes_nothing_and_charge_never_refuses() {
        let limiter = RateLimiter::new(RateLimit::per_second(1, 2), 4);
        for _ in 0..10 {
            assert!(limiter.peek("a").is_ok());
        }
        limiter.charge("a");
        limiter.charge("a");
        limiter.charge("a");
        assert!(limiter.peek("a").is_err());
    }
}
