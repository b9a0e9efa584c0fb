//! The account pages: `GET /account/applications` (the signed-in user's connected applications, or
//! a sign-in form), `POST /account/signin`, `POST /account/applications/revoke` and `POST
//! /account/signout` (REQUIREMENTS OB-3, SEC-4, SEC-19).

use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use mcp_authz_metadata::ClientId;
use mcp_authz_store::{AuditKind, AuditOutcome, AuditReason, Clock, Store, Username};

use crate::account_pages::{self, AccountNotice};
use crate::applications::Applications;
use crate::audit::Auditor;
use crate::browser::Browsers;
use crate::config::ServerConfig;
use crate::error::{EndpointError, Handled, PageError, wire};
use crate::pages::LoginNotice;
use crate::paths::Paths;
use crate::rate_limit::RateLimiter;
use crate::respond::{self, peer_key};
use crate::session::Session;
use crate::sign_in::{Attempt, PasswordSignIn, is_disabled};

/// The account pages' dependencies.
pub(crate) struct AccountEndpoint {
    config: Arc<ServerConfig>,
    clock: Arc<dyn Clock>,
    store: Arc<dyn Store>,
    paths: Arc<Paths>,
    browsers: Arc<Browsers>,
    applications: Arc<Applications>,
    /// Shared with the authorization flow's login form (SEC-19).
    sign_in: Arc<PasswordSignIn>,
    /// Shared with the authorization and login endpoints, per peer (SEC-8).
    limiter: Arc<RateLimiter>,
    /// Records the revocations (OB-1).
    audit: Arc<Auditor>,
}

impl AccountEndpoint {
    /// The endpoint over these parts.
    #[allow(clippy::too_many_arguments)] // one shared part each, as the server builds them
    pub(crate) fn new(
        config: Arc<ServerConfig>,
        store: Arc<dyn Store>,
        paths: Arc<Paths>,
        browsers: Arc<Browsers>,
        applications: Arc<Applications>,
        sign_in: Arc<PasswordSignIn>,
        limiter: Arc<RateLimiter>,
        audit: Arc<Auditor>,
    ) -> Self {
        Self {
            clock: config.clock.clone(),
            config,
            store,
            paths,
            browsers,
            applications,
            sign_in,
            limiter,
            audit,
        }
    }

    /// `GET /account/applications`: the list, or the sign-in form.
    pub(crate) async fn page(&self, request: Request<Bytes>) -> Response<Bytes> {
        wire::finish(self.show(&request).await)
    }

    /// The live session of the request, unless its user was disabled since it signed in.
    async fn session(
        &self,
        request: &Request<Bytes>,
    ) -> Result<Option<(String, Session)>, EndpointError> {
        match self.browsers.session_of(request).await? {
            Some((id, session)) if !is_disabled(&self.store, &session.subject).await? => {
                Ok(Some((id, session)))
            }
            _ => Ok(None),
        }
    }

    async fn show(&self, request: &Request<Bytes>) -> Handled {
        let query = request.uri().query().unwrap_or_default();
        let params = respond::simple_form(query.as_bytes()).unwrap_or_default();
        let Some((_, session)) = self.session(request).await? else {
            let notice = if params.contains_key("failed") {
                LoginNotice::Failed
            } else {
                LoginNotice::None
            };
            return self.sign_in_page(request, notice, StatusCode::OK).await;
        };
        let applications = self
            .applications
            .list(&session.subject, self.clock.now())
            .await?;
        let notice = if params.contains_key("revoked") {
            AccountNotice::Revoked
        } else {
            AccountNotice::None
        };
        Ok(respond::html(
            StatusCode::OK,
            account_pages::applications(
                &self.config.service_name,
                &self.paths,
                &session.name,
                &session.csrf,
                &applications,
                &self.config.scope_descriptions,
                notice,
            ),
        ))
    }

    /// The sign-in form, with a fresh CSRF token bound to this (anonymous) browser.
    async fn sign_in_page(
        &self,
        request: &Request<Bytes>,
        notice: LoginNotice,
        status: StatusCode,
    ) -> Handled {
        let (browser, fresh) = self.browsers.browser_or_new(request)?;
        let csrf = self
            .browsers
            .start_account_sign_in(&browser, &peer_key(request))
            .await?;
        let mut response = respond::html(
            status,
            account_pages::sign_in(&self.config.service_name, &self.paths, &csrf, notice),
        );
        if fresh {
            self.browsers.set_cookie(&mut response, &browser);
        }
        Ok(response)
    }

