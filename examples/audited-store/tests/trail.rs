//! The audit trail records every successful write operation, not the reads.
#![allow(clippy::unwrap_used)]

use audited_store::{AuditEntry, AuditedStore};
use mcp_authz_metadata::ClientId;
use mcp_authz_store::{ClientStore, MemoryStore};

#[tokio::test]
async fn writes_are_recorded_and_reads_are_not() {
    let store = AuditedStore::new(MemoryStore::new());
    let id = ClientId::parse("app").unwrap();
    assert!(!store.delete_client(&id).await.unwrap());
    assert_eq!(store.get_client(&id).await.unwrap(), None);
    assert_eq!(
        store.trail(),
        vec![AuditEntry {
            operation: "delete_client",
            record: "app".to_owned(),
        }]
    );
}
