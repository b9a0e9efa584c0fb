//! Attacks on the resource-server layer over real HTTP, one module per family (REQUIREMENTS SEC-*).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../support/mod.rs"]
mod support;

mod keys;
mod sessions;
