//! The user-agent step of the authorization code flow: send the user to the authorization URL,
//! bring back the URL the authorization server redirected to (REQUIREMENTS CL-9).

use std::sync::Arc;

use http::StatusCode;
use mcp_authz_metadata::RedirectUri;
use url::Url;

use crate::{HttpClient, HttpRequest, UrlPolicy};

/// Why the user-agent step failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthorizationStepError {
    /// A listener or connection failed.
    #[error("the redirect listener failed: {0}")]
    Io(String),
    /// The user did not come back in time.
    #[error("no authorization response arrived in time")]
    Timeout,
    /// `authorize` was called with a redirect URI that `prepare` did not return.
    #[error("the redirect URI was not prepared by this step")]
    NotPrepared,
    /// The request that reached the redirect URI is not a callback.
    #[error("the request at the redirect URI is not an authorization response: {0}")]
    InvalidCallback(String),
    /// The authorization endpoint did not redirect (headless step).
    #[error("the authorization endpoint answered {status} without a redirect")]
    NoRedirect {
        /// The status received.
        status: u16,
    },
    /// The authorization URL was refused by the URL policy, or the request to it failed.
    #[error("the authorization endpoint could not be reached: {0}")]
    Request(String),
}

/// The user-agent step: how an authorization URL becomes a callback URL.
///
/// [`LoopbackRedirect`](crate::LoopbackRedirect) opens the browser and listens on `127.0.0.1`;
/// headless callers implement this trait themselves (given the authorization URL, return the
/// callback URL); [`RedirectCapture`] follows one redirect of an authorization server that approves
/// without user interaction.
#[async_trait::async_trait]
pub trait AuthorizationStep: Send + Sync {
    /// The redirect URIs to register (dynamic registration) or publish (metadata document).
    fn registered_redirect_uris(&self) -> Vec<RedirectUri>;

    /// Prepares one attempt and returns its redirect URI (the loopback step binds its port here).
    async fn prepare(&self) -> Result<RedirectUri, AuthorizationStepError>;

    /// Sends the user to `authorization_url` and returns the URL the authorization server
    /// redirected to, at `redirect_uri`.
    async fn authorize(
        &self,
        authorization_url: &Url,
        redirect_uri: &RedirectUri,
    ) -> Result<Url, AuthorizationStepError>;
}

/// A headless [`AuthorizationStep`] for authorization servers that approve without user interaction
/// (test and conformance setups): `GET` the authorization URL without following the redirect and
/// return its `Location`.
#[derive(Clone)]
pub struct RedirectCapture {
    http: Arc<dyn HttpClient>,
    policy: UrlPolicy,
    redirect_uri: RedirectUri,
}

impl RedirectCapture {
    /// A step that registers and uses `redirect_uri`; requests go through `policy`.
    pub fn new(http: Arc<dyn HttpClient>, policy: UrlPolicy, redirect_uri: RedirectUri) -> Self {
        Self {
            http,
            policy,
            redirect_uri,
        }
    }
}

#[async_trait::async_trait]
impl AuthorizationStep for RedirectCapture {
    fn registered_redirect_uris(&self) -> Vec<RedirectUri> {
        vec![self.redirect_uri.clone()]
    }

    async fn prepare(&self) -> Result<RedirectUri, AuthorizationStepError> {
        Ok(self.redirect_uri.clone())
    }

    async fn authorize(
        &self,
        authorization_url: &Url,
        _redirect_uri: &RedirectUri,
    ) -> Result<Url, AuthorizationStepError> {
        let request_error = |e: String| AuthorizationStepError::Request(e);
        self.policy
            .check(authorization_url)
            .await
            .map_err(|e| request_error(e.to_string()))?;
        let mut request = HttpRequest::get(authorization_url.clone());
        request.timeout = self.policy.timeout();
        let response = self
            .http
            .execute(request)
            .await
            .map_err(|e| request_error(e.to_string()))?;
        let location = response
            .headers
            .get(http::header::LOCATION)
            .and_then(|v| v.to_str().ok());
        match (response.status.is_redirection(), location) {
            (true, Some(location)) => authorization_url
                .join(location)
                .map_err(|e| AuthorizationStepError::InvalidCallback(e.to_string())),
            _ => Err(AuthorizationStepError::NoRedirect {
                status: if response.status.is_redirection() {
                    StatusCode::BAD_GATEWAY.as_u16()
                } else {
                    response.status.as_u16()
                },
            }),
        }
    }
}
