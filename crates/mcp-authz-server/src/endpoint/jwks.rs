//! The JWKS endpoint (REQUIREMENTS AS-9, SEC-15).

use mcp_authz_store::Clock;
use std::sync::Arc;

use bytes::Bytes;
use http::Response;

use crate::config::ServerConfig;
use crate::error::{EndpointError, wire};
use crate::keys::{JWKS_CACHE_CONTROL, Keys};
use crate::respond;

/// `GET /jwks.json`: active, published and not-yet-expired retired keys.
pub(crate) struct JwksEndpoint {
    clock: Arc<dyn Clock>,
    keys: Arc<Keys>,
}

impl JwksEndpoint {
    /// The endpoint over `keys`, at the time of `config`'s clock.
    pub(crate) fn new(config: &ServerConfig, keys: Arc<Keys>) -> Self {
        Self {
            clock: config.clock.clone(),
            keys,
        }
    }

    /// The JWKS with `Cache-Control: public, max-age=` [`JWKS_MAX_AGE`](crate::JWKS_MAX_AGE).
    pub(crate) async fn handle(&self) -> Response<Bytes> {
        match self.keys.jwks(self.clock.now()).await {
            Ok(body) => respond::public_json(body, JWKS_CACHE_CONTROL),
            Err(e) => wire::response(EndpointError::Key(e)),
        }
    }
}
