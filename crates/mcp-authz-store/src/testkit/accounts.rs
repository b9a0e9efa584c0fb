//! Kit tests of clients, consents, users, signing keys, the access-token deny-list and purge.

use std::sync::Arc;
use std::time::Duration;

use super::fixtures::{
    T0, client, client_id, code, grant, hash, key, phc, resource, scope, subject, user,
};
use crate::{
    ClientKind, ClientStore, CodeStore, Consent, Entity, KeyId, KeyState, PurgeCounts, SigningKey,
    Store, StoreError, TokenId, Username,
};

/// Clients: insert, read back every field, duplicate insert conflicts, update, upsert, delete; also
/// through `Arc<dyn Store>` and its upcasts, as the server holds it.
pub async fn clients_crud<S: Store + 'static>(store: S) {
    let store: Arc<dyn Store> = Arc::new(store);
    let mut record = client("client-a", T0);
    record.secret_hash = Some(phc("c2VjcmV0"));
    record.secret_expires_at = Some(T0.saturating_add(Duration::from_secs(86_400)));
    store.insert_client(record.clone()).await.unwrap();
    assert_eq!(
        store.get_client(&client_id("client-a")).await.unwrap(),
        Some(record.clone())
    );

    let err = store
        .insert_client(client("client-a", T0))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                entity: Entity::Client,
                ..
            }
        ),
        "got {err:?}"
    );

    record.client_name = Some("Renamed".to_owned());
    record.allowed_scope = None;
    record.allowed_resources = None;
    store.update_client(record.clone()).await.unwrap();
    let clients: Arc<dyn ClientStore> = store.clone();
    assert_eq!(
        clients.get_client(&client_id("client-a")).await.unwrap(),
        Some(record)
    );

    let missing = store
        .update_client(client("client-z", T0))
        .await
        .unwrap_err();
    assert_eq!(
        missing,
        StoreError::NotFound {
            entity: Entity::Client
        }
    );

    let cimd_id = "https://app.example.com/oauth/client.json";
    let mut cimd = client(cimd_id, T0);
    cimd.kind = ClientKind::MetadataDocument {
        fetched_at: T0,
        expires_at: T0.saturating_add(Duration::from_secs(300)),
    };
    store.upsert_client(cimd.clone()).await.unwrap();
    let refreshed_at = T0.saturating_add(Duration::from_secs(400));
    cimd.kind = ClientKind::MetadataDocument {
        fetched_at: refreshed_at,
        expires_at: refreshed_at.saturating_add(Duration::from_secs(300)),
    };
    store.upsert_client(cimd.clone()).await.unwrap();
    let stored = store
        .get_client(&client_id(cimd_id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, cimd);
    assert!(stored.is_fresh(refreshed_at));

    assert!(store.delete_client(&client_id("client-a")).await.unwrap());
    assert!(!store.delete_client(&client_id("client-a")).await.unwrap());
    assert_eq!(
        store.get_client(&client_id("client-a")).await.unwrap(),
        None
    );

    let codes: Arc<dyn CodeStore> = store.clone();
    codes
        .insert_code(code("via-dyn", "client-a", "alice", "fam-1", T0))
        .await
        .unwrap();
    assert!(store.find_code(&hash("via-dyn")).await.unwrap().is_some());
}

