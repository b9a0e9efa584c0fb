//! An MCP server (rmcp, streamable HTTP) protected by `mcp-authz-resource`.
//!
//! Configuration (environment variables or `--flag value` arguments):
//!
//! | flag / variable | meaning | default |
//! |---|---|---|
//! | `--resource` / `MCP_RESOURCE` | canonical resource URI of this server | `http://127.0.0.1:8000/mcp` |
//! | `--issuer` / `MCP_ISSUER` | the authorization server's issuer | required |
//! | `--bind` / `MCP_BIND` | listen address | host and port of the resource |
//! | `--introspection-client-id` / `MCP_INTROSPECTION_CLIENT_ID` | use RFC 7662 introspection with these credentials instead of JWT validation | unset |
//! | `--introspection-client-secret` / `MCP_INTROSPECTION_CLIENT_SECRET` | | unset |
//!
//! Tools and the scopes they need (every request needs `mcp:tools`):
//! `whoami` (nothing more), `read_notes` (`notes:read`), `add_note` (`notes:write`, which implies
//! `notes:read`). The layer answers 401/403 with the challenge before rmcp sees the request; the tool
//! handlers read the validated claims from the HTTP request parts rmcp hands them.

use std::error::Error;

use mcp_authz_metadata::{ClientSecret, Issuer, ResourceUri};
use mcp_authz_resource::{
    IntrospectionVerifier, JwtVerifier, ResourceServer, TokenVerifier, VerifiedClaims, VerifyError,
};
use rmcp::transport::streamable_http_server::StreamableHttpServerConfig;

/// JWT validation or introspection, chosen at start-up.
enum Verifier {
    Jwt(JwtVerifier),
    Introspection(IntrospectionVerifier),
}

impl TokenVerifier for Verifier {
    async fn verify(
        &self,
        token: &mcp_authz_token::AccessToken,
    ) -> Result<VerifiedClaims, VerifyError> {
        match self {
            Self::Jwt(v) => v.verify(token).await,
            Self::Introspection(v) => v.verify(token).await,
        }
    }
}

/// A setting from `--name value` or the environment variable `env`.
fn setting(name: &str, env: &str) -> Option<String> {
    let flag = format!("--{name}");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == flag {
            return args.next();
        }
        if let Some(value) = arg.strip_prefix(&format!("{flag}=")) {
            return Some(value.to_owned());
        }
    }
    std::env::var(env).ok()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error + Send + Sync>> {
    let resource = ResourceUri::parse(
        &setting("resource", "MCP_RESOURCE").unwrap_or_else(|| "http://127.0.0.1:8000/mcp".into()),
    )?;
    let issuer = Issuer::parse(
        &setting("issuer", "MCP_ISSUER").ok_or("--issuer (or MCP_ISSUER) is required")?,
    )?;
    let host = resource.url().host_str().unwrap_or("127.0.0.1").to_owned();
    let port = resource.url().port_or_known_default().unwrap_or(8000);
    let bind = setting("bind", "MCP_BIND").unwrap_or_else(|| format!("{host}:{port}"));

    let config = protected_mcp_server::config(resource.clone(), issuer.clone())?;
    let verifier = match (
        setting("introspection-client-id", "MCP_INTROSPECTION_CLIENT_ID"),
        setting(
            "introspection-client-secret",
            "MCP_INTROSPECTION_CLIENT_SECRET",
        ),
    ) {
        (Some(id), Some(secret)) => Verifier::Introspection(
            IntrospectionVerifier::builder(
                issuer,
                resource.clone(),
                id.parse()?,
                ClientSecret::new(secret),
            )
            .build()?,
        ),
        _ => Verifier::Jwt(JwtVerifier::builder(issuer, resource.clone()).build()?),
    };

    let app = protected_mcp_server::app(
        &resource,
        ResourceServer::new(config, verifier),
        StreamableHttpServerConfig::default()
            .with_allowed_hosts([host.clone(), format!("{host}:{port}")]),
    );

    let listener = tokio::net::TcpListener::bind(&bind).await?;
    tracing::info!(%resource, %bind, "protected MCP server listening");
    println!("protected MCP server for {resource} listening on {bind}");
    axum::serve(listener, app).await?;
    Ok(())
}
