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
        Self::per_second(UNLIMITED, UNLIMITED)
    }

    /// `true` for [`unlimited`](Self::unlimited).
    pub fn is_unlimited(&self) -> bool {
        *self == Self::unlimited()
    }
}

/// The rate of [`RateLimit::unlimited`].
const UNLIMITED: u32 = 1_000_000_000;
/// The largest rate or burst `RateLimit`'s `FromStr` accepts; larger would mean "off".
pub const MAX_RATE: u32 = 1_000_000;

/// Why a rate limit's text form was refused (the [`FromStr`](std::str::FromStr) of [`RateLimit`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RateLimitParseError {
    /// Not `N/s`, `N/min`, either with `:BURST`, or `off`.
    #[error("expected N/s or N/min, optionally with :BURST (e.g. 50/s:100), or off; got {0:?}")]
    Syntax(String),
    /// A rate or burst of 0 or above [`MAX_RATE`] (use `off` for no limit).
    #[error("rates and bursts must be between 1 and {MAX_RATE} (off for no limit); got {0}")]
    OutOfRange(u64),
}

/// The text form operators write: `N/s` or `N/min` sustained, `:BURST` requests at once (default:
/// twice the per-second rate, or the per-minute count), or `off` (0 is read as `off` too).
///
/// ```
/// use mcp_authz_server::RateLimit;
///
/// assert_eq!("50/s:100".parse(), Ok(RateLimit::per_second(50, 100)));
/// assert_eq!("20/s".parse(), Ok(RateLimit::per_second(20, 40)));
/// assert_eq!("600/min".parse(), Ok(RateLimit::per_minute(600, 600)));
/// assert_eq!("off".parse(), Ok(RateLimit::unlimited()));
/// assert!("50 per second".parse::<RateLimit>().is_err());
/// ```
impl std::str::FromStr for RateLimit {
    type Err = RateLimitParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let syntax = || RateLimitParseError::Syntax(text.chars().take(64).collect());
        let trimmed = text.trim();
        if trimmed.eq_ignore_ascii_case("off") || trimmed == "0" {
            return Ok(Self::unlimited());
        }
        let (rate, burst) = match trimmed.split_once(':') {
            Some((rate, burst)) => (rate, Some(burst)),
            None => (trimmed, None),
        };
        let (count, unit) = rate.split_once('/').ok_or_else(syntax)?;
        let number = |digits: &str| -> Result<u32, RateLimitParseError> {
            if digits.is_empty() || digits.len() > 10 || !digits.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(syntax());
            }
            let value: u64 = digits.parse().map_err(|_| syntax())?;
            match u32::try_from(value) {
                Ok(v) if (1..=MAX_RATE).contains(&v) => Ok(v),
                _ => Err(RateLimitParseError::OutOfRange(value)),
            }
        };
        let count = number(count)?;
        let burst = burst.map(number).transpose()?;
        match unit {
            "s" => Ok(Self::per_second(
                count,
                burst.unwrap_or_else(|| count.saturating_mul(2).min(MAX_RATE)),
            )),
            "min" => Ok(Self::per_minute(count, burst.unwrap_or(count))),
            _ => Err(syntax()),
        }
    }
}

/// The text form `RateLimit`'s `FromStr` reads back: `N/s:BURST` for whole per-second rates,
/// `N/min:BURST` otherwise, `off` for [`RateLimit::unlimited`].
impl std::fmt::Display for RateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_unlimited() {
            return f.write_str("off");
        }
        let burst = self.burst.round();
        if self.per_second.fract() == 0.0 {
            write!(f, "{}/s:{burst}", self.per_second)
        } else {
            write!(f, "{}/min:{burst}", (self.per_second * 60.0).round())
        }
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
    use proptest::prelude::*;

    proptest! {
        /// Whatever an operator writes is a limit or a precise error, never a panic.
        #[test]
        fn any_text_parses_or_is_refused(text in ".{0,40}") {
            let _ = text.parse::<RateLimit>();
        }

        /// A limit written in the documented form prints back to text that parses to it.
        #[test]
        fn written_limits_round_trip(count in 1..=MAX_RATE, burst in 1..=MAX_RATE, per_minute in any::<bool>()) {
            let unit = if per_minute { "min" } else { "s" };
            let limit: RateLimit = format!("{count}/{unit}:{burst}").parse().unwrap();
            prop_assert_eq!(limit.to_string().parse::<RateLimit>(), Ok(limit));
        }
    }

    #[test]
    fn the_text_form() {
        let parse = |t: &str| t.parse::<RateLimit>();
        assert_eq!(parse("50/s:100"), Ok(RateLimit::per_second(50, 100)));
        assert_eq!(parse(" 20/s "), Ok(RateLimit::per_second(20, 40)));
        assert_eq!(parse("10/min"), Ok(RateLimit::per_minute(10, 10)));
        assert_eq!(parse("OFF"), Ok(RateLimit::unlimited()));
        assert_eq!(parse("0"), Ok(RateLimit::unlimited()));
        assert_eq!(RateLimit::unlimited().to_string(), "off");
        assert_eq!(RateLimit::per_second(50, 100).to_string(), "50/s:100");
        assert_eq!(RateLimit::per_minute(90, 5).to_string(), "90/min:5");
        assert_eq!(parse("0/s"), Err(RateLimitParseError::OutOfRange(0)));
        assert_eq!(
            parse("2000000/s"),
            Err(RateLimitParseError::OutOfRange(2_000_000))
        );
        for bad in [
            "", "50", "50/h", "/s", "-1/s", "1.5/s", "5/s:", "5/s:x", "5/s:1:2", "+5/s",
        ] {
            assert!(
                matches!(parse(bad), Err(RateLimitParseError::Syntax(_))),
                "{bad}"
            );
        }
    }

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
