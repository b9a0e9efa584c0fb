//! Time: [`NumericDate`] ([RFC 7519 §2]), whole seconds since the Unix epoch, and the [`Clock`] that
//! says what time it is now. The one home of both for every crate of the workspace: JWT claims,
//! introspection responses, stored expiries and the verifiers' caches all count in these seconds.
//!
//! Nothing below the server reads the system clock on its own: the time is injected (an
//! `Arc<dyn Clock>`) or passed in as `now`, so that expiry is testable with [`ManualClock`] without
//! sleeping, and one request uses one `now` across several steps.
//!
//! [RFC 7519 §2]: https://www.rfc-editor.org/rfc/rfc7519#section-2

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A point in time: whole seconds since 1970-01-01T00:00:00Z ([RFC 7519 §2] `NumericDate`).
///
/// Values are capped at [`NumericDate::MAX`] (`i64::MAX` seconds), so that SQL backends can store
/// them in a signed 64-bit column without a failing conversion. On the wire, fractional values are
/// truncated to whole seconds; negative or non-finite values are refused.
///
/// ```
/// use mcp_authz_metadata::NumericDate;
/// assert_eq!(NumericDate::from_secs(1_700_000_000).as_secs(), 1_700_000_000);
/// assert_eq!(NumericDate::from_secs(u64::MAX), NumericDate::MAX);
/// let date: NumericDate = serde_json::from_str("1700000000.9")?;
/// assert_eq!(date, NumericDate::from_secs(1_700_000_000));
/// assert!(serde_json::from_str::<NumericDate>("-1").is_err());
/// # Ok::<(), serde_json::Error>(())
/// ```
///
/// [RFC 7519 §2]: https://www.rfc-editor.org/rfc/rfc7519#section-2
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct NumericDate(u64);

impl NumericDate {
    /// The epoch.
    pub const EPOCH: Self = Self(0);
    /// The latest representable time (`i64::MAX` seconds).
    pub const MAX: Self = Self(i64::MAX.unsigned_abs());

    /// The date `secs` seconds after the epoch, capped at [`NumericDate::MAX`].
    pub const fn from_secs(secs: u64) -> Self {
        if secs > Self::MAX.0 {
            Self::MAX
        } else {
            Self(secs)
        }
    }

    /// A date from a signed 64-bit value (a SQL column); `None` for negative values.
    pub fn from_i64(secs: i64) -> Option<Self> {
        u64::try_from(secs).ok().map(Self)
    }

    /// Seconds since the epoch.
    pub const fn as_secs(self) -> u64 {
        self.0
    }

    /// Seconds since the epoch.
    #[deprecated(since = "0.1.1", note = "use `as_secs`")]
    pub const fn secs(self) -> u64 {
        self.0
    }

    /// Seconds since the epoch as a signed 64-bit integer (never fails: values are capped).
    pub fn as_i64(self) -> i64 {
        i64::try_from(self.0).unwrap_or(i64::MAX)
    }

    /// `self + by`, saturating at [`NumericDate::MAX`]; sub-second parts are dropped.
    #[must_use]
    pub const fn saturating_add(self, by: Duration) -> Self {
        Self::from_secs(self.0.saturating_add(by.as_secs()))
    }

    /// `self - by`, saturating at the epoch; sub-second parts are dropped.
    #[must_use]
    pub const fn saturating_sub(self, by: Duration) -> Self {
        Self(self.0.saturating_sub(by.as_secs()))
    }

    /// The date of a [`SystemTime`], truncated to seconds; times before the epoch become the epoch.
    pub fn from_system_time(time: SystemTime) -> Self {
        time.duration_since(UNIX_EPOCH)
            .map_or(Self::EPOCH, |d| Self::from_secs(d.as_secs()))
    }

    /// The [`SystemTime`] of this date.
    pub fn to_system_time(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.0)
    }
}

impl From<u64> for NumericDate {
    /// Capped at [`NumericDate::MAX`].
    fn from(secs: u64) -> Self {
        Self::from_secs(secs)
    }
}

impl From<SystemTime> for NumericDate {
    /// Times before the epoch become the epoch.
    fn from(time: SystemTime) -> Self {
        Self::from_system_time(time)
    }
}

