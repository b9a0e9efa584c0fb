//! The browser side of the authorization flow: the session cookie, signed-in sessions, pending
//! requests and upstream login states, and the checks that bind a form or a step to the browser that
//! started it (REQUIREMENTS AS-11, SEC-4, SEC-17, SC-1).
//!
//! The records live in a [`BrowserStateStore`]: this process's memory by default, or a store shared
//! by every instance (`ServerConfigBuilder::shared_browser_state`), so that any instance can serve
//! any step of a browser flow.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use http::header::{HeaderValue, SET_COOKIE};
use http::{Request, Response};
use mcp_authz_store::{
    BrowserState, BrowserStateKind, BrowserStateStore, Clock, NumericDate, SecretHash, StoreError,
    Subject,
};
use subtle::ConstantTimeEq;

use crate::error::{EndpointError, PageError};
use crate::respond;
use crate::session::{PENDING_TTL, Pending, SESSION_TTL, Session, is_random_id, random_id};

/// The browser state of one server.
pub(crate) struct Browsers {
    insecure_cookies: bool,
    /// Live pending requests (and upstream logins) one anonymous peer or one session may hold.
    per_owner: usize,
    states: Arc<dyn BrowserStateStore>,
    clock: Arc<dyn Clock>,
}

/// A page POST whose browser, CSRF token and pending request were checked.
pub(crate) struct CheckedForm {
    /// The browser id of the cookie.
    pub(crate) browser: String,
    /// The signed-in session of that browser, if any.
    pub(crate) session: Option<Session>,
    /// The form fields.
    pub(crate) form: HashMap<String, String>,
    /// The pending request's id.
    pub(crate) request_id: String,
    /// The pending request.
    pub(crate) pending: Pending,
}

/// An upstream login in progress: the browser that started it and its pending request.
pub(crate) struct UpstreamLogin {
    /// SHA-256 of the browser id.
    pub(crate) browser: SecretHash,
    /// The pending request's id.
    pub(crate) request_id: String,
}

