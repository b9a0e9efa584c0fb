//! Kit tests of the operator listings: every client, user and signing key, and removing a user.

use std::time::Duration;

use super::fixtures::{
    T0, client, client_id, family, grant, hash, key, new_refresh, resource, scope, subject, user,
};
use crate::{Consent, KeyId, KeyState, RevocationReason, Rotation, Store, Username};

/// `list_clients` returns every client ordered by id; `list_users` every user ordered by username;
/// `delete_user` removes the user and frees the username; `list_keys` returns keys in every state,
/// also retired ones past their `until`, oldest first.
pub async fn operator_listings<S: Store>(store: S) {
    assert!(store.list_clients().await.unwrap().is_empty());
    assert!(store.list_users().await.unwrap().is_empty());
    assert!(store.list_keys().await.unwrap().is_empty());

    for id in [
        "client-b",
        "client-a",
        "https://app.example.com/client.json",
    ] {
        store.insert_client(client(id, T0)).await.unwrap();
    }
    let clients: Vec<String> = store
        .list_clients()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.client_id.as_str().to_owned())
        .collect();
    assert_eq!(
        clients,
        [
            "client-a",
            "client-b",
            "https://app.example.com/client.json"
        ]
    );
    assert_eq!(
        store.list_clients().await.unwrap().first(),
        Some(&client("client-a", T0))
    );
    assert!(store.delete_client(&client_id("client-b")).await.unwrap());
    assert_eq!(store.list_clients().await.unwrap().len(), 2);

    store.insert_user(user("user-2", "bob", T0)).await.unwrap();
    store
        .insert_user(user("user-1", "alice", T0))
        .await
        .unwrap();
    let users = store.list_users().await.unwrap();
    assert_eq!(
        users,
        [user("user-1", "alice", T0), user("user-2", "bob", T0)]
    );
    assert!(store.delete_user(&subject("user-1")).await.unwrap());
    assert!(!store.delete_user(&subject("user-1")).await.unwrap());
    assert_eq!(store.get_user(&subject("user-1")).await.unwrap(), None);
    let alice = Username::parse("alice").unwrap();
    assert_eq!(store.find_user_by_username(&alice).await.unwrap(), None);
    // The username is free again.
    store
        .insert_user(user("user-3", "alice", T0))
        .await
        .unwrap();
    let names: Vec<String> = store
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| format!("{}={}", u.username.as_str(), u.id.as_str()))
        .collect();
    assert_eq!(names, ["alice=user-3", "bob=user-2"]);

    let t1 = T0.saturating_add(Duration::from_secs(10));
    store
        .insert_key(key("k1", KeyState::Active, T0))
        .await
        .unwrap();
    store
        .insert_key(key("k2", KeyState::Published, t1))
        .await
        .unwrap();
    let until = t1.saturating_add(Duration::from_secs(60));
    store
        .activate_key(&KeyId::parse("k2").unwrap(), until)
        .await
        .unwrap();
    // Past `until`, k1 leaves the JWKS but the operator still sees it until it is purged.
    let later = until.saturating_add(Duration::from_secs(1));
    assert_eq!(store.published_keys(later).await.unwrap().len(), 1);
    let keys: Vec<(String, KeyState)> = store
        .list_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| (k.kid.as_str().to_owned(), k.state))
        .collect();
    assert_eq!(
        keys,
        [
            ("k1".to_owned(), KeyState::Retired { until }),
            ("k2".to_owned(), KeyState::Active),
        ]
    );
}

/// `list_grants` filters by user, client, both or neither, oldest first, revoked grants included;
/// `family_last_used` is the issue time of the family's newest refresh token; `list_consents`
/// filters the same way, ordered by user then client.
pub async fn operator_grant_and_consent_listings<S: Store>(store: S) {
    let t1 = T0.saturating_add(Duration::from_secs(10));
    let t2 = T0.saturating_add(Duration::from_secs(20));
    grant(&store, "fam-2", "client-b", "alice", "r2", t1).await;
    grant(&store, "fam-1", "client-a", "alice", "r1", T0).await;
    grant(&store, "fam-3", "client-a", "bob", "r3", T0).await;
    store
        .revoke_grant(&family("fam-3"), RevocationReason::Requested, t1)
        .await
        .unwrap();
    let ids = |grants: Vec<crate::Grant>| -> Vec<String> {
        grants
            .into_iter()
            .map(|g| g.id.as_str().to_owned())
            .collect()
    };
    let alice = subject("alice");
    let client_a = client_id("client-a");
    assert_eq!(
        ids(store.list_grants(None, None).await.unwrap()),
        ["fam-1", "fam-3", "fam-2"]
    );
    assert_eq!(
        ids(store.list_grants(Some(&alice), None).await.unwrap()),
        ["fam-1", "fam-2"]
    );
    assert_eq!(
        ids(store.list_grants(None, Some(&client_a)).await.unwrap()),
        ["fam-1", "fam-3"]
    );
    assert_eq!(
        ids(store
            .list_grants(Some(&alice), Some(&client_a))
            .await
            .unwrap()),
        ["fam-1"]
    );
    assert!(
        store
            .list_grants(Some(&subject("carol")), None)
            .await
            .unwrap()
            .is_empty()
    );

    // Issued at the exchange; a rotation makes the successor the newest.
    assert_eq!(
        store.family_last_used(&family("fam-1")).await.unwrap(),
        Some(T0)
    );
    let issued = store.get_grant(&family("fam-1")).await.unwrap().unwrap();
    let rotated = store
        .rotate_refresh_token(&hash("r1"), new_refresh("r1b", t2), issued.scope, t2)
        .await
        .unwrap();
    assert!(matches!(rotated, Rotation::Rotated { .. }));
    assert_eq!(
        store.family_last_used(&family("fam-1")).await.unwrap(),
        Some(t2)
    );
    assert_eq!(
        store.family_last_used(&family("fam-2")).await.unwrap(),
        Some(t1)
    );
    assert_eq!(
        store.family_last_used(&family("no-such")).await.unwrap(),
        None
    );

    let consent = |user: &str, client: &str| Consent {
        subject: subject(user),
        client_id: client_id(client),
        resources: [resource()].into(),
        scope: scope("files:read"),
        granted_at: T0,
    };
    for (user, client) in [
        ("bob", "client-a"),
        ("alice", "client-b"),
        ("alice", "client-a"),
    ] {
        store.put_consent(consent(user, client)).await.unwrap();
    }
    let pairs = |consents: Vec<Consent>| -> Vec<String> {
        consents
            .into_iter()
            .map(|c| format!("{}/{}", c.subject.as_str(), c.client_id.as_str()))
            .collect()
    };
    assert_eq!(
        pairs(store.list_consents(None, None).await.unwrap()),
        ["alice/client-a", "alice/client-b", "bob/client-a"]
    );
    assert_eq!(
        pairs(store.list_consents(Some(&alice), None).await.unwrap()),
        ["alice/client-a", "alice/client-b"]
    );
    assert_eq!(
        pairs(store.list_consents(None, Some(&client_a)).await.unwrap()),
        ["alice/client-a", "bob/client-a"]
    );
    assert_eq!(
        pairs(
            store
                .list_consents(Some(&subject("bob")), Some(&client_id("client-b")))
                .await
                .unwrap()
        ),
        Vec::<String>::new()
    );
}
