//! `POST /introspect`: RFC 7662 token introspection for confidential clients (REQUIREMENTS AS-15,
//! SEC-7).

use mcp_authz_metadata::Issuer;
use mcp_authz_store::Clock;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use mcp_authz_metadata::ClientId;
use mcp_authz_store::{AuditKind, AuditOutcome, AuditReason, ClientRecord};
use mcp_authz_token::{
    ActiveToken, Audience, IntrospectionRequest, IntrospectionResponse, NumericDate, TokenType,
};

use crate::audit::Auditor;
use crate::client_limits::ClientLimits;
use crate::clients::ClientDirectory;
use crate::config::ServerConfig;
use crate::error::{Handled, wire};
use crate::respond;
use crate::token_status::{Known, TokenStatus};

/// `true` if `caller` may learn about a token of `client_id` for `audience`: its own tokens, or
/// tokens for a resource it is registered for (SEC-7: nothing about other audiences).
fn visible(caller: &ClientRecord, client_id: &str, audience: &Audience) -> bool {
    caller.client_id.as_str() == client_id
        || caller
            .allowed_resources
            .as_ref()
            .is_some_and(|rs| rs.iter().any(|r| audience.contains_resource(r)))
}

/// The introspection endpoint's dependencies.
pub(crate) struct IntrospectEndpoint {
    clock: Arc<dyn Clock>,
    issuer: Issuer,
    clients: Arc<ClientDirectory>,
    /// Shared with the token and revocation endpoints (SEC-11).
    limits: Arc<ClientLimits>,
    tokens: Arc<TokenStatus>,
    audit: Arc<Auditor>,
}

impl IntrospectEndpoint {
    /// The endpoint over these parts.
    pub(crate) fn new(
        config: &ServerConfig,
        clients: Arc<ClientDirectory>,
        limits: Arc<ClientLimits>,
        tokens: Arc<TokenStatus>,
        audit: Arc<Auditor>,
    ) -> Self {
        Self {
            audit,
            clock: config.clock.clone(),
            issuer: config.issuer.clone(),
            clients,
            limits,
            tokens,
        }
    }

    /// `POST /introspect`: client-authenticated (confidential clients only).
    pub(crate) async fn handle(&self, request: Request<Bytes>) -> Response<Bytes> {
        let mut caller = None;
        let result = self
            .limits
            .limited_by_peer(&request, self.introspect(&request, &mut caller))
            .await;
        if let Err(error) = &result {
            self.audit
                .refused(AuditKind::Introspection, &request, caller.as_ref(), error)
                .await;
        }
        wire::finish(result)
    }

    async fn introspect(
        &self,
        request: &Request<Bytes>,
        caller_id: &mut Option<ClientId>,
    ) -> Handled {
        let parsed = IntrospectionRequest::parse_form(request.body())?;
        let caller = self
            .clients
            .authenticate(request, parsed.client, true, None)
            .await?;
        *caller_id = Some(caller.client_id.clone());
        self.limits.charge_confidential(&caller)?;
        let now = self.clock.now();
        let response = match self
            .tokens
            .examine(parsed.request.token.secret(), now)
            .await?
        {
            Known::Access(claims) if visible(&caller, claims.client_id.as_str(), &claims.aud) => {
                IntrospectionResponse::Active(Box::new(ActiveToken {
                    scope: claims.scope,
                    client_id: Some(claims.client_id),
                    token_type: Some(TokenType::Bearer),
                    exp: Some(claims.exp),
                    iat: Some(claims.iat),
                    sub: Some(claims.sub),
                    aud: Some(claims.aud),
                    iss: Some(claims.iss),
                    jti: Some(claims.jti),
                    ..ActiveToken::default()
                }))
            }
            Known::Refresh(lookup) => {
                let audience: Audience = lookup
                    .grant
                    .resources
                    .iter()
                    .map(|r| r.as_str().to_owned())
                    .collect();
                if visible(&caller, lookup.grant.client_id.as_str(), &audience) {
                    IntrospectionResponse::Active(Box::new(ActiveToken {
                        scope: Some(lookup.grant.scope.clone()),
                        client_id: Some(lookup.grant.client_id.clone()),
                        exp: Some(NumericDate::from_secs(lookup.token.expires_at.as_secs())),
                        iat: Some(NumericDate::from_secs(lookup.token.issued_at.as_secs())),
                        sub: Some(lookup.grant.subject.as_str().to_owned()),
                        aud: Some(audience),
                        iss: Some(self.issuer.clone()),
                        ..ActiveToken::default()
                    }))
                } else {
                    IntrospectionResponse::Inactive
                }
            }
            _ => IntrospectionResponse::Inactive,
        };
        let mut event = self
            .audit
            .event(AuditKind::Introspection, AuditOutcome::Success, request);
        event.client_id = Some(caller.client_id.clone());
        let active = matches!(response, IntrospectionResponse::Active(_));
        event.reason = AuditReason::lossy(if active { "active" } else { "inactive" });
        self.audit.record(event).await;
        Ok(respond::json_value(StatusCode::OK, &response))
    }
}
