//! `mcp-authz serve`: the authorization server at the root and the demo MCP server at `/mcp`, on one
//! listener, over a SQLite file (default) or PostgreSQL.

mod admin;
mod signal;
mod storage;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use mcp_authz_metadata::{Issuer, ResourceUri, Scope};
use mcp_authz_server::dangerous::AutoApprove;
use mcp_authz_server::{AuthorizationServer, ServerConfig};
use mcp_authz_store::Subject;

use crate::cli::ServeArgs;
use crate::demo;
use crate::error::CliError;

/// The subject `--dev` approves every request as.
const DEV_SUBJECT: &str = "dev-user";

/// Runs the server until SIGINT or SIGTERM.
pub(crate) fn run(args: ServeArgs, out: &mut impl Write) -> Result<(), CliError> {
    if args.dev && !args.bind.ip().is_loopback() {
        return Err(CliError::DevNotLoopback(args.bind));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::Serve)?;
    runtime.block_on(serve(args, out))
}

async fn serve(args: ServeArgs, out: &mut impl Write) -> Result<(), CliError> {
    let store = storage::open(&args).await?;
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .map_err(|source| CliError::Bind {
            addr: args.bind,
            source,
        })?;
    let local = listener.local_addr().map_err(|source| CliError::Bind {
        addr: args.bind,
        source,
    })?;
    let issuer_text = args
        .issuer
        .clone()
        .unwrap_or_else(|| format!("http://{local}"));
    let issuer = Issuer::parse(&issuer_text).map_err(|e| CliError::InvalidArgument {
        what: if args.issuer.is_some() {
            "--issuer"
        } else {
            "issuer derived from --bind (set --issuer to the public https URL)"
        },
        reason: e.to_string(),
    })?;
    let resource = resource_of(&issuer)?;

    let mut config = ServerConfig::builder(issuer.as_str())
        .allow_http_loopback()
        .resource(resource.clone(), scope(demo::SCOPES)?);
    if args.dev {
        let subject = Subject::parse(DEV_SUBJECT).map_err(|e| CliError::InvalidArgument {
            what: "dev subject",
            reason: e.to_string(),
        })?;
        config = config.dangerous_auto_approve(AutoApprove::DevUser(subject));
    }
    let server = AuthorizationServer::new(config.build()?, store.clone())?;
    if args.dev {
        tracing::warn!(
            subject = DEV_SUBJECT,
            "DEVELOPMENT MODE: every authorization request is approved without login or consent"
        );
        eprintln!(
            "mcp-authz: WARNING: --dev approves EVERY authorization request as `{DEV_SUBJECT}` \
             without login or consent. Never use it for anything but local development."
        );
    }
    admin::ensure_first_user(&server, store.as_ref(), &issuer).await?;

    let app = server.router().merge(demo::routes(
        &resource,
        issuer.clone(),
        allowed_hosts(&issuer, local),
    )?);

    writeln!(out, "listening on http://{local}")?;
    out.flush()?;
    tracing::info!(%issuer, %resource, %local, "mcp-authz serving");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(signal::shutdown())
    .await
    .map_err(CliError::Serve)?;
    tracing::info!("stopped");
    Ok(())
}

fn scope(s: &str) -> Result<Scope, CliError> {
    Scope::parse(s).map_err(|e| CliError::InvalidArgument {
        what: "scope",
        reason: e.to_string(),
    })
}

/// The demo MCP server's resource URI: `/mcp` under the issuer.
fn resource_of(issuer: &Issuer) -> Result<ResourceUri, CliError> {
    let base = issuer.as_str().trim_end_matches('/');
    ResourceUri::parse(&format!("{base}/mcp")).map_err(|e| CliError::InvalidArgument {
        what: "--issuer",
        reason: e.to_string(),
    })
}

/// The `Host` values the MCP transport accepts (DNS rebinding protection): the issuer's host, and the
/// bound address.
fn allowed_hosts(issuer: &Issuer, local: SocketAddr) -> Vec<String> {
    let mut hosts = vec![local.to_string(), local.ip().to_string()];
    let url = issuer.url();
    if let Some(host) = url.host_str() {
        hosts.push(host.to_owned());
        if let Some(port) = url.port_or_known_default() {
            hosts.push(format!("{host}:{port}"));
        }
    }
    hosts
}

/// Keeps the store handle type in one place.
type SharedStore = Arc<dyn mcp_authz_store::Store>;
