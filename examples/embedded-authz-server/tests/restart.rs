//! The application started twice on the same database with the same configuration: the second
//! start provisions nothing and the client's secret still works; a changed configuration fails to
//! start with the setting that differs. Over real HTTP on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::net::SocketAddr;

use embedded_authz_server::{AppConfig, Database, StartError, app};
use mcp_authz_server::{
    ClientId, ClientSecret, ClientSetting, ConfidentialClient, GrantType, Issuer, ProvisionError,
    ResourceUri, Scope,
};

fn config(base: &str, database: &Database, all_resources: bool) -> AppConfig {
    let resource = ResourceUri::parse(&format!("{base}/mcp")).unwrap();
    let client = ConfidentialClient::builder(ClientId::parse("reporting").unwrap())
        .grant_type(GrantType::ClientCredentials)
        .secret(ClientSecret::new("from-the-configuration"));
    let client = if all_resources {
        client.all_resources()
    } else {
        client.resource(resource.clone())
    };
    AppConfig {
        issuer: Issuer::parse(base).unwrap(),
        database: database.clone(),
        resource,
        scopes: Scope::parse("reports:read").unwrap(),
        clients: vec![client.build().unwrap()],
    }
}

/// Starts the application on `listener`; returns the task serving it.
async fn start(
    listener: tokio::net::TcpListener,
    config: &AppConfig,
) -> tokio::task::JoinHandle<()> {
    let (router, _server) = app(config).await.unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    })
}

async fn check(base: &str) {
    let http = reqwest::Client::new();
    // The application's own routes.
    assert_eq!(
        http.get(format!("{base}/health"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ok"
    );
    assert_eq!(
        http.get(format!("{base}/api/hello"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // The authorization server's, merged at the root.
    let metadata: serde_json::Value = http
        .get(format!("{base}/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(metadata["issuer"], base);
    // The provisioned client gets a token with the secret of the configuration.
    let token = http
        .post(format!("{base}/token"))
        .basic_auth("reporting", Some("from-the-configuration"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("resource", &format!("{base}/mcp")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200);
    // Unknown paths reach the server's fallback.
    assert_eq!(
        http.get(format!("{base}/nowhere"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

/// Start, check, restart with the same configuration, check; a changed configuration fails.
async fn restart_scenario(database: &Database) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let base = format!("http://{address}");

    let first = start(listener, &config(&base, database, false)).await;
    check(&base).await;
    first.abort();
    let _ = first.await;

    // The same configuration, the same database, the same address: starts, nothing changes.
    let listener = tokio::net::TcpListener::bind(address).await.unwrap();
    let second = start(listener, &config(&base, database, false)).await;
    check(&base).await;
    second.abort();

    // A changed configuration does not start, and says why.
    match app(&config(&base, database, true)).await {
        Err(StartError::Provision(ProvisionError::SettingsConflict { setting, .. })) => {
            assert_eq!(setting, ClientSetting::Resources);
        }
        Err(e) => panic!("unexpected error: {e}"),
        Ok(_) => panic!("a changed configuration started"),
    }
}

#[tokio::test]
async fn restarting_on_the_same_sqlite_database_provisions_idempotently() {
    let dir = tempfile::tempdir().unwrap();
    restart_scenario(&Database::Sqlite(dir.path().join("app-state.db"))).await;
}

/// The same on PostgreSQL (`MCP_AUTHZ_TEST_POSTGRES_URL`, default
/// `postgres://postgres@127.0.0.1:5432/test`), in a schema of its own. Unreachable: fails with
/// `CI=true`, else says so loudly and returns.
#[tokio::test]
async fn restarting_on_the_same_postgres_database_provisions_idempotently() {
    let url = std::env::var("MCP_AUTHZ_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let schema = format!("embedded_example_{}", std::process::id());
    let pool = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_secs(5))
        .connect(&url)
        .await;
    let pool = match pool {
        Ok(pool) => pool,
        Err(error) => {
            assert!(
                !std::env::var("CI").is_ok_and(|v| v == "true" || v == "1"),
                "CI=true but PostgreSQL at {url} is unreachable ({error})"
            );
            eprintln!(
                "\n*** PostgreSQL at {url} is unreachable ({error}): this test did not run.\n"
            );
            return;
        }
    };
    // The application's own schema (the store requires it to exist).
    sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&pool)
        .await
        .unwrap();
    restart_scenario(&Database::Postgres {
        url,
        schema: Some(schema.clone()),
    })
    .await;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&pool)
        .await
        .unwrap();
}
