//! Reading a Bearer token from a request ([RFC 6750 §2.1]) and refusing tokens anywhere else
//! (REQUIREMENTS RS-7, CL-11).
//!
//! ```text
//! credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ]      ; RFC 9110 §11.4
//! b64token    = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="   ; RFC 6750 §2.1
//! ```
//!
//! [RFC 6750 §2.1]: https://www.rfc-editor.org/rfc/rfc6750#section-2.1

use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue, StatusCode};

use crate::challenge::{BearerChallenge, BearerError};
use crate::{AccessToken, form};

/// Longest `Authorization` header value read (8 KiB).
pub const MAX_AUTHORIZATION_LEN: usize = 8192;

/// Why no Bearer token could be taken from a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BearerTokenError {
    /// No `Authorization` header.
    #[error("the request has no Authorization header")]
    Missing,
    /// More than one `Authorization` header.
    #[error("the request has more than one Authorization header")]
    MultipleHeaders,
    /// The header holds bytes other than visible ASCII, space and tab.
    #[error("the Authorization header holds characters other than visible ASCII")]
    NotVisibleAscii,
    /// Longer than [`MAX_AUTHORIZATION_LEN`].
    #[error("the Authorization header is longer than {MAX_AUTHORIZATION_LEN} bytes")]
    TooLong,
    /// A scheme other than `Bearer`.
    #[error("the Authorization scheme is not Bearer")]
    NotBearer(String),
    /// `Bearer` without a token.
    #[error("the Bearer credentials carry no token")]
    MissingToken,
    /// The token is not a `b64token` (or is followed by more text).
    #[error("the Bearer token is malformed (expected b64token)")]
    MalformedToken,
    /// An `access_token` query or form parameter: tokens are accepted only in the header (RS-7).
    #[error("access tokens must be sent in the Authorization header, not in the URI")]
    TokenInQuery,
}

impl BearerTokenError {
    /// The challenge to answer with (RFC 6750 §3.1): no `error` when the request carried no Bearer
    /// credentials at all (REQUIREMENTS RS-2), `invalid_request` for malformed ones (RS-7). The resource
    /// server adds `resource_metadata` and `scope`.
    ///
    /// ```
    /// use mcp_authz_token::{BearerError, BearerTokenError};
    /// assert_eq!(BearerTokenError::Missing.challenge().error, None);
    /// assert_eq!(BearerTokenError::MalformedToken.challenge().error, Some(BearerError::InvalidRequest));
    /// ```
    pub fn challenge(&self) -> BearerChallenge {
        match self {
            Self::Missing | Self::NotBearer(_) => BearerChallenge::new(),
            Self::MultipleHeaders
            | Self::NotVisibleAscii
            | Self::TooLong
            | Self::MissingToken
            | Self::MalformedToken
            | Self::TokenInQuery => BearerError::InvalidRequest.challenge(self.to_string()),
        }
    }

    /// The HTTP status: 401 without credentials, 400 for malformed ones.
    pub fn status(&self) -> StatusCode {
        self.challenge().status()
    }
}

/// Extracts the token of an `Authorization: Bearer <token>` header value. The scheme is
/// case-insensitive; one or more spaces may follow it; surrounding whitespace is ignored.
///
/// ```
/// use http::HeaderValue;
/// use mcp_authz_token::{bearer_token, BearerTokenError};
/// let token = bearer_token(&HeaderValue::from_static("Bearer mF_9.B5f-4.1JqM")).unwrap();
/// assert_eq!(token.secret(), "mF_9.B5f-4.1JqM");
/// assert_eq!(bearer_token(&HeaderValue::from_static("Bearer a,b")).err(), Some(BearerTokenError::MalformedToken));
/// ```
pub fn bearer_token(value: &HeaderValue) -> Result<AccessToken, BearerTokenError> {
    if value.len() > MAX_AUTHORIZATION_LEN {
        return Err(BearerTokenError::TooLong);
    }
    let text = value
        .to_str()
        .map_err(|_| BearerTokenError::NotVisibleAscii)?;
    let text = text.trim_matches([' ', '\t']);
    let (scheme, rest) = text.split_once([' ', '\t']).unwrap_or((text, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(BearerTokenError::NotBearer(scheme.to_owned()));
    }
    let token = rest.trim_start_matches([' ', '\t']);
    if token.is_empty() {
        return Err(BearerTokenError::MissingToken);
    }
    if !crate::challenge::is_b64token(token) {
        return Err(BearerTokenError::MalformedToken);
    }
    AccessToken::parse(token).map_err(|_| BearerTokenError::MalformedToken)
}

/// Extracts the Bearer token of a request's headers: exactly one `Authorization` header, of the Bearer
/// scheme.
pub fn bearer_token_from_headers(headers: &HeaderMap) -> Result<AccessToken, BearerTokenError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let value = values.next().ok_or(BearerTokenError::Missing)?;
    if values.next().is_some() {
        return Err(BearerTokenError::MultipleHeaders);
    }
    bearer_token(value)
}

/// `true` when a query string (or form body) carries an `access_token` parameter, with or without a
/// value. Resource servers answer such requests with 400 (REQUIREMENTS RS-7).
///
/// ```
/// use mcp_authz_token::has_access_token_param;
/// assert!(has_access_token_param("a=1&access_token=x"));
/// assert!(has_access_token_param("access%5Ftoken"));
/// assert!(!has_access_token_param("not_access_token=x"));
/// ```
pub fn has_access_token_param(query: &str) -> bool {
    form::has_param(query, "access_token")
}

/// `Err(TokenInQuery)` when a query string carries `access_token` ([`has_access_token_param`]).
pub fn reject_token_in_query(query: Option<&str>) -> Result<(), BearerTokenError> {
    match query {
        Some(q) if has_access_token_param(q) => Err(BearerTokenError::TokenInQuery),
        _ => Ok(()),
    }
}
