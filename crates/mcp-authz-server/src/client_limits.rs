//! The rate limits of the client-authenticated endpoints (token, revocation, introspection),
//! REQUIREMENTS SEC-11: limits cannot be turned against a client by naming it.
//!
//! - A request is refused while its **peer address** has no failure budget left, and every failed
//!   answer (4xx other than 429) is charged to the peer: unauthenticated floods cost their sender.
//! - A client's own bucket is charged only for what that client provably did: a **confidential**
//!   client once its secret verified ([`ClientLimits::charge_confidential`]); a **public** client,
//!   which has nothing to verify before the grant, only when its grant succeeded (a valid code with
//!   its PKCE verifier, or a valid refresh token): before the grant its bucket is only read
//!   ([`ClientLimits::peek_public`]), so nobody else can empty it.
//! - A public client id is shared by every installation of the application (every user of a metadata
//!   document client, for one), so its bucket is per client id **and** peer: one user holding valid
//!   tokens of the application cannot spend the budget of its other users.

use bytes::Bytes;
use http::{Request, StatusCode};
use mcp_authz_store::ClientRecord;

use crate::error::{EndpointError, Handled, wire};
use crate::rate_limit::{RateLimit, RateLimiter};
use crate::respond::peer_key;

/// The per-client and per-peer buckets of the client-authenticated endpoints.
pub(crate) struct ClientLimits {
    /// Requests of authenticated clients, per client (SEC-11).
    per_client: RateLimiter,
    /// Unauthenticated and failed requests, per peer (SEC-11).
    per_peer: RateLimiter,
}

impl ClientLimits {
    /// Both buckets at `limit`, each table holding at most `capacity` keys.
    pub(crate) fn new(limit: RateLimit, capacity: usize) -> Self {
        Self {
            per_client: RateLimiter::new(limit, capacity),
            per_peer: RateLimiter::new(limit, capacity),
        }
    }

    /// Runs `handler` under the peer's failure budget (see the module documentation).
    pub(crate) async fn limited_by_peer(
        &self,
        request: &Request<Bytes>,
        handler: impl Future<Output = Handled>,
    ) -> Handled {
        let peer = peer_key(request);
        self.per_peer
            .peek(&peer)
            .map_err(EndpointError::RateLimited)?;
        let result = handler.await;
        if is_failure(&result) {
            self.per_peer.charge(&peer);
        }
        result
    }

    /// Charges an authenticated confidential client's own bucket: 429 when it is empty.
    pub(crate) fn charge_confidential(&self, client: &ClientRecord) -> Result<(), EndpointError> {
        self.per_client
            .check(&confidential_key(client))
            .map_err(EndpointError::RateLimited)
    }

    /// 429 when the bucket of a public client at this peer is empty; takes nothing (charged by
    /// [`charge_public_success`](Self::charge_public_success)).
    pub(crate) fn peek_public(
        &self,
        client: &ClientRecord,
        request: &Request<Bytes>,
    ) -> Result<(), EndpointError> {
        self.per_client
            .peek(&public_key(client, request))
            .map_err(EndpointError::RateLimited)
    }

    /// Charges the bucket of a public client at this peer for a grant that succeeded.
    pub(crate) fn charge_public_success(
        &self,
        client: &ClientRecord,
        request: &Request<Bytes>,
        result: &Handled,
    ) {
        if matches!(result, Ok(response) if response.status().is_success()) {
            self.per_client.charge(&public_key(client, request));
        }
    }

    /// Charges an unauthenticated request (a public client's revocation) to its peer: 429 when the
    /// peer's budget is empty.
    pub(crate) fn charge_peer(&self, request: &Request<Bytes>) -> Result<(), EndpointError> {
        self.per_peer
            .check(&peer_key(request))
            .map_err(EndpointError::RateLimited)
    }
}

/// `true` for a 4xx answer other than 429: a request that failed, charged to its peer (SEC-11).
fn is_failure(result: &Handled) -> bool {
    let status = match result {
        Ok(response) => response.status(),
        Err(e) => wire::status(e),
    };
    status.is_client_error() && status != StatusCode::TOO_MANY_REQUESTS
}

/// The rate-limit key of a public client's successful grants: peer and client id (a peer key holds
/// no space, so the pair is unambiguous; the prefix keeps it apart from [`confidential_key`]).
fn public_key(client: &ClientRecord, request: &Request<Bytes>) -> String {
    format!("public {} {}", peer_key(request), client.client_id.as_str())
}

/// The rate-limit key of an authenticated confidential client.
fn confidential_key(client: &ClientRecord) -> String {
    format!("confidential {}", client.client_id.as_str())
}
