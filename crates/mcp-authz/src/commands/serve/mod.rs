//! `mcp-authz serve`: the authorization server at the root and the demo MCP server at `/mcp`, on one
//! listener, over a SQLite file (default) or PostgreSQL.

mod admin;
mod args;
mod body_timeout;
mod cimd;
mod listen;
mod metrics;
mod ops;
mod resource_only;
mod revocation;
mod settings;
mod signal;
mod tls;

pub(crate) use args::ServeArgs;
pub(crate) use settings::{log_format, log_level};

use std::io::Write;
use std::net::SocketAddr;

use mcp_authz_metadata::{Issuer, ResourceUri, Scope, ScopeToken};
use mcp_authz_server::dangerous::AutoApprove;
use mcp_authz_server::{AuthorizationServer, PageTemplates, ServerConfig};
use mcp_authz_store::Subject;

use crate::demo;
use crate::error::CliError;
use crate::storage::{self, Missing};
use settings::ServeSettings;

/// The subject `--dev` approves every request as.
const DEV_SUBJECT: &str = "dev-user";

/// Runs the server until SIGINT or SIGTERM.
pub(crate) fn run(args: ServeArgs, out: &mut impl Write) -> Result<(), CliError> {
    if args.example_config {
        out.write_all(crate::settings::EXAMPLE_CONFIG.as_bytes())?;
        return Ok(());
    }
    let settings = settings::resolve(&args, demo::SCOPES)?;
    if settings.dev && !settings.bind.ip().is_loopback() {
        return Err(CliError::DevNotLoopback(settings.bind));
    }
    // Bad certificate files fail before anything is created or bound.
    let tls = settings.tls.as_ref().map(tls::load).transpose()?;
    // Like --dev, refused off loopback; a bad certificate file fails here too.
    if let Some(roots) = &settings.dangerous_loopback_cimd {
        cimd::loopback_documents(settings.bind, roots)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(CliError::Serve)?;
    if settings.authorization_server.is_some() {
        return runtime.block_on(resource_only::serve(settings, tls, out));
    }
    runtime.block_on(serve(settings, tls, out))
}

/// Binds the listener; the bound address (port 0 resolved) and `http` or `https`.
async fn bind(
    settings: &ServeSettings,
    tls: Option<&tls::Tls>,
) -> Result<(tokio::net::TcpListener, SocketAddr, &'static str), CliError> {
    let addr = settings.bind;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| CliError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| CliError::Bind { addr, source })?;
    Ok((
        listener,
        local,
        if tls.is_some() { "https" } else { "http" },
    ))
}

/// The issuer (or, in resource-server-only mode, the public base URL): `--issuer`, else
/// `<scheme>://<bound address>`.
fn public_base(
    settings: &ServeSettings,
    scheme: &str,
    local: SocketAddr,
) -> Result<Issuer, CliError> {
    let text = settings
        .issuer
        .clone()
        .unwrap_or_else(|| format!("{scheme}://{local}"));
    Issuer::parse(&text).map_err(|e| CliError::InvalidArgument {
        what: if settings.issuer.is_some() {
            "--issuer"
        } else {
            "issuer derived from --bind (set --issuer to the public https URL)"
        },
        reason: e.to_string(),
    })
}