/// Consents are remembered per (user, client), replaced on put, listed per user, forgotten on revoke.
pub async fn consents_remembered<S: Store>(store: S) {
    let consent = |user: &str, client: &str, s: &str| Consent {
        subject: subject(user),
        client_id: client_id(client),
        resources: [resource()].into(),
        scope: scope(s),
        granted_at: T0,
    };
    store
        .put_consent(consent("alice", "client-b", "files:read"))
        .await
        .unwrap();
    store
        .put_consent(consent("alice", "client-a", "files:read"))
        .await
        .unwrap();
    store
        .put_consent(consent("bob", "client-a", "tools:call"))
        .await
        .unwrap();
    let widened = consent("alice", "client-a", "files:read tools:call");
    store.put_consent(widened.clone()).await.unwrap();

    let got = store
        .get_consent(&subject("alice"), &client_id("client-a"))
        .await
        .unwrap();
    assert_eq!(got, Some(widened));
    let listed = store.subject_consents(&subject("alice")).await.unwrap();
    let clients: Vec<&str> = listed.iter().map(|c| c.client_id.as_str()).collect();
    assert_eq!(clients, ["client-a", "client-b"]);

    assert!(
        store
            .revoke_consent(&subject("alice"), &client_id("client-a"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .revoke_consent(&subject("alice"), &client_id("client-a"))
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .get_consent(&subject("alice"), &client_id("client-a"))
            .await
            .unwrap(),
        None
    );
    assert!(
        store
            .get_consent(&subject("bob"), &client_id("client-a"))
            .await
            .unwrap()
            .is_some()
    );
}

/// The resources of a consent round-trip as a set (several, none), are replaced on put, and bound
/// what the consent covers (REQUIREMENTS SEC-13).
pub async fn consent_resources_round_trip<S: Store>(store: S) {
    let other = mcp_authz_metadata::ResourceUri::parse("https://other.example.com/api")
        .expect("a valid resource URI");
    let both = Consent {
        subject: subject("alice"),
        client_id: client_id("client-a"),
        resources: [resource(), other.clone()].into(),
        scope: scope("files:read"),
        granted_at: T0,
    };
    store.put_consent(both.clone()).await.unwrap();
    let got = store
        .get_consent(&subject("alice"), &client_id("client-a"))
        .await
        .unwrap();
    assert_eq!(got.as_ref(), Some(&both));
    let got = got.unwrap();
    assert!(got.covers(&[resource(), other.clone()], &scope("files:read")));

    let narrowed = Consent {
        resources: [resource()].into(),
        ..both.clone()
    };
    store.put_consent(narrowed.clone()).await.unwrap();
    let got = store
        .get_consent(&subject("alice"), &client_id("client-a"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, narrowed);
    assert!(!got.covers(std::slice::from_ref(&other), &scope("files:read")));

    let none = Consent {
        subject: subject("bob"),
        resources: std::collections::BTreeSet::new(),
        ..both
    };
    store.put_consent(none.clone()).await.unwrap();
    let listed = store.subject_consents(&subject("bob")).await.unwrap();
    assert_eq!(listed, [none]);
    assert!(!listed[0].covers(&[resource()], &scope("files:read")));
}

/// Users: unique ids and (case-folded) usernames, lookup by username, disable, change password.
pub async fn users_unique_usernames<S: Store>(store: S) {
    let alice = user("user-1", "alice", T0);
    store.insert_user(alice.clone()).await.unwrap();
    let same_name = store
        .insert_user(user("user-2", "ALICE", T0))
        .await
        .unwrap_err();
    assert!(
        matches!(
            same_name,
            StoreError::Conflict {
                entity: Entity::User,
                ..
            }
        ),
        "got {same_name:?}"
    );
    let same_id = store
        .insert_user(user("user-1", "bob", T0))
        .await
        .unwrap_err();
    assert!(
        matches!(
            same_id,
            StoreError::Conflict {
                entity: Entity::User,
                ..
            }
        ),
        "got {same_id:?}"
    );
    assert_eq!(
        store
            .find_user_by_username(&Username::parse("bob").unwrap())
            .await
            .unwrap(),
        None
    );

    let by_name = store
        .find_user_by_username(&Username::parse("Alice").unwrap())
        .await
        .unwrap();
    assert_eq!(by_name, Some(alice.clone()));
    assert_eq!(
        store.get_user(&subject("user-1")).await.unwrap(),
        Some(alice)
    );

    store
        .set_user_disabled(&subject("user-1"), true)
        .await
        .unwrap();
    store
        .set_password_hash(&subject("user-1"), phc("bmV3"))
        .await
        .unwrap();
    let changed = store.get_user(&subject("user-1")).await.unwrap().unwrap();
    assert!(changed.disabled);
    assert_eq!(changed.password_hash, phc("bmV3"));

    let missing = store
        .set_user_disabled(&subject("nobody"), true)
        .await
        .unwrap_err();
    assert_eq!(
        missing,
        StoreError::NotFound {
            entity: Entity::User
        }
    );
    let missing = store
        .set_password_hash(&subject("nobody"), phc("eA"))
        .await
        .unwrap_err();
    assert_eq!(
        missing,
        StoreError::NotFound {
            entity: Entity::User
        }
    );
}

/// Signing keys: one active at a time, publish-then-activate, previous key retired until a time, the
/// JWKS set follows `now`, retired keys cannot come back, purge drops them after `until` (AS-9).
pub async fn signing_key_lifecycle<S: Store>(store: S) {
    let kid = |k: &str| KeyId::parse(k).unwrap();
    store
        .insert_key(key("k1", KeyState::Active, T0))
        .await
        .unwrap();
    let second_active = store
        .insert_key(key("k9", KeyState::Active, T0))
        .await
        .unwrap_err();
    assert!(
        matches!(second_active, StoreError::Conflict { .. }),
        "got {second_active:?}"
    );
    let dup = store
        .insert_key(key("k1", KeyState::Published, T0))
        .await
        .unwrap_err();
    assert!(matches!(dup, StoreError::Conflict { .. }), "got {dup:?}");

    let t1 = T0.saturating_add(Duration::from_secs(10));
    // The next key, published ahead of its activation time (SEC-15): the time round-trips.
    let k2 = SigningKey {
        activates_at: Some(t1.saturating_add(Duration::from_secs(600))),
        ..key("k2", KeyState::Published, t1)
    };
    store.insert_key(k2.clone()).await.unwrap();
    assert_eq!(store.get_key(&kid("k2")).await.unwrap(), Some(k2.clone()));
    assert!(!k2.is_due(t1));
    assert!(k2.is_due(t1.saturating_add(Duration::from_secs(600))));
    assert_eq!(
        store.active_key().await.unwrap().map(|k| k.kid),
        Some(kid("k1"))
    );
    let jwks: Vec<KeyId> = store
        .published_keys(t1)
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.kid)
        .collect();
    assert_eq!(jwks, [kid("k1"), kid("k2")]);

    let until = t1.saturating_add(Duration::from_secs(3_600));
    assert_eq!(
        store.activate_key(&kid("k2"), until).await.unwrap(),
        Some(kid("k1"))
    );
    assert_eq!(store.activate_key(&kid("k2"), until).await.unwrap(), None);
    let active = store.active_key().await.unwrap().unwrap();
    assert_eq!(
        (active.kid.clone(), active.state),
        (kid("k2"), KeyState::Active)
    );
    assert_eq!(
        active,
        SigningKey {
            state: KeyState::Active,
            ..k2
        }
    );
    let k1 = store.get_key(&kid("k1")).await.unwrap().unwrap();
    assert_eq!(k1.state, KeyState::Retired { until });
    let back = store.activate_key(&kid("k1"), until).await.unwrap_err();
    assert!(
        matches!(back, StoreError::InvalidTransition { .. }),
        "got {back:?}"
    );
    let unknown = store.activate_key(&kid("nope"), until).await.unwrap_err();
    assert_eq!(
        unknown,
        StoreError::NotFound {
            entity: Entity::SigningKey
        }
    );

    let before = until.saturating_sub(Duration::from_secs(1));
    assert_eq!(store.published_keys(before).await.unwrap().len(), 2);
    let jwks: Vec<KeyId> = store
        .published_keys(until)
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.kid)
        .collect();
    assert_eq!(jwks, [kid("k2")]);
    assert_eq!(store.purge_expired(before).await.unwrap().signing_keys, 0);
    assert_eq!(store.purge_expired(until).await.unwrap().signing_keys, 1);
    assert_eq!(store.get_key(&kid("k1")).await.unwrap(), None);
    assert!(store.get_key(&kid("k2")).await.unwrap().is_some());
}

/// Revoked access-token ids are reported until their expiry, idempotently, then purged.
pub async fn revoked_access_tokens<S: Store>(store: S) {
    let jti = TokenId::parse("jti-1").unwrap();
    let expires_at = T0.saturating_add(Duration::from_secs(3_600));
    assert!(!store.is_access_token_revoked(&jti, T0).await.unwrap());
    store.revoke_access_token(&jti, expires_at).await.unwrap();
    store.revoke_access_token(&jti, T0).await.unwrap();
    let before = expires_at.saturating_sub(Duration::from_secs(1));
    assert!(store.is_access_token_revoked(&jti, before).await.unwrap());
    assert!(
        !store
            .is_access_token_revoked(&TokenId::parse("jti-2").unwrap(), T0)
            .await
            .unwrap()
    );
    assert!(
        !store
            .is_access_token_revoked(&jti, expires_at)
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .purge_expired(before)
            .await
            .unwrap()
            .revoked_access_tokens,
        0
    );
    assert_eq!(
        store
            .purge_expired(expires_at)
            .await
            .unwrap()
            .revoked_access_tokens,
        1
    );
}

/// A purge counts exactly what it removed, of each kind, and a second purge finds nothing.
pub async fn purge_counts<S: Store>(store: S) {
    grant(&store, "fam-1", "client-a", "alice", "r1", T0).await;
    store
        .insert_code(code("pending", "client-a", "alice", "fam-2", T0))
        .await
        .unwrap();
    store
        .revoke_access_token(
            &TokenId::parse("jti").unwrap(),
            T0.saturating_add(Duration::from_secs(60)),
        )
        .await
        .unwrap();
    let mut cimd = client("https://app.example.com/client.json", T0);
    cimd.kind = ClientKind::MetadataDocument {
        fetched_at: T0,
        expires_at: T0.saturating_add(Duration::from_secs(60)),
    };
    store.insert_client(cimd).await.unwrap();
    store.insert_client(client("dynamic", T0)).await.unwrap();
    store
        .insert_key(key(
            "old",
            KeyState::Retired {
                until: T0.saturating_add(Duration::from_secs(60)),
            },
            T0,
        ))
        .await
        .unwrap();
    store
        .insert_key(key("current", KeyState::Active, T0))
        .await
        .unwrap();
    store
        .insert_user(user("user-1", "alice", T0))
        .await
        .unwrap();

    assert_eq!(
        store.purge_expired(T0).await.unwrap(),
        PurgeCounts::default()
    );
    let t1 = T0.saturating_add(Duration::from_secs(60));
    let counts = store.purge_expired(t1).await.unwrap();
    let expected = PurgeCounts {
        codes: 2,
        grants: 0,
        refresh_tokens: 0,
        revoked_access_tokens: 1,
        metadata_document_clients: 1,
        signing_keys: 1,
    };
    assert_eq!(counts, expected);
    assert_eq!(counts.total(), 5);
    assert_eq!(
        store.purge_expired(t1).await.unwrap(),
        PurgeCounts::default()
    );
    assert!(
        store
            .get_client(&client_id("dynamic"))
            .await
            .unwrap()
            .is_some()
    );
    assert!(store.get_user(&subject("user-1")).await.unwrap().is_some());
    assert!(
        store
            .find_refresh_token(&hash("r1"), t1)
            .await
            .unwrap()
            .is_some()
    );
    assert!(store.active_key().await.unwrap().is_some());
}
