//! The Bearer challenge ([RFC 6750 §3]) with `resource_metadata` ([RFC 9728 §5.1]).
//!
//! [RFC 6750 §3]: https://www.rfc-editor.org/rfc/rfc6750#section-3
//! [RFC 9728 §5.1]: https://www.rfc-editor.org/rfc/rfc9728#section-5.1

use std::fmt;

use http::{HeaderValue, StatusCode};
use mcp_authz_metadata::{Scope, ScopeError, ScopeToken};
use url::Url;

use super::grammar::{is_token, write_quoted};
use super::{AuthParam, Challenge, ChallengeParseError};
use crate::error_code::sanitize_description;

/// The `error` of a Bearer challenge (RFC 6750 §3.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BearerError {
    /// `invalid_request`: a malformed request (HTTP 400).
    InvalidRequest,
    /// `invalid_token`: expired, revoked, malformed or otherwise invalid token (HTTP 401).
    InvalidToken,
    /// `insufficient_scope`: the token lacks scope (HTTP 403).
    InsufficientScope,
    /// Any other code, kept verbatim.
    Unknown(String),
}

impl BearerError {
    /// The wire form.
    pub fn as_str(&self) -> &str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::Unknown(other) => other,
        }
    }

    /// The HTTP status RFC 6750 §3.1 gives the error: 400, 401 or 403; 401 for unknown codes.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidRequest => StatusCode::BAD_REQUEST,
            Self::InvalidToken | Self::Unknown(_) => StatusCode::UNAUTHORIZED,
            Self::InsufficientScope => StatusCode::FORBIDDEN,
        }
    }

    /// The challenge a resource server answers this error with: `error` and `error_description`
    /// (sanitised as [`BearerChallenge::with_error_description`] does). The one place a Bearer error
    /// becomes a challenge; `BearerTokenError::challenge` and `ClaimsError::challenge` go through it.
    ///
    /// ```
    /// use mcp_authz_token::BearerError;
    /// let challenge = BearerError::InvalidToken.challenge("the token has expired");
    /// assert_eq!(challenge.status(), 401);
    /// assert_eq!(challenge.to_header_value()?, r#"Bearer error="invalid_token", error_description="the token has expired""#);
    /// # Ok::<(), mcp_authz_token::ChallengeRenderError>(())
    /// ```
    pub fn challenge(self, description: impl AsRef<str>) -> BearerChallenge {
        BearerChallenge::new()
            .with_error(self)
            .with_error_description(description)
    }
}

impl From<&str> for BearerError {
    fn from(s: &str) -> Self {
        match s {
            "invalid_request" => Self::InvalidRequest,
            "invalid_token" => Self::InvalidToken,
            "insufficient_scope" => Self::InsufficientScope,
            other => Self::Unknown(other.to_owned()),
        }
    }
}

impl fmt::Display for BearerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A Bearer challenge. Parameters other than the ones named here are kept in `extra`, in order.
///
/// ```
/// use mcp_authz_token::{BearerChallenge, BearerError};
/// let challenge = BearerChallenge::new()
///     .with_resource_metadata("https://mcp.example.com/.well-known/oauth-protected-resource".parse().unwrap())
///     .with_scope("files:read".parse().unwrap());
/// let header = challenge.to_header_value().unwrap();
/// assert_eq!(header, r#"Bearer scope="files:read", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource""#);
/// assert_eq!(BearerChallenge::from_header_values([&header]).unwrap(), Some(challenge));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BearerChallenge {
    /// `realm`.
    pub realm: Option<String>,
    /// `scope`: the scope needed (RFC 6750 §3, space-delimited on the wire).
    pub scope: Option<Scope>,
    /// `error`; absent when the request carried no credentials (RFC 6750 §3.1).
    pub error: Option<BearerError>,
    /// `error_description`.
    pub error_description: Option<String>,
    /// `error_uri`.
    pub error_uri: Option<Url>,
    /// `resource_metadata`: the protected resource metadata URL (RFC 9728 §5.1).
    pub resource_metadata: Option<Url>,
    /// Every other auth-param, in order.
    pub extra: Vec<AuthParam>,
}

