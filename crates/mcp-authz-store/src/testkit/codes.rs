//! Kit tests of [`CodeStore`](crate::CodeStore): single use, expiry, replay (REQUIREMENTS AS-7).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Barrier;

use super::fixtures::{T0, code, exchange, family, hash, new_refresh};
use crate::{
    Clock, CodeConsumption, ManualClock, PurgeCounts, RefreshStatus, RevocationReason, Rotation,
    Store, StoreError,
};

/// Number of concurrent tasks in the race tests.
pub(crate) const RACERS: usize = 64;

/// A stored code reads back unchanged; consuming it returns it with `consumed_at` and creates the grant
/// (with its first refresh token) from the code's fields.
pub async fn code_round_trip_and_consume<S: Store>(store: S) {
    let issued = code("c1", "client-a", "alice", "fam-1", T0);
    store.insert_code(issued.clone()).await.unwrap();
    assert_eq!(
        store.find_code(&hash("c1")).await.unwrap(),
        Some(issued.clone())
    );

    let now = T0.saturating_add(Duration::from_secs(5));
    let outcome = store
        .consume_code(&hash("c1"), exchange(Some("r1"), now), now)
        .await
        .unwrap();
    let CodeConsumption::Consumed { code: spent, grant } = outcome else {
        panic!("expected Consumed, got {outcome:?}");
    };
    assert_eq!(spent.consumed_at, Some(now));
    assert_eq!(spent.hash, issued.hash);
    assert_eq!(grant.id, family("fam-1"));
    assert_eq!(
        (&grant.client_id, &grant.subject),
        (&issued.client_id, &issued.subject)
    );
    assert_eq!(
        (&grant.scope, &grant.resources),
        (&issued.scope, &issued.resources)
    );
    assert_eq!(grant.created_at, now);
    assert_eq!(grant.revoked, None);
    assert_eq!(
        store.get_grant(&family("fam-1")).await.unwrap(),
        Some(grant.clone())
    );

    let refresh = store
        .find_refresh_token(&hash("r1"), now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(refresh.status, RefreshStatus::Active);
    assert_eq!(refresh.token.family_id, grant.id);
    assert_eq!(refresh.token.issued_at, now);
    assert_eq!(refresh.grant, grant);

    let stored = store.find_code(&hash("c1")).await.unwrap().unwrap();
    assert_eq!(stored.consumed_at, Some(now));
}

/// Inserting a second code with the same hash is a conflict and leaves the first unchanged.
pub async fn code_duplicate_hash_conflicts<S: Store>(store: S) {
    store
        .insert_code(code("dup", "client-a", "alice", "fam-1", T0))
        .await
        .unwrap();
    let err = store
        .insert_code(code("dup", "client-b", "bob", "fam-2", T0))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "got {err:?}");
    let stored = store.find_code(&hash("dup")).await.unwrap().unwrap();
    assert_eq!(stored.client_id.as_str(), "client-a");
}

/// Unknown hashes report `Unknown` and create nothing.
pub async fn code_unknown_is_reported<S: Store>(store: S) {
    let outcome = store
        .consume_code(&hash("never-issued"), exchange(Some("r"), T0), T0)
        .await;
    assert_eq!(outcome.unwrap(), CodeConsumption::Unknown);
    assert_eq!(store.find_code(&hash("never-issued")).await.unwrap(), None);
    assert_eq!(
        store.find_refresh_token(&hash("r"), T0).await.unwrap(),
        None
    );
}

/// Expiry follows the injected clock: consumable one second before `expires_at`, `Expired` at it (and
/// nothing is created), and a purge at that time removes it.
pub async fn code_expiry_follows_clock<S: Store>(store: S) {
    let clock = ManualClock::new(T0);
    store
        .insert_code(code("early", "client-a", "alice", "fam-early", T0))
        .await
        .unwrap();
    store
        .insert_code(code("late", "client-a", "alice", "fam-late", T0))
        .await
        .unwrap();

    clock.advance(Duration::from_secs(59));
    let now = clock.now();
    let early = store
        .consume_code(&hash("early"), exchange(None, now), now)
        .await
        .unwrap();
    assert!(
        matches!(early, CodeConsumption::Consumed { .. }),
        "got {early:?}"
    );

    clock.advance(Duration::from_secs(1));
    let now = clock.now();
    let late = store
        .consume_code(&hash("late"), exchange(Some("r-late"), now), now)
        .await
        .unwrap();
    assert_eq!(late, CodeConsumption::Expired);
    assert_eq!(store.get_grant(&family("fam-late")).await.unwrap(), None);
    assert_eq!(
        store
            .find_refresh_token(&hash("r-late"), now)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .find_code(&hash("late"))
            .await
            .unwrap()
            .unwrap()
            .consumed_at,
        None
    );

    let counts = store.purge_expired(now).await.unwrap();
    assert_eq!(
        counts.codes, 2,
        "both codes are past expiry, consumed or not: {counts:?}"
    );
    let after = store
        .consume_code(&hash("late"), exchange(None, now), now)
        .await
        .unwrap();
    assert_eq!(after, CodeConsumption::Unknown);
}

