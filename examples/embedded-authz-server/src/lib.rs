//! An existing axum application (`/health`, `/api/hello`) that embeds `mcp-authz-server` on a SQLite
//! file of its own or on PostgreSQL, and provisions its confidential clients from its configuration at every start:
//! idempotently, so a restart on the same database changes nothing, and a changed configuration
//! fails with the setting that differs.

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use mcp_authz_server::Store;
use mcp_authz_server::{
    AuthorizationServer, ConfidentialClient, ConfigError, Issuer, ProvisionError, ResourceUri,
    Scope, ServerConfig,
};
use mcp_authz_store_postgres::{ConnectError, PostgresStore};
use mcp_authz_store_sqlite::{OpenError, SqliteStore};

/// The application's configuration (from its own file or environment in a real program).
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// The authorization server's issuer: this application's public origin.
    pub issuer: Issuer,
    /// Where the authorization server keeps its state.
    pub database: Database,
    /// The protected resource tokens are issued for, with its scopes.
    pub resource: ResourceUri,
    /// The scopes of `resource`.
    pub scopes: Scope,
    /// The confidential clients to provision at start.
    pub clients: Vec<ConfidentialClient>,
}

/// The application's database.
#[derive(Debug, Clone)]
pub enum Database {
    /// A SQLite file (any name; `mcp-authz --database PATH` administers it).
    Sqlite(PathBuf),
    /// PostgreSQL (several instances may share it): the URL, and optionally a schema of the
    /// application's own (default `public`).
    Postgres {
        /// `postgres://user:password@host/database`.
        url: String,
        /// The schema for the authorization server's tables.
        schema: Option<String>,
    },
}

impl Database {
    /// Opens (and migrates) the store.
    async fn open(&self) -> Result<Arc<dyn Store>, StartError> {
        Ok(match self {
            Self::Sqlite(path) => Arc::new(SqliteStore::open(path).await?),
            Self::Postgres { url, schema } => {
                let mut builder = PostgresStore::builder(url)?;
                if let Some(schema) = schema {
                    builder = builder.schema(schema);
                }
                Arc::new(builder.connect().await?)
            }
        })
    }
}

/// Why the application did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database could not be opened.
    #[error("database: {0}")]
    Store(#[from] OpenError),
    /// PostgreSQL could not be reached or migrated.
    #[error("database: {0}")]
    Postgres(#[from] ConnectError),
    /// The authorization server's configuration was refused.
    #[error("authorization server: {0}")]
    Config(#[from] ConfigError),
    /// A client of the configuration conflicts with the stored one (or the store failed).
    #[error("provisioning: {0}")]
    Provision(#[from] ProvisionError),
}

/// Builds the application: its own routes merged with the authorization server's router at the root
/// (`nest` would move the well-known URLs; the server's router brings the fallback). Serve the router
/// with `into_make_service_with_connect_info::<SocketAddr>()` so that rate limits see client IPs.
pub async fn app(config: &AppConfig) -> Result<(Router, AuthorizationServer), StartError> {
    let store = config.database.open().await?;
    // `allow_http_loopback` admits only `http://127.0.0.1…`-style issuers; https ones are unaffected.
    let server_config = ServerConfig::builder(config.issuer.clone())
        .allow_http_loopback()
        .resource(config.resource.clone(), config.scopes.clone())
        .build()?;
    let server = AuthorizationServer::new(server_config, store)?;
    for client in &config.clients {
        server.provision_client(client).await?;
    }
    let app = Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/api/hello", get(|| async { "hello from the application" }))
        .merge(server.router());
    Ok((app, server))
}