/// Why a Bearer challenge could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BearerChallengeError {
    /// The header does not follow the challenge grammar.
    #[error(transparent)]
    Parse(#[from] ChallengeParseError),
    /// The Bearer challenge carries a token68 instead of auth-params.
    #[error("the Bearer challenge carries a token68 instead of auth-params")]
    Token68,
    /// A parameter appears twice (RFC 6750 §3: each at most once).
    #[error("the Bearer challenge repeats the {0} parameter")]
    DuplicateParameter(String),
    /// `scope` is not a space-delimited list of scope tokens.
    #[error("the Bearer challenge's scope is invalid: {0}")]
    InvalidScope(ScopeError),
    /// `error_uri` or `resource_metadata` is not an absolute URL.
    #[error("the Bearer challenge's {param} is not an absolute URL: {reason}")]
    InvalidUrl {
        /// The parameter.
        param: &'static str,
        /// Why the URL parser refused it.
        reason: String,
    },
}

/// Why a Bearer challenge could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChallengeRenderError {
    /// A value holds a control character, which a quoted-string cannot carry.
    #[error("the {0} parameter holds a control character")]
    ControlCharacter(String),
    /// An extra parameter's name is not a token, or repeats another parameter.
    #[error("the extra parameter name {0:?} is not a token or repeats another parameter")]
    InvalidParameterName(String),
}

/// The parameter names [`BearerChallenge`] has fields for.
const KNOWN: [&str; 6] = [
    "realm",
    "scope",
    "error",
    "error_description",
    "error_uri",
    "resource_metadata",
];

