//! Request metrics in the Prometheus text format (version 0.0.4), served on a listener of their
//! own (`--metrics-bind`, off by default): requests by route and status, a latency histogram per
//! route, and the authorization server's own counters. Routes are a fixed set (anything else is
//! `other`), so a client cannot grow the label space.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::header::{CONTENT_TYPE, HeaderValue};
use mcp_authz_server::AuthorizationServer;
use mcp_authz_store_postgres::{LATENCY_BUCKETS as STORE_BUCKETS, PostgresStore};

/// The latency buckets' upper bounds, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

/// The routes counted by name; every other path is `other`.
const ROUTES: &[&str] = &[
    "/.well-known/oauth-authorization-server",
    "/.well-known/openid-configuration",
    "/.well-known/oauth-protected-resource",
    "/jwks",
    "/authorize",
    "/login",
    "/consent",
    "/token",
    "/register",
    "/revoke",
    "/introspect",
    "/mcp",
    "/healthz",
    "/readyz",
];

/// The route label of `path`: a known route (a well-known document with its path suffix counts as
/// its prefix), else `other`.
fn route(path: &str) -> &'static str {
    ROUTES
        .iter()
        .find(|r| path == **r || (r.starts_with("/.well-known/") && path.starts_with(**r)))
        .copied()
        .unwrap_or("other")
}

#[derive(Debug, Default)]
struct Histogram {
    /// Observations at or under each bucket's bound (not cumulative; summed when rendered).
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Debug, Default)]
struct Counts {
    requests: BTreeMap<(&'static str, u16), u64>,
    latency: BTreeMap<&'static str, Histogram>,
}

/// The request metrics of one `serve`.
#[derive(Debug, Default)]
pub(super) struct Metrics {
    counts: Mutex<Counts>,
    /// The PostgreSQL store, whose operations are counted (SQLite: none).
    postgres: Option<PostgresStore>,
}

impl Metrics {
    /// Empty request metrics, with the operations of `postgres` if set.
    pub(super) fn new(postgres: Option<PostgresStore>) -> Self {
        Self {
            counts: Mutex::default(),
            postgres,
        }
    }

    /// Counts one request.
    pub(super) fn record(&self, path: &str, status: u16, latency: Duration) {
        let route = route(path);
        let seconds = latency.as_secs_f64();
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        *counts.requests.entry((route, status)).or_default() += 1;
        let histogram = counts.latency.entry(route).or_default();
        if let Some(slot) = BUCKETS.iter().position(|bound| seconds <= *bound)
            && let Some(bucket) = histogram.buckets.get_mut(slot)
        {
            *bucket += 1;
        }
        histogram.count += 1;
        histogram.sum += seconds;
    }

