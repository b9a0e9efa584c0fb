//! The one total mapping from [`EndpointError`] to an HTTP response (REQUIREMENTS AS-4, AS-13, AS-14,
//! SEC-1, SEC-8): status, RFC error code, description, `WWW-Authenticate`, `Retry-After`,
//! `Cache-Control: no-store`, and the form (JSON, HTML page, or redirect to the client).
//!
//! Codes are only those the RFCs define: RFC 6749 §4.1.2.1 and §5.2, RFC 8707 §2, RFC 7591 §3.2.2,
//! RFC 7009 §2.2.1. A rate limit answers `temporarily_unavailable` with 429 and `Retry-After`; a
//! missing endpoint or a wrong method answers `invalid_request` with 404 or 405.

use std::time::Duration;

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Response, StatusCode};
use mcp_authz_metadata::{RegistrationErrorCode, RegistrationErrorResponse};
use mcp_authz_token::{AuthorizationErrorResponse, ErrorCode, ErrorResponse};

use super::{EndpointError, PageError, PolicyError, RedirectCause, RegistrationRefusal};
use crate::keys::KeyError;
use crate::{pages, respond};

/// How long a client should wait when the store is unavailable.
const UNAVAILABLE_RETRY_AFTER: Duration = Duration::from_secs(5);

/// The response for `error`, logging internal failures.
pub(crate) fn response(error: EndpointError) -> Response<Bytes> {
    match &error {
        EndpointError::Store(e) | EndpointError::Key(KeyError::Store(e)) if e.is_unavailable() => {
            tracing::warn!(error = %e, "store unavailable");
        }
        EndpointError::Store(e) | EndpointError::Key(KeyError::Store(e)) => {
            tracing::error!(error = %e, "store failure");
        }
        EndpointError::Key(e) => tracing::error!(error = %e, "signing key failure"),
        EndpointError::SecretVerification => {
            tracing::error!("client secret verification failed");
        }
        _ => {}
    }
    render(&error)
}

/// The HTTP status `error` is answered with.
pub(crate) fn status(error: &EndpointError) -> StatusCode {
    render(error).status()
}

/// The mapping itself: total over [`EndpointError`].
fn render(error: &EndpointError) -> Response<Bytes> {
    use EndpointError as E;
    match error {
        E::TokenRequest(e) => oauth(e.error_response()),
        E::TokenHintRequest(e) => oauth(e.error_response()),
        E::ClientCredentials(e) => oauth(e.error_response()),
        E::Client(_) => described(ErrorCode::InvalidClient, error),
        E::Grant(_) => described(ErrorCode::InvalidGrant, error),
        E::Policy(policy) => described(policy_code(*policy), error),
        E::Unauthorized(_) => described(ErrorCode::UnauthorizedClient, error),
        E::UnsupportedGrantType => described(ErrorCode::UnsupportedGrantType, error),
        E::Registration(refusal) => registration(refusal),
        E::Page(page) => respond::html(page_status(page), pages::error(&page.to_string())),
        E::Redirect(redirect) => {
            let url = AuthorizationErrorResponse::new(redirect_code(&redirect.cause))
                .with_description(redirect.cause.to_string())
                .with_state(redirect.state.clone())
                .with_iss(Some(redirect.iss.clone()))
                .redirect_url(&redirect.redirect_uri);
            respond::redirect(redirect.status, url.as_str())
        }
        E::RateLimited(wait) => retry_after(
            with_status(
                StatusCode::TOO_MANY_REQUESTS,
                described(ErrorCode::TemporarilyUnavailable, error),
            ),
            *wait,
        ),
        E::NotFound(_) => with_status(
            StatusCode::NOT_FOUND,
            described(ErrorCode::InvalidRequest, error),
        ),
        E::MethodNotAllowed => with_status(
            StatusCode::METHOD_NOT_ALLOWED,
            described(ErrorCode::InvalidRequest, error),
        ),
        E::BodyTooLarge => with_status(
            StatusCode::PAYLOAD_TOO_LARGE,
            described(ErrorCode::InvalidRequest, error),
        ),
        E::Store(e) | E::Key(KeyError::Store(e)) if e.is_unavailable() => retry_after(
            described_as(
                ErrorCode::TemporarilyUnavailable,
                "the service is temporarily unavailable",
            ),
            UNAVAILABLE_RETRY_AFTER,
        ),
        E::Store(_) | E::Key(_) | E::SecretVerification => respond::server_error(),
    }
}

fn policy_code(policy: PolicyError) -> ErrorCode {
    match policy {
        PolicyError::UnservedResource
        | PolicyError::ResourceNotAllowed
        | PolicyError::ResourceNotGranted => ErrorCode::InvalidTarget,
        PolicyError::ScopeNotAllowed | PolicyError::ScopeWidened => ErrorCode::InvalidScope,
    }
}

fn redirect_code(cause: &RedirectCause) -> ErrorCode {
    match cause {
        RedirectCause::Request(e) => e.error_code(),
        RedirectCause::Unauthorized(_) => ErrorCode::UnauthorizedClient,
        RedirectCause::Policy(policy) => policy_code(*policy),
        RedirectCause::AccessDenied => ErrorCode::AccessDenied,
    }
}

fn page_status(page: &PageError) -> StatusCode {
    match page {
        PageError::UpstreamRefused => StatusCode::FORBIDDEN,
        _ => StatusCode::BAD_REQUEST,
    }
}

fn registration(refusal: &RegistrationRefusal) -> Response<Bytes> {
    let code = match refusal {
        RegistrationRefusal::Document(e) => RegistrationErrorCode::for_document_error(e),
        RegistrationRefusal::Metadata(e) => e.registration_error_code(),
        _ => RegistrationErrorCode::InvalidClientMetadata,
    };
    respond::json_value(
        StatusCode::BAD_REQUEST,
        &RegistrationErrorResponse::new(code, refusal.to_string()),
    )
}

/// `code` with the error's `Display` as its description.
fn described(code: ErrorCode, error: &EndpointError) -> Response<Bytes> {
    described_as(code, &error.to_string())
}

fn described_as(code: ErrorCode, description: &str) -> Response<Bytes> {
    let body = ErrorResponse::new(code).with_description(description);
    oauth(body)
}

/// An RFC 6749 §5.2 JSON error at the status its code names; `invalid_client` adds `WWW-Authenticate: Basic` (401, AS-13).
fn oauth(body: ErrorResponse) -> Response<Bytes> {
    let mut response = respond::json_value(body.status(), &body);
    if body.error == ErrorCode::InvalidClient {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"token\", charset=\"UTF-8\""),
        );
    }
    response
}

fn with_status(status: StatusCode, mut response: Response<Bytes>) -> Response<Bytes> {
    *response.status_mut() = status;
    response
}

/// Adds `Retry-After` in whole seconds, at least 1 (SEC-8).
pub(crate) fn retry_after(mut response: Response<Bytes>, wait: Duration) -> Response<Bytes> {
    let secs = wait.as_secs().max(1);
    if let Ok(value) = HeaderValue::try_from(secs.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}
