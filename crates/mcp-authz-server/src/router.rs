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
    /// An axum [`Router`] serving every endpoint. Serve it with
    /// `into_make_service_with_connect_info::<SocketAddr>()` so that rate limits see client IPs.
    pub fn router(&self) -> Router {
        Router::new().fallback(dispatch).with_state(self.clone())
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
