//! What is stored and how it reads back: tokens and codes only as SHA-256 digests in `BYTEA`
//! (REQUIREMENTS SEC-5, AS-7, AS-8), hand-edited rows reported as `Corrupt`, never a panic, and byte
//! order for listings whatever the server's collation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use mcp_authz_metadata::{ClientId, RedirectUri, ResourceUri, Scope};
use mcp_authz_store::{
    AuthorizationCode, CodeConsumption, CodeExchange, CodeStore, Consent, ConsentStore, Entity,
    FamilyId, GrantStore, NewRefreshToken, NumericDate, Rotation, SecretHash, StoreError, Subject,
};

const NOW: NumericDate = NumericDate::from_secs(1_700_000_000);

fn code(seed: &str, family: &str) -> AuthorizationCode {
    AuthorizationCode {
        hash: SecretHash::of(seed),
        client_id: ClientId::parse("client-a").unwrap(),
        redirect_uri: RedirectUri::parse("http://127.0.0.1/callback").unwrap(),
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
            .parse()
            .unwrap(),
        resources: vec![ResourceUri::parse("https://mcp.example.com/mcp").unwrap()],
        scope: Scope::parse("files:read").unwrap(),
        subject: Subject::parse("alice").unwrap(),
        family_id: FamilyId::parse(family).unwrap(),
        issued_at: NOW,
        expires_at: NOW.saturating_add(Duration::from_secs(60)),
        consumed_at: None,
    }
}

fn exchange(refresh_seed: &str) -> CodeExchange {
    CodeExchange {
        grant_expires_at: NOW.saturating_add(Duration::from_secs(86_400)),
        refresh_token: Some(NewRefreshToken {
            hash: SecretHash::of(refresh_seed),
            expires_at: NOW.saturating_add(Duration::from_secs(3_600)),
        }),
    }
}

#[tokio::test]
async fn codes_and_refresh_tokens_are_stored_only_as_sha256() {
    let Some(admin) = common::database().await else {
        return;
    };
    let schema = common::fresh_schema(&admin).await;
    let store = common::builder(&schema).connect().await.unwrap();
    let code_secret = "code-secret-value-1234567890";
    let refresh_secret = "refresh-secret-value-1234567890";
    store.insert_code(code(code_secret, "fam-1")).await.unwrap();
    let consumed = store
        .consume_code(&SecretHash::of(code_secret), exchange(refresh_secret), NOW)
        .await
        .unwrap();
    assert!(matches!(consumed, CodeConsumption::Consumed { .. }));

    let types: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, data_type::text FROM information_schema.columns \
         WHERE table_schema = $1 AND column_name = 'hash' ORDER BY table_name",
    )
    .bind(&schema)
    .fetch_all(&admin)
    .await
    .unwrap();
    assert_eq!(
        types,
        [
            ("codes".to_owned(), "bytea".to_owned()),
            ("refresh_tokens".to_owned(), "bytea".to_owned())
        ]
    );
    let code_hash: Vec<u8> = sqlx::query_scalar(&format!("SELECT hash FROM {schema}.codes"))
        .fetch_one(&admin)
        .await
        .unwrap();
    assert_eq!(code_hash, SecretHash::of(code_secret).as_bytes());
    let token_hash: Vec<u8> =
        sqlx::query_scalar(&format!("SELECT hash FROM {schema}.refresh_tokens"))
            .fetch_one(&admin)
            .await
            .unwrap();
    assert_eq!(token_hash, SecretHash::of(refresh_secret).as_bytes());
    // No column of any table holds either secret in clear.
    for table in ["codes", "grants", "refresh_tokens"] {
        let dump: String = sqlx::query_scalar(&format!(
            "SELECT coalesce(string_agg(t::text, ' '), '') FROM {schema}.{table} t"
        ))
        .fetch_one(&admin)
        .await
        .unwrap();
        assert!(
            !dump.contains(code_secret) && !dump.contains(refresh_secret),
            "{table}"
        );
    }
    common::drop_schema(&admin, &schema).await;
}

