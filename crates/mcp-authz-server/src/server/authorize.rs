//! The authorization endpoint and its login and consent pages (REQUIREMENTS AS-2..AS-6, AS-11, SEC-1,
//! SEC-4, SEC-9).

use std::collections::HashMap;

use bytes::Bytes;
use http::header::{HeaderValue, SET_COOKIE};
use http::{Request, Response, StatusCode};
use mcp_authz_metadata::{GrantType, RedirectUri};
use mcp_authz_store::{
    AuthorizationCode as StoredCode, ClientRecord, Consent, SecretHash, Subject,
};
use mcp_authz_token::{AuthorizationCode, AuthorizationRequest, AuthorizationResponse};
use subtle::ConstantTimeEq;

use super::clients::localhost_only_document_client;
use super::{AuthorizationServer, Handled, finish, peer_key};
use crate::error::{EndpointError, PageError, RedirectCause, UnauthorizedClient, wire};
use crate::grant_policy::{Grant, resolve_grant};
use crate::pages::{self, LoginNotice};
use crate::respond;
use crate::session::{PENDING_TTL, Pending, SESSION_TTL, Session, is_random_id, random_id};

/// The name of the session cookie (`__Host-` prefixed when `Secure`).
fn cookie_name(insecure: bool) -> &'static str {
    if insecure {
        "mcp_authz_session"
    } else {
        "__Host-mcp_authz_session"
    }
}

/// The browser id of the request's cookie: a signed-in session id, or the random id of an anonymous
/// browser (which has no server-side session, SEC-17).
fn browser_of(server: &AuthorizationServer, request: &Request<Bytes>) -> Option<String> {
    let name = cookie_name(server.inner.config.insecure_cookies());
    let id = respond::cookie(request.headers(), name)?;
    is_random_id(id).then(|| id.to_owned())
}

/// The signed-in session of the request's cookie, if live.
fn session_of(server: &AuthorizationServer, request: &Request<Bytes>) -> Option<(String, Session)> {
    let id = browser_of(server, request)?;
    let session = server.inner.sessions.get(&id)?;
    Some((id, session))
}

/// Whether the browser `id` may continue `pending` (constant time).
fn owns(pending: &Pending, id: &str) -> bool {
    bool::from(pending.session_id.as_bytes().ct_eq(id.as_bytes()))
}

fn randomness() -> EndpointError {
    EndpointError::randomness()
}

fn set_cookie(server: &AuthorizationServer, response: &mut Response<Bytes>, session_id: &str) {
    let insecure = server.inner.config.insecure_cookies();
    let secure = if insecure { "" } else { "; Secure" };
    let value = format!(
        "{}={session_id}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        cookie_name(insecure),
        SESSION_TTL.as_secs()
    );
    if let Ok(value) = HeaderValue::try_from(value) {
        response.headers_mut().append(SET_COOKIE, value);
    }
}

/// Signs `subject` in: a new session (and id: no session fixation), its id.
fn new_session(server: &AuthorizationServer, subject: Subject) -> Result<String, EndpointError> {
    let id = random_id().ok_or_else(randomness)?;
    server
        .inner
        .sessions
        .insert(id.clone(), Session { subject }, SESSION_TTL);
    Ok(id)
}

/// A page POST whose browser, CSRF token and pending request were checked.
struct CheckedForm {
    browser: String,
    session: Option<Session>,
    form: HashMap<String, String>,
    request_id: String,
    pending: Pending,
}

impl AuthorizationServer {
    /// `GET /authorize`: validates the request; bad client or redirect URI -> error page, other
    /// errors -> redirect with `error`, `state` and `iss`; else login, consent, or the code.
    pub async fn authorize(&self, request: Request<Bytes>) -> Response<Bytes> {
        if let Err(wait) = self.inner.authorize_limiter.check(&peer_key(&request)) {
            return wire::response(EndpointError::RateLimited(wait));
        }
        finish(self.authorize_inner(&request).await)
    }

