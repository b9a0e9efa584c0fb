//! The time source of the verifiers, injected so that expiry is testable: the workspace's one
//! [`Clock`] (with [`SystemClock`] and [`ManualClock`]), from `mcp-authz-metadata`. Verifiers read it
//! for `exp`, `nbf` and `iat` checks, cache expiry and the JWKS refetch interval.

pub use mcp_authz_metadata::{Clock, ManualClock, SystemClock};