/// 64 tasks consume one code at once: exactly one gets the grant, 63 see a replay naming its family,
/// and the replays revoke the grant (AS-7).
pub async fn code_concurrent_consume_exactly_once<S: Store + 'static>(store: S) {
    let store = Arc::new(store);
    store
        .insert_code(code("race", "client-a", "alice", "fam-race", T0))
        .await
        .unwrap();
    let barrier = Arc::new(Barrier::new(RACERS));
    let mut tasks = Vec::with_capacity(RACERS);
    for i in 0..RACERS {
        let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
        tasks.push(tokio::spawn(async move {
            let refresh = format!("race-refresh-{i}");
            barrier.wait().await;
            store
                .consume_code(&hash("race"), exchange(Some(&refresh), T0), T0)
                .await
        }));
    }
    let mut consumed = 0;
    let mut replays = 0;
    for task in tasks {
        match task.await.unwrap().unwrap() {
            CodeConsumption::Consumed { grant, .. } => {
                consumed += 1;
                assert_eq!(grant.id, family("fam-race"));
            }
            CodeConsumption::AlreadyConsumed {
                family_id,
                client_id,
            } => {
                replays += 1;
                assert_eq!(family_id, family("fam-race"));
                assert_eq!(client_id.as_str(), "client-a");
            }
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!((consumed, replays), (1, RACERS - 1));
    let grant = store.get_grant(&family("fam-race")).await.unwrap().unwrap();
    assert_eq!(
        grant.revoked.map(|r| r.reason),
        Some(RevocationReason::CodeReplay)
    );
}

/// A replay after a successful exchange revokes the family: the refresh token issued from the code is
/// dead, and the replay is reported even once the code has expired.
pub async fn code_replay_revokes_issued_tokens<S: Store>(store: S) {
    store
        .insert_code(code("c", "client-a", "alice", "fam-1", T0))
        .await
        .unwrap();
    let first = store
        .consume_code(&hash("c"), exchange(Some("r1"), T0), T0)
        .await
        .unwrap();
    assert!(
        matches!(first, CodeConsumption::Consumed { .. }),
        "got {first:?}"
    );

    let later = T0.saturating_add(Duration::from_secs(61));
    let replay = store
        .consume_code(&hash("c"), exchange(Some("r-attacker"), later), later)
        .await;
    assert_eq!(
        replay.unwrap(),
        CodeConsumption::AlreadyConsumed {
            family_id: family("fam-1"),
            client_id: super::fixtures::client_id("client-a"),
        }
    );
    assert_eq!(
        store
            .find_refresh_token(&hash("r-attacker"), later)
            .await
            .unwrap(),
        None
    );
    let lookup = store
        .find_refresh_token(&hash("r1"), later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lookup.status, RefreshStatus::Revoked);
    let revocation = lookup.grant.revoked.unwrap();
    assert_eq!(
        (revocation.at, revocation.reason),
        (later, RevocationReason::CodeReplay)
    );
    let rotation = store
        .rotate_refresh_token(
            &hash("r1"),
            new_refresh("r2", later),
            lookup.grant.scope,
            later,
        )
        .await
        .unwrap();
    assert_eq!(
        rotation,
        Rotation::Revoked {
            family_id: family("fam-1")
        }
    );
}

/// A consume that would duplicate a refresh-token hash fails with `Conflict` and changes nothing: the
/// code is still consumable.
pub async fn code_consume_conflict_changes_nothing<S: Store>(store: S) {
    super::fixtures::grant(&store, "fam-1", "client-a", "alice", "taken", T0).await;
    store
        .insert_code(code("c2", "client-a", "alice", "fam-2", T0))
        .await
        .unwrap();
    let err = store
        .consume_code(&hash("c2"), exchange(Some("taken"), T0), T0)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "got {err:?}");
    assert_eq!(
        store
            .find_code(&hash("c2"))
            .await
            .unwrap()
            .unwrap()
            .consumed_at,
        None
    );
    assert_eq!(store.get_grant(&family("fam-2")).await.unwrap(), None);
    let retry = store
        .consume_code(&hash("c2"), exchange(Some("fresh"), T0), T0)
        .await
        .unwrap();
    assert!(
        matches!(retry, CodeConsumption::Consumed { .. }),
        "got {retry:?}"
    );
    assert_eq!(
        store.purge_expired(T0).await.unwrap(),
        PurgeCounts::default()
    );
}
