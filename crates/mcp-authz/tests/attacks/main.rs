//! Attacks on `mcp-authz serve` run as the built binary, one module per family (REQUIREMENTS SEC-*).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../common/mod.rs"]
mod common;

#[cfg(unix)]
mod keys;
mod serve;
