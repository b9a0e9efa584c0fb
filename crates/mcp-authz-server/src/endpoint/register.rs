//! RFC 7591 dynamic client registration (REQUIREMENTS AS-12, SEC-8).

use mcp_authz_metadata::Scope;
use mcp_authz_store::Clock;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use mcp_authz_metadata::{
    ApplicationType, ClientId, ClientMetadata, ClientRegistrationResponse, ClientSecret, GrantType,
    TokenEndpointAuthMethod,
};
use mcp_authz_store::{AuditKind, AuditOutcome, AuditReason, ClientKind, ClientRecord, Store};

use crate::audit::Auditor;
use crate::config::ServerConfig;
use crate::error::{EndpointError, Handled, NotFound, RegistrationRefusal, wire};
use crate::rate_limit::RateLimiter;
use crate::respond::{self, peer_key};
use crate::secrets::hash_client_secret;
use crate::session::random_id;

/// `application_type` when the client sent none: `web` if every redirect URI is https, else
/// `native` (loopback or private-use scheme), so that the consistency check below still applies.
fn infer_application_type(metadata: &ClientMetadata) -> ApplicationType {
    let all_https = metadata
        .redirect_uris
        .as_ref()
        .is_some_and(|uris| uris.iter().all(|u| u.is_https()));
    if all_https {
        ApplicationType::Web
    } else {
        ApplicationType::Native
    }
}

/// The registration endpoint's dependencies.
pub(crate) struct RegisterEndpoint {
    clock: Arc<dyn Clock>,
    registration_enabled: bool,
    /// Every scope of every resource served: what a registration may ask for.
    scopes: Scope,
    store: Arc<dyn Store>,
    /// Registrations per peer (SEC-8).
    limiter: RateLimiter,
    audit: Arc<Auditor>,
}

impl RegisterEndpoint {
    /// The endpoint over these parts.
    pub(crate) fn new(
        config: &ServerConfig,
        store: Arc<dyn Store>,
        limiter: RateLimiter,
        audit: Arc<Auditor>,
    ) -> Self {
        Self {
            audit,
            clock: config.clock.clone(),
            registration_enabled: config.registration_enabled,
            scopes: config.all_scopes(),
            store,
            limiter,
        }
    }

    /// `POST /register`: 201 with the registration response, or 400 with an RFC 7591 error.
    pub(crate) async fn handle(&self, request: Request<Bytes>) -> Response<Bytes> {
        if !self.registration_enabled {
            return wire::response(NotFound::RegistrationDisabled.into());
        }
        if let Err(wait) = self.limiter.check(&peer_key(&request)) {
            let refusal = EndpointError::RateLimited(wait);
            self.audit
                .refused(AuditKind::RateLimited, &request, None, &refusal)
                .await;
            return wire::response(refusal);
        }
        let result = self.register(&request).await;
        if let Err(error) = &result {
            self.audit
                .refused(AuditKind::ClientRegistered, &request, None, error)
                .await;
        }
        wire::finish(result)
    }

    async fn register(&self, request: &Request<Bytes>) -> Handled {
        use RegistrationRefusal as R;
        let mut metadata = ClientMetadata::parse(request.body()).map_err(R::Document)?;
        if metadata.application_type.is_none() {
            metadata.application_type = Some(infer_application_type(&metadata));
        }
        match metadata.application_type {
            Some(ApplicationType::Web | ApplicationType::Native) => {}
            _ => {
                return Err(R::ApplicationType.into());
            }
        }
        let method = metadata.effective_token_endpoint_auth_method();
        let confidential = match method {
            TokenEndpointAuthMethod::None => false,
            TokenEndpointAuthMethod::ClientSecretBasic
            | TokenEndpointAuthMethod::ClientSecretPost => true,
            _ => {
                return Err(R::AuthMethod.into());
            }
        };
        metadata.token_endpoint_auth_method = Some(method.clone());
        let mut grant_types = metadata.effective_grant_types();
        // Without explicit grant_types a code client may also refresh (MCP clients expect it).
        if metadata.grant_types.is_none() {
            grant_types.push(GrantType::RefreshToken);
        }
        for grant in &grant_types {
            match grant {
                GrantType::AuthorizationCode | GrantType::RefreshToken => {}
                // SEC-10: a self-registered client never gets a grant that acts without a user;
                // machine clients are registered by the operator.
                GrantType::ClientCredentials => {
                    return Err(R::ClientCredentials.into());
                }
                other => {
                    return Err(R::GrantType(other.clone()).into());
                }
            }
        }
        if let Some(scope) = &metadata.scope
            && !scope.without_offline_access().is_subset(&self.scopes)
        {
            return Err(R::UnknownScope.into());
        }
        let validated = metadata.validate().map_err(R::Metadata)?;
        let redirect_uris = validated.redirect_uris().to_vec();
        let metadata = validated.into_metadata();
        let now = self.clock.now();
        let randomness = EndpointError::randomness;
        let client_id =
            ClientId::parse(&random_id().ok_or_else(randomness)?).map_err(|_| randomness())?;
        let secret = if confidential {
            Some(ClientSecret::new(random_id().ok_or_else(randomness)?))
        } else {
            None
        };
        let secret_hash = secret
            .as_ref()
            .map(|s| hash_client_secret(s.secret()))
            .transpose()
            .map_err(|_| randomness())?;
        let record = ClientRecord {
            client_id: client_id.clone(),
            kind: ClientKind::Dynamic,
            secret_hash,
            secret_expires_at: None,
            redirect_uris,
            grant_types,
            token_endpoint_auth_method: method,
            application_type: metadata
                .application_type
                .clone()
                .unwrap_or(ApplicationType::Native),
            client_name: metadata.client_name.clone(),
            allowed_resources: None,
            allowed_scope: metadata.scope.clone(),
            metadata_json: serde_json::to_string(&metadata).unwrap_or_default(),
            created_at: now,
        };
        let (scope, kind) = (
            record.allowed_scope.clone(),
            record.token_endpoint_auth_method.clone(),
        );
        self.store.insert_client(record).await?;
        let mut event =
            self.audit
                .event(AuditKind::ClientRegistered, AuditOutcome::Success, request);
        event.client_id = Some(client_id.clone());
        event.scope = scope.unwrap_or_default();
        event.reason = AuditReason::lossy(kind.as_str());
        self.audit.record(event).await;
        let mut response = ClientRegistrationResponse::new(client_id, metadata);
        response.client_id_issued_at = Some(now.as_secs());
        if secret.is_some() {
            response.client_secret = secret;
            response.client_secret_expires_at = Some(0);
        }
        Ok(respond::json_value(StatusCode::CREATED, &response))
    }
}
