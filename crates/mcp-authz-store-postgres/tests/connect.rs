//! Connecting: migrations applied once under the advisory lock even when instances start together,
//! a newer schema refused, builder settings applied to every pooled connection.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use mcp_authz_store::{ClientStore, StoreError};
use mcp_authz_store_postgres::{ConnectError, PostgresStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_instances_migrate_once_without_racing() {
    let Some(admin) = common::database().await else {
        return;
    };
    let schema = common::fresh_schema(&admin).await;
    let starting: Vec<_> = (0..8)
        .map(|_| tokio::spawn(common::builder(&schema).max_connections(2).connect()))
        .collect();
    for instance in starting {
        let store = instance.await.unwrap().expect("every instance connects");
        assert!(
            store
                .get_client(&"nobody".parse().unwrap())
                .await
                .unwrap()
                .is_none()
        );
    }
    let applied: Vec<(i64, bool)> = sqlx::query_as(&format!(
        "SELECT version, success FROM {schema}._sqlx_migrations ORDER BY version"
    ))
    .fetch_all(&admin)
    .await
    .unwrap();
    // Every embedded migration applied once, in order, up to the newest, and successfully.
    assert_eq!(applied.first().map(|a| a.0), Some(1));
    assert_eq!(
        applied.last().map(|a| a.0),
        Some(PostgresStore::schema_version())
    );
    assert!(applied.windows(2).all(|w| w[0].0 < w[1].0), "{applied:?}");
    assert!(applied.iter().all(|a| a.1), "{applied:?}");
    // A ninth instance finds nothing to do.
    common::builder(&schema).connect().await.unwrap();
    common::drop_schema(&admin, &schema).await;
}

#[tokio::test]
async fn newer_schema_is_refused() {
    let Some(admin) = common::database().await else {
        return;
    };
    let schema = common::fresh_schema(&admin).await;
    common::builder(&schema).connect().await.unwrap();
    let future_version = PostgresStore::schema_version() + 1;
    sqlx::query(&format!(
        "INSERT INTO {schema}._sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES ($1, 'from a newer release', true, '\\x00'::bytea, 0)"
    ))
    .bind(future_version)
    .execute(&admin)
    .await
    .unwrap();
    let err = common::builder(&schema).connect().await.unwrap_err();
    assert_eq!(
        err,
        ConnectError::SchemaTooNew {
            found: future_version,
            known: PostgresStore::schema_version()
        }
    );
    assert!(!err.is_unavailable());
    common::drop_schema(&admin, &schema).await;
}

#[tokio::test]
async fn statement_timeout_and_search_path_apply_to_pooled_connections() {
    let Some(admin) = common::database().await else {
        return;
    };
    let schema = common::fresh_schema(&admin).await;
    let store = common::builder(&schema)
        .statement_timeout(Duration::from_millis(1_500))
        .connect()
        .await
        .unwrap();
    let (timeout, path): (String, String) = sqlx::query_as(
        "SELECT current_setting('statement_timeout'), current_setting('search_path')",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert_eq!(timeout, "1500ms");
    assert_eq!(path, schema);
    let default = PostgresStore::builder(&common::url())
        .unwrap()
        .schema(&schema)
        .connect()
        .await
        .unwrap();
    let timeout: String = sqlx::query_scalar("SELECT current_setting('statement_timeout')")
        .fetch_one(default.pool())
        .await
        .unwrap();
    assert_eq!(timeout, "5s", "documented default");
    common::drop_schema(&admin, &schema).await;
}

#[tokio::test]
async fn missing_schema_tables_are_corrupt_not_unavailable() {
    let Some(admin) = common::database().await else {
        return;
    };
    // A schema nobody migrated, used lazily: the tables are not there.
    let schema = common::fresh_schema(&admin).await;
    let store = common::builder(&schema).connect_lazy().unwrap();
    let err = store
        .get_client(&"client-a".parse().unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    store.migrate().await.unwrap();
    assert_eq!(
        store.get_client(&"client-a".parse().unwrap()).await,
        Ok(None)
    );
    common::drop_schema(&admin, &schema).await;
}
