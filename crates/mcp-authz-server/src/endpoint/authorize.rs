//! `GET /authorize`: the authorization endpoint (REQUIREMENTS AS-2..AS-6, AS-11, SEC-1, SEC-17).

use crate::audit::Auditor;
use crate::config::{ResourcePolicy, ServerConfig};
use crate::dangerous::AutoApprove;
use mcp_authz_metadata::Issuer;
use mcp_authz_store::AuditKind;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use mcp_authz_metadata::{ClientId, GrantType, RedirectUri};
use mcp_authz_store::{ClientRecord, SecretHash};
use mcp_authz_token::AuthorizationRequest;

use crate::browser::Browsers;
use crate::clients::{ClientDirectory, Lookup, localhost_only_document_client};
use crate::error::{EndpointError, Handled, PageError, UnauthorizedClient, wire};
use crate::flow::AuthorizationFlow;
use crate::grant_policy::{Grant, resolve_grant};
use crate::provenance::Provenance;
use crate::rate_limit::RateLimiter;
use crate::respond::peer_key;
use crate::session::{Pending, random_id};

/// The authorization endpoint's dependencies.
pub(crate) struct AuthorizeEndpoint {
    issuer: Issuer,
    auto_approve: Option<AutoApprove>,
    /// The resources served, for the grant policy.
    resources: Vec<ResourcePolicy>,
    clients: Arc<ClientDirectory>,
    browsers: Arc<Browsers>,
    flow: Arc<AuthorizationFlow>,
    /// Shared with the login and upstream endpoints, per peer (SEC-8).
    limiter: Arc<RateLimiter>,
    audit: Arc<Auditor>,
}

impl AuthorizeEndpoint {
    /// The endpoint over these parts.
    pub(crate) fn new(
        config: &ServerConfig,
        clients: Arc<ClientDirectory>,
        browsers: Arc<Browsers>,
        flow: Arc<AuthorizationFlow>,
        limiter: Arc<RateLimiter>,
        audit: Arc<Auditor>,
    ) -> Self {
        Self {
            audit,
            issuer: config.issuer.clone(),
            auto_approve: config.auto_approve.clone(),
            resources: config.resources.clone(),
            clients,
            browsers,
            flow,
            limiter,
        }
    }

    /// Validates the request; bad client or redirect URI -> error page, other errors -> redirect
    /// with `error`, `state` and `iss`; else login, consent, or the code.
    pub(crate) async fn handle(&self, request: Request<Bytes>) -> Response<Bytes> {
        if let Err(wait) = self.limiter.check(&peer_key(&request)) {
            let refusal = EndpointError::RateLimited(wait);
            self.audit
                .refused(AuditKind::RateLimited, &request, None, &refusal)
                .await;
            return wire::response(refusal);
        }
        wire::finish(self.authorize(&request).await)
    }

    /// The client and its redirect URI, or an error page (SEC-1: never redirect to an unverified URI).
    async fn client_and_redirect(
        &self,
        client_id: Option<&ClientId>,
        redirect_uri: Option<&RedirectUri>,
        peer: &str,
    ) -> Result<(ClientRecord, RedirectUri), EndpointError> {
        let client_id = client_id.ok_or(PageError::NoClientId)?;
        let client = self
            .clients
            .find(client_id, Lookup::Fetch { peer })
            .await?
            .ok_or(PageError::UnknownClient)?;
        let redirect_uri = match redirect_uri {
            Some(uri)
                if client
                    .redirect_uris
                    .iter()
                    .any(|r| uri.matches_registered(r)) =>
            {
                uri.clone()
            }
            Some(_) => return Err(PageError::UnregisteredRedirectUri.into()),
            None => match client.redirect_uris.as_slice() {
                [only] => only.clone(),
                _ => return Err(PageError::AmbiguousRedirectUri.into()),
            },
        };
        Ok((client, redirect_uri))
    }

