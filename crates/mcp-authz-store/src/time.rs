//! Time as the stores see it: whole seconds since the Unix epoch, always passed in by the caller.
//!
//! Stores never read the system clock. Every time-dependent operation takes `now: UnixTime`, because:
//! - a SQL backend compares against a bound parameter (`expires_at > $now`), so every server instance
//!   sharing a database uses the *caller's* notion of time, and one request uses one `now` across several
//!   store calls;
//! - tests drive expiry deterministically with [`ManualClock`] without sleeping;
//! - the store traits stay plain data-in/data-out and object-safe, with no clock to inject per backend.
//!
//! The server holds an `Arc<dyn Clock>` and passes `clock.now()` into each store call.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A point in time: whole seconds since 1970-01-01T00:00:00Z.
///
/// Seconds are the resolution of JWT `exp`/`iat` (RFC 7519 NumericDate) and of every expiry the stores
/// compare. Values are capped at `i64::MAX` so that SQL backends can store them in a signed 64-bit column
/// without a failing conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct UnixTime(u64);

impl UnixTime {
    /// The epoch.
    pub const EPOCH: Self = Self(0);
    /// The latest representable time (`i64::MAX` seconds).
    pub const MAX: Self = Self(i64::MAX.unsigned_abs());

    /// A time from seconds since the epoch, capped at [`UnixTime::MAX`].
    ///
    /// ```
    /// use mcp_authz_store::UnixTime;
    /// assert_eq!(UnixTime::from_secs(1_700_000_000).as_secs(), 1_700_000_000);
    /// assert_eq!(UnixTime::from_secs(u64::MAX), UnixTime::MAX);
    /// ```
    pub const fn from_secs(secs: u64) -> Self {
        if secs > Self::MAX.0 {
            Self::MAX
        } else {
            Self(secs)
        }
    }

    /// A time from a signed SQL column; `None` for negative values (a corrupt row).
    pub fn from_i64(secs: i64) -> Option<Self> {
        u64::try_from(secs).ok().map(Self)
    }

    /// Seconds since the epoch.
    pub const fn as_secs(self) -> u64 {
        self.0
    }

    /// Seconds since the epoch as a signed 64-bit integer (never fails: values are capped).
    pub fn as_i64(self) -> i64 {
        i64::try_from(self.0).unwrap_or(i64::MAX)
    }

    /// `self + duration`, saturating at [`UnixTime::MAX`]; sub-second parts are dropped.
    #[must_use]
    pub fn saturating_add(self, duration: Duration) -> Self {
        Self::from_secs(self.0.saturating_add(duration.as_secs()))
    }

    /// `self - duration`, saturating at the epoch.
    #[must_use]
    pub fn saturating_sub(self, duration: Duration) -> Self {
        Self(self.0.saturating_sub(duration.as_secs()))
    }

    /// The time from a [`SystemTime`], truncated to seconds; times before the epoch become the epoch.
    pub fn from_system_time(time: SystemTime) -> Self {
        time.duration_since(UNIX_EPOCH)
            .map_or(Self::EPOCH, |d| Self::from_secs(d.as_secs()))
    }

    /// The [`SystemTime`] of this instant.
    pub fn to_system_time(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.0)
    }
}

impl fmt::Display for UnixTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A source of the current time, injected into the server (and the test kit).
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> UnixTime;
}

/// The operating system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        UnixTime::from_system_time(SystemTime::now())
    }
}

/// A clock that only moves when told to, for tests. Shared freely (`&self` methods, atomic).
///
/// ```
/// use mcp_authz_store::{Clock, ManualClock, UnixTime};
/// use std::time::Duration;
/// let clock = ManualClock::new(UnixTime::from_secs(1_000));
/// clock.advance(Duration::from_secs(61));
/// assert_eq!(clock.now(), UnixTime::from_secs(1_061));
/// ```
#[derive(Debug, Default)]
pub struct ManualClock(AtomicU64);

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: UnixTime) -> Self {
        Self(AtomicU64::new(start.as_secs()))
    }

    /// Sets the time.
    pub fn set(&self, now: UnixTime) {
        self.0.store(now.as_secs(), Ordering::SeqCst);
    }

    /// Moves the time forward by `by` (whole seconds).
    pub fn advance(&self, by: Duration) {
        let secs = by.as_secs();
        let _ = self
            .0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| {
                Some(UnixTime::from_secs(t.saturating_add(secs)).as_secs())
            });
    }
}

impl Clock for ManualClock {
    fn now(&self) -> UnixTime {
        UnixTime::from_secs(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_time_round_trips_at_second_resolution() {
        let t = UnixTime::from_secs(1_700_000_123);
        assert_eq!(UnixTime::from_system_time(t.to_system_time()), t);
        assert_eq!(
            UnixTime::from_system_time(UNIX_EPOCH - Duration::from_secs(5)),
            UnixTime::EPOCH
        );
    }

    #[test]
    fn arithmetic_saturates() {
        assert_eq!(
            UnixTime::MAX.saturating_add(Duration::from_secs(10)),
            UnixTime::MAX
        );
        assert_eq!(
            UnixTime::from_secs(3).saturating_sub(Duration::from_secs(10)),
            UnixTime::EPOCH
        );
        assert_eq!(UnixTime::MAX.as_i64(), i64::MAX);
        assert_eq!(UnixTime::from_i64(-1), None);
        assert_eq!(UnixTime::from_i64(42), Some(UnixTime::from_secs(42)));
    }

    #[test]
    fn system_clock_is_after_2020() {
        assert!(SystemClock.now() > UnixTime::from_secs(1_577_836_800));
    }
}
