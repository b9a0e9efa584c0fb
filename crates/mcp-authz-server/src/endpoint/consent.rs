//! `POST /authorize/consent`: the user's decision, remembered on approval (REQUIREMENTS AS-11, SEC-4,
//! SEC-13).

use mcp_authz_store::Clock;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use mcp_authz_store::{AuditKind, AuditOutcome, Consent, Store, Username};

use crate::audit::Auditor;
use crate::browser::{Browsers, CheckedForm};
use crate::config::ServerConfig;
use crate::error::{Handled, PageError, RedirectCause, wire};
use crate::flow::AuthorizationFlow;
use crate::session::Session;

/// The consent endpoint's dependencies.
pub(crate) struct ConsentEndpoint {
    clock: Arc<dyn Clock>,
    store: Arc<dyn Store>,
    browsers: Arc<Browsers>,
    flow: Arc<AuthorizationFlow>,
    audit: Arc<Auditor>,
}

impl ConsentEndpoint {
    /// The endpoint over these parts.
    pub(crate) fn new(
        config: &ServerConfig,
        store: Arc<dyn Store>,
        browsers: Arc<Browsers>,
        flow: Arc<AuthorizationFlow>,
        audit: Arc<Auditor>,
    ) -> Self {
        Self {
            audit,
            clock: config.clock.clone(),
            store,
            browsers,
            flow,
        }
    }

    /// Approve (remembered) or deny, then 303 to the client.
    pub(crate) async fn handle(&self, request: Request<Bytes>) -> Response<Bytes> {
        wire::finish(self.decide(&request).await)
    }

    async fn decide(&self, request: &Request<Bytes>) -> Handled {
        let CheckedForm {
            session,
            form,
            request_id,
            pending,
            ..
        } = self.browsers.checked_form(request).await?;
        let Some(Session { subject, name, .. }) = session else {
            return Err(PageError::NotSignedIn.into());
        };
        // Single use from here on, whatever the decision: of two submissions (a double click, or
        // two instances), one takes the request and the other finds it gone.
        if self.browsers.take_pending(&request_id).await?.is_none() {
            return Err(PageError::FormExpired.into());
        }
        let approved = form.get("decision").map(String::as_str) == Some("approve");
        let (kind, outcome) = if approved {
            (AuditKind::ConsentGiven, AuditOutcome::Success)
        } else {
            (AuditKind::ConsentDenied, AuditOutcome::Failure)
        };
        let mut event = self.audit.event(kind, outcome, request);
        event.client_id = Some(pending.client_id.clone());
        event.subject = Some(subject.clone());
        event.username = Username::parse(&name).ok();
        event.scope = pending.scope.clone();
        event.resources = pending.resources.clone();
        if !approved {
            self.audit.record(event).await;
            return Err(self.flow.error_redirect(
                pending,
                StatusCode::SEE_OTHER,
                RedirectCause::AccessDenied,
            ));
        }
        let now = self.clock.now();
        // The consent page listed what was allowed before and what is new; both are remembered
        // (SEC-13).
        let previous = self.store.get_consent(&subject, &pending.client_id).await?;
        let (mut resources, scope) = previous.map(|c| (c.resources, c.scope)).unwrap_or_default();
        resources.extend(pending.resources.iter().cloned());
        self.store
            .put_consent(Consent {
                subject: subject.clone(),
                client_id: pending.client_id.clone(),
                resources,
                scope: scope.union(&pending.scope),
                granted_at: now,
            })
            .await?;
        self.audit.record(event).await;
        self.flow
            .issue_code(
                request,
                &pending,
                subject,
                Some(&name),
                StatusCode::SEE_OTHER,
            )
            .await
    }
}
