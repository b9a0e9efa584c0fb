//! Kit tests of [`GrantStore`](crate::GrantStore): rotation, reuse detection, revocation cascades
//! (REQUIREMENTS AS-8, AS-7, AS-15).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Barrier;

use super::codes::RACERS;
use super::fixtures::{
    REFRESH_TTL, T0, client_id, code, family, grant, hash, new_refresh, scope, subject,
};
use crate::{
    CodeConsumption, CodeExchange, RefreshStatus, RevocationCounts, RevocationReason, Rotation,
    Store, StoreError,
};

/// A chain A → B → C: each rotation returns the successor, marks the predecessor rotated, and records
/// the (possibly narrowed) scope on the family.
pub async fn refresh_rotation_chain<S: Store>(store: S) {
    let issued = grant(&store, "fam-1", "client-a", "alice", "A", T0).await;
    let t1 = T0.saturating_add(Duration::from_secs(600));
    let outcome = store
        .rotate_refresh_token(&hash("A"), new_refresh("B", t1), issued.scope.clone(), t1)
        .await
        .unwrap();
    let Rotation::Rotated { grant: g1, token } = outcome else {
        panic!("first rotation must win");
    };
    assert_eq!(token.hash, hash("B"));
    assert_eq!(
        (token.issued_at, token.expires_at),
        (t1, t1.saturating_add(REFRESH_TTL))
    );
    assert_eq!(
        (token.family_id.clone(), token.rotated_at),
        (issued.id.clone(), None)
    );
    assert_eq!(g1.scope, issued.scope);

    let a = store
        .find_refresh_token(&hash("A"), t1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (a.status, a.token.rotated_at),
        (RefreshStatus::Rotated, Some(t1))
    );

    let t2 = t1.saturating_add(Duration::from_secs(600));
    let narrowed = scope("files:read");
    let outcome = store
        .rotate_refresh_token(&hash("B"), new_refresh("C", t2), narrowed.clone(), t2)
        .await
        .unwrap();
    let Rotation::Rotated { grant: g2, .. } = outcome else {
        panic!("second rotation must win");
    };
    assert_eq!(g2.scope, narrowed);
    assert_eq!(
        store.get_grant(&issued.id).await.unwrap().unwrap().scope,
        narrowed
    );
    let c = store
        .find_refresh_token(&hash("C"), t2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.status, RefreshStatus::Active);
    assert_eq!(c.grant.revoked, None);
}

/// Presenting a rotated token reports reuse and revokes the family: the successor is dead too (AS-8).
pub async fn refresh_reuse_revokes_family<S: Store>(store: S) {
    let issued = grant(&store, "fam-1", "client-a", "alice", "A", T0).await;
    let rotated = store
        .rotate_refresh_token(&hash("A"), new_refresh("B", T0), issued.scope.clone(), T0)
        .await
        .unwrap();
    assert!(matches!(rotated, Rotation::Rotated { .. }));

    let t1 = T0.saturating_add(Duration::from_secs(30));
    let reuse = store
        .rotate_refresh_token(&hash("A"), new_refresh("X", t1), issued.scope.clone(), t1)
        .await
        .unwrap();
    assert_eq!(
        reuse,
        Rotation::Reused {
            family_id: family("fam-1")
        }
    );
    assert_eq!(
        store.find_refresh_token(&hash("X"), t1).await.unwrap(),
        None
    );

    let b = store
        .find_refresh_token(&hash("B"), t1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.status, RefreshStatus::Revoked);
    let revocation = b.grant.revoked.unwrap();
    assert_eq!(
        (revocation.at, revocation.reason),
        (t1, RevocationReason::RefreshTokenReuse)
    );
    let with_b = store
        .rotate_refresh_token(&hash("B"), new_refresh("Y", t1), issued.scope.clone(), t1)
        .await
        .unwrap();
    assert_eq!(
        with_b,
        Rotation::Revoked {
            family_id: family("fam-1")
        }
    );
    // Reuse stays reuse, and the first revocation is kept.
    let again = store
        .rotate_refresh_token(&hash("A"), new_refresh("Z", t1), issued.scope, t1)
        .await
        .unwrap();
    assert_eq!(
        again,
        Rotation::Reused {
            family_id: family("fam-1")
        }
    );
    let grant = store.get_grant(&family("fam-1")).await.unwrap().unwrap();
    assert_eq!(grant.revoked.map(|r| r.at), Some(t1));
}

