//! `POST /revoke`: RFC 7009 token revocation (REQUIREMENTS AS-15, SEC-11).

use mcp_authz_store::Clock;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use mcp_authz_store::{RevocationReason, Store, TokenId};
use mcp_authz_token::RevocationRequest;

use crate::client_limits::ClientLimits;
use crate::clients::{ClientDirectory, is_confidential};
use crate::config::ServerConfig;
use crate::error::{Handled, wire};
use crate::respond;
use crate::token_status::{Known, TokenStatus};

/// The revocation endpoint's dependencies.
pub(crate) struct RevokeEndpoint {
    clock: Arc<dyn Clock>,
    store: Arc<dyn Store>,
    clients: Arc<ClientDirectory>,
    /// Shared with the token and introspection endpoints (SEC-11).
    limits: Arc<ClientLimits>,
    tokens: Arc<TokenStatus>,
}

impl RevokeEndpoint {
    /// The endpoint over these parts.
    pub(crate) fn new(
        config: &ServerConfig,
        store: Arc<dyn Store>,
        clients: Arc<ClientDirectory>,
        limits: Arc<ClientLimits>,
        tokens: Arc<TokenStatus>,
    ) -> Self {
        Self {
            clock: config.clock.clone(),
            store,
            clients,
            limits,
            tokens,
        }
    }

    /// `POST /revoke`: 200 for every well-formed request from an authenticated client, whether or not
    /// the token was known (RFC 7009 §2.2).
    pub(crate) async fn handle(&self, request: Request<Bytes>) -> Response<Bytes> {
        wire::finish(
            self.limits
                .limited_by_peer(&request, self.revoke(&request))
                .await,
        )
    }

    async fn revoke(&self, request: &Request<Bytes>) -> Handled {
        let parsed = RevocationRequest::parse_form(request.body())?;
        let caller = self
            .clients
            .authenticate(request, parsed.client, false, None)
            .await?;
        // SEC-11: a public client proves nothing by revoking (unknown tokens answer 200 too), so its
        // revocations count against its peer, never against the client named.
        if is_confidential(&caller) {
            self.limits.charge_confidential(&caller)?;
        } else {
            self.limits.charge_peer(request)?;
        }
        let now = self.clock.now();
        match self
            .tokens
            .examine(parsed.request.token.secret(), now)
            .await?
        {
            Known::Access(claims) if claims.client_id == caller.client_id => {
                if let Ok(jti) = TokenId::parse(&claims.jti) {
                    let expires = claims.exp;
                    self.store.revoke_access_token(&jti, expires).await?;
                }
            }
            Known::Refresh(lookup) if lookup.grant.client_id == caller.client_id => {
                self.store
                    .revoke_grant(&lookup.grant.id, RevocationReason::Requested, now)
                    .await?;
            }
            _ => {}
        }
        Ok(respond::json(StatusCode::OK, Bytes::new()))
    }
}
