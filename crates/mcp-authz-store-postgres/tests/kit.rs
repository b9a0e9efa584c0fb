//! The shared behavioural kit of `mcp-authz-store`, unchanged, against PostgreSQL: one named test per
//! kit test, each in a fresh schema of its own.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

mcp_authz_store::testkit_tests!(common::kit_store());
