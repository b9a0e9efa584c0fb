//! `GET /authorize/upstream` and its callback: sign-in through the upstream identity provider
//! (REQUIREMENTS AS-11, SEC-4).

use crate::users::UpstreamIdentityProvider;
use mcp_authz_metadata::Issuer;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use mcp_authz_store::{AuditKind, AuditOutcome, AuditReason, SecretHash};
use url::Url;

use crate::audit::Auditor;
use crate::browser::{Browsers, owns};
use crate::config::ServerConfig;
use crate::error::{EndpointError, Handled, PageError, wire};
use crate::paths::Paths;
use crate::rate_limit::RateLimiter;
use crate::respond::{self, peer_key};
use crate::session::random_id;

/// The upstream login endpoints' dependencies.
pub(crate) struct UpstreamEndpoint {
    issuer: Issuer,
    upstream: Option<Arc<dyn UpstreamIdentityProvider>>,
    paths: Arc<Paths>,
    browsers: Arc<Browsers>,
    /// Shared with the authorization and login endpoints, per peer (SEC-8).
    limiter: Arc<RateLimiter>,
    audit: Arc<Auditor>,
}

impl UpstreamEndpoint {
    /// The endpoint over these parts.
    pub(crate) fn new(
        config: &ServerConfig,
        paths: Arc<Paths>,
        browsers: Arc<Browsers>,
        limiter: Arc<RateLimiter>,
        audit: Arc<Auditor>,
    ) -> Self {
        Self {
            audit,
            issuer: config.issuer.clone(),
            upstream: config.upstream.clone(),
            paths,
            browsers,
            limiter,
        }
    }

    /// `GET /authorize/upstream?request=…`: sends the browser to the upstream identity provider with
    /// a fresh `state` bound to this browser and pending request.
    pub(crate) async fn login(&self, request: Request<Bytes>) -> Response<Bytes> {
        if let Err(wait) = self.limiter.check(&peer_key(&request)) {
            let refusal = EndpointError::RateLimited(wait);
            self.audit
                .refused(AuditKind::RateLimited, &request, None, &refusal)
                .await;
            return wire::response(refusal);
        }
        wire::finish(self.start(&request).await)
    }

    fn callback_url(&self) -> Url {
        Paths::url(&self.issuer, &self.paths.upstream_callback)
    }

    async fn start(&self, request: &Request<Bytes>) -> Handled {
        let invalid = || PageError::RequestExpired;
        let upstream = self.upstream.as_ref().ok_or_else(invalid)?;
        let query = request.uri().query().unwrap_or_default();
        let params = respond::simple_form(query.as_bytes()).ok_or_else(invalid)?;
        let request_id = params.get("request").ok_or_else(invalid)?;
        let (browser, _) = self
            .browsers
            .owned_pending(request, request_id)
            .await?
            .ok_or_else(invalid)?;
        let state = random_id().ok_or_else(EndpointError::randomness)?;
        self.browsers
            .start_upstream_login(&state, &peer_key(request), &browser, request_id)
            .await?;
        let url = upstream.login_url(&self.callback_url(), &state);
        Ok(respond::redirect(StatusCode::FOUND, url.as_str()))
    }

    /// `GET /authorize/upstream/callback`: completes an upstream login, then 303 to the next step.
    pub(crate) async fn callback(&self, request: Request<Bytes>) -> Response<Bytes> {
        wire::finish(self.complete(&request).await)
    }

    async fn complete(&self, request: &Request<Bytes>) -> Handled {
        let invalid = || PageError::SignInUnverified;
        let upstream = self.upstream.clone().ok_or_else(invalid)?;
        let query = request.uri().query().unwrap_or_default();
        let state = form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
            .ok_or_else(invalid)?;
        // Single use, and only in the browser that started it.
        let login = self
            .browsers
            .take_upstream_login(&state)
            .await?
            .ok_or_else(invalid)?;
        let browser = self.browsers.browser_of(request).ok_or_else(invalid)?;
        if SecretHash::of(&browser) != login.browser {
            return Err(invalid().into());
        }
        let request_id = login.request_id;
        let pending = self
            .browsers
            .pending(&request_id)
            .await?
            .ok_or_else(invalid)?;
        if !owns(&pending, &browser) {
            return Err(invalid().into());
        }
        let mut event = self
            .audit
            .event(AuditKind::SignIn, AuditOutcome::Failure, request);
        event.client_id = Some(pending.client_id.clone());
        let Some(subject) = upstream.complete(&self.callback_url(), query).await? else {
            event.reason = AuditReason::lossy("upstream_refused");
            self.audit.record(event).await;
            return Err(PageError::UpstreamRefused.into());
        };
        event.outcome = AuditOutcome::Success;
        event.subject = Some(subject.clone());
        event.reason = AuditReason::lossy("upstream");
        self.audit.record(event).await;
        let session_id = self
            .browsers
            .sign_in(&browser, subject.clone(), subject.as_str())
            .await?;
        self.browsers
            .adopt(&request_id, pending, &session_id)
            .await?;
        let mut response =
            respond::redirect(StatusCode::SEE_OTHER, &self.paths.resume_of(&request_id));
        self.browsers.set_cookie(&mut response, &session_id);
        Ok(response)
    }
}
