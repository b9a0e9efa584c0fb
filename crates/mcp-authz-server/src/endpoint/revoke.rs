//! `POST /revoke`: RFC 7009 token revocation (REQUIREMENTS AS-15, SEC-11).

use mcp_authz_store::Clock;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use mcp_authz_metadata::ClientId;
use mcp_authz_store::{AuditKind, AuditOutcome, AuditReason, RevocationReason, Store, TokenId};
use mcp_authz_token::RevocationRequest;

use crate::audit::Auditor;
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
    audit: Arc<Auditor>,
}

impl RevokeEndpoint {
    /// The endpoint over these parts.
    pub(crate) fn new(
        config: &ServerConfig,
        store: Arc<dyn Store>,
        clients: Arc<ClientDirectory>,
        limits: Arc<ClientLimits>,
        tokens: Arc<TokenStatus>,
        audit: Arc<Auditor>,
    ) -> Self {
        Self {
            audit,
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
        let mut caller = None;
        let result = self
            .limits
            .limited_by_peer(&request, self.revoke(&request, &mut caller))
            .await;
        if let Err(error) = &result {
            self.audit
                .refused(AuditKind::TokenRevoked, &request, caller.as_ref(), error)
                .await;
        }
        wire::finish(result)
    }

    /// Revokes the token; `caller` is set once the client authenticated.
    async fn revoke(&self, request: &Request<Bytes>, caller_id: &mut Option<ClientId>) -> Handled {
        let parsed = RevocationRequest::parse_form(request.body())?;
        let caller = self
            .clients
            .authenticate(request, parsed.client, false, None)
            .await?;
        *caller_id = Some(caller.client_id.clone());
        // SEC-11: a public client proves nothing by revoking (unknown tokens answer 200 too), so its
        // revocations count against its peer, never against the client named.
        if is_confidential(&caller) {
            self.limits.charge_confidential(&caller)?;
        } else {
            self.limits.charge_peer(request)?;
        }
        let now = self.clock.now();
        let mut event = self
            .audit
            .event(AuditKind::TokenRevoked, AuditOutcome::Success, request);
        event.client_id = Some(caller.client_id.clone());
        let what = match self
            .tokens
            .examine(parsed.request.token.secret(), now)
            .await?
        {
            Known::Access(claims) if claims.client_id == caller.client_id => {
                if let Ok(jti) = TokenId::parse(&claims.jti) {
                    let expires = claims.exp;
                    self.store.revoke_access_token(&jti, expires).await?;
                }
                event.subject = mcp_authz_store::Subject::parse(&claims.sub).ok();
                event.scope = claims.scope.unwrap_or_default();
                "access_token"
            }
            Known::Refresh(lookup) if lookup.grant.client_id == caller.client_id => {
                self.store
                    .revoke_grant(&lookup.grant.id, RevocationReason::Requested, now)
                    .await?;
                event.subject = Some(lookup.grant.subject.clone());
                event.scope = lookup.grant.scope.clone();
                event.resources = lookup.grant.resources.clone();
                "refresh_token"
            }
            _ => "unknown_token",
        };
        event.reason = AuditReason::lossy(what);
        self.audit.record(event).await;
        Ok(respond::json(StatusCode::OK, Bytes::new()))
    }
}
