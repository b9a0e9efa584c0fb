//! What an operator's tooling asks of a running `serve`: `/healthz` (the process answers),
//! `/readyz` (the store answers and a signing key is loaded: send traffic here), and one access-log
//! line per request.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::StatusCode;
use http::header::{CACHE_CONTROL, HeaderValue, RETRY_AFTER};
use mcp_authz_server::AuthorizationServer;

use super::metrics::Metrics;
use crate::error::printable;

/// The target of the access-log lines (filter on it: `mcp_authz::access`).
pub(super) const ACCESS_LOG_TARGET: &str = "mcp_authz::access";

/// `/healthz` and `/readyz`. Without an authorization server (resource-server-only mode) there is
/// nothing to check beyond the process: `/readyz` answers like `/healthz`.
pub(super) fn routes(server: Option<AuthorizationServer>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(server)
}

async fn healthz() -> Response {
    plain(StatusCode::OK, "ok\n")
}

async fn readyz(State(server): State<Option<AuthorizationServer>>) -> Response {
    let Some(server) = server else {
        return plain(StatusCode::OK, "ready\n");
    };
    match server.readiness().await {
        Ok(()) => plain(StatusCode::OK, "ready\n"),
        Err(error) => {
            // The cause (a store error can name hosts, users and databases) goes to the log only:
            // this listener is public.
            tracing::warn!(%error, "not ready");
            let mut response = plain(StatusCode::SERVICE_UNAVAILABLE, "not ready\n");
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from_static("5"));
            response
        }
    }
}

fn plain(status: StatusCode, body: &str) -> Response {
    let mut response = (status, body.to_owned()).into_response();
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Logs one line per request at INFO under [`ACCESS_LOG_TARGET`]: method, path (never the query,
/// which can hold codes, `state` or tokens), status and latency, and counts it in the metrics when
/// they are on. The path is made printable (a client chooses it).
pub(super) async fn access_log(
    State(metrics): State<Option<Arc<Metrics>>>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().clone();
    let path: String = request.uri().path().chars().take(256).collect();
    let started = Instant::now();
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    if let Some(metrics) = &metrics {
        metrics.record(&path, response.status().as_u16(), elapsed);
    }
    let latency_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
    tracing::info!(
        target: ACCESS_LOG_TARGET,
        method = %method,
        path = %printable(&path),
        status = response.status().as_u16(),
        latency_us,
        "request"
    );
    response
}
