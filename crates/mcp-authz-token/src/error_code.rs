//! OAuth error codes ([RFC 6749 §4.1.2.1], [RFC 6749 §5.2], [RFC 8707 §2], [RFC 7009 §2.2.1]) and the
//! token endpoint's JSON error body.
//!
//! [RFC 6749 §4.1.2.1]: https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1
//! [RFC 6749 §5.2]: https://www.rfc-editor.org/rfc/rfc6749#section-5.2
//! [RFC 8707 §2]: https://www.rfc-editor.org/rfc/rfc8707#section-2
//! [RFC 7009 §2.2.1]: https://www.rfc-editor.org/rfc/rfc7009#section-2.2.1

use std::fmt;

use http::StatusCode;
use url::Url;

/// An OAuth error code: the registered values this crate produces, and any other value kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `invalid_request`: a missing, invalid, repeated or malformed parameter.
    InvalidRequest,
    /// `invalid_client`: client authentication failed (HTTP 401 at the token endpoint).
    InvalidClient,
    /// `invalid_grant`: the code, refresh token or PKCE verifier is invalid, expired, revoked or mismatched.
    InvalidGrant,
    /// `unauthorized_client`: the client may not use this grant or response type.
    UnauthorizedClient,
    /// `unsupported_grant_type`: the grant type is not supported.
    UnsupportedGrantType,
    /// `invalid_scope`: the requested scope is invalid, unknown, malformed or exceeds the grant.
    InvalidScope,
    /// `invalid_target` (RFC 8707): the requested resource is invalid, unknown or not allowed.
    InvalidTarget,
    /// `access_denied`: the resource owner or the authorization server denied the request.
    AccessDenied,
    /// `unsupported_response_type`: the response type is not supported.
    UnsupportedResponseType,
    /// `server_error`: an unexpected condition at the authorization server.
    ServerError,
    /// `temporarily_unavailable`: overload or maintenance.
    TemporarilyUnavailable,
    /// `unsupported_token_type` (RFC 7009): revocation of this token type is not supported.
    UnsupportedTokenType,
    /// Any other code, kept verbatim when it is within the RFC 6749 character set
    /// (`%x20-21 / %x23-5B / %x5D-7E`); characters outside it are replaced by `?`.
    Unknown(String),
}

impl ErrorCode {
    /// The wire form.
    pub fn as_str(&self) -> &str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::InvalidTarget => "invalid_target",
            Self::AccessDenied => "access_denied",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::Unknown(other) => other,
        }
    }

    /// The HTTP status of a JSON error response carrying this code (RFC 6749 §5.2): 400, except
    /// `invalid_client` (401), `server_error` (500) and `temporarily_unavailable` (503), the last two
    /// being the statuses their names describe when they are returned outside a redirect.
    ///
    /// ```
    /// use http::StatusCode;
    /// use mcp_authz_token::ErrorCode;
    /// assert_eq!(ErrorCode::InvalidGrant.status(), StatusCode::BAD_REQUEST);
    /// assert_eq!(ErrorCode::InvalidClient.status(), StatusCode::UNAUTHORIZED);
    /// ```
    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidClient => StatusCode::UNAUTHORIZED,
            Self::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            Self::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl From<&str> for ErrorCode {
    fn from(s: &str) -> Self {
        match s {
            "invalid_request" => Self::InvalidRequest,
            "invalid_client" => Self::InvalidClient,
            "invalid_grant" => Self::InvalidGrant,
            "unauthorized_client" => Self::UnauthorizedClient,
            "unsupported_grant_type" => Self::UnsupportedGrantType,
            "invalid_scope" => Self::InvalidScope,
            "invalid_target" => Self::InvalidTarget,
            "access_denied" => Self::AccessDenied,
            "unsupported_response_type" => Self::UnsupportedResponseType,
            "server_error" => Self::ServerError,
            "temporarily_unavailable" => Self::TemporarilyUnavailable,
            "unsupported_token_type" => Self::UnsupportedTokenType,
            other => Self::Unknown(sanitize_code(other)),
        }
    }
}

/// Makes an unknown error code fit the `error` character set of RFC 6749 §4.1.2.1 and §5.2
/// (`%x20-21 / %x23-5B / %x5D-7E`): anything outside it (control characters such as a terminal
/// escape, `"`, `\`, non-ASCII) becomes `?`, so a hostile server's code can be shown as it is.
fn sanitize_code(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' | '\\' => '?',
            ' '..='~' => c,
            _ => '?',
        })
        .collect()
}

impl std::str::FromStr for ErrorCode {
    type Err = std::convert::Infallible;
    /// Every string parses; unknown codes become [`ErrorCode::Unknown`], with characters outside the
    /// RFC 6749 set replaced by `?`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::from(s))
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Ok(Self::from(&*s))
    }
}

/// Makes free text fit the `error_description` character set of RFC 6749 §5.2
/// (`%x20-21 / %x23-5B / %x5D-7E`): `"` becomes `'`, `\` becomes `/`, anything else outside the set `?`.
pub fn sanitize_description(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            ' '..='~' => c,
            _ => '?',
        })
        .collect()
}

/// The JSON error body of the token, introspection, revocation and registration endpoints
/// ([RFC 6749 §5.2]).
///
/// ```
/// use mcp_authz_token::{ErrorCode, ErrorResponse};
/// let body = ErrorResponse::new(ErrorCode::InvalidRequest).with_description("missing \"code\"");
/// assert_eq!(serde_json::to_string(&body).unwrap(),
///            r#"{"error":"invalid_request","error_description":"missing 'code'"}"#);
/// assert_eq!(body.status(), http::StatusCode::BAD_REQUEST);
/// ```
///
/// [RFC 6749 §5.2]: https://www.rfc-editor.org/rfc/rfc6749#section-5.2
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ErrorResponse {
    /// The error code.
    pub error: ErrorCode,
    /// Human-readable text for the client developer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    /// A page describing the error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_uri: Option<Url>,
}

impl ErrorResponse {
    /// A body with only the error code.
    pub fn new(error: ErrorCode) -> Self {
        Self {
            error,
            error_description: None,
            error_uri: None,
        }
    }

    /// Sets `error_description`, passed through [`sanitize_description`].
    #[must_use]
    pub fn with_description(mut self, description: impl AsRef<str>) -> Self {
        self.error_description = Some(sanitize_description(description.as_ref()));
        self
    }

    /// Sets `error_uri`.
    #[must_use]
    pub fn with_uri(mut self, uri: Url) -> Self {
        self.error_uri = Some(uri);
        self
    }

    /// The HTTP status of this response ([`ErrorCode::status`]).
    pub fn status(&self) -> StatusCode {
        self.error.status()
    }
}

#[cfg(test)]
mod code_charset_tests {
    use super::*;

    #[test]
    fn unknown_codes_keep_only_the_rfc_6749_character_set() {
        let code = ErrorCode::from("evil\u{1b}]0;pwned\u{7}\u{1b}[2J\"\\é_x");
        assert_eq!(
            code,
            ErrorCode::Unknown("evil?]0;pwned??[2J???_x".to_owned())
        );
        assert!(code.as_str().bytes().all(|b| (0x20..=0x7e).contains(&b)));
        let parsed: ErrorCode =
            serde_json::from_str("\"odd\\u001b[31m\"").unwrap_or(ErrorCode::ServerError);
        assert_eq!(parsed.as_str(), "odd?[31m");
        assert_eq!(
            ErrorCode::from("custom_code"),
            ErrorCode::Unknown("custom_code".into())
        );
    }
}
