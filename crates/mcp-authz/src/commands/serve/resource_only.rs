//! `serve --authorization-server <issuer>`: only the demo MCP server at `/mcp` (and its RFC 9728
//! metadata), accepting the access tokens an external authorization server issues for it. No local
//! store: nothing is created on disk.

use std::io::Write;

use mcp_authz_metadata::{AuthorizationServerMetadata, Issuer, authorization_server_metadata_urls};
use mcp_authz_resource::{
    DEFAULT_FETCH_TIMEOUT, FetchError, HttpClient as _, HttpRequest, ReqwestHttpClient,
};

use super::settings::ServeSettings;
use super::{allowed_hosts, bind, listen, public_base, resource_of, tls::Tls};
use crate::demo;
use crate::error::CliError;

/// The largest metadata document read.
const MAX_METADATA: usize = 64 * 1024;

/// Serves the demo MCP server against the external authorization server until SIGINT or SIGTERM.
pub(super) async fn serve(
    settings: ServeSettings,
    tls: Option<Tls>,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let Some(authorization_server) = settings.authorization_server.clone() else {
        return Err(CliError::InvalidArgument {
            what: "--authorization-server",
            reason: "missing".into(),
        });
    };
    if settings.dev {
        return Err(CliError::InvalidArgument {
            what: "--dev",
            reason: "it approves requests at a local authorization server; with \
                     --authorization-server there is none"
                .into(),
        });
    }
    // A server that answers with wrong metadata is a configuration error: stop now. One that does
    // not answer yet (started together, or restarting) is waited for: the verifier discovers its
    // metadata and keys itself, and `/mcp` answers 503 with Retry-After until it can.
    let jwks_uri = match discover(&authorization_server).await? {
        Discovered::Metadata(metadata) => {
            Some(metadata.jwks_uri.ok_or_else(|| CliError::InvalidArgument {
                what: "--authorization-server",
                reason: format!(
                    "the metadata of {} has no jwks_uri (only JWT access tokens are supported)",
                    authorization_server.as_str()
                ),
            })?)
        }
        Discovered::NotAnswering(reason) => {
            tracing::warn!(
                authorization_server = %authorization_server,
                %reason,
                "the authorization server does not answer yet: /mcp answers 503 until it does"
            );
            None
        }
    };
    let (listener, local, scheme) = bind(&settings, tls.as_ref()).await?;
    let base = public_base(&settings, scheme, local)?;
    let resource = resource_of(&base)?;
    let verifier = demo::verifier(
        authorization_server.clone(),
        resource.clone(),
        jwks_uri,
        tls.as_ref().map(|t| t.chain_pem.as_slice()),
    )?;
    let metrics = super::metrics_on(settings.metrics_bind, None, None).await?;
    let app = demo::routes(
        &resource,
        authorization_server.clone(),
        allowed_hosts(&base, local),
        verifier,
        None::<demo::NoRevocationCheck>,
    )?
    .merge(super::ops::routes(None))
    .layer(axum::middleware::from_fn_with_state(
        metrics.as_ref().map(|(m, _)| m.clone()),
        super::ops::access_log,
    ));
    // Before the announcement: a stop request right after it is a graceful stop.
    let shutdown = super::signal::shutdown();
    writeln!(out, "listening on {scheme}://{local}")?;
    super::announce_metrics(metrics.as_ref(), out)?;
    out.flush()?;
    tracing::info!(
        authorization_server = %authorization_server,
        %resource,
        %local,
        "mcp-authz serving the demo MCP server only"
    );
    listen::serve(
        listener,
        app,
        tls.map(|t| t.acceptor),
        settings.limits,
        settings.trusted_proxies,
        shutdown,
    )
    .await
    .map_err(CliError::Serve)?;
    tracing::info!("stopped");
    Ok(())
}

/// RFC 8414 discovery: the first document at the issuer's well-known URLs whose `issuer` is the
/// issuer, exactly (RFC 8414 §3.3).
/// What the start-up discovery found.
enum Discovered {
    /// The authorization server's metadata, its issuer checked.
    Metadata(Box<AuthorizationServerMetadata>),
    /// No metadata URL answered, or each answered 5xx: the server is not up (yet).
    NotAnswering(String),
}

async fn discover(issuer: &Issuer) -> Result<Discovered, CliError> {
    let fail = |reason: String| CliError::Discovery {
        issuer: issuer.as_str().to_owned(),
        reason,
    };
    let http = ReqwestHttpClient::builder()
        .timeout(DEFAULT_FETCH_TIMEOUT)
        .env_proxy(true)
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let mut last = String::from("no metadata URL");
    let mut answered = false;
    for url in authorization_server_metadata_urls(issuer) {
        let mut request = HttpRequest::get(url.clone());
        request.max_response_bytes = MAX_METADATA;
        request.headers.insert(
            http::header::ACCEPT,
            http::HeaderValue::from_static("application/json"),
        );
        let body = match http.execute(request).await {
            Ok(response) if response.status.is_success() => response.body,
            Ok(response) => {
                answered |= !response.status.is_server_error();
                last = FetchError::Status {
                    url: url.to_string(),
                    status: response.status.as_u16(),
                }
                .to_string();
                continue;
            }
            Err(e) => {
                last = format!("{url}: {e}");
                continue;
            }
        };
        match AuthorizationServerMetadata::parse_with_limit(&body, MAX_METADATA) {
            Ok(doc) if doc.issuer.as_str() == issuer.as_str() => {
                return Ok(Discovered::Metadata(Box::new(doc)));
            }
            Ok(doc) => {
                answered = true;
                last = format!(
                    "{url}: issuer {:?} is not {:?}",
                    doc.issuer.as_str(),
                    issuer.as_str()
                );
            }
            Err(e) => {
                answered = true;
                last = format!("{url}: {e}");
            }
        }
    }
    if answered {
        Err(fail(last))
    } else {
        Ok(Discovered::NotAnswering(last))
    }
}
