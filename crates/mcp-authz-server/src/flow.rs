//! The steps after an authorization request was accepted, shared by the authorization, login,
//! upstream and consent endpoints: the login page, the consent page, and issuing the code
//! (REQUIREMENTS AS-2, AS-6, AS-11, SEC-13).

use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use mcp_authz_store::{
    AuditKind, AuditOutcome, AuthorizationCode as StoredCode, SecretHash, Store, Subject, Username,
};
use mcp_authz_token::{AuthorizationCode, AuthorizationResponse};

use crate::audit::Auditor;
use crate::browser::Browsers;
use crate::config::ServerConfig;
use crate::error::{EndpointError, Handled, PageError};
use crate::pages::{self, LoginNotice};
use crate::paths::Paths;
use crate::respond;
use crate::session::{Pending, Session};
use crate::sign_in::is_disabled;

/// What the steps after an accepted authorization request need.
pub(crate) struct AuthorizationFlow {
    config: Arc<ServerConfig>,
    store: Arc<dyn Store>,
    browsers: Arc<Browsers>,
    paths: Arc<Paths>,
    audit: Arc<Auditor>,
}

impl AuthorizationFlow {
    /// The flow over these parts.
    pub(crate) fn new(
        config: Arc<ServerConfig>,
        store: Arc<dyn Store>,
        browsers: Arc<Browsers>,
        paths: Arc<Paths>,
        audit: Arc<Auditor>,
    ) -> Self {
        Self {
            config,
            store,
            browsers,
            paths,
            audit,
        }
    }

    /// The login page of `pending`, offering the upstream identity provider when there is one.
    pub(crate) fn login_page(
        &self,
        request_id: &str,
        pending: &Pending,
        notice: LoginNotice,
        status: StatusCode,
    ) -> Response<Bytes> {
        let upstream_url = self.paths.upstream_of(request_id);
        let upstream = self
            .config
            .upstream
            .as_ref()
            .map(|u| (u.display_name(), upstream_url.as_str()));
        respond::html(
            status,
            pages::login(
                &self.config,
                pending,
                request_id,
                &self.paths.login,
                notice,
                upstream,
            ),
        )
    }

    /// Login page, consent page, or (consent remembered) the code redirect.
    pub(crate) async fn next_step(
        &self,
        request: &Request<Bytes>,
        request_id: &str,
        pending: &Pending,
        session: Option<&Session>,
        login_failed: bool,
        redirect_status: StatusCode,
    ) -> Handled {
        let Some(Session { subject, name, .. }) = session else {
            let notice = if login_failed {
                LoginNotice::Failed
            } else {
                LoginNotice::None
            };
            return Ok(self.login_page(request_id, pending, notice, StatusCode::OK));
        };
        // SEC-13: remembered only when every resource and scope of the request was shown and approved.
        let allowed = self.store.get_consent(subject, &pending.client_id).await?;
        if allowed
            .as_ref()
            .is_some_and(|c| c.covers(&pending.resources, &pending.scope))
        {
            if self.browsers.take_pending(request_id).await?.is_none() {
                // Another step (another tab, another instance) took it first.
                return Err(PageError::RequestExpired.into());
            }
            return self
                .issue_code(
                    request,
                    pending,
                    subject.clone(),
                    Some(name),
                    redirect_status,
                )
                .await;
        }
        Ok(respond::html(
            StatusCode::OK,
            pages::consent(
                &self.config,
                pending,
                request_id,
                &self.paths,
                name,
                allowed.as_ref(),
            ),
        ))
    }

    /// Stores a fresh code and redirects to the client with `code`, `state` and `iss`; audited with
    /// the user's `name` (the username typed at sign-in, when it is one).
    pub(crate) async fn issue_code(
        &self,
        request: &Request<Bytes>,
        pending: &Pending,
        subject: Subject,
        name: Option<&str>,
        status: StatusCode,
    ) -> Handled {
        // A user the operator disabled after signing in gets no more codes (OB-4).
        if is_disabled(&self.store, &subject).await? {
            return Err(PageError::NotSignedIn.into());
        }
        let now = self.config.clock.now();
        let code = AuthorizationCode::generate().map_err(|_| EndpointError::randomness())?;
        let stored = StoredCode {
            hash: SecretHash::of(code.secret()),
            client_id: pending.client_id.clone(),
            redirect_uri: pending.redirect_uri.clone(),
            code_challenge: pending.code_challenge.clone(),
            resources: pending.resources.clone(),
            scope: pending.scope.clone(),
            subject: subject.clone(),
            family_id: self.config.ids.family_id()?,
            issued_at: now,
            expires_at: now.saturating_add(self.config.code_lifetime),
            consumed_at: None,
        };
        self.store.insert_code(stored).await?;
        let mut event = self
            .audit
            .event(AuditKind::CodeIssued, AuditOutcome::Success, request);
        event.client_id = Some(pending.client_id.clone());
        event.subject = Some(subject);
        event.username = name.and_then(|name| Username::parse(name).ok());
        event.scope = pending.scope.clone();
        event.resources = pending.resources.clone();
        self.audit.record(event).await;
        let url = AuthorizationResponse {
            code,
            state: pending.state.clone(),
            iss: Some(self.config.issuer.clone()),
        }
        .redirect_url(&pending.redirect_uri);
        Ok(respond::redirect(status, url.as_str()))
    }

    /// An error redirect of `pending` to its (verified) redirect URI.
    pub(crate) fn error_redirect(
        &self,
        pending: Pending,
        status: StatusCode,
        cause: impl Into<crate::error::RedirectCause>,
    ) -> EndpointError {
        EndpointError::redirect(
            pending.redirect_uri,
            pending.state,
            self.config.issuer.clone(),
            status,
            cause,
        )
    }
}
