//! [`MemoryBrowserStates`]: browser-flow state of one process, bounded in size.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;

use crate::{
    BrowserState, BrowserStateKind, BrowserStateStore, NumericDate, SecretHash, StoreError,
};

/// One kind's records.
#[derive(Debug, Default)]
struct Table {
    entries: HashMap<SecretHash, Entry>,
    /// Live entry count per owner.
    owners: HashMap<String, usize>,
}

#[derive(Debug)]
struct Entry {
    owner: String,
    value: Vec<u8>,
    expires_at: NumericDate,
}

impl Table {
    fn take(&mut self, key: &SecretHash) -> Option<Entry> {
        let entry = self.entries.remove(key)?;
        if let Some(count) = self.owners.get_mut(&entry.owner) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.owners.remove(&entry.owner);
            }
        }
        Some(entry)
    }

    /// The key of `owner`'s entry closest to expiry.
    fn oldest_of(&self, owner: &str) -> Option<SecretHash> {
        self.entries
            .iter()
            .filter(|(_, e)| e.owner == owner)
            .min_by_key(|(_, e)| e.expires_at)
            .map(|(k, _)| *k)
    }
}

/// Browser-flow state in this process's memory: for one server instance (the default of
/// `mcp-authz-server`). Each kind holds at most `capacity` records; when full, expired records go
/// first, then the record closest to expiry of the owner with the most records, so one owner
/// flooding a table evicts its own records, never another owner's (SEC-17).
#[derive(Debug)]
pub struct MemoryBrowserStates {
    capacity: usize,
    tables: Mutex<HashMap<BrowserStateKind, Table>>,
}

impl MemoryBrowserStates {
    /// Empty tables of at most `capacity` records each (at least 1).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            tables: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<BrowserStateKind, Table>> {
        self.tables.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl BrowserStateStore for MemoryBrowserStates {
    async fn put_browser_state(
        &self,
        state: BrowserState,
        per_owner: Option<usize>,
        now: NumericDate,
    ) -> Result<(), StoreError> {
        let mut tables = self.lock();
        let table = tables.entry(state.kind).or_default();
        table.take(&state.key);
        if let Some(bound) = per_owner {
            while table.owners.get(&state.owner).copied().unwrap_or(0) >= bound.max(1) {
                let Some(oldest) = table.oldest_of(&state.owner) else {
                    break;
                };
                table.take(&oldest);
            }
        }
        if table.entries.len() >= self.capacity {
            let expired: Vec<SecretHash> = table
                .entries
                .iter()
                .filter(|(_, e)| e.expires_at <= now)
                .map(|(k, _)| *k)
                .collect();
            for key in expired {
                table.take(&key);
            }
        }
        if table.entries.len() >= self.capacity {
            let busiest = table
                .owners
                .iter()
                .max_by_key(|(_, n)| **n)
                .map(|(o, _)| o.clone());
            if let Some(oldest) = busiest.and_then(|o| table.oldest_of(&o)) {
                table.take(&oldest);
            }
        }
        *table.owners.entry(state.owner.clone()).or_insert(0) += 1;
        table.entries.insert(
            state.key,
            Entry {
                owner: state.owner,
                value: state.value,
                expires_at: state.expires_at,
            },
        );
        Ok(())
    }

    async fn get_browser_state(
        &self,
        kind: BrowserStateKind,
        key: &SecretHash,
        now: NumericDate,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .lock()
            .get(&kind)
            .and_then(|t| t.entries.get(key))
            .filter(|e| e.expires_at > now)
            .map(|e| e.value.clone()))
    }

    async fn take_browser_state(
        &self,
        kind: BrowserStateKind,
        key: &SecretHash,
        now: NumericDate,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .lock()
            .get_mut(&kind)
            .and_then(|t| t.take(key))
            .filter(|e| e.expires_at > now)
            .map(|e| e.value))
    }

    async fn purge_browser_states(&self, now: NumericDate) -> Result<u64, StoreError> {
        let mut removed = 0;
        for table in self.lock().values_mut() {
            let expired: Vec<SecretHash> = table
                .entries
                .iter()
                .filter(|(_, e)| e.expires_at <= now)
                .map(|(k, _)| *k)
                .collect();
            for key in expired {
                table.take(&key);
                removed += 1;
            }
        }
        Ok(removed)
    }
}
