//! Audit events: the [`MemoryStore`] implementation of [`AuditStore`].

use async_trait::async_trait;

use super::{MemoryStore, count};
use crate::{AuditEvent, AuditQuery, AuditStore, NumericDate, StoreError};

#[async_trait]
impl AuditStore for MemoryStore {
    async fn append_audit_event(&self, event: AuditEvent) -> Result<(), StoreError> {
        self.lock().audit.push(event);
        Ok(())
    }

    async fn audit_events(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>, StoreError> {
        let limit = usize::try_from(query.limit).unwrap_or(usize::MAX);
        let inner = self.lock();
        let mut events: Vec<AuditEvent> = inner
            .audit
            .iter()
            .rev()
            .filter(|event| query.matches(event))
            .take(limit)
            .cloned()
            .collect();
        events.reverse();
        Ok(events)
    }

    async fn purge_audit_events(&self, before: NumericDate) -> Result<u64, StoreError> {
        let mut inner = self.lock();
        let before_len = inner.audit.len();
        inner.audit.retain(|event| event.at >= before);
        Ok(count(before_len - inner.audit.len()))
    }
}