#[tokio::test]
async fn hand_edited_rows_are_corrupt() {
    let Some(admin) = common::database().await else {
        return;
    };
    let schema = common::fresh_schema(&admin).await;
    let store = common::builder(&schema).connect().await.unwrap();
    store.insert_code(code("c", "fam-1")).await.unwrap();
    let _ = store
        .consume_code(&SecretHash::of("c"), exchange("r"), NOW)
        .await
        .unwrap();
    let family = FamilyId::parse("fam-1").unwrap();

    sqlx::query(&format!("UPDATE {schema}.grants SET scope = 'two  spaces'"))
        .execute(&admin)
        .await
        .unwrap();
    let err = store.get_grant(&family).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Corrupt {
                entity: Entity::Grant,
                ..
            }
        ),
        "{err:?}"
    );
    let err = store
        .find_refresh_token(&SecretHash::of("r"), NOW)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");

    sqlx::query(&format!("UPDATE {schema}.codes SET issued_at = -1"))
        .execute(&admin)
        .await
        .unwrap();
    let err = store.find_code(&SecretHash::of("c")).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Corrupt {
                entity: Entity::AuthorizationCode,
                ..
            }
        ),
        "{err:?}"
    );

    sqlx::query(&format!(
        "UPDATE {schema}.codes SET issued_at = 0, redirect_uri = 'not a uri'"
    ))
    .execute(&admin)
    .await
    .unwrap();
    let err = store.find_code(&SecretHash::of("c")).await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    common::drop_schema(&admin, &schema).await;
}

#[tokio::test]
async fn empty_scopes_round_trip_and_rotation_records_them() {
    let Some(admin) = common::database().await else {
        return;
    };
    let schema = common::fresh_schema(&admin).await;
    let store = common::builder(&schema).connect().await.unwrap();
    store.insert_code(code("c", "fam-1")).await.unwrap();
    let _ = store
        .consume_code(&SecretHash::of("c"), exchange("r"), NOW)
        .await
        .unwrap();
    let next = NewRefreshToken {
        hash: SecretHash::of("r2"),
        expires_at: NOW.saturating_add(Duration::from_secs(60)),
    };
    let rotated = store
        .rotate_refresh_token(&SecretHash::of("r"), next, Scope::new(), NOW)
        .await
        .unwrap();
    let Rotation::Rotated { grant, .. } = rotated else {
        panic!("expected a rotation, got {rotated:?}");
    };
    assert!(grant.scope.is_empty());
    let consent = Consent {
        subject: Subject::parse("alice").unwrap(),
        client_id: ClientId::parse("client-a").unwrap(),
        resources: std::collections::BTreeSet::new(),
        scope: Scope::new(),
        granted_at: NOW,
    };
    store.put_consent(consent.clone()).await.unwrap();
    assert_eq!(
        store
            .get_consent(&consent.subject, &consent.client_id)
            .await
            .unwrap(),
        Some(consent)
    );
    common::drop_schema(&admin, &schema).await;
}

#[tokio::test]
async fn listings_use_byte_order() {
    let Some(admin) = common::database().await else {
        return;
    };
    let schema = common::fresh_schema(&admin).await;
    let store = common::builder(&schema).connect().await.unwrap();
    let alice = Subject::parse("alice").unwrap();
    // Byte order puts upper case first; most linguistic collations would not.
    for client in ["b-client", "B-client", "a-client", "_client"] {
        store
            .put_consent(Consent {
                subject: alice.clone(),
                client_id: ClientId::parse(client).unwrap(),
                resources: std::collections::BTreeSet::new(),
                scope: Scope::parse("files:read").unwrap(),
                granted_at: NOW,
            })
            .await
            .unwrap();
    }
    let listed: Vec<String> = store
        .subject_consents(&alice)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.client_id.as_str().to_owned())
        .collect();
    let mut expected = listed.clone();
    expected.sort();
    assert_eq!(listed, expected);
    assert_eq!(listed.first().map(String::as_str), Some("B-client"));
    common::drop_schema(&admin, &schema).await;
}
