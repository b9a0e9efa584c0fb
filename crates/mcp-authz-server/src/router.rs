//! The axum adapter: one fallback handler that feeds [`AuthorizationServer::handle`].

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::Response;

use crate::error::{EndpointError, wire};
use crate::respond::ClientAddr;
use crate::server::AuthorizationServer;

/// The largest request body read (forms, registration documents).
const MAX_BODY: usize = 64 * 1024;

impl AuthorizationServer {
    /// An axum [`Router`] serving every endpoint, as its fallback. Serve it with
    /// `into_make_service_with_connect_info::<SocketAddr>()` so that rate limits see client IPs
    /// ([`serve`](Self::serve) does), or every client shares one rate-limit bucket (logged once at
    /// WARN).
    ///
    /// Mounting in an application of your own: [`merge`](Router::merge) it at the root (the
    /// issuer's well-known URLs are at the root, RFC 8414 §3.1), with your routes on paths the
    /// server does not use; `nest` under a prefix does not work (the well-known URLs would move and
    /// the paths would not match the issuer); the merged router brings a fallback, so your router
    /// must not have one of its own (axum panics on two), and requests to unknown paths reach the
    /// server, which answers 404.
    pub fn router(&self) -> Router {
        Router::new().fallback(dispatch).with_state(self.clone())
    }

    /// Serves [`router`](Self::router) on `listener` with the peers' addresses
    /// (`into_make_service_with_connect_info::<SocketAddr>()`), so rate limits key anonymous
    /// requests by client IP. Returns when the listener fails.
    ///
    /// ```no_run
    /// # async fn run(server: mcp_authz_server::AuthorizationServer) -> std::io::Result<()> {
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:8400").await?;
    /// server.serve(listener).await
    /// # }
    /// ```
    pub async fn serve(&self, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        axum::serve(
            listener,
            self.router()
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    }
}

async fn dispatch(State(server): State<AuthorizationServer>, request: Request) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let (mut parts, body) = request.into_parts();
    let response = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => {
            if let Some(ip) = peer {
                parts.extensions.insert(ClientAddr(ip));
            }
            server.handle(http::Request::from_parts(parts, bytes)).await
        }
        Err(_) => wire::response(EndpointError::BodyTooLarge),
    };
    response.map(Body::from)
}