async fn serve(
    args: ServeSettings,
    tls: Option<tls::Tls>,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let (store, browser_states) = storage::open_for_serve(
        &args.storage.location()?,
        Missing::Create,
        args.storage.sharing(),
    )
    .await?;
    let (listener, local, scheme) = bind(&args, tls.as_ref()).await?;
    let issuer = public_base(&args, scheme, local)?;
    let resource = resource_of(&issuer)?;

    let mut config = ServerConfig::builder(issuer.clone())
        .allow_http_loopback()
        .resource(resource.clone(), scope(demo::SCOPES)?);
    for extra in &args.resources {
        config = config.resource(extra.resource.clone(), extra.scopes.clone());
    }
    if let Some(name) = &args.service_name {
        config = config.service_name(name.clone());
    }
    let descriptions = demo::SCOPE_DESCRIPTIONS
        .iter()
        .map(|(s, text)| ((*s).to_owned(), (*text).to_owned()))
        .chain(args.scope_descriptions.clone());
    for (token, text) in descriptions {
        let token = ScopeToken::parse(&token).map_err(|e| CliError::InvalidArgument {
            what: "scope_descriptions",
            reason: format!("{token}: {e}"),
        })?;
        config = config.scope_description(token, text);
    }
    let postgres = browser_states
        .as_ref()
        .map(|shared| shared.postgres.clone());
    if let Some(shared) = browser_states {
        // Any instance on this database can serve any step of a browser flow, and the account
        // lockout counts every instance's failed logins (SC-1).
        config = config
            .shared_browser_state(shared.browser)
            .shared_login_attempts(shared.login_attempts);
    }
    let details = demo::SCOPE_DETAILS
        .iter()
        .map(|(s, text)| ((*s).to_owned(), (*text).to_owned()))
        .chain(args.scope_details.clone());
    for (token, text) in details {
        let token = ScopeToken::parse(&token).map_err(|e| CliError::InvalidArgument {
            what: "scope_details",
            reason: format!("{token}: {e}"),
        })?;
        config = config.scope_details(token, text);
    }
    if let Some(dir) = &args.templates {
        let templates = PageTemplates::from_dir(dir).map_err(|e| CliError::InvalidArgument {
            what: "--templates",
            reason: e.to_string(),
        })?;
        config = config.page_templates(templates);
    }
    if let Some(seconds) = args.access_token_ttl {
        config = config.access_token_lifetime(std::time::Duration::from_secs(seconds));
    }
    if let Some(days) = args.audit_retention_days {
        let retention = std::time::Duration::from_secs(days.saturating_mul(86_400));
        config = config.audit_retention(retention);
    }
    if let Some(alg) = args.signing_alg {
        config = config.signing_algorithm(alg.algorithm());
    }
    if let Some(limit) = args.rate_limits.authorize {
        config = config.authorize_rate_limit(limit);
    }
    if let Some(limit) = args.rate_limits.token {
        config = config.token_rate_limit(limit);
    }
    if let Some(limit) = args.rate_limits.register {
        config = config.register_rate_limit(limit);
    }
    if let Some(roots) = &args.dangerous_loopback_cimd {
        config = config.metadata_documents(cimd::loopback_documents(local, roots)?);
        eprintln!(
            "mcp-authz: WARNING: --dangerous-allow-loopback-cimd lets clients make this server fetch \
             metadata documents from loopback and private addresses. Interoperability tests only."
        );
    }
    if args.dev {
        let subject = Subject::parse(DEV_SUBJECT).map_err(|e| CliError::InvalidArgument {
            what: "dev subject",
            reason: e.to_string(),
        })?;
        config = config.dangerous_auto_approve(AutoApprove::DevUser(subject));
    }
    let server = AuthorizationServer::new(config.build()?, store.clone())?;
    // Expired codes, tokens and cached documents, and audit events past their retention, are purged
    // every minute while serving.
    let _purge = server.spawn_purge(std::time::Duration::from_secs(60));
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

    let verifier = demo::verifier(
        issuer.clone(),
        resource.clone(),
        None,
        tls.as_ref().map(|t| t.chain_pem.as_slice()),
    )?;
    let metrics = metrics_on(args.metrics_bind, Some(server.clone()), postgres).await?;
    let app = server
        .router()
        .merge(demo::routes(
            &resource,
            issuer.clone(),
            allowed_hosts(&issuer, local),
            verifier,
            Some(revocation::SharedStore(server.clone())),
        )?)
        .merge(ops::routes(Some(server.clone())))
        .layer(axum::middleware::from_fn_with_state(
            metrics.as_ref().map(|(m, _)| m.clone()),
            ops::access_log,
        ));

    // Before the announcement: a stop request right after it is a graceful stop.
    let shutdown = signal::shutdown();
    writeln!(out, "listening on {scheme}://{local}")?;
    announce_metrics(metrics.as_ref(), out)?;
    out.flush()?;
    tracing::info!(%issuer, %resource, %local, "mcp-authz serving");
    listen::serve(
        listener,
        app,
        tls.map(|t| t.acceptor),
        args.limits,
        args.trusted_proxies,
        shutdown,
    )
    .await
    .map_err(CliError::Serve)?;
    tracing::info!("stopped");
    Ok(())
}

/// Starts the metrics listener when `--metrics-bind` is set: the metrics the access log feeds, and
/// the bound address.
async fn metrics_on(
    bind: Option<SocketAddr>,
    server: Option<AuthorizationServer>,
    postgres: Option<mcp_authz_store_postgres::PostgresStore>,
) -> Result<Option<(std::sync::Arc<metrics::Metrics>, SocketAddr)>, CliError> {
    let Some(addr) = bind else {
        return Ok(None);
    };
    let collected = std::sync::Arc::new(metrics::Metrics::new(postgres));
    let local = metrics::serve(addr, collected.clone(), server)
        .await
        .map_err(|source| CliError::Bind { addr, source })?;
    Ok(Some((collected, local)))
}

/// The line after "listening on …" when metrics are served.
fn announce_metrics(
    metrics: Option<&(std::sync::Arc<metrics::Metrics>, SocketAddr)>,
    out: &mut impl Write,
) -> std::io::Result<()> {
    match metrics {
        Some((_, local)) => writeln!(out, "metrics on http://{local}/metrics"),
        None => Ok(()),
    }
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
