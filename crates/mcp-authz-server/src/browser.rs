//! The browser side of the authorization flow: the session cookie, signed-in sessions, pending
//! requests and upstream login states, and the checks that bind a form or a step to the browser that
//! started it (REQUIREMENTS AS-11, SEC-4, SEC-17).

use std::collections::HashMap;

use bytes::Bytes;
use http::header::{HeaderValue, SET_COOKIE};
use http::{Request, Response};
use mcp_authz_store::Subject;
use subtle::ConstantTimeEq;

use crate::error::{EndpointError, PageError};
use crate::respond;
use crate::session::{
    BoundedMap, OwnedMap, PENDING_TTL, Pending, PendingRequests, SESSION_TTL, Session,
    is_random_id, random_id,
};

/// The in-memory browser state of one server.
pub(crate) struct Browsers {
    insecure_cookies: bool,
    /// Signed-in sessions only: anonymous browsers have none (SEC-17).
    pub(crate) sessions: BoundedMap<Session>,
    /// Authorization requests waiting for login and consent.
    pub(crate) pending: PendingRequests,
    /// Upstream login `state` -> (browser id, pending request id), bounded per peer.
    pub(crate) upstream_states: OwnedMap<(String, String)>,
    /// The account pages' sign-in forms: anonymous browser id -> the form's CSRF token, bounded
    /// per peer (SEC-4, SEC-17).
    account_sign_ins: OwnedMap<String>,
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

impl Browsers {
    /// Empty tables of `capacity` entries, `per_peer` of them per anonymous peer.
    pub(crate) fn new(insecure_cookies: bool, capacity: usize, per_peer: usize) -> Self {
        Self {
            insecure_cookies,
            sessions: BoundedMap::new(capacity),
            pending: PendingRequests::new(capacity, per_peer),
            upstream_states: OwnedMap::new(capacity, per_peer),
            account_sign_ins: OwnedMap::new(capacity, per_peer),
        }
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

    /// The signed-in session of the request's cookie, if live.
    pub(crate) fn session_of(&self, request: &Request<Bytes>) -> Option<(String, Session)> {
        let id = self.browser_of(request)?;
        let session = self.sessions.get(&id)?;
        Some((id, session))
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
    pub(crate) fn sign_in(
        &self,
        previous: &str,
        subject: Subject,
        name: &str,
    ) -> Result<String, EndpointError> {
        self.sessions.remove(previous);
        let id = random_id().ok_or_else(EndpointError::randomness)?;
        let session = Session {
            subject,
            name: name.to_owned(),
            csrf: random_id().ok_or_else(EndpointError::randomness)?,
        };
        self.sessions.insert(id.clone(), session, SESSION_TTL);
        Ok(id)
    }

    /// Ends the signed-in session `previous` and hands `pending` (request `request_id`) to a new
    /// anonymous browser id at `peer`, with a fresh CSRF token; that new id, for the cookie.
    pub(crate) fn sign_out(
        &self,
        previous: &str,
        request_id: String,
        mut pending: Pending,
        peer: &str,
    ) -> Result<String, EndpointError> {
        self.sessions.remove(previous);
        let id = random_id().ok_or_else(EndpointError::randomness)?;
        pending.session_id = id.clone();
        pending.csrf = random_id().ok_or_else(EndpointError::randomness)?;
        self.pending.insert_anonymous(request_id, peer, pending);
        Ok(id)
    }

    /// Moves `pending` to the signed-in `session_id` with a fresh CSRF token.
    pub(crate) fn adopt(
        &self,
        request_id: String,
        mut pending: Pending,
        session_id: &str,
    ) -> Result<(), EndpointError> {
        pending.session_id = session_id.to_owned();
        pending.csrf = random_id().ok_or_else(EndpointError::randomness)?;
        self.pending.insert_signed_in(request_id, pending);
        Ok(())
    }

    /// The pending request `request_id` if the request's browser started it, and that browser.
    pub(crate) fn owned_pending(
        &self,
        request: &Request<Bytes>,
        request_id: &str,
    ) -> Option<(String, Pending)> {
        let browser = self.browser_of(request)?;
        let pending = self.pending.get(request_id)?;
        owns(&pending, &browser).then_some((browser, pending))
    }

    /// The session, form and pending request of a page POST, all checked (SEC-4: CSRF token).
    pub(crate) fn checked_form(&self, request: &Request<Bytes>) -> Result<CheckedForm, PageError> {
        let invalid = || PageError::FormExpired;
        let form = respond::simple_form(request.body()).ok_or_else(invalid)?;
        let csrf = form.get("csrf").ok_or_else(invalid)?;
        let request_id = form.get("request").ok_or_else(invalid)?.clone();
        let (browser, pending) = self
            .owned_pending(request, &request_id)
            .ok_or_else(invalid)?;
        if !bool::from(csrf.as_bytes().ct_eq(pending.csrf.as_bytes())) {
            return Err(invalid());
        }
        let session = self.sessions.get(&browser);
        Ok(CheckedForm {
            browser,
            session,
            form,
            request_id,
            pending,
        })
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
    pub(crate) fn start_account_sign_in(
        &self,
        browser: &str,
        peer: &str,
    ) -> Result<String, EndpointError> {
        let csrf = random_id().ok_or_else(EndpointError::randomness)?;
        self.account_sign_ins
            .insert(browser.to_owned(), peer, csrf.clone(), PENDING_TTL);
        Ok(csrf)
    }

    /// The browser and form of an account sign-in POST whose CSRF token is the one this browser
    /// was given (SEC-4); the token is spent.
    pub(crate) fn checked_account_sign_in(
        &self,
        request: &Request<Bytes>,
    ) -> Result<(String, HashMap<String, String>), PageError> {
        let invalid = || PageError::AccountFormExpired;
        let form = respond::simple_form(request.body()).ok_or_else(invalid)?;
        let browser = self.browser_of(request).ok_or_else(invalid)?;
        let presented = form.get("csrf").ok_or_else(invalid)?;
        let expected = self.account_sign_ins.remove(&browser).ok_or_else(invalid)?;
        if !bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) {
            return Err(invalid());
        }
        Ok((browser, form))
    }

    /// The session and form of an account page POST of a signed-in browser, with the session's
    /// CSRF token (SEC-4).
    pub(crate) fn checked_session_form(
        &self,
        request: &Request<Bytes>,
    ) -> Result<(String, Session, HashMap<String, String>), PageError> {
        let form = respond::simple_form(request.body()).ok_or(PageError::AccountFormExpired)?;
        let (id, session) = self.session_of(request).ok_or(PageError::NotSignedIn)?;
        let presented = form.get("csrf").ok_or(PageError::AccountFormExpired)?;
        if !bool::from(presented.as_bytes().ct_eq(session.csrf.as_bytes())) {
            return Err(PageError::AccountFormExpired);
        }
        Ok((id, session, form))
    }

    /// Ends the signed-in session `id`; a new anonymous browser id for the cookie.
    pub(crate) fn end_session(&self, id: &str) -> Result<String, EndpointError> {
        self.sessions.remove(id);
        random_id().ok_or_else(EndpointError::randomness)
    }
}

/// Whether the browser `id` may continue `pending` (constant time).
pub(crate) fn owns(pending: &Pending, id: &str) -> bool {
    bool::from(pending.session_id.as_bytes().ct_eq(id.as_bytes()))
}