impl Browsers {
    /// Browser state in `states`, at most `per_owner` pending requests per anonymous peer or
    /// session.
    pub(crate) fn new(
        insecure_cookies: bool,
        per_owner: usize,
        states: Arc<dyn BrowserStateStore>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            insecure_cookies,
            per_owner: per_owner.max(1),
            states,
            clock,
        }
    }

    fn now(&self) -> NumericDate {
        self.clock.now()
    }

    /// The name of the session cookie (`__Host-` prefixed when `Secure`).
    fn cookie_name(&self) -> &'static str {
        if self.insecure_cookies {
            "mcp_authz_session"
        } else {
            "__Host-mcp_authz_session"
        }
    }

    /// The browser id of the request's cookie: a signed-in session id, or the random id of an
    /// anonymous browser (which has no server-side session, SEC-17).
    pub(crate) fn browser_of(&self, request: &Request<Bytes>) -> Option<String> {
        let id = respond::cookie(request.headers(), self.cookie_name())?;
        is_random_id(id).then(|| id.to_owned())
    }

    /// The live signed-in session `id`.
    pub(crate) async fn session(&self, id: &str) -> Result<Option<Session>, StoreError> {
        let stored = self
            .states
            .get_browser_state(BrowserStateKind::Session, &SecretHash::of(id), self.now())
            .await?;
        Ok(stored.and_then(|bytes| decoded(Session::from_stored(&bytes))))
    }

    /// The signed-in session of the request's cookie, if live.
    pub(crate) async fn session_of(
        &self,
        request: &Request<Bytes>,
    ) -> Result<Option<(String, Session)>, StoreError> {
        let Some(id) = self.browser_of(request) else {
            return Ok(None);
        };
        Ok(self.session(&id).await?.map(|session| (id, session)))
    }

    /// Sets the session cookie to `session_id`.
    pub(crate) fn set_cookie(&self, response: &mut Response<Bytes>, session_id: &str) {
        let secure = if self.insecure_cookies {
            ""
        } else {
            "; Secure"
        };
        let value = format!(
            "{}={session_id}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
            self.cookie_name(),
            SESSION_TTL.as_secs()
        );
        if let Ok(value) = HeaderValue::try_from(value) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }

    /// Signs `subject` (called `name` on the pages) in, replacing the browser's previous session: a
    /// new session (and id: no session fixation), its id.
    pub(crate) async fn sign_in(
        &self,
        previous: &str,
        subject: Subject,
        name: &str,
    ) -> Result<String, EndpointError> {
        let now = self.now();
        self.states
            .take_browser_state(BrowserStateKind::Session, &SecretHash::of(previous), now)
            .await?;
        let id = random_id().ok_or_else(EndpointError::randomness)?;
        let session = Session {
            subject,
            name: name.to_owned(),
            csrf: random_id().ok_or_else(EndpointError::randomness)?,
        };
        let record = BrowserState {
            kind: BrowserStateKind::Session,
            key: SecretHash::of(&id),
            owner: String::new(),
            value: session.to_stored(),
            expires_at: now.saturating_add(SESSION_TTL),
        };
        self.states.put_browser_state(record, None, now).await?;
        Ok(id)
    }

    /// Ends the signed-in session `previous` and hands `pending` (request `request_id`) to a new
    /// anonymous browser id at `peer`, with a fresh CSRF token; that new id, for the cookie.
    pub(crate) async fn sign_out(
        &self,
        previous: &str,
        request_id: &str,
        mut pending: Pending,
        peer: &str,
    ) -> Result<String, EndpointError> {
        self.states
            .take_browser_state(
                BrowserStateKind::Session,
                &SecretHash::of(previous),
                self.now(),
            )
            .await?;
        let id = random_id().ok_or_else(EndpointError::randomness)?;
        pending.browser = SecretHash::of(&id);
        pending.csrf = random_id().ok_or_else(EndpointError::randomness)?;
        self.insert_anonymous(request_id, peer, &pending).await?;
        Ok(id)
    }

    /// Moves `pending` to the signed-in `session_id` with a fresh CSRF token.
    pub(crate) async fn adopt(
        &self,
        request_id: &str,
        mut pending: Pending,
        session_id: &str,
    ) -> Result<(), EndpointError> {
        pending.browser = SecretHash::of(session_id);
        pending.csrf = random_id().ok_or_else(EndpointError::randomness)?;
        self.insert_signed_in(request_id, &pending).await?;
        Ok(())
    }

    /// Stores the request of an anonymous browser at `peer` (counted against the peer).
    pub(crate) async fn insert_anonymous(
        &self,
        request_id: &str,
        peer: &str,
        pending: &Pending,
    ) -> Result<(), StoreError> {
        let key = SecretHash::of(request_id);
        let now = self.now();
        self.states
            .take_browser_state(BrowserStateKind::SignedInRequest, &key, now)
            .await?;
        let record = BrowserState {
            kind: BrowserStateKind::AnonymousRequest,
            key,
            owner: peer.to_owned(),
            value: pending.to_stored(),
            expires_at: now.saturating_add(PENDING_TTL),
        };
        self.states
            .put_browser_state(record, Some(self.per_owner), now)
            .await
    }

    /// Stores the request of the signed-in session `pending.browser` (counted against it, so that
    /// anonymous traffic cannot evict it, SEC-17).
    pub(crate) async fn insert_signed_in(
        &self,
        request_id: &str,
        pending: &Pending,
    ) -> Result<(), StoreError> {
        let key = SecretHash::of(request_id);
        let now = self.now();
        self.states
            .take_browser_state(BrowserStateKind::AnonymousRequest, &key, now)
            .await?;
        let record = BrowserState {
            kind: BrowserStateKind::SignedInRequest,
            key,
            owner: pending.browser.to_string(),
            value: pending.to_stored(),
            expires_at: now.saturating_add(PENDING_TTL),
        };
        self.states
            .put_browser_state(record, Some(self.per_owner), now)
            .await
    }

    /// The live pending request `request_id`.
    pub(crate) async fn pending(&self, request_id: &str) -> Result<Option<Pending>, StoreError> {
        let key = SecretHash::of(request_id);
        let now = self.now();
        for kind in [
            BrowserStateKind::SignedInRequest,
            BrowserStateKind::AnonymousRequest,
        ] {
            if let Some(bytes) = self.states.get_browser_state(kind, &key, now).await? {
                return Ok(decoded(Pending::from_stored(&bytes)));
            }
        }
        Ok(None)
    }

    /// Removes the pending request `request_id`; the request if it was live (to one caller only).
    pub(crate) async fn take_pending(
        &self,
        request_id: &str,
    ) -> Result<Option<Pending>, StoreError> {
        let key = SecretHash::of(request_id);
        let now = self.now();
        let mut taken = None;
        for kind in [
            BrowserStateKind::SignedInRequest,
            BrowserStateKind::AnonymousRequest,
        ] {
            if let Some(bytes) = self.states.take_browser_state(kind, &key, now).await? {
                taken = taken.or(decoded(Pending::from_stored(&bytes)));
            }
        }
        Ok(taken)
    }

    /// The pending request `request_id` if the request's browser started it, and that browser.
    pub(crate) async fn owned_pending(
        &self,
        request: &Request<Bytes>,
        request_id: &str,
    ) -> Result<Option<(String, Pending)>, StoreError> {
        let Some(browser) = self.browser_of(request) else {
            return Ok(None);
        };
        let Some(pending) = self.pending(request_id).await? else {
            return Ok(None);
        };
        Ok(owns(&pending, &browser).then_some((browser, pending)))
    }

    /// The session, form and pending request of a page POST, all checked (SEC-4: CSRF token).
    pub(crate) async fn checked_form(
        &self,
        request: &Request<Bytes>,
    ) -> Result<CheckedForm, EndpointError> {
        let invalid = || EndpointError::Page(PageError::FormExpired);
        let form = respond::simple_form(request.body()).ok_or_else(invalid)?;
        let csrf = form.get("csrf").ok_or_else(invalid)?;
        let request_id = form.get("request").ok_or_else(invalid)?.clone();
        let (browser, pending) = self
            .owned_pending(request, &request_id)
            .await?
            .ok_or_else(invalid)?;
        if !bool::from(csrf.as_bytes().ct_eq(pending.csrf.as_bytes())) {
            return Err(invalid());
        }
        let session = self.session(&browser).await?;
        Ok(CheckedForm {
            browser,
            session,
            form,
            request_id,
            pending,
        })
    }

    /// Remembers an upstream login started with `state` by `browser` for `request_id`, counted
    /// against `peer`.
    pub(crate) async fn start_upstream_login(
        &self,
        state: &str,
        peer: &str,
        browser: &str,
        request_id: &str,
    ) -> Result<(), StoreError> {
        let now = self.now();
        let value = serde_json::to_vec(&(SecretHash::of(browser).to_string(), request_id))
            .unwrap_or_default();
        let record = BrowserState {
            kind: BrowserStateKind::UpstreamLogin,
            key: SecretHash::of(state),
            owner: peer.to_owned(),
            value,
            expires_at: now.saturating_add(PENDING_TTL),
        };
        self.states
            .put_browser_state(record, Some(self.per_owner), now)
            .await
    }

    /// The upstream login of `state`, removed (single use).
    pub(crate) async fn take_upstream_login(
        &self,
        state: &str,
    ) -> Result<Option<UpstreamLogin>, StoreError> {
        let stored = self
            .states
            .take_browser_state(
                BrowserStateKind::UpstreamLogin,
                &SecretHash::of(state),
                self.now(),
            )
            .await?;
        Ok(stored.and_then(|bytes| {
            let parsed = serde_json::from_slice::<(String, String)>(&bytes)
                .ok()
                .and_then(|(browser, request_id)| {
                    Some(UpstreamLogin {
                        browser: browser.parse().ok()?,
                        request_id,
                    })
                });
            decoded(parsed)
        }))
    }
}

