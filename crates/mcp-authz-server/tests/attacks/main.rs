//! Attacks on the authorization server over real HTTP, one module per family (REQUIREMENTS SEC-*).
//! Each test performs the attack and fails when the defence it names is removed; docs/security.md
//! lists attack, test and defence.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../common/mod.rs"]
mod common;

mod browser;
mod exhaustion;
mod keys;
mod scope;
mod token;
