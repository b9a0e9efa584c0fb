//! A database that is down, exhausted or too slow yields the typed `Unavailable` error, distinct from
//! `NotFound` and `Conflict`, and the operation changes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use mcp_authz_metadata::{ClientId, RedirectUri, ResourceUri, Scope};
use mcp_authz_store::{
    AuthorizationCode, CodeConsumption, CodeExchange, CodeStore, FamilyId, GrantStore, NumericDate,
    PurgeStore, SecretHash, StoreError, Subject,
};
use mcp_authz_store_postgres::{ConnectError, PostgresStoreBuilder};

const NOW: NumericDate = NumericDate::from_secs(1_700_000_000);

fn code(seed: &str) -> AuthorizationCode {
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
        family_id: FamilyId::parse("fam-1").unwrap(),
        issued_at: NOW,
        expires_at: NOW.saturating_add(Duration::from_secs(60)),
        consumed_at: None,
    }
}

fn exchange() -> CodeExchange {
    CodeExchange {
        grant_expires_at: NOW.saturating_add(Duration::from_secs(86_400)),
        refresh_token: None,
    }
}

fn closed_port_builder() -> PostgresStoreBuilder {
    let url = format!(
        "postgres://postgres@127.0.0.1:{}/test",
        common::closed_port()
    );
    PostgresStoreBuilder::new(&url)
        .unwrap()
        .acquire_timeout(Duration::from_millis(300))
}

/// Needs no database: nothing listens on the port.
#[tokio::test]
async fn closed_port_is_unavailable() {
    let started = Instant::now();
    let err = closed_port_builder().connect().await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    assert!(matches!(err, ConnectError::Unavailable { .. }));

    let store = closed_port_builder().connect_lazy().unwrap();
    let err = store.find_code(&SecretHash::of("c")).await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    let err = store
        .consume_code(&SecretHash::of("c"), exchange(), NOW)
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Unavailable { .. }),
        "not NotFound, not Conflict, not an outcome: {err:?}"
    );
    let err = store.insert_code(code("c")).await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    let err = store.purge_expired(NOW).await.unwrap_err();
    assert!(err.is_unavailable(), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "bounded by the acquire timeout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statement_timeout_is_unavailable_and_changes_nothing() {
    let Some(admin) = common::database().await else {
        return;
    };
    let schema = common::fresh_schema(&admin).await;
    let store = common::builder(&schema)
        .statement_timeout(Duration::from_millis(300))
        .connect()
        .await
        .unwrap();
    store.insert_code(code("locked")).await.unwrap();

    // Another session holds the code's row lock, as a stuck transaction would.
    let mut blocker = admin.begin().await.unwrap();
    sqlx::query(&format!(
        "SELECT 1 FROM {schema}.codes WHERE hash = $1 FOR UPDATE"
    ))
    .bind(SecretHash::of("locked").as_bytes().as_slice())
    .execute(&mut *blocker)
    .await
    .unwrap();
    let err = store
        .consume_code(&SecretHash::of("locked"), exchange(), NOW)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
    blocker.rollback().await.unwrap();

    let stored = store
        .find_code(&SecretHash::of("locked"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.consumed_at, None,
        "the cancelled consume changed nothing"
    );
    assert_eq!(
        store
            .get_grant(&FamilyId::parse("fam-1").unwrap())
            .await
            .unwrap(),
        None
    );
    let retry = store
        .consume_code(&SecretHash::of("locked"), exchange(), NOW)
        .await
        .unwrap();
    assert!(
        matches!(retry, CodeConsumption::Consumed { .. }),
        "{retry:?}"
    );
    common::drop_schema(&admin, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exhausted_pool_is_unavailable() {
    let Some(admin) = common::database().await else {
        return;
    };
    let schema = common::fresh_schema(&admin).await;
    let store = common::builder(&schema)
        .max_connections(1)
        .acquire_timeout(Duration::from_millis(200))
        .connect()
        .await
        .unwrap();
    let held = store.pool().acquire().await.unwrap();
    let err = store.find_code(&SecretHash::of("x")).await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "{err:?}");
    drop(held);
    assert_eq!(store.find_code(&SecretHash::of("x")).await, Ok(None));
    common::drop_schema(&admin, &schema).await;
}