/// 64 tasks rotate one token at once: exactly one wins, the 63 others are reuse and revoke the family,
/// so the winner's new token is invalid too; the old token stays reported as reuse.
pub async fn refresh_concurrent_rotation_exactly_once<S: Store + 'static>(store: S) {
    let store = Arc::new(store);
    let issued = grant(&*store, "fam-race", "client-a", "alice", "A", T0).await;
    let barrier = Arc::new(Barrier::new(RACERS));
    let mut tasks = Vec::with_capacity(RACERS);
    for i in 0..RACERS {
        let (store, barrier, granted) = (
            Arc::clone(&store),
            Arc::clone(&barrier),
            issued.scope.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let next = new_refresh(&format!("next-{i}"), T0);
            barrier.wait().await;
            store
                .rotate_refresh_token(&hash("A"), next, granted, T0)
                .await
        }));
    }
    let mut winners = Vec::new();
    let mut reused = 0;
    for task in tasks {
        match task.await.unwrap().unwrap() {
            Rotation::Rotated { token, .. } => winners.push(token.hash),
            Rotation::Reused { family_id } => {
                assert_eq!(family_id, family("fam-race"));
                reused += 1;
            }
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!((winners.len(), reused), (1, RACERS - 1));
    let winner = winners.first().copied().unwrap();
    let lookup = store
        .find_refresh_token(&winner, T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lookup.status, RefreshStatus::Revoked);
    let with_winner = store
        .rotate_refresh_token(&winner, new_refresh("after", T0), issued.scope.clone(), T0)
        .await
        .unwrap();
    assert_eq!(
        with_winner,
        Rotation::Revoked {
            family_id: family("fam-race")
        }
    );
    let old = store
        .rotate_refresh_token(&hash("A"), new_refresh("after-2", T0), issued.scope, T0)
        .await
        .unwrap();
    assert_eq!(
        old,
        Rotation::Reused {
            family_id: family("fam-race")
        }
    );
}

/// `rotate_client_refresh_token`: the owning client rotates and keeps the family's scope; another
/// client changes nothing (not even with a rotated token: no revocation); reuse, revocation and
/// expiry are reported as by `rotate_refresh_token`.
pub async fn refresh_client_bound_rotation<S: Store>(store: S) {
    let issued = grant(&store, "fam-1", "client-a", "alice", "A", T0).await;
    let (a, b) = (client_id("client-a"), client_id("client-b"));
    let other = store
        .rotate_client_refresh_token(&hash("A"), &b, new_refresh("X", T0), T0)
        .await
        .unwrap();
    assert_eq!(other, Rotation::OtherClient);
    assert_eq!(
        store.find_refresh_token(&hash("X"), T0).await.unwrap(),
        None
    );
    let a_lookup = store
        .find_refresh_token(&hash("A"), T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a_lookup.status, RefreshStatus::Active);

    let rotated = store
        .rotate_client_refresh_token(&hash("A"), &a, new_refresh("B", T0), T0)
        .await
        .unwrap();
    let Rotation::Rotated { grant: g, token } = rotated else {
        panic!("the owning client must rotate, got {rotated:?}");
    };
    assert_eq!(
        (g.id.clone(), g.scope.clone()),
        (issued.id.clone(), issued.scope.clone())
    );
    assert_eq!(
        (g.client_id.clone(), g.subject.clone()),
        (a.clone(), subject("alice"))
    );
    assert_eq!(g.resources, issued.resources);
    assert_eq!(
        (token.hash, token.family_id),
        (hash("B"), issued.id.clone())
    );
    assert_eq!(
        store
            .find_refresh_token(&hash("B"), T0)
            .await
            .unwrap()
            .unwrap()
            .status,
        RefreshStatus::Active
    );

    // A rotated token presented by another client: refused, family untouched.
    let other = store
        .rotate_client_refresh_token(&hash("A"), &b, new_refresh("Y", T0), T0)
        .await
        .unwrap();
    assert_eq!(other, Rotation::OtherClient);
    assert_eq!(
        store.get_grant(&issued.id).await.unwrap().unwrap().revoked,
        None
    );

    // By its own client: reuse, the family is revoked.
    let reuse = store
        .rotate_client_refresh_token(&hash("A"), &a, new_refresh("Z", T0), T0)
        .await
        .unwrap();
    assert_eq!(
        reuse,
        Rotation::Reused {
            family_id: family("fam-1")
        }
    );
    let revoked = store
        .rotate_client_refresh_token(&hash("B"), &a, new_refresh("W", T0), T0)
        .await
        .unwrap();
    assert_eq!(
        revoked,
        Rotation::Revoked {
            family_id: family("fam-1")
        }
    );
    let unknown = store
        .rotate_client_refresh_token(&hash("nope"), &a, new_refresh("V", T0), T0)
        .await
        .unwrap();
    assert_eq!(unknown, Rotation::Unknown);

    grant(&store, "fam-2", "client-a", "alice", "E", T0).await;
    let expiry = T0.saturating_add(REFRESH_TTL);
    let expired = store
        .rotate_client_refresh_token(&hash("E"), &a, new_refresh("F", expiry), expiry)
        .await
        .unwrap();
    assert_eq!(expired, Rotation::Expired);
    assert_eq!(
        store.find_refresh_token(&hash("F"), expiry).await.unwrap(),
        None
    );
}

/// An expired token, or a token of an expired grant, reports `Expired` and changes nothing; a purge
/// removes expired tokens and grants.
pub async fn refresh_expiry<S: Store>(store: S) {
    let issued = grant(&store, "fam-1", "client-a", "alice", "A", T0).await;
    let expiry = T0.saturating_add(REFRESH_TTL);
    let just_before = expiry.saturating_sub(Duration::from_secs(1));
    let lookup = store
        .find_refresh_token(&hash("A"), just_before)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lookup.status, RefreshStatus::Active);
    let late = store
        .rotate_refresh_token(
            &hash("A"),
            new_refresh("B", expiry),
            issued.scope.clone(),
            expiry,
        )
        .await
        .unwrap();
    assert_eq!(late, Rotation::Expired);
    assert_eq!(
        store.find_refresh_token(&hash("B"), expiry).await.unwrap(),
        None
    );
    let lookup = store
        .find_refresh_token(&hash("A"), expiry)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (lookup.status, lookup.token.rotated_at),
        (RefreshStatus::Expired, None)
    );

    // A token outliving its grant expires with the grant; a purge at the grant's end removes both.
    store
        .insert_code(code("short", "client-a", "alice", "fam-2", T0))
        .await
        .unwrap();
    let grant_end = T0.saturating_add(Duration::from_secs(3_600));
    let short = CodeExchange {
        grant_expires_at: grant_end,
        refresh_token: Some(new_refresh("long", T0)),
    };
    let consumed = store.consume_code(&hash("short"), short, T0).await.unwrap();
    assert!(
        matches!(consumed, CodeConsumption::Consumed { .. }),
        "got {consumed:?}"
    );
    let before_end = grant_end.saturating_sub(Duration::from_secs(1));
    let lookup = store
        .find_refresh_token(&hash("long"), before_end)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lookup.status, RefreshStatus::Active);
    let lookup = store
        .find_refresh_token(&hash("long"), grant_end)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lookup.status, RefreshStatus::Expired);
    let rotation = store
        .rotate_refresh_token(
            &hash("long"),
            new_refresh("C", grant_end),
            issued.scope.clone(),
            grant_end,
        )
        .await
        .unwrap();
    assert_eq!(rotation, Rotation::Expired);

    let counts = store.purge_expired(grant_end).await.unwrap();
    assert_eq!((counts.grants, counts.refresh_tokens), (1, 1), "{counts:?}");
    assert_eq!(store.get_grant(&family("fam-2")).await.unwrap(), None);
    assert_eq!(
        store
            .find_refresh_token(&hash("long"), grant_end)
            .await
            .unwrap(),
        None
    );
    let counts = store.purge_expired(expiry).await.unwrap();
    assert_eq!((counts.grants, counts.refresh_tokens), (0, 1), "{counts:?}");
    assert_eq!(
        store.find_refresh_token(&hash("A"), expiry).await.unwrap(),
        None
    );
    assert!(store.get_grant(&issued.id).await.unwrap().is_some());
}

