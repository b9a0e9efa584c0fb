//! The one mapping from authorization failures to HTTP: status, `WWW-Authenticate` (RFC 6750 §3,
//! RFC 9728 §5.1), `Retry-After` and a JSON body.

use std::time::Duration;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;
use mcp_authz_metadata::Scope;
use mcp_authz_token::{BearerChallenge, BearerError, BearerTokenError, ErrorCode};

use crate::{InvalidToken, ResourceServerConfig};

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RejectionReason {
    /// No Bearer credentials: 401 without `error` (REQUIREMENTS RS-2).
    #[error("the request carries no access token")]
    MissingToken,
    /// A token in the query string or a malformed `Authorization` header: 400 `invalid_request`
    /// (REQUIREMENTS RS-7).
    #[error(transparent)]
    InvalidRequest(BearerTokenError),
    /// An invalid token: 401 `invalid_token` (REQUIREMENTS RS-3, RS-4).
    #[error(transparent)]
    InvalidToken(InvalidToken),
    /// The token lacks scope: 403 `insufficient_scope` (REQUIREMENTS RS-5).
    #[error("the token lacks the scope {missing}")]
    InsufficientScope {
        /// Every scope the operation needs.
        required: Scope,
        /// The ones the token does not provide.
        missing: Scope,
    },
    /// The token cannot be checked now: 503 with `Retry-After`.
    #[error("the token cannot be checked now")]
    Unavailable {
        /// When to try again.
        retry_after: Duration,
    },
    /// The verifier is misconfigured (see [`Misconfiguration`](crate::Misconfiguration), logged at
    /// ERROR): 500 `server_error` without `Retry-After`, since retrying cannot help. The cause stays in
    /// the log; the client is told only that the resource server is misconfigured.
    #[error("the resource server cannot check tokens: its authorization configuration is wrong")]
    Misconfigured,
    /// The body is too large to inspect for tool names: 413.
    #[error("the request body is larger than {limit} bytes")]
    BodyTooLarge {
        /// The limit.
        limit: usize,
    },
    /// The body could not be read to the end (the client stalled or broke it off, or the server's
    /// body timeout cut it short): 400 `invalid_request`.
    #[error("the request body could not be read")]
    BodyUnreadable,
}

/// The JSON body of a refusal.
#[derive(serde::Serialize)]
struct ErrorBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    error_description: String,
}

/// A refused request: its reason and the challenge to send. Turn it into a response with
/// [`Rejection::into_response`].
///
/// ```
/// use mcp_authz_metadata::{Issuer, ResourceUri};
/// use mcp_authz_resource::{Rejection, RejectionReason, ResourceServerConfig};
/// let config = ResourceServerConfig::builder(ResourceUri::parse("https://mcp.example.com")?)
///     .authorization_server(Issuer::parse("https://auth.example.com")?)
///     .required_scope("mcp".parse()?)
///     .build()?;
/// let response = Rejection::new(RejectionReason::MissingToken, &config).into_response();
/// assert_eq!(response.status(), 401);
/// assert_eq!(
///     response.headers()["www-authenticate"],
///     r#"Bearer scope="mcp", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource""#,
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    reason: RejectionReason,
    challenge: Option<Box<BearerChallenge>>,
}

impl Rejection {
    /// The rejection for `reason` with the challenge `config` gives it: `resource_metadata` always,
    /// `scope` on 401 (the [challenge scope](ResourceServerConfig::challenge_scope)) and 403 (every
    /// scope the operation needs), never `offline_access` (REQUIREMENTS RS-9).
    pub fn new(reason: RejectionReason, config: &ResourceServerConfig) -> Self {
        let with_scope = |challenge: BearerChallenge, scope: &Scope| {
            let scope = scope.without_offline_access();
            if scope.is_empty() {
                challenge
            } else {
                challenge.with_scope(scope)
            }
        };
        // The token crate knows which error code and description each failure carries; only the
        // scope and `resource_metadata` are this resource server's to add.
        let challenge = match &reason {
            RejectionReason::MissingToken => Some(with_scope(
                BearerTokenError::Missing.challenge(),
                config.challenge_scope(),
            )),
            RejectionReason::InvalidRequest(e) => Some(e.challenge()),
            RejectionReason::InvalidToken(InvalidToken::Claims(e)) => {
                Some(with_scope(e.challenge(), config.challenge_scope()))
            }
            RejectionReason::InvalidToken(e) => Some(with_scope(
                BearerError::InvalidToken.challenge(e.to_string()),
                config.challenge_scope(),
            )),
            RejectionReason::InsufficientScope { required, .. } => Some(with_scope(
                BearerError::InsufficientScope.challenge(reason.to_string()),
                required,
            )),
            RejectionReason::Unavailable { .. }
            | RejectionReason::Misconfigured
            | RejectionReason::BodyTooLarge { .. }
            | RejectionReason::BodyUnreadable => None,
        };
        let challenge = challenge.map(|c| c.with_resource_metadata(config.metadata_url().clone()));
        Self {
            reason,
            challenge: challenge.map(Box::new),
        }
    }

    /// Why the request was refused.
    pub fn reason(&self) -> &RejectionReason {
        &self.reason
    }

    /// The Bearer challenge, for the 400, 401 and 403 answers.
    pub fn challenge(&self) -> Option<&BearerChallenge> {
        self.challenge.as_deref()
    }

    /// The HTTP status: 400, 401, 403, 413, 500 or 503.
    pub fn status(&self) -> StatusCode {
        match (&self.reason, &self.challenge) {
            (RejectionReason::Unavailable { .. }, _) => StatusCode::SERVICE_UNAVAILABLE,
            (RejectionReason::Misconfigured, _) => StatusCode::INTERNAL_SERVER_ERROR,
            (RejectionReason::BodyTooLarge { .. }, _) => StatusCode::PAYLOAD_TOO_LARGE,
            (RejectionReason::BodyUnreadable, _) => StatusCode::BAD_REQUEST,
            (_, Some(challenge)) => challenge.status(),
            (_, None) => StatusCode::UNAUTHORIZED,
        }
    }

    /// The response: status, `WWW-Authenticate`, `Retry-After` for 503, `Cache-Control: no-store`
    /// and a JSON body `{"error": ..., "error_description": ...}`.
    pub fn into_response(self) -> Response<Full<Bytes>> {
        let status = self.status();
        // The challenge's code where there is one (none without credentials: RFC 6750 §3.1), else the
        // OAuth code of the failure.
        let error = match (&self.reason, &self.challenge) {
            (_, Some(challenge)) => challenge.error.as_ref().map(BearerError::as_str),
            (RejectionReason::Unavailable { .. }, None) => {
                Some(ErrorCode::TemporarilyUnavailable.as_str())
            }
            (RejectionReason::Misconfigured, None) => Some(ErrorCode::ServerError.as_str()),
            (_, None) => Some(ErrorCode::InvalidRequest.as_str()),
        };
        let body = ErrorBody {
            error,
            error_description: self.reason.to_string(),
        };
        // Serialising two strings cannot fail; an empty body would still carry the status.
        let body = serde_json::to_vec(&body).unwrap_or_default();
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(value) = self
            .challenge
            .as_ref()
            .and_then(|c| c.to_header_value().ok())
        {
            headers.insert(WWW_AUTHENTICATE, value);
        }
        if let RejectionReason::Unavailable { retry_after } = &self.reason {
            headers.insert(RETRY_AFTER, HeaderValue::from(retry_after.as_secs().max(1)));
        }
        response
    }
}
