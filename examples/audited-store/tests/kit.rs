//! The proof a backend author gives: the shared behavioural test kit of `mcp-authz-store`, unchanged,
//! one test per kit test, each on a fresh `AuditedStore` (here over the in-memory store).

use audited_store::AuditedStore;
use mcp_authz_store::MemoryStore;

mcp_authz_store::testkit_tests!(async { AuditedStore::new(MemoryStore::new()) });