/// Revoking a client's grants revokes its families (not others'), deletes its pending codes, and is
/// idempotent.
pub async fn revoke_by_client_cascades<S: Store>(store: S) {
    grant(&store, "fam-a1", "client-a", "alice", "a1", T0).await;
    grant(&store, "fam-a2", "client-a", "bob", "a2", T0).await;
    grant(&store, "fam-b1", "client-b", "alice", "b1", T0).await;
    store
        .insert_code(code("pending-a", "client-a", "alice", "fam-a3", T0))
        .await
        .unwrap();
    store
        .insert_code(code("pending-b", "client-b", "alice", "fam-b2", T0))
        .await
        .unwrap();

    let counts = store
        .revoke_client_grants(&client_id("client-a"), T0)
        .await
        .unwrap();
    assert_eq!(
        counts,
        RevocationCounts {
            grants: 2,
            pending_codes: 1
        }
    );
    for token in ["a1", "a2"] {
        let lookup = store
            .find_refresh_token(&hash(token), T0)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(lookup.status, RefreshStatus::Revoked);
        assert_eq!(
            lookup.grant.revoked.map(|r| r.reason),
            Some(RevocationReason::Client)
        );
    }
    let other = store
        .find_refresh_token(&hash("b1"), T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(other.status, RefreshStatus::Active);
    let pending = store
        .consume_code(&hash("pending-a"), super::fixtures::exchange(None, T0), T0)
        .await
        .unwrap();
    assert_eq!(pending, CodeConsumption::Unknown);
    assert!(store.find_code(&hash("pending-b")).await.unwrap().is_some());

    let again = store
        .revoke_client_grants(&client_id("client-a"), T0)
        .await
        .unwrap();
    assert_eq!(again, RevocationCounts::default());
}

/// Revoking a user's grants revokes their families across clients and deletes their pending codes.
pub async fn revoke_by_subject_cascades<S: Store>(store: S) {
    grant(&store, "fam-1", "client-a", "alice", "r1", T0).await;
    grant(&store, "fam-2", "client-b", "alice", "r2", T0).await;
    grant(&store, "fam-3", "client-a", "bob", "r3", T0).await;
    store
        .insert_code(code("pending", "client-b", "alice", "fam-4", T0))
        .await
        .unwrap();

    let counts = store
        .revoke_subject_grants(&subject("alice"), T0)
        .await
        .unwrap();
    assert_eq!(
        counts,
        RevocationCounts {
            grants: 2,
            pending_codes: 1
        }
    );
    for token in ["r1", "r2"] {
        let lookup = store
            .find_refresh_token(&hash(token), T0)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            lookup.grant.revoked.map(|r| r.reason),
            Some(RevocationReason::Subject)
        );
    }
    let bob = store
        .find_refresh_token(&hash("r3"), T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bob.status, RefreshStatus::Active);
    assert_eq!(store.find_code(&hash("pending")).await.unwrap(), None);
}

