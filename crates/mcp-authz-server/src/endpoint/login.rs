//! `POST /authorize/login` and `GET /authorize/resume`: password sign-in with lockout, and the step
//! after it (REQUIREMENTS AS-11, SEC-4, SEC-19).

use mcp_authz_store::Clock;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use mcp_authz_store::{AuditKind, AuditOutcome, AuditReason, Username};

use crate::audit::Auditor;
use crate::browser::{Browsers, CheckedForm};
use crate::config::ServerConfig;
use crate::error::{EndpointError, Handled, PageError, wire};
use crate::flow::AuthorizationFlow;
use crate::pages::LoginNotice;
use crate::paths::Paths;
use crate::rate_limit::RateLimiter;
use crate::respond::{self, peer_key};
use crate::sign_in::{Attempt, PasswordSignIn};

/// The login and resume endpoints' dependencies.
pub(crate) struct LoginEndpoint {
    clock: Arc<dyn Clock>,
    paths: Arc<Paths>,
    browsers: Arc<Browsers>,
    flow: Arc<AuthorizationFlow>,
    /// The credential check and lockout, shared with the account pages.
    sign_in: Arc<PasswordSignIn>,
    /// Shared with the authorization and upstream endpoints, per peer (SEC-8).
    limiter: Arc<RateLimiter>,
    audit: Arc<Auditor>,
}

impl LoginEndpoint {
    /// The endpoint over these parts.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        config: &ServerConfig,
        paths: Arc<Paths>,
        browsers: Arc<Browsers>,
        flow: Arc<AuthorizationFlow>,
        sign_in: Arc<PasswordSignIn>,
        limiter: Arc<RateLimiter>,
        audit: Arc<Auditor>,
    ) -> Self {
        Self {
            audit,
            clock: config.clock.clone(),
            paths,
            browsers,
            flow,
            sign_in,
            limiter,
        }
    }

    /// `POST /authorize/login`: checks the credentials, then 303 to the next step.
    pub(crate) async fn login(&self, request: Request<Bytes>) -> Response<Bytes> {
        if let Err(wait) = self.limiter.check(&peer_key(&request)) {
            let refusal = EndpointError::RateLimited(wait);
            self.audit
                .refused(AuditKind::RateLimited, &request, None, &refusal)
                .await;
            return wire::response(refusal);
        }
        wire::finish(self.sign_in(&request).await)
    }

    async fn sign_in(&self, request: &Request<Bytes>) -> Handled {
        let CheckedForm {
            browser: old_browser,
            form,
            request_id,
            pending,
            ..
        } = self.browsers.checked_form(request).await?;
        let username = form.get("username").map(String::as_str).unwrap_or_default();
        let password = form.get("password").map(String::as_str).unwrap_or_default();
        let resume = self.paths.resume_of(&request_id);
        let peer = peer_key(request);
        let audited = |kind, outcome, reason: Option<&str>| {
            let mut event = self.audit.event(kind, outcome, request);
            event.client_id = Some(pending.client_id.clone());
            event.username = Username::parse(username).ok();
            event.reason = reason.and_then(AuditReason::lossy);
            event
        };
        let subject = match self
            .sign_in
            .attempt(&peer, username, password, self.clock.now())
            .await?
        {
            Attempt::SignedIn(subject) => subject,
            Attempt::Failed => {
                self.audit.count_failure("wrong_password");
                self.audit
                    .record(audited(
                        AuditKind::SignIn,
                        AuditOutcome::Failure,
                        Some("wrong_password"),
                    ))
                    .await;
                return Ok(respond::redirect(
                    StatusCode::SEE_OTHER,
                    &format!("{resume}&failed=1"),
                ));
            }
            Attempt::Locked(wait) => {
                self.audit.count_failure("locked_out");
                self.audit
                    .record(audited(
                        AuditKind::LockedOut,
                        AuditOutcome::Failure,
                        Some("locked_out"),
                    ))
                    .await;
                // The upstream identity provider, if any, stays offered: it does not check
                // passwords here.
                let page = self.flow.login_page(
                    &request_id,
                    &pending,
                    LoginNotice::Locked(wait),
                    StatusCode::TOO_MANY_REQUESTS,
                );
                return Ok(wire::retry_after(page, wait));
            }
        };
        let mut event = audited(AuditKind::SignIn, AuditOutcome::Success, None);
        event.subject = Some(subject.clone());
        self.audit.record(event).await;
        // A new session id on login: no session fixation.
        let session_id = self
            .browsers
            .sign_in(&old_browser, subject, username)
            .await?;
        self.browsers
            .adopt(&request_id, pending, &session_id)
            .await?;
        let mut response = respond::redirect(StatusCode::SEE_OTHER, &resume);
        self.browsers.set_cookie(&mut response, &session_id);
        Ok(response)
    }

    /// `POST /authorize/signout`: "Not you? Sign out" on the consent page (SEC-4: the page's CSRF
    /// token), then 303 to the login page of the same request.
    pub(crate) async fn sign_out(&self, request: Request<Bytes>) -> Response<Bytes> {
        wire::finish(self.end_session(&request).await)
    }

    async fn end_session(&self, request: &Request<Bytes>) -> Handled {
        let CheckedForm {
            browser,
            session,
            request_id,
            pending,
            ..
        } = self.browsers.checked_form(request).await?;
        if session.is_none() {
            return Err(PageError::NotSignedIn.into());
        }
        let peer = peer_key(request);
        let anonymous = self
            .browsers
            .sign_out(&browser, &request_id, pending, &peer)
            .await?;
        let mut response =
            respond::redirect(StatusCode::SEE_OTHER, &self.paths.resume_of(&request_id));
        self.browsers.set_cookie(&mut response, &anonymous);
        Ok(response)
    }

    /// `GET /authorize/resume?request=…`: where login redirects (303) to.
    pub(crate) async fn resume(&self, request: Request<Bytes>) -> Response<Bytes> {
        wire::finish(self.next_step(&request).await)
    }

    async fn next_step(&self, request: &Request<Bytes>) -> Handled {
        let invalid = || PageError::RequestExpired;
        let query = request.uri().query().unwrap_or_default();
        let params = respond::simple_form(query.as_bytes()).ok_or_else(invalid)?;
        let request_id = params.get("request").ok_or_else(invalid)?;
        let (browser, pending) = self
            .browsers
            .owned_pending(request, request_id)
            .await?
            .ok_or_else(invalid)?;
        let session = self.browsers.session(&browser).await?;
        let failed = params.contains_key("failed");
        self.flow
            .next_step(
                request,
                request_id,
                &pending,
                session.as_ref(),
                failed,
                StatusCode::SEE_OTHER,
            )
            .await
    }
}
