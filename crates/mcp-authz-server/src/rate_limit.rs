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
            capacity,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key`; `Err(retry_after)` when the bucket is empty.
    pub(crate) fn check(&self, key: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if !buckets.contains_key(key) && buckets.len() >= self.capacity {
            // Bounded: drop buckets that have refilled completely (they carry no state), and if
            // that is not enough, start over. Forgetting state only ever lets requests through.
            let limit = self.limit;
            buckets.retain(|_, b| refill(limit, *b, now) < limit.burst);
            if buckets.len() >= self.capacity {
                buckets.clear();
            }
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: self.limit.burst,
            at: now,
        });
        let tokens = refill(self.limit, *bucket, now);
        if tokens >= 1.0 {
            *bucket = Bucket {
                tokens: tokens - 1.0,
                at: now,
            };
            Ok(())
        } else {
            *bucket = Bucket { tokens, at: now };
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
}