/// One grant is revoked on request (RFC 7009) once; a user's grants are listed oldest first.
pub async fn revoke_single_grant_and_list<S: Store>(store: S) {
    let t1 = T0.saturating_add(Duration::from_secs(1));
    grant(&store, "fam-2", "client-b", "alice", "r2", t1).await;
    grant(&store, "fam-1", "client-a", "alice", "r1", T0).await;
    grant(&store, "fam-3", "client-a", "bob", "r3", T0).await;

    let listed = store.subject_grants(&subject("alice")).await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(ids, ["fam-1", "fam-2"]);

    assert!(
        store
            .revoke_grant(&family("fam-1"), RevocationReason::Requested, t1)
            .await
            .unwrap()
    );
    assert!(
        !store
            .revoke_grant(&family("fam-1"), RevocationReason::Requested, t1)
            .await
            .unwrap()
    );
    assert!(
        !store
            .revoke_grant(&family("no-such"), RevocationReason::Requested, t1)
            .await
            .unwrap()
    );
    let revoked = store.get_grant(&family("fam-1")).await.unwrap().unwrap();
    assert_eq!(
        revoked.revoked.map(|r| r.reason),
        Some(RevocationReason::Requested)
    );
    assert!(!revoked.is_active(t1));
    assert!(
        store
            .get_grant(&family("fam-2"))
            .await
            .unwrap()
            .unwrap()
            .is_active(t1)
    );
}

/// A rotation whose new hash already exists fails with `Conflict` and changes nothing.
pub async fn rotation_conflict_changes_nothing<S: Store>(store: S) {
    let issued = grant(&store, "fam-1", "client-a", "alice", "A", T0).await;
    grant(&store, "fam-2", "client-a", "alice", "taken", T0).await;
    let err = store
        .rotate_refresh_token(
            &hash("A"),
            new_refresh("taken", T0),
            scope("files:read"),
            T0,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "got {err:?}");
    let a = store
        .find_refresh_token(&hash("A"), T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (a.status, a.grant.scope.clone()),
        (RefreshStatus::Active, issued.scope.clone())
    );
    let taken = store
        .find_refresh_token(&hash("taken"), T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.token.family_id, family("fam-2"));
    let retry = store
        .rotate_refresh_token(&hash("A"), new_refresh("B", T0), issued.scope, T0)
        .await
        .unwrap();
    assert!(matches!(retry, Rotation::Rotated { .. }));
}