    /// The text exposition, with the server's counters when there is a server.
    fn render(&self, server: Option<&AuthorizationServer>) -> String {
        let counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let mut text = String::new();
        text.push_str(
            "# HELP mcp_authz_http_requests_total HTTP requests answered, by route and status.\n\
             # TYPE mcp_authz_http_requests_total counter\n",
        );
        for ((route, status), n) in &counts.requests {
            let _ = writeln!(
                text,
                "mcp_authz_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        text.push_str(
            "# HELP mcp_authz_http_request_duration_seconds Time to answer, by route.\n\
             # TYPE mcp_authz_http_request_duration_seconds histogram\n",
        );
        for (route, histogram) in &counts.latency {
            let mut cumulative = 0;
            for (bound, n) in BUCKETS.iter().zip(histogram.buckets) {
                cumulative += n;
                let _ = writeln!(
                    text,
                    "mcp_authz_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                text,
                "mcp_authz_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\n\
                 mcp_authz_http_request_duration_seconds_sum{{route=\"{route}\"}} {}\n\
                 mcp_authz_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                histogram.count, histogram.sum, histogram.count
            );
        }
        if let Some(server) = server {
            let _ = write!(
                text,
                "# HELP mcp_authz_metadata_document_fetches_total Client ID Metadata Document fetches started.\n\
                 # TYPE mcp_authz_metadata_document_fetches_total counter\n\
                 mcp_authz_metadata_document_fetches_total {}\n\
                 # HELP mcp_authz_password_checks_peak Most Argon2 checks that ran at once.\n\
                 # TYPE mcp_authz_password_checks_peak gauge\n\
                 mcp_authz_password_checks_peak {}\n",
                server.metadata_document_fetches(),
                server.password_checks_peak()
            );
            let _ = write!(
                text,
                "# HELP mcp_authz_tokens_issued_total Access tokens issued.\n\
                 # TYPE mcp_authz_tokens_issued_total counter\n\
                 mcp_authz_tokens_issued_total {}\n\
                 # HELP mcp_authz_refresh_reuse_detected_total Reused refresh tokens detected (each revoked its grant).\n\
                 # TYPE mcp_authz_refresh_reuse_detected_total counter\n\
                 mcp_authz_refresh_reuse_detected_total {}\n\
                 # HELP mcp_authz_validation_failures_total Refused requests (token, revocation, introspection, registration, sign-in), by reason.\n\
                 # TYPE mcp_authz_validation_failures_total counter\n",
                server.tokens_issued(),
                server.refresh_reuse_detected()
            );
            // The reasons are a fixed set of labels chosen by the server, never request data.
            for (reason, n) in server.validation_failures() {
                let _ = writeln!(
                    text,
                    "mcp_authz_validation_failures_total{{reason=\"{reason}\"}} {n}"
                );
            }
        }
        if let Some(postgres) = &self.postgres {
            render_store(&mut text, &postgres.operation_stats());
        }
        text
    }
}

/// The PostgreSQL store's operations: count, failures (all, and the database unavailable) and a
/// latency histogram.
fn render_store(text: &mut String, stats: &mcp_authz_store_postgres::OperationStats) {
    let _ = write!(
        text,
        "# HELP mcp_authz_store_operations_total Storage operations completed.\n\
         # TYPE mcp_authz_store_operations_total counter\n\
         mcp_authz_store_operations_total {}\n\
         # HELP mcp_authz_store_errors_total Storage operations that failed, by kind.\n\
         # TYPE mcp_authz_store_errors_total counter\n\
         mcp_authz_store_errors_total{{kind=\"unavailable\"}} {}\n\
         mcp_authz_store_errors_total{{kind=\"other\"}} {}\n\
         # HELP mcp_authz_store_operation_duration_seconds Time of a storage operation.\n\
         # TYPE mcp_authz_store_operation_duration_seconds histogram\n",
        stats.operations,
        stats.unavailable,
        stats.failures.saturating_sub(stats.unavailable),
    );
    for (bound, n) in STORE_BUCKETS.iter().zip(stats.latency_buckets) {
        let _ = writeln!(
            text,
            "mcp_authz_store_operation_duration_seconds_bucket{{le=\"{bound}\"}} {n}"
        );
    }
    let _ = writeln!(
        text,
        "mcp_authz_store_operation_duration_seconds_bucket{{le=\"+Inf\"}} {}\n\
         mcp_authz_store_operation_duration_seconds_sum {}\n\
         mcp_authz_store_operation_duration_seconds_count {}",
        stats.operations, stats.latency_sum_seconds, stats.operations
    );
}

/// Serves `/metrics` on `addr` until the process ends.
pub(super) async fn serve(
    addr: SocketAddr,
    metrics: Arc<Metrics>,
    server: Option<AuthorizationServer>,
) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let app = Router::new()
        .route("/metrics", get(exposition))
        .with_state((metrics, server));
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "the metrics listener stopped");
        }
    });
    Ok(local)
}

async fn exposition(
    State((metrics, server)): State<(Arc<Metrics>, Option<AuthorizationServer>)>,
) -> Response {
    let mut response = metrics.render(server.as_ref()).into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_a_fixed_set() {
        assert_eq!(route("/token"), "/token");
        assert_eq!(
            route("/.well-known/oauth-protected-resource/mcp"),
            "/.well-known/oauth-protected-resource"
        );
        assert_eq!(route("/token/x"), "other");
        assert_eq!(route("/random-path-1234"), "other");
    }

    #[test]
    fn the_histogram_is_cumulative() {
        let metrics = Metrics::default();
        metrics.record("/token", 200, Duration::from_micros(800));
        metrics.record("/token", 200, Duration::from_millis(30));
        metrics.record("/token", 401, Duration::from_secs(9));
        let text = metrics.render(None);
        assert!(
            text.contains("mcp_authz_http_requests_total{route=\"/token\",status=\"200\"} 2\n")
        );
        assert!(
            text.contains("mcp_authz_http_requests_total{route=\"/token\",status=\"401\"} 1\n")
        );
        assert!(
            text.contains("_bucket{route=\"/token\",le=\"0.001\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("_bucket{route=\"/token\",le=\"0.05\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("_bucket{route=\"/token\",le=\"5\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("_bucket{route=\"/token\",le=\"+Inf\"} 3\n"),
            "{text}"
        );
        assert!(text.contains("_count{route=\"/token\"} 3\n"), "{text}");
    }
}
