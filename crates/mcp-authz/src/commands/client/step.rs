//! The browser step of `login` and `call`: the client crate's loopback redirect, narrated. For `call`
//! it is refused when the user is not logged in: a command that only calls a tool never starts a
//! first sign-in by itself, but a step-up of a stored grant goes to the browser again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use mcp_authz_client::{
    AuthorizationStep, AuthorizationStepError, GrantKey, LoopbackRedirect, TokenStore,
};
use mcp_authz_metadata::{ClientId, RedirectUri};
use url::Url;

use super::Progress;

/// What `login` knows before registration happens, to say afterwards which way the client got its
/// `client_id`.
#[derive(Debug, Clone)]
pub(in crate::commands) struct ClientContext {
    /// The client stored for this issuer before the login, if any.
    pub(in crate::commands) stored_before: Option<ClientId>,
    /// The pre-registered `client_id` the user gave, if any.
    pub(in crate::commands) pre_registered: Option<ClientId>,
    /// The Client ID Metadata Document URL the user configured, if any.
    pub(in crate::commands) metadata_document: Option<ClientId>,
    /// The server's registration endpoint, if any.
    pub(in crate::commands) registration_endpoint: Option<Url>,
}

/// Which command the step serves.
enum Mode {
    /// `login`: narrate the client and the phases.
    Login(Mutex<Option<ClientContext>>),
    /// `call`: only step up a grant stored under the key.
    StepUp(Mutex<Option<(Arc<dyn TokenStore>, GrantKey)>>),
}

/// A [`LoopbackRedirect`] that narrates each attempt on standard error.
pub(in crate::commands) struct BrowserStep {
    inner: LoopbackRedirect,
    timeout: Duration,
    progress: Progress,
    mode: Mode,
    refused: AtomicBool,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl BrowserStep {
    /// The step of `login`.
    pub(in crate::commands) fn login(inner: LoopbackRedirect, timeout: Duration) -> Self {
        Self {
            inner,
            timeout,
            progress: Progress,
            mode: Mode::Login(Mutex::new(None)),
            refused: AtomicBool::new(false),
        }
    }

    /// The step of `call`; it refuses every attempt until [`require_grant`](Self::require_grant).
    pub(in crate::commands) fn step_up_only(inner: LoopbackRedirect, timeout: Duration) -> Self {
        Self {
            inner,
            timeout,
            progress: Progress,
            mode: Mode::StepUp(Mutex::new(None)),
            refused: AtomicBool::new(false),
        }
    }

    /// `login`: what to compare the `client_id` with.
    pub(in crate::commands) fn expect_client(&self, context: ClientContext) {
        if let Mode::Login(slot) = &self.mode {
            *lock(slot) = Some(context);
        }
    }

    /// `call`: the browser is used only while a grant is stored under `key`.
    pub(in crate::commands) fn require_grant(&self, store: Arc<dyn TokenStore>, key: GrantKey) {
        if let Mode::StepUp(slot) = &self.mode {
            *lock(slot) = Some((store, key));
        }
    }

    /// `true` when an attempt was refused because no grant is stored.
    pub(in crate::commands) fn refused_sign_in(&self) -> bool {
        self.refused.load(Ordering::SeqCst)
    }

    fn refuse(&self) -> AuthorizationStepError {
        self.refused.store(true, Ordering::SeqCst);
        AuthorizationStepError::Request("not logged in: no stored grant".to_owned())
    }

    /// How the client got its `client_id`, told from what was known before registration.
    fn describe_client(context: &ClientContext, client_id: &str) -> String {
        if context.pre_registered.as_ref().map(ClientId::as_str) == Some(client_id) {
            format!("client: pre-registered client_id {client_id}")
        } else if context.stored_before.as_ref().map(ClientId::as_str) == Some(client_id) {
            format!("client: reusing client_id {client_id} registered earlier")
        } else if let (Some(stale), Some(endpoint)) =
            (&context.stored_before, &context.registration_endpoint)
        {
            format!(
                "client: the client_id {stale} registered earlier is no longer known to the \
                 server; registered again (RFC 7591) at {endpoint}: client_id {client_id} (saved \
                 for the next login)"
            )
        } else if context.metadata_document.as_ref().map(ClientId::as_str) == Some(client_id) {
            format!("client: client ID metadata document {client_id}")
        } else if let Some(endpoint) = &context.registration_endpoint {
            format!(
                "client: registered dynamically (RFC 7591) at {endpoint}: client_id {client_id} \
                 (saved for the next login)"
            )
        } else {
            format!("client: client_id {client_id}")
        }
    }
}

/// One query parameter of `url`.
fn query(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The authorization request, from its URL (no secret is in it: PKCE sends only the challenge).
fn describe_request(url: &Url) -> String {
    let mut text = format!(
        "authorization request: PKCE {} challenge, fresh state",
        query(url, "code_challenge_method").unwrap_or_else(|| "-".to_owned()),
    );
    if let Some(resource) = query(url, "resource") {
        text.push_str(&format!(", resource {resource}"));
    }
    if let Some(scope) = query(url, "scope") {
        text.push_str(&format!(", scope \"{scope}\""));
    }
    text
}

#[async_trait::async_trait]
impl AuthorizationStep for BrowserStep {
    fn registered_redirect_uris(&self) -> Vec<RedirectUri> {
        self.inner.registered_redirect_uris()
    }

    async fn prepare(&self) -> Result<RedirectUri, AuthorizationStepError> {
        if let Mode::StepUp(slot) = &self.mode {
            let required = lock(slot).clone();
            let Some((store, key)) = required else {
                return Err(self.refuse());
            };
            let stored = store
                .load_grant(&key)
                .await
                .map_err(|e| AuthorizationStepError::Io(e.to_string()))?;
            if stored.is_none() {
                return Err(self.refuse());
            }
            self.progress
                .waiting("the server asks for more scope: authorize again in the browser");
        }
        self.inner.prepare().await
    }

    async fn authorize(
        &self,
        authorization_url: &Url,
        redirect_uri: &RedirectUri,
    ) -> Result<Url, AuthorizationStepError> {
        if let Mode::Login(slot) = &self.mode
            && let Some(context) = lock(slot).clone()
            && let Some(client_id) = query(authorization_url, "client_id")
        {
            self.progress
                .done(Self::describe_client(&context, &client_id));
        }
        self.progress.done(describe_request(authorization_url));
        self.progress.waiting(format!(
            "browser: sign in and approve; the answer comes back to {redirect_uri} (waiting up to \
             {} s; --timeout changes it, Ctrl-C stops)",
            self.timeout.as_secs()
        ));
        match self.inner.authorize(authorization_url, redirect_uri).await {
            Ok(callback) if query(&callback, "error").is_some() => {
                // Still phase 2: the user (or the server) refused; the error follows.
                self.progress
                    .failed("the authorization was not granted in the browser");
                Ok(callback)
            }
            Ok(callback) => {
                self.progress
                    .done("authorization response received on the loopback listener (closed)");
                if matches!(self.mode, Mode::Login(_)) {
                    self.progress.phase(3, "access");
                }
                Ok(callback)
            }
            Err(error) => {
                self.progress.failed("browser step");
                Err(error)
            }
        }
    }
}
