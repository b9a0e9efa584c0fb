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
use crate::password_checks::BUSY_RETRY_AFTER;
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
        // Logged where it happened, with the cause.
        EndpointError::SecretVerification => {}
        EndpointError::IssuedToken(e) => {
            tracing::error!(error = %e, "signed access token unreadable")
        }
        _ => {}
    }
    render(&error)
}

/// A handler's response, or the response for its error.
pub(crate) fn finish(result: super::Handled) -> Response<Bytes> {
    result.unwrap_or_else(response)
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
        E::Page(page @ PageError::PasswordChecksBusy) => retry_after(
            pages::error_response(page_status(page), &page.to_string()),
            BUSY_RETRY_AFTER,
        ),
        E::Page(page) => pages::error_response(page_status(page), &page.to_string()),
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
        E::PasswordChecksBusy => retry_after(
            with_status(
                StatusCode::SERVICE_UNAVAILABLE,
                described(ErrorCode::TemporarilyUnavailable, error),
            ),
            BUSY_RETRY_AFTER,
        ),
        E::Store(e) | E::Key(KeyError::Store(e)) if e.is_unavailable() => retry_after(
            described_as(
                ErrorCode::TemporarilyUnavailable,
                "the service is temporarily unavailable",
            ),
            UNAVAILABLE_RETRY_AFTER,
        ),
        E::Store(_) | E::Key(_) | E::SecretVerification | E::IssuedToken(_) => {
            respond::server_error()
        }
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
        PageError::PasswordChecksBusy => StatusCode::SERVICE_UNAVAILABLE,
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use http::StatusCode;
    use mcp_authz_metadata::{Issuer, RedirectUri};
    use mcp_authz_store::StoreError;

    use super::response;
    use crate::error::{
        EndpointError, InvalidClient, InvalidGrant, NotFound, PageError, PolicyError,
        RedirectCause, RegistrationRefusal, UnauthorizedClient,
    };

    /// The codes RFC 6749 §4.1.2.1 and §5.2, RFC 8707 §2, RFC 7009 §2.2.1 and RFC 7591 §3.2.2 define.
    const RFC_CODES: &[&str] = &[
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
        "invalid_target",
        "access_denied",
        "unsupported_response_type",
        "server_error",
        "temporarily_unavailable",
        "unsupported_token_type",
        "invalid_redirect_uri",
        "invalid_client_metadata",
        "invalid_software_statement",
        "unapproved_software_statement",
    ];

    fn json_errors() -> Vec<EndpointError> {
        vec![
            InvalidClient::Failed.into(),
            InvalidGrant::Pkce.into(),
            PolicyError::UnservedResource.into(),
            PolicyError::ScopeWidened.into(),
            UnauthorizedClient::GrantType.into(),
            EndpointError::UnsupportedGrantType,
            RegistrationRefusal::UnknownScope.into(),
            EndpointError::RateLimited(Duration::from_millis(10)),
            NotFound::Path.into(),
            NotFound::RegistrationDisabled.into(),
            EndpointError::MethodNotAllowed,
            EndpointError::BodyTooLarge,
            StoreError::unavailable("down").into(),
            StoreError::RandomnessUnavailable.into(),
            EndpointError::SecretVerification,
            EndpointError::PasswordChecksBusy,
        ]
    }

    fn code_of(response: &http::Response<bytes::Bytes>) -> String {
        let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
        body["error"].as_str().unwrap().to_owned()
    }

    #[test]
    fn every_json_error_uses_an_rfc_code_and_no_store() {
        for error in json_errors() {
            let label = format!("{error:?}");
            let response = response(error);
            let code = code_of(&response);
            assert!(RFC_CODES.contains(&code.as_str()), "{label}: {code}");
            assert_eq!(response.headers()["cache-control"], "no-store", "{label}");
            assert_eq!(
                response.headers()["content-type"],
                "application/json",
                "{label}"
            );
        }
    }

    #[test]
    fn statuses_and_headers() {
        let invalid_client = response(InvalidClient::Unknown.into());
        assert_eq!(invalid_client.status(), StatusCode::UNAUTHORIZED);
        assert!(
            invalid_client.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Basic")
        );
        let limited = response(EndpointError::RateLimited(Duration::from_millis(10)));
        assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(limited.headers()["retry-after"], "1");
        assert_eq!(code_of(&limited), "temporarily_unavailable");
        let unavailable = response(StoreError::unavailable("down").into());
        assert_eq!(unavailable.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(unavailable.headers()["retry-after"], "5");
        let busy = response(EndpointError::PasswordChecksBusy);
        assert_eq!(busy.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(busy.headers()["retry-after"], "2");
        assert_eq!(code_of(&busy), "temporarily_unavailable");
        let busy_page = response(PageError::PasswordChecksBusy.into());
        assert_eq!(busy_page.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(busy_page.headers()["retry-after"], "2");
        assert_eq!(
            busy_page.headers()["content-type"],
            "text/html; charset=utf-8"
        );
        let broken = response(StoreError::RandomnessUnavailable.into());
        assert_eq!(broken.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(broken.body().as_ref(), br#"{"error":"server_error"}"#);
        assert_eq!(
            response(NotFound::Path.into()).status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            response(EndpointError::MethodNotAllowed).status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
        assert_eq!(
            response(PolicyError::UnservedResource.into()).status(),
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn pages_are_html_and_never_redirect() {
        for (error, status) in [
            (PageError::UnknownClient, StatusCode::BAD_REQUEST),
            (PageError::UpstreamRefused, StatusCode::FORBIDDEN),
        ] {
            let text = error.to_string();
            let response = response(error.into());
            assert_eq!(response.status(), status);
            assert!(response.headers().get("location").is_none());
            assert_eq!(
                response.headers()["content-type"],
                "text/html; charset=utf-8"
            );
            assert_eq!(response.headers()["x-frame-options"], "DENY");
            let body = std::str::from_utf8(response.body()).unwrap();
            assert!(body.contains(&crate::respond::escape(&text)), "{body}");
        }
    }

    #[test]
    fn redirects_carry_code_description_state_and_iss() {
        let error = EndpointError::redirect(
            RedirectUri::parse("https://client.example/cb").unwrap(),
            None,
            Issuer::parse("https://as.example").unwrap(),
            StatusCode::SEE_OTHER,
            RedirectCause::AccessDenied,
        );
        let response = response(error);
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let location = response.headers()["location"].to_str().unwrap();
        assert!(
            location.starts_with("https://client.example/cb?error=access_denied"),
            "{location}"
        );
        assert!(
            location.contains("iss=https%3A%2F%2Fas.example"),
            "{location}"
        );
    }
}
