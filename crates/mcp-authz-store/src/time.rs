//! Time as the stores see it: [`NumericDate`] (whole seconds since the Unix epoch), always passed in
//! by the caller. The type and the [`Clock`] live in `mcp-authz-metadata`, the one home of time;
//! they are re-exported here.
//!
//! Stores never read the system clock. Every time-dependent operation takes `now: NumericDate`,
//! because:
//! - a SQL backend compares against a bound parameter (`expires_at > $now`), so every server instance
//!   sharing a database uses the *caller's* notion of time, and one request uses one `now` across several
//!   store calls;
//! - tests drive expiry deterministically with [`ManualClock`] without sleeping;
//! - the store traits stay plain data-in/data-out and object-safe, with no clock to inject per backend.
//!
//! The server holds an `Arc<dyn Clock>` and passes `clock.now()` into each store call.

pub use mcp_authz_metadata::{Clock, ManualClock, NumericDate, SystemClock};

/// The store's former time type, now [`NumericDate`] (same API: `from_secs`, `as_secs`, `from_i64`,
/// `as_i64`, `EPOCH`, `MAX`, saturating arithmetic, system-time conversions).
#[deprecated(note = "use `NumericDate` (the same type)")]
pub type UnixTime = NumericDate;