impl BearerChallenge {
    /// A challenge with no parameters: `Bearer`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `realm`.
    #[must_use]
    pub fn with_realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = Some(realm.into());
        self
    }

    /// Sets `scope`.
    #[must_use]
    pub fn with_scope(mut self, scope: Scope) -> Self {
        self.scope = Some(scope);
        self
    }

    /// Sets `error`.
    #[must_use]
    pub fn with_error(mut self, error: BearerError) -> Self {
        self.error = Some(error);
        self
    }

    /// Sets `error_description`, sanitised to the RFC 6750 character set (`"` -> `'`, `\` -> `/`).
    #[must_use]
    pub fn with_error_description(mut self, description: impl AsRef<str>) -> Self {
        self.error_description = Some(sanitize_description(description.as_ref()));
        self
    }

    /// Sets `resource_metadata` (RFC 9728 §5.1).
    #[must_use]
    pub fn with_resource_metadata(mut self, url: Url) -> Self {
        self.resource_metadata = Some(url);
        self
    }

    /// The HTTP status that goes with this challenge: the error's ([`BearerError::status`]), or 401
    /// without an error.
    pub fn status(&self) -> StatusCode {
        self.error
            .as_ref()
            .map_or(StatusCode::UNAUTHORIZED, BearerError::status)
    }

    /// The first Bearer challenge among the challenges of the given `WWW-Authenticate` header values,
    /// `Ok(None)` when there is none (REQUIREMENTS CL-1).
    pub fn from_header_values<'a, I>(values: I) -> Result<Option<Self>, BearerChallengeError>
    where
        I: IntoIterator<Item = &'a HeaderValue>,
    {
        let challenges = Challenge::parse_header_values(values)?;
        challenges
            .iter()
            .find(|c| c.is_scheme("Bearer"))
            .map(Self::from_challenge)
            .transpose()
    }

    /// Reads a parsed challenge as a Bearer challenge (the scheme is not checked).
    pub fn from_challenge(challenge: &Challenge) -> Result<Self, BearerChallengeError> {
        if challenge.token68.is_some() {
            return Err(BearerChallengeError::Token68);
        }
        let mut out = Self::default();
        for (i, param) in challenge.params.iter().enumerate() {
            let repeated = challenge
                .params
                .iter()
                .take(i)
                .any(|p| p.name.eq_ignore_ascii_case(&param.name));
            if repeated {
                return Err(BearerChallengeError::DuplicateParameter(param.name.clone()));
            }
            let value = param.value.as_str();
            match param.name.to_ascii_lowercase().as_str() {
                "realm" => out.realm = Some(value.to_owned()),
                "scope" => out.scope = Some(parse_scope(value)?),
                "error" => out.error = Some(BearerError::from(value)),
                "error_description" => out.error_description = Some(value.to_owned()),
                "error_uri" => out.error_uri = Some(parse_url("error_uri", value)?),
                "resource_metadata" => {
                    out.resource_metadata = Some(parse_url("resource_metadata", value)?);
                }
                _ => out.extra.push(param.clone()),
            }
        }
        Ok(out)
    }

    /// The challenge in RFC 9110 syntax. No `error` unless one is set (RFC 6750 §3.1); every value is a
    /// quoted-string with `"` and `\` escaped; `scope` space-delimited.
    pub fn render(&self) -> Result<String, ChallengeRenderError> {
        let mut out = String::from("Bearer");
        let mut first = true;
        let mut put = |out: &mut String, name: &str, value: &str| {
            out.push_str(if first { " " } else { ", " });
            first = false;
            out.push_str(name);
            out.push('=');
            if write_quoted(out, value) {
                Ok(())
            } else {
                Err(ChallengeRenderError::ControlCharacter(name.to_owned()))
            }
        };
        if let Some(realm) = &self.realm {
            put(&mut out, "realm", realm)?;
        }
        if let Some(scope) = &self.scope {
            put(&mut out, "scope", &scope.to_string())?;
        }
        if let Some(error) = &self.error {
            put(&mut out, "error", error.as_str())?;
        }
        if let Some(description) = &self.error_description {
            put(&mut out, "error_description", description)?;
        }
        if let Some(uri) = &self.error_uri {
            put(&mut out, "error_uri", uri.as_str())?;
        }
        if let Some(url) = &self.resource_metadata {
            put(&mut out, "resource_metadata", url.as_str())?;
        }
        for (i, param) in self.extra.iter().enumerate() {
            let clash = KNOWN.iter().any(|k| k.eq_ignore_ascii_case(&param.name))
                || self
                    .extra
                    .iter()
                    .take(i)
                    .any(|p| p.name.eq_ignore_ascii_case(&param.name));
            if !is_token(&param.name) || clash {
                return Err(ChallengeRenderError::InvalidParameterName(
                    param.name.clone(),
                ));
            }
            put(&mut out, &param.name, &param.value)?;
        }
        Ok(out)
    }

    /// [`BearerChallenge::render`] as a `WWW-Authenticate` header value.
    pub fn to_header_value(&self) -> Result<HeaderValue, ChallengeRenderError> {
        let text = self.render()?;
        // `render` writes no control characters, so every byte is allowed in a header value.
        HeaderValue::from_bytes(text.as_bytes())
            .map_err(|_| ChallengeRenderError::ControlCharacter("challenge".to_owned()))
    }
}

/// A challenge's scope: space-delimited tokens, lenient about repeated spaces.
fn parse_scope(value: &str) -> Result<Scope, BearerChallengeError> {
    value
        .split(' ')
        .filter(|t| !t.is_empty())
        .map(ScopeToken::parse)
        .collect::<Result<Scope, _>>()
        .map_err(BearerChallengeError::InvalidScope)
}

fn parse_url(param: &'static str, value: &str) -> Result<Url, BearerChallengeError> {
    Url::parse(value).map_err(|e| BearerChallengeError::InvalidUrl {
        param,
        reason: e.to_string(),
    })
}