    async fn authorize(&self, request: &Request<Bytes>) -> Handled {
        let peer = peer_key(request);
        let query = request.uri().query().unwrap_or_default();
        let issuer = &self.issuer;
        let parsed = match AuthorizationRequest::parse_query(query) {
            Ok(parsed) => parsed,
            Err(rejection) => {
                if !rejection.error.may_redirect() {
                    return Err(PageError::Request(rejection.error).into());
                }
                let (_, redirect_uri) = self
                    .client_and_redirect(
                        rejection.client_id.as_ref(),
                        rejection.redirect_uri.as_ref(),
                        &peer,
                    )
                    .await?;
                return Err(EndpointError::redirect(
                    redirect_uri,
                    rejection.state,
                    issuer.clone(),
                    StatusCode::FOUND,
                    rejection.error,
                ));
            }
        };
        let (client, redirect_uri) = self
            .client_and_redirect(Some(&parsed.client_id), parsed.redirect_uri.as_ref(), &peer)
            .await?;
        let state = parsed.state.clone();
        if !client.grant_types.contains(&GrantType::AuthorizationCode) {
            return Err(EndpointError::redirect(
                redirect_uri,
                state,
                issuer.clone(),
                StatusCode::FOUND,
                UnauthorizedClient::NoAuthorizationCodeGrant,
            ));
        }
        let grant = resolve_grant(
            &self.resources,
            &client,
            &parsed.resources,
            parsed.scope.as_ref(),
        );
        let Grant { resources, scope } = match grant {
            Ok(grant) => grant,
            Err(cause) => {
                return Err(EndpointError::redirect(
                    redirect_uri,
                    state,
                    issuer.clone(),
                    StatusCode::FOUND,
                    cause,
                ));
            }
        };
        if let Some(auto) = &self.auto_approve {
            let subject = auto.subject().clone();
            tracing::warn!(subject = %subject, "dangerous auto-approve: skipping login and consent");
            let pending = Pending {
                browser: SecretHash::of(""),
                csrf: String::new(),
                client_id: client.client_id.clone(),
                client_name: String::new(),
                provenance: Provenance::of(&client),
                localhost_warning: false,
                redirect_uri,
                state,
                code_challenge: parsed.code_challenge,
                resources,
                scope,
            };
            return self
                .flow
                .issue_code(request, &pending, subject, None, StatusCode::FOUND)
                .await;
        }
        // SEC-17: no server-side session for an anonymous browser, only a random id in its cookie.
        let signed_in = self.browsers.session_of(request).await?;
        let (browser, fresh) = match (&signed_in, self.browsers.browser_of(request)) {
            (Some((id, _)), _) => (id.clone(), false),
            (None, Some(id)) => (id, false),
            (None, None) => (random_id().ok_or_else(EndpointError::randomness)?, true),
        };
        let pending = Pending {
            browser: SecretHash::of(&browser),
            csrf: random_id().ok_or_else(EndpointError::randomness)?,
            client_name: client
                .client_name
                .clone()
                .unwrap_or_else(|| client.client_id.as_str().to_owned()),
            provenance: Provenance::of(&client),
            localhost_warning: localhost_only_document_client(&client),
            client_id: client.client_id.clone(),
            redirect_uri,
            state,
            code_challenge: parsed.code_challenge,
            resources,
            scope,
        };
        let request_id = random_id().ok_or_else(EndpointError::randomness)?;
        let session = match signed_in {
            Some((_, session)) => {
                self.browsers
                    .insert_signed_in(&request_id, &pending)
                    .await?;
                Some(session)
            }
            None => {
                self.browsers
                    .insert_anonymous(&request_id, &peer, &pending)
                    .await?;
                None
            }
        };
        let mut response = self
            .flow
            .next_step(
                request,
                &request_id,
                &pending,
                session.as_ref(),
                false,
                StatusCode::FOUND,
            )
            .await?;
        if fresh {
            self.browsers.set_cookie(&mut response, &browser);
        }
        Ok(response)
    }
}