impl Browsers {
    /// The browser id of the request's cookie, or a new one (`true`: set the cookie).
    pub(crate) fn browser_or_new(
        &self,
        request: &Request<Bytes>,
    ) -> Result<(String, bool), EndpointError> {
        match self.browser_of(request) {
            Some(id) => Ok((id, false)),
            None => Ok((random_id().ok_or_else(EndpointError::randomness)?, true)),
        }
    }

    /// A fresh CSRF token for the account sign-in form of the anonymous browser `browser` at
    /// `peer` (replacing any earlier one of that browser).
    pub(crate) async fn start_account_sign_in(
        &self,
        browser: &str,
        peer: &str,
    ) -> Result<String, EndpointError> {
        let csrf = random_id().ok_or_else(EndpointError::randomness)?;
        let now = self.now();
        let record = BrowserState {
            kind: BrowserStateKind::AccountSignIn,
            key: SecretHash::of(browser),
            owner: peer.to_owned(),
            value: csrf.clone().into_bytes(),
            expires_at: now.saturating_add(PENDING_TTL),
        };
        self.states
            .put_browser_state(record, Some(self.per_owner), now)
            .await?;
        Ok(csrf)
    }

    /// The browser and form of an account sign-in POST whose CSRF token is the one this browser
    /// was given (SEC-4); the token is spent.
    pub(crate) async fn checked_account_sign_in(
        &self,
        request: &Request<Bytes>,
    ) -> Result<(String, HashMap<String, String>), EndpointError> {
        let invalid = || EndpointError::Page(PageError::AccountFormExpired);
        let form = respond::simple_form(request.body()).ok_or_else(invalid)?;
        let browser = self.browser_of(request).ok_or_else(invalid)?;
        let presented = form.get("csrf").ok_or_else(invalid)?;
        let expected = self
            .states
            .take_browser_state(
                BrowserStateKind::AccountSignIn,
                &SecretHash::of(&browser),
                self.now(),
            )
            .await?
            .ok_or_else(invalid)?;
        if !bool::from(presented.as_bytes().ct_eq(expected.as_slice())) {
            return Err(invalid());
        }
        Ok((browser, form))
    }