    /// The client and its redirect URI, or an error page (SEC-1: never redirect to an unverified URI).
    async fn client_and_redirect(
        &self,
        client_id: Option<&mcp_authz_metadata::ClientId>,
        redirect_uri: Option<&RedirectUri>,
        peer: &str,
    ) -> Result<(ClientRecord, RedirectUri), EndpointError> {
        let client_id = client_id.ok_or(PageError::NoClientId)?;
        let lookup = super::clients::Lookup::Fetch { peer };
        let client = self
            .find_client(client_id, lookup)
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
            Some(_) => {
                return Err(PageError::UnregisteredRedirectUri.into());
            }
            None => match client.redirect_uris.as_slice() {
                [only] => only.clone(),
                _ => {
                    return Err(PageError::AmbiguousRedirectUri.into());
                }
            },
        };
        Ok((client, redirect_uri))
    }

    async fn authorize_inner(&self, request: &Request<Bytes>) -> Handled {
        let query = request.uri().query().unwrap_or_default();
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
                        &peer_key(request),
                    )
                    .await?;
                return Err(EndpointError::redirect(
                    redirect_uri,
                    rejection.state,
                    self.inner.config.issuer.clone(),
                    StatusCode::FOUND,
                    rejection.error,
                ));
            }
        };
        let (client, redirect_uri) = self
            .client_and_redirect(
                Some(&parsed.client_id),
                parsed.redirect_uri.as_ref(),
                &peer_key(request),
            )
            .await?;
        let state = parsed.state.clone();
        let issuer = &self.inner.config.issuer;
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
            &self.inner.config,
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
        if let Some(auto) = &self.inner.config.auto_approve {
            let subject = auto.subject().clone();
            tracing::warn!(subject = %subject, "dangerous auto-approve: skipping login and consent");
            let pending = Pending {
                session_id: String::new(),
                csrf: String::new(),
                client_id: client.client_id.clone(),
                client_name: String::new(),
                localhost_warning: false,
                redirect_uri,
                state,
                code_challenge: parsed.code_challenge,
                resources,
                scope,
            };
            return self.issue_code(&pending, subject, StatusCode::FOUND).await;
        }
        // SEC-17: no server-side session for an anonymous browser, only a random id in its cookie.
        let signed_in = session_of(self, request);
        let (browser, fresh) = match (&signed_in, browser_of(self, request)) {
            (Some((id, _)), _) => (id.clone(), false),
            (None, Some(id)) => (id, false),
            (None, None) => (random_id().ok_or_else(randomness)?, true),
        };
        let pending = Pending {
            session_id: browser.clone(),
            csrf: random_id().ok_or_else(randomness)?,
            client_name: client
                .client_name
                .clone()
                .unwrap_or_else(|| client.client_id.as_str().to_owned()),
            localhost_warning: localhost_only_document_client(&client),
            client_id: client.client_id.clone(),
            redirect_uri,
            state,
            code_challenge: parsed.code_challenge,
            resources,
            scope,
        };
        let request_id = random_id().ok_or_else(randomness)?;
        let subject = match signed_in {
            Some((_, session)) => {
                self.inner
                    .pending
                    .insert_signed_in(request_id.clone(), pending.clone());
                Some(session.subject)
            }
            None => {
                self.inner.pending.insert_anonymous(
                    request_id.clone(),
                    &peer_key(request),
                    pending.clone(),
                );
                None
            }
        };
        let mut response = self
            .next_step(
                &request_id,
                &pending,
                subject.as_ref(),
                false,
                StatusCode::FOUND,
            )
            .await?;
        if fresh {
            set_cookie(self, &mut response, &browser);
        }
        Ok(response)
    }

    /// Login page, consent page, or (consent remembered) the code redirect.
    async fn next_step(
        &self,
        request_id: &str,
        pending: &Pending,
        subject: Option<&Subject>,
        login_failed: bool,
        redirect_status: StatusCode,
    ) -> Handled {
        let paths = &self.inner.paths;
        let Some(subject) = subject else {
            let upstream_url = format!("{}?request={request_id}", paths.upstream);
            let upstream = self
                .inner
                .config
                .upstream
                .as_ref()
                .map(|u| (u.display_name(), upstream_url.as_str()));
            let notice = if login_failed {
                LoginNotice::Failed
            } else {
                LoginNotice::None
            };
            return Ok(respond::html(
                StatusCode::OK,
                pages::login(
                    pending,
                    request_id,
                    &pending.csrf,
                    &paths.login,
                    notice,
                    upstream,
                ),
            ));
        };
        // SEC-13: remembered only when every resource and scope of the request was shown and approved.
        let allowed = self
            .inner
            .store
            .get_consent(subject, &pending.client_id)
            .await?;
        if allowed
            .as_ref()
            .is_some_and(|c| c.covers(&pending.resources, &pending.scope))
        {
            self.inner.pending.remove(request_id);
            return self
                .issue_code(pending, subject.clone(), redirect_status)
                .await;
        }
        Ok(respond::html(
            StatusCode::OK,
            pages::consent(
                pending,
                request_id,
                &pending.csrf,
                &paths.consent,
                subject.as_str(),
                allowed.as_ref(),
            ),
        ))
    }

    /// Stores a fresh code and redirects to the client with `code`, `state` and `iss`.
    async fn issue_code(&self, pending: &Pending, subject: Subject, status: StatusCode) -> Handled {
        let now = self.now();
        let code = AuthorizationCode::generate().map_err(|_| randomness())?;
        let stored = StoredCode {
            hash: SecretHash::of(code.secret()),
            client_id: pending.client_id.clone(),
            redirect_uri: pending.redirect_uri.clone(),
            code_challenge: pending.code_challenge.clone(),
            resources: pending.resources.clone(),
            scope: pending.scope.clone(),
            subject,
            family_id: self.inner.config.ids.family_id()?,
            issued_at: now,
            expires_at: now.saturating_add(self.inner.config.code_lifetime),
            consumed_at: None,
        };
        self.inner.store.insert_code(stored).await?;
        let url = AuthorizationResponse {
            code,
            state: pending.state.clone(),
            iss: Some(self.inner.config.issuer.clone()),
        }
        .redirect_url(&pending.redirect_uri);
        Ok(respond::redirect(status, url.as_str()))
    }

    /// The session, form and pending request of a page POST, all checked (SEC-4: CSRF token).
    fn checked_form(&self, request: &Request<Bytes>) -> Result<CheckedForm, EndpointError> {
        let invalid = || PageError::FormExpired;
        let browser = browser_of(self, request).ok_or_else(invalid)?;
        let form = respond::simple_form(request.body()).ok_or_else(invalid)?;
        let csrf = form.get("csrf").ok_or_else(invalid)?;
        let request_id = form.get("request").ok_or_else(invalid)?.clone();
        let pending = self.inner.pending.get(&request_id).ok_or_else(invalid)?;
        if !owns(&pending, &browser) || !bool::from(csrf.as_bytes().ct_eq(pending.csrf.as_bytes()))
        {
            return Err(invalid().into());
        }
        let session = self.inner.sessions.get(&browser);
        Ok(CheckedForm {
            browser,
            session,
            form,
            request_id,
            pending,
        })
    }

    /// `POST /authorize/login`: checks the credentials, then 303 to the next step.
    pub async fn login(&self, request: Request<Bytes>) -> Response<Bytes> {
        if let Err(wait) = self.inner.authorize_limiter.check(&peer_key(&request)) {
            return wire::response(EndpointError::RateLimited(wait));
        }
        finish(self.login_inner(&request).await)
    }

    async fn login_inner(&self, request: &Request<Bytes>) -> Handled {
        let CheckedForm {
            browser: old_browser,
            form,
            request_id,
            mut pending,
            ..
        } = self.checked_form(request)?;
        let username = form.get("username").map(String::as_str).unwrap_or_default();
        let password = form.get("password").map(String::as_str).unwrap_or_default();
        let resume = format!("{}?request={request_id}", self.inner.paths.resume);
        // SEC-19: a locked (address, account) or account gets no password check at all, whether
        // the account exists or not. The attempt counts as a failure until it succeeds, so parallel
        // guesses cannot all pass before the first failure is counted.
        let peer = peer_key(request);
        if let Err(wait) = self.inner.lockout.attempt(&peer, username, self.now()) {
            // The upstream identity provider, if any, stays offered: it does not check passwords here.
            let upstream_url = format!("{}?request={request_id}", self.inner.paths.upstream);
            let upstream = self
                .inner
                .config
                .upstream
                .as_ref()
                .map(|u| (u.display_name(), upstream_url.as_str()));
            let page = pages::login(
                &pending,
                &request_id,
                &pending.csrf,
                &self.inner.paths.login,
                LoginNotice::Locked(wait),
                upstream,
            );
            let response = respond::html(StatusCode::TOO_MANY_REQUESTS, page);
            return Ok(wire::retry_after(response, wait));
        }
        let judged = self
            .inner
            .authenticator
            .authenticate(username, password)
            .await;
        if judged.is_err() {
            // Not a failure of the user: the backend could not answer (503).
            self.inner.lockout.refund(&peer, username);
        }
        let Some(subject) = judged? else {
            return Ok(respond::redirect(
                StatusCode::SEE_OTHER,
                &format!("{resume}&failed=1"),
            ));
        };
        self.inner.lockout.succeeded(&peer, username, self.now());
        // A new session id on login: no session fixation.
        self.inner.sessions.remove(&old_browser);
        let session_id = new_session(self, subject)?;
        pending.session_id = session_id.clone();
        pending.csrf = random_id().ok_or_else(randomness)?;
        self.inner.pending.insert_signed_in(request_id, pending);
        let mut response = respond::redirect(StatusCode::SEE_OTHER, &resume);
        set_cookie(self, &mut response, &session_id);
        Ok(response)
    }

    /// `GET /authorize/resume?request=…`: where login redirects (303) to.
    pub async fn resume(&self, request: Request<Bytes>) -> Response<Bytes> {
        finish(self.resume_inner(&request).await)
    }

    async fn resume_inner(&self, request: &Request<Bytes>) -> Handled {
        let invalid = || PageError::RequestExpired;
        let query = request.uri().query().unwrap_or_default();
        let params = respond::simple_form(query.as_bytes()).ok_or_else(invalid)?;
        let request_id = params.get("request").ok_or_else(invalid)?;
        let browser = browser_of(self, request).ok_or_else(invalid)?;
        let pending = self.inner.pending.get(request_id).ok_or_else(invalid)?;
        if !owns(&pending, &browser) {
            return Err(invalid().into());
        }
        let subject = self.inner.sessions.get(&browser).map(|s| s.subject);
        let failed = params.contains_key("failed");
        self.next_step(
            request_id,
            &pending,
            subject.as_ref(),
            failed,
            StatusCode::SEE_OTHER,
        )
        .await
    }

    /// `POST /authorize/consent`: approve (remembered) or deny, then 303 to the client.
    pub async fn consent(&self, request: Request<Bytes>) -> Response<Bytes> {
        finish(self.consent_inner(&request).await)
    }

    async fn consent_inner(&self, request: &Request<Bytes>) -> Handled {
        let CheckedForm {
            session,
            form,
            request_id,
            pending,
            ..
        } = self.checked_form(request)?;
        let Some(Session { subject }) = session else {
            return Err(PageError::NotSignedIn.into());
        };
        // Single use from here on, whatever the decision.
        self.inner.pending.remove(&request_id);
        match form.get("decision").map(String::as_str) {
            Some("approve") => {
                let now = self.now();
                // The consent page listed what was allowed before and what is new; both are
                // remembered (SEC-13).
                let previous = self
                    .inner
                    .store
                    .get_consent(&subject, &pending.client_id)
                    .await?;
                let (mut resources, scope) =
                    previous.map(|c| (c.resources, c.scope)).unwrap_or_default();
                resources.extend(pending.resources.iter().cloned());
                self.inner
                    .store
                    .put_consent(Consent {
                        subject: subject.clone(),
                        client_id: pending.client_id.clone(),
                        resources,
                        scope: scope.union(&pending.scope),
                        granted_at: now,
                    })
                    .await?;
                self.issue_code(&pending, subject, StatusCode::SEE_OTHER)
                    .await
            }
            _ => Err(EndpointError::redirect(
                pending.redirect_uri,
                pending.state,
                self.inner.config.issuer.clone(),
                StatusCode::SEE_OTHER,
                RedirectCause::AccessDenied,
            )),
        }
    }

    /// `GET /authorize/upstream?request=…`: sends the browser to the upstream identity provider with
    /// a fresh `state` bound to this session and pending request.
    pub async fn upstream_login(&self, request: Request<Bytes>) -> Response<Bytes> {
        if let Err(wait) = self.inner.authorize_limiter.check(&peer_key(&request)) {
            return wire::response(EndpointError::RateLimited(wait));
        }
        finish(self.upstream_login_inner(&request))
    }

    fn upstream_callback_url(&self) -> url::Url {
        let mut url = self.inner.config.issuer.url().clone();
        url.set_path(&self.inner.paths.upstream_callback);
        url.set_query(None);
        url
    }

    fn upstream_login_inner(&self, request: &Request<Bytes>) -> Handled {
        let invalid = || PageError::RequestExpired;
        let upstream = self.inner.config.upstream.as_ref().ok_or_else(invalid)?;
        let query = request.uri().query().unwrap_or_default();
        let params = respond::simple_form(query.as_bytes()).ok_or_else(invalid)?;
        let request_id = params.get("request").ok_or_else(invalid)?;
        let browser = browser_of(self, request).ok_or_else(invalid)?;
        let pending = self.inner.pending.get(request_id).ok_or_else(invalid)?;
        if !owns(&pending, &browser) {
            return Err(invalid().into());
        }
        let state = random_id().ok_or_else(randomness)?;
        self.inner.upstream_states.insert(
            state.clone(),
            &peer_key(request),
            (browser, request_id.clone()),
            PENDING_TTL,
        );
        let url = upstream.login_url(&self.upstream_callback_url(), &state);
        Ok(respond::redirect(StatusCode::FOUND, url.as_str()))
    }

    /// `GET /authorize/upstream/callback`: completes an upstream login, then 303 to the next step.
    pub async fn upstream_callback(&self, request: Request<Bytes>) -> Response<Bytes> {
        finish(self.upstream_callback_inner(&request).await)
    }

    async fn upstream_callback_inner(&self, request: &Request<Bytes>) -> Handled {
        let invalid = || PageError::SignInUnverified;
        let upstream = self.inner.config.upstream.clone().ok_or_else(invalid)?;
        let query = request.uri().query().unwrap_or_default();
        let state = form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
            .ok_or_else(invalid)?;
        // Single use, and only in the browser that started it.
        let (bound_session, request_id) = self
            .inner
            .upstream_states
            .remove(&state)
            .ok_or_else(invalid)?;
        let browser = browser_of(self, request).ok_or_else(invalid)?;
        if !bool::from(bound_session.as_bytes().ct_eq(browser.as_bytes())) {
            return Err(invalid().into());
        }
        let mut pending = self.inner.pending.get(&request_id).ok_or_else(invalid)?;
        if !owns(&pending, &browser) {
            return Err(invalid().into());
        }
        let Some(subject) = upstream
            .complete(&self.upstream_callback_url(), query)
            .await?
        else {
            return Err(PageError::UpstreamRefused.into());
        };
        self.inner.sessions.remove(&browser);
        let new_session_id = new_session(self, subject)?;
        pending.session_id = new_session_id.clone();
        pending.csrf = random_id().ok_or_else(randomness)?;
        self.inner
            .pending
            .insert_signed_in(request_id.clone(), pending);
        let resume = format!("{}?request={request_id}", self.inner.paths.resume);
        let mut response = respond::redirect(StatusCode::SEE_OTHER, &resume);
        set_cookie(self, &mut response, &new_session_id);
        Ok(response)
    }
}
