//! A bounded cache of verified tokens keyed by the SHA-256 of the token, each entry living no longer than
//! its token (REQUIREMENTS RS-10, SEC-8).

use std::collections::HashMap;
use std::sync::Mutex;

use mcp_authz_token::{AccessToken, NumericDate};
use sha2::{Digest, Sha256};

/// The SHA-256 of a token: the cache key, so that the cache holds no token.
pub(crate) type TokenKey = [u8; 32];

pub(crate) fn token_key(token: &AccessToken) -> TokenKey {
    Sha256::digest(token.secret().as_bytes()).into()
}

/// Entries expire at their own time; when full, expired entries go first, then an arbitrary one.
#[derive(Debug)]
pub(crate) struct TokenCache<V> {
    entries: Mutex<HashMap<TokenKey, (V, NumericDate)>>,
    capacity: usize,
}

impl<V: Clone> TokenCache<V> {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TokenKey, (V, NumericDate)>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The value, when present and `now` is before its expiry.
    pub(crate) fn get(&self, key: &TokenKey, now: NumericDate) -> Option<V> {
        let mut entries = self.lock();
        match entries.get(key) {
            Some((value, expires)) if now < *expires => Some(value.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// Stores `value` until `expires` (nothing when `expires` is not after `now` or the capacity is 0).
    pub(crate) fn insert(&self, key: TokenKey, value: V, expires: NumericDate, now: NumericDate) {
        if self.capacity == 0 || expires <= now {
            return;
        }
        let mut entries = self.lock();
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            entries.retain(|_, (_, exp)| now < *exp);
            if entries.len() >= self.capacity {
                let victim = entries.keys().next().copied();
                if let Some(victim) = victim {
                    entries.remove(&victim);
                }
            }
        }
        entries.insert(key, (value, expires));
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_with_their_token_and_capacity_is_bounded() {
        let cache = TokenCache::new(2);
        let now = NumericDate::from_secs(100);
        cache.insert([1; 32], 1, NumericDate::from_secs(110), now);
        assert_eq!(cache.get(&[1; 32], NumericDate::from_secs(109)), Some(1));
        assert_eq!(cache.get(&[1; 32], NumericDate::from_secs(110)), None);
        for i in 0..10u8 {
            cache.insert([i; 32], i32::from(i), NumericDate::from_secs(200), now);
        }
        assert_eq!(cache.len(), 2);
        cache.insert([42; 32], 3, NumericDate::from_secs(100), now);
        assert_eq!(cache.get(&[42; 32], now), None);
    }
}
