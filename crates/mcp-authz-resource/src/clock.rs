//! The time source of the verifiers, injected so that expiry is testable.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use mcp_authz_token::NumericDate;

/// A source of the current time, in whole seconds since the Unix epoch. Verifiers read it for `exp`,
/// `nbf` and `iat` checks, cache expiry and the JWKS refetch interval.
pub trait Clock: Send + Sync + fmt::Debug + 'static {
    /// The current time.
    fn now(&self) -> NumericDate;
}

/// The system clock ([`SystemTime::now`]); the default everywhere.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> NumericDate {
        SystemTime::now().into()
    }
}

/// A clock that only moves when told to: for deterministic tests of expiry and refetch intervals.
/// Clones share the same time.
///
/// ```
/// use std::time::Duration;
/// use mcp_authz_resource::{Clock, ManualClock};
/// let clock = ManualClock::new(1_700_000_000);
/// clock.advance(Duration::from_secs(30));
/// assert_eq!(clock.now().secs(), 1_700_000_030);
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    /// A clock reading `secs` seconds after the epoch.
    pub fn new(secs: u64) -> Self {
        Self(Arc::new(AtomicU64::new(secs)))
    }

    /// Sets the time.
    pub fn set(&self, secs: u64) {
        self.0.store(secs, Ordering::SeqCst);
    }

    /// Moves the time forward by `by` (whole seconds).
    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_secs(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> NumericDate {
        NumericDate::from_secs(self.0.load(Ordering::SeqCst))
    }
}
