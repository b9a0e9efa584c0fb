//! Runs the embedded example: `APP_ISSUER` (default `http://127.0.0.1:8500`), `APP_DATABASE`
//! (default `./app.sqlite3`; a `postgres://` URL uses PostgreSQL), and one machine client `reporting` whose secret is `APP_CLIENT_SECRET`.

use std::net::SocketAddr;

use embedded_authz_server::{AppConfig, Database, app};
use mcp_authz_server::{
    ClientId, ClientSecret, ConfidentialClient, GrantType, Issuer, ResourceUri, Scope,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let issuer = std::env::var("APP_ISSUER").unwrap_or_else(|_| "http://127.0.0.1:8500".into());
    let issuer = Issuer::parse(&issuer)?;
    let resource = ResourceUri::parse(&format!("{}/mcp", issuer.as_str()))?;
    let reporting = ConfidentialClient::builder(ClientId::parse("reporting")?)
        .grant_type(GrantType::ClientCredentials)
        .resource(resource.clone())
        .secret(ClientSecret::new(std::env::var("APP_CLIENT_SECRET")?))
        .build()?;
    let database = std::env::var("APP_DATABASE").unwrap_or_else(|_| "app.sqlite3".into());
    let database = if database.starts_with("postgres://") || database.starts_with("postgresql://") {
        Database::Postgres {
            url: database,
            schema: None,
        }
    } else {
        Database::Sqlite(database.into())
    };
    let config = AppConfig {
        database,
        scopes: Scope::parse("reports:read")?,
        resource,
        clients: vec![reporting],
        issuer: issuer.clone(),
    };
    let (router, _server) = app(&config).await?;
    let address = issuer.url().host_str().unwrap_or("127.0.0.1").to_owned();
    let port = issuer.url().port_or_known_default().unwrap_or(8500);
    let listener = tokio::net::TcpListener::bind((address.as_str(), port)).await?;
    eprintln!("listening on {}", issuer.as_str());
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}