impl fmt::Display for NumericDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl serde::Serialize for NumericDate {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for NumericDate {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = NumericDate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-negative number of seconds since the epoch")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<NumericDate, E> {
                Ok(NumericDate::from_secs(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<NumericDate, E> {
                NumericDate::from_i64(v).ok_or_else(|| E::custom("NumericDate is negative"))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<NumericDate, E> {
                if v.is_finite() && (0.0..1.8e19).contains(&v) {
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    Ok(NumericDate::from_secs(v.trunc() as u64))
                } else {
                    Err(E::custom(
                        "NumericDate is negative, too large or not finite",
                    ))
                }
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// A source of the current time, injected into the authorization server, the verifiers of the
/// resource layer and the store test kit.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> NumericDate;
}

/// The operating system's wall clock ([`SystemTime::now`]); the default everywhere.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> NumericDate {
        NumericDate::from_system_time(SystemTime::now())
    }
}

/// A clock that only moves when told to, for deterministic tests of expiry and refetch intervals.
/// Clones share the same time.
///
/// ```
/// use std::time::Duration;
/// use mcp_authz_metadata::{Clock, ManualClock, NumericDate};
/// let clock = ManualClock::new(1_700_000_000);
/// clock.advance(Duration::from_secs(30));
/// assert_eq!(clock.now(), NumericDate::from_secs(1_700_000_030));
/// ```
#[derive(Debug, Clone, Default)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    /// A clock standing at `start` (a [`NumericDate`] or seconds since the epoch).
    pub fn new(start: impl Into<NumericDate>) -> Self {
        Self(Arc::new(AtomicU64::new(start.into().as_secs())))
    }

    /// Sets the time.
    pub fn set(&self, now: impl Into<NumericDate>) {
        self.0.store(now.into().as_secs(), Ordering::SeqCst);
    }

    /// Moves the time forward by `by` (whole seconds), saturating at [`NumericDate::MAX`].
    pub fn advance(&self, by: Duration) {
        let _ = self
            .0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| {
                Some(NumericDate::from_secs(t).saturating_add(by).as_secs())
            });
    }
}

impl Clock for ManualClock {
    fn now(&self) -> NumericDate {
        NumericDate::from_secs(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_time_round_trips_at_second_resolution() {
        let t = NumericDate::from_secs(1_700_000_123);
        assert_eq!(NumericDate::from_system_time(t.to_system_time()), t);
        assert_eq!(
            NumericDate::from_system_time(UNIX_EPOCH - Duration::from_secs(5)),
            NumericDate::EPOCH
        );
    }

    #[test]
    fn arithmetic_saturates() {
        assert_eq!(
            NumericDate::MAX.saturating_add(Duration::from_secs(10)),
            NumericDate::MAX
        );
        assert_eq!(
            NumericDate::from_secs(3).saturating_sub(Duration::from_secs(10)),
            NumericDate::EPOCH
        );
        assert_eq!(NumericDate::MAX.as_i64(), i64::MAX);
        assert_eq!(NumericDate::from_i64(-1), None);
        assert_eq!(NumericDate::from_i64(42), Some(NumericDate::from_secs(42)));
    }

    #[test]
    fn system_clock_is_after_2020() {
        assert!(SystemClock.now() > NumericDate::from_secs(1_577_836_800));
    }

    #[test]
    fn manual_clock_clones_share_the_time() {
        let a = ManualClock::new(NumericDate::from_secs(10));
        let b = a.clone();
        a.advance(Duration::from_secs(5));
        assert_eq!(b.now(), NumericDate::from_secs(15));
        b.set(u64::MAX);
        assert_eq!(a.now(), NumericDate::MAX);
    }

    proptest::proptest! {
        /// Any JSON number is a date or an error, never a panic; a date serialises back to itself.
        #[test]
        fn any_number_parses_or_errs(n in proptest::num::f64::ANY, i in proptest::num::i64::ANY) {
            for text in [n.to_string(), i.to_string()] {
                if let Ok(date) = serde_json::from_str::<NumericDate>(&text) {
                    let back = serde_json::to_string(&date).unwrap();
                    proptest::prop_assert_eq!(serde_json::from_str::<NumericDate>(&back).unwrap(), date);
                }
            }
        }
    }
}