    /// The session and form of an account page POST of a signed-in browser, with the session's
    /// CSRF token (SEC-4).
    pub(crate) async fn checked_session_form(
        &self,
        request: &Request<Bytes>,
    ) -> Result<(String, Session, HashMap<String, String>), EndpointError> {
        let form = respond::simple_form(request.body()).ok_or(PageError::AccountFormExpired)?;
        let (id, session) = self
            .session_of(request)
            .await?
            .ok_or(PageError::NotSignedIn)?;
        let presented = form.get("csrf").ok_or(PageError::AccountFormExpired)?;
        if !bool::from(presented.as_bytes().ct_eq(session.csrf.as_bytes())) {
            return Err(PageError::AccountFormExpired.into());
        }
        Ok((id, session, form))
    }

    /// Ends the signed-in session `id`; a new anonymous browser id for the cookie.
    pub(crate) async fn end_session(&self, id: &str) -> Result<String, EndpointError> {
        self.states
            .take_browser_state(BrowserStateKind::Session, &SecretHash::of(id), self.now())
            .await?;
        random_id().ok_or_else(EndpointError::randomness)
    }
}

/// A stored record that no longer parses (written by another release during a rolling upgrade, or
/// damaged) counts as expired: the user starts again, nothing is trusted.
fn decoded<T>(parsed: Option<T>) -> Option<T> {
    if parsed.is_none() {
        tracing::warn!("a stored browser session or request did not parse; treated as expired");
    }
    parsed
}

/// Whether the browser `id` may continue `pending` (constant time).
pub(crate) fn owns(pending: &Pending, id: &str) -> bool {
    SecretHash::of(id) == pending.browser
}
