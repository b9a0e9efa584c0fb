//! Kit tests of [`BrowserStateStore`]: records round-trip by kind and key, expire, are taken once
//! under concurrency, and are bounded per owner without touching other owners.

use std::sync::Arc;

use super::fixtures::T0;
use crate::{BrowserState, BrowserStateKind, BrowserStateStore, NumericDate, SecretHash};

fn state(kind: BrowserStateKind, id: &str, owner: &str, expires_at: NumericDate) -> BrowserState {
    BrowserState {
        kind,
        key: SecretHash::of(id),
        owner: owner.to_owned(),
        value: format!("value of {id}").into_bytes(),
        expires_at,
    }
}

/// Every kind keeps its records apart; a put replaces; get does not consume; take does, once;
/// nothing is returned at or after `expires_at`; purge removes exactly the expired records.
pub async fn browser_states_round_trip<S: BrowserStateStore>(store: S) {
    let later = T0.saturating_add(std::time::Duration::from_secs(600));
    for kind in BrowserStateKind::ALL {
        store
            .put_browser_state(state(kind, "a", "", later), None, T0)
            .await
            .unwrap();
    }
    let key = SecretHash::of("a");
    for kind in BrowserStateKind::ALL {
        let value = store.get_browser_state(kind, &key, T0).await.unwrap();
        assert_eq!(value.as_deref(), Some(&b"value of a"[..]), "{kind:?}");
    }
    // Replace the session's value.
    let mut replaced = state(BrowserStateKind::Session, "a", "", later);
    replaced.value = b"new".to_vec();
    store.put_browser_state(replaced, None, T0).await.unwrap();
    let kind = BrowserStateKind::Session;
    assert_eq!(
        store
            .get_browser_state(kind, &key, T0)
            .await
            .unwrap()
            .as_deref(),
        Some(&b"new"[..])
    );
    // Taken once.
    assert!(
        store
            .take_browser_state(kind, &key, T0)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .take_browser_state(kind, &key, T0)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .get_browser_state(kind, &key, T0)
            .await
            .unwrap()
            .is_none()
    );
    // Another kind with the same key is untouched.
    let other = BrowserStateKind::AnonymousRequest;
    assert!(
        store
            .get_browser_state(other, &key, T0)
            .await
            .unwrap()
            .is_some()
    );
    // Expiry: not returned at `expires_at`, then purged.
    assert!(
        store
            .get_browser_state(other, &key, later)
            .await
            .unwrap()
            .is_none()
    );
    let unknown = SecretHash::of("never stored");
    assert!(
        store
            .get_browser_state(other, &unknown, T0)
            .await
            .unwrap()
            .is_none()
    );
    let lasting = T0.saturating_add(std::time::Duration::from_secs(7200));
    store
        .put_browser_state(state(other, "lasting", "", lasting), None, T0)
        .await
        .unwrap();
    // Every other kind's "a" expired (the session's was taken), one live.
    let expired = u64::try_from(BrowserStateKind::ALL.len() - 1).unwrap();
    assert_eq!(store.purge_browser_states(later).await.unwrap(), expired);
    assert!(
        store
            .get_browser_state(other, &SecretHash::of("lasting"), later)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(store.purge_browser_states(later).await.unwrap(), 0);
}

/// 64 concurrent takes of one record: exactly one gets it.
pub async fn browser_states_taken_once<S: BrowserStateStore + 'static>(store: S) {
    let store = Arc::new(store);
    let later = T0.saturating_add(std::time::Duration::from_secs(600));
    let kind = BrowserStateKind::SignedInRequest;
    store
        .put_browser_state(state(kind, "once", "owner", later), Some(8), T0)
        .await
        .unwrap();
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .take_browser_state(kind, &SecretHash::of("once"), T0)
                    .await
                    .unwrap()
                    .is_some()
            })
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        if task.await.unwrap() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
}

/// An owner at its bound loses its own records closest to expiry, never another owner's.
pub async fn browser_states_bounded_per_owner<S: BrowserStateStore>(store: S) {
    let kind = BrowserStateKind::AnonymousRequest;
    let victim_until = T0.saturating_add(std::time::Duration::from_secs(60));
    store
        .put_browser_state(
            state(kind, "victim", "192.0.2.1", victim_until),
            Some(3),
            T0,
        )
        .await
        .unwrap();
    for i in 0..20u64 {
        let until = T0.saturating_add(std::time::Duration::from_secs(100 + i));
        store
            .put_browser_state(
                state(kind, &format!("flood{i}"), "198.51.100.9", until),
                Some(3),
                T0,
            )
            .await
            .unwrap();
    }
    let live = |id: &str| {
        let key = SecretHash::of(id);
        let store = &store;
        async move {
            store
                .get_browser_state(kind, &key, T0)
                .await
                .unwrap()
                .is_some()
        }
    };
    assert!(live("victim").await);
    // The flooding owner keeps its three latest-expiring records.
    for i in 0..17 {
        assert!(!live(&format!("flood{i}")).await, "flood{i}");
    }
    for i in 17..20 {
        assert!(live(&format!("flood{i}")).await, "flood{i}");
    }
}