    /// `POST /account/signin`: checks the credentials (with the login form's lockout), then 303
    /// to the applications page.
    pub(crate) async fn sign_in(&self, request: Request<Bytes>) -> Response<Bytes> {
        if let Err(wait) = self.limiter.check(&peer_key(&request)) {
            return wire::response(EndpointError::RateLimited(wait));
        }
        wire::finish(self.authenticate(&request).await)
    }

    async fn authenticate(&self, request: &Request<Bytes>) -> Handled {
        let (browser, form) = self.browsers.checked_account_sign_in(request).await?;
        let username = form.get("username").map(String::as_str).unwrap_or_default();
        let password = form.get("password").map(String::as_str).unwrap_or_default();
        let attempt = self
            .sign_in
            .attempt(&peer_key(request), username, password, self.clock.now())
            .await?;
        let subject = match attempt {
            Attempt::SignedIn(subject) => subject,
            Attempt::Failed => {
                let failed = format!("{}?failed=1", self.paths.account_applications);
                return Ok(respond::redirect(StatusCode::SEE_OTHER, &failed));
            }
            Attempt::Locked(wait) => {
                let page = self
                    .sign_in_page(
                        request,
                        LoginNotice::Locked(wait),
                        StatusCode::TOO_MANY_REQUESTS,
                    )
                    .await?;
                return Ok(wire::retry_after(page, wait));
            }
        };
        // A new session id on sign-in: no session fixation.
        let session_id = self.browsers.sign_in(&browser, subject, username).await?;
        let mut response =
            respond::redirect(StatusCode::SEE_OTHER, &self.paths.account_applications);
        self.browsers.set_cookie(&mut response, &session_id);
        Ok(response)
    }

    /// `POST /account/applications/revoke`: revokes the signed-in user's grants to `client_id`
    /// and forgets the consent (SEC-4: the session's CSRF token), then 303 to the page.
    pub(crate) async fn revoke(&self, request: Request<Bytes>) -> Response<Bytes> {
        wire::finish(self.revoke_application(&request).await)
    }

    async fn revoke_application(&self, request: &Request<Bytes>) -> Handled {
        let (_, session, form) = self.browsers.checked_session_form(request).await?;
        let client_id = form
            .get("client_id")
            .and_then(|id| ClientId::parse(id).ok())
            .ok_or(PageError::AccountFormExpired)?;
        // Only this session's user's grants and consent: another user's client id revokes nothing
        // of theirs.
        let revoked = self
            .applications
            .revoke(&session.subject, &client_id, self.clock.now())
            .await?;
        let mut event = self
            .audit
            .event(AuditKind::ConsentRevoked, AuditOutcome::Success, request);
        event.client_id = Some(client_id);
        event.subject = Some(session.subject.clone());
        event.username = Username::parse(&session.name).ok();
        event.reason = AuditReason::lossy(if revoked.grants > 0 || revoked.consent {
            "user_revoked_application"
        } else {
            "nothing_to_revoke"
        });
        self.audit.record(event).await;
        let done = format!("{}?revoked=1", self.paths.account_applications);
        Ok(respond::redirect(StatusCode::SEE_OTHER, &done))
    }

    /// `POST /account/signout`: ends the session (SEC-4: the session's CSRF token), then 303 to
    /// the page, which asks to sign in.
    pub(crate) async fn sign_out(&self, request: Request<Bytes>) -> Response<Bytes> {
        wire::finish(self.end_session(&request).await)
    }

    async fn end_session(&self, request: &Request<Bytes>) -> Handled {
        let (id, _, _) = self.browsers.checked_session_form(request).await?;
        let anonymous = self.browsers.end_session(&id).await?;
        let mut response =
            respond::redirect(StatusCode::SEE_OTHER, &self.paths.account_applications);
        self.browsers.set_cookie(&mut response, &anonymous);
        Ok(response)
    }
}
