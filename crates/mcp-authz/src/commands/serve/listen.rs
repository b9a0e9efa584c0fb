//! Serving the router: one accept loop for plain HTTP and HTTPS (tokio-rustls), with the client
//! address for rate limits, the connection limits of REQUIREMENTS SEC-18 on every connection, and
//! graceful shutdown on SIGINT/SIGTERM within a deadline.
//!
//! - at most `max_connections` connections are served at once; further ones are not accepted and
//!   wait in the kernel's listen queue until one closes;
//! - the TLS handshake and each request head must complete within `header_timeout` (an idle
//!   keep-alive connection is closed after as long);
//! - a request body must arrive within `body_timeout` of its first read, else 400;
//! - after a shutdown signal, open connections get `shutdown_timeout` to finish, then the server
//!   stops regardless.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use mcp_authz_server::TrustedProxies;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

use super::body_timeout::{TimeoutBody, timed_out};
use super::settings::ConnectionLimits;

/// Serves `app` on `listener` until `shutdown` completes (SIGINT or SIGTERM, see
/// [`signal::shutdown`](super::signal::shutdown)); over TLS when `tls` is set.
pub(super) async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<TlsAcceptor>,
    limits: ConnectionLimits,
    proxies: Arc<TrustedProxies>,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    tokio::pin!(shutdown);
    loop {
        // A free slot first: while every slot is taken, nothing is accepted.
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break, // the semaphore is never closed
            },
            () = &mut shutdown => break,
        };
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Per-connection errors (e.g. too many open files): keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let app = app.clone();
        let tls = tls.clone();
        let proxies = Arc::clone(&proxies);
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let _slot = slot;
            match tls {
                None => {
                    connection(TokioIo::new(tcp), app, peer, limits, proxies, watcher).await;
                }
                Some(acceptor) => {
                    match tokio::time::timeout(limits.header_timeout, acceptor.accept(tcp)).await {
                        Ok(Ok(stream)) => {
                            connection(TokioIo::new(stream), app, peer, limits, proxies, watcher)
                                .await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the shutdown timeout; closing them");
    }
    Ok(())
}

/// Serves one connection (HTTP/1.1) with the header and body timeouts. Each request carries its
/// client's address (`ConnectInfo`): the TCP peer, or the forwarded address when the peer is a
/// trusted proxy (`--trusted-proxy`).
async fn connection<I>(
    io: TokioIo<I>,
    app: Router,
    peer: SocketAddr,
    limits: ConnectionLimits,
    proxies: Arc<TrustedProxies>,
    watcher: Watcher,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let body_timeout = limits.body_timeout;
    let service = hyper::service::service_fn(move |request: http::Request<Incoming>| {
        let app = app.clone();
        let client = SocketAddr::new(
            proxies.client_addr(peer.ip(), request.headers()),
            peer.port(),
        );
        async move {
            let expired = Arc::new(AtomicBool::new(false));
            let (mut parts, body) = request.into_parts();
            parts.extensions.insert(ConnectInfo(client));
            let body = TimeoutBody::new(body, body_timeout, Arc::clone(&expired));
            let response = app.oneshot(http::Request::from_parts(parts, body)).await;
            if expired.load(Ordering::Acquire) {
                tracing::debug!(%peer, "request body timed out");
                return Ok::<_, Infallible>(timed_out(body_timeout));
            }
            response
        }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .serve_connection(io, service);
    if let Err(e) = watcher.watch(connection).await {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
}
