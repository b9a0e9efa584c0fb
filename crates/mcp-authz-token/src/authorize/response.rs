//! The authorization response, success ([RFC 6749 §4.1.2]) or error ([RFC 6749 §4.1.2.1]), with the
//! `iss` parameter of [RFC 9207], rendered onto a redirect URI and parsed back from the callback.
//!
//! [RFC 6749 §4.1.2]: https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2
//! [RFC 6749 §4.1.2.1]: https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1
//! [RFC 9207]: https://www.rfc-editor.org/rfc/rfc9207

use mcp_authz_metadata::{Issuer, IssuerError, RedirectUri};
use url::Url;

use crate::error_code::sanitize_description;
use crate::form::{FormParams, FormWriter};
use crate::{AuthorizationCode, ErrorCode, FormError, SecretSyntaxError, State};

/// A successful authorization response: `code`, `state`, `iss`.
///
/// Not `Clone`: it holds the single-use [`AuthorizationCode`].
#[derive(Debug, PartialEq, Eq)]
pub struct AuthorizationResponse {
    /// The authorization code.
    pub code: AuthorizationCode,
    /// The `state` of the request, echoed.
    pub state: Option<State>,
    /// The authorization server's issuer identifier (RFC 9207 §2).
    pub iss: Option<Issuer>,
}

/// An error authorization response: `error`, `error_description`, `error_uri`, `state`, `iss`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationErrorResponse {
    /// The error code.
    pub error: ErrorCode,
    /// Human-readable text for the client developer.
    pub error_description: Option<String>,
    /// A page describing the error.
    pub error_uri: Option<Url>,
    /// The `state` of the request, echoed.
    pub state: Option<State>,
    /// The authorization server's issuer identifier (RFC 9207 §2).
    pub iss: Option<Issuer>,
}

/// What arrives at the client's redirect URI: a success or an error response.
#[derive(Debug, PartialEq, Eq)]
pub enum AuthorizationCallback {
    /// `code` was present.
    Success(AuthorizationResponse),
    /// `error` was present.
    Error(AuthorizationErrorResponse),
}

/// Why a callback's query could not be read as an authorization response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallbackError {
    /// The query string is malformed or repeats a parameter.
    #[error(transparent)]
    Form(#[from] FormError),
    /// Neither `code` nor `error` is present.
    #[error("the callback has neither a code nor an error parameter")]
    MissingCode,
    /// Both `code` and `error` are present.
    #[error("the callback has both a code and an error parameter")]
    CodeAndError,
    /// `code` is not `1*VSCHAR`.
    #[error("invalid code: {0}")]
    InvalidCode(SecretSyntaxError),
    /// `state` is not `1*VSCHAR`.
    #[error("invalid state: {0}")]
    InvalidState(SecretSyntaxError),
    /// `iss` is not a valid issuer identifier.
    #[error("invalid iss: {0}")]
    InvalidIssuer(IssuerError),
    /// `error_uri` is not an absolute URI.
    #[error("invalid error_uri: {0}")]
    InvalidErrorUri(String),
}

/// Why a parsed callback does not belong to the authorization attempt it claims (RFC 9207 §2.4,
/// REQUIREMENTS CL-8, SEC-3, SEC-4). The client must then discard the response, including any error
/// fields, and never redeem the code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallbackVerifyError {
    /// `iss` differs from the issuer the request was sent to (a mix-up attack, RFC 9207).
    #[error("the response's iss {found:?} is not the expected issuer {expected:?}")]
    IssuerMismatch {
        /// The issuer the request was sent to.
        expected: String,
        /// The `iss` received.
        found: String,
    },
    /// `iss` is absent although the server advertises `authorization_response_iss_parameter_supported`.
    #[error("the response has no iss although the authorization server promises one")]
    MissingIssuer,
    /// `state` is absent or differs from the one sent.
    #[error("the response's state does not match the request's")]
    StateMismatch,
}

impl AuthorizationResponse {
    /// The redirect URI with `code`, `state` and `iss` appended to its query.
    pub fn redirect_url(&self, redirect_uri: &RedirectUri) -> Url {
        let mut form = FormWriter::new();
        form.pair("code", self.code.secret())
            .opt("state", self.state.as_ref().map(State::as_str))
            .opt("iss", self.iss.as_ref().map(Issuer::as_str));
        append_query(redirect_uri.url(), &form.finish())
    }
}

impl AuthorizationErrorResponse {
    /// An error response with only the code.
    pub fn new(error: ErrorCode) -> Self {
        Self {
            error,
            error_description: None,
            error_uri: None,
            state: None,
            iss: None,
        }
    }

    /// Sets `error_description`, sanitised to the RFC 6749 character set.
    #[must_use]
    pub fn with_description(mut self, description: impl AsRef<str>) -> Self {
        self.error_description = Some(sanitize_description(description.as_ref()));
        self
    }

    /// Sets or clears `state`.
    #[must_use]
    pub fn with_state(mut self, state: Option<State>) -> Self {
        self.state = state;
        self
    }

    /// Sets or clears `iss`.
    #[must_use]
    pub fn with_iss(mut self, iss: Option<Issuer>) -> Self {
        self.iss = iss;
        self
    }

    /// The redirect URI with the error parameters appended to its query.
    pub fn redirect_url(&self, redirect_uri: &RedirectUri) -> Url {
        let mut form = FormWriter::new();
        form.pair("error", self.error.as_str())
            .opt("error_description", self.error_description.as_deref())
            .opt("error_uri", self.error_uri.as_ref().map(Url::as_str))
            .opt("state", self.state.as_ref().map(State::as_str))
            .opt("iss", self.iss.as_ref().map(Issuer::as_str));
        append_query(redirect_uri.url(), &form.finish())
    }
}

impl AuthorizationCallback {
    /// Parses the query of the callback request (without `?`).
    ///
    /// ```
    /// use mcp_authz_token::AuthorizationCallback;
    /// let callback = AuthorizationCallback::parse_query("code=SplxlOBeZQQYbYS6WxSbIA&state=xyz").unwrap();
    /// assert!(matches!(callback, AuthorizationCallback::Success(ref r) if r.code.secret() == "SplxlOBeZQQYbYS6WxSbIA"));
    /// ```
    pub fn parse_query(query: &str) -> Result<Self, CallbackError> {
        let params = FormParams::parse(
            query.as_bytes(),
            &[
                "code",
                "state",
                "iss",
                "error",
                "error_description",
                "error_uri",
            ],
            &[],
        )?;
        let state = params
            .get("state")
            .map(State::parse)
            .transpose()
            .map_err(CallbackError::InvalidState)?;
        let iss = params
            .get("iss")
            .map(Issuer::parse)
            .transpose()
            .map_err(CallbackError::InvalidIssuer)?;
        match (params.get("code"), params.get("error")) {
            (Some(_), Some(_)) => Err(CallbackError::CodeAndError),
            (None, None) => Err(CallbackError::MissingCode),
            (Some(code), None) => Ok(Self::Success(AuthorizationResponse {
                code: AuthorizationCode::parse(code).map_err(CallbackError::InvalidCode)?,
                state,
                iss,
            })),
            (None, Some(error)) => Ok(Self::Error(AuthorizationErrorResponse {
                error: ErrorCode::from(error),
                error_description: params.get("error_description").map(str::to_owned),
                error_uri: params
                    .get("error_uri")
                    .map(Url::parse)
                    .transpose()
                    .map_err(|e| CallbackError::InvalidErrorUri(e.to_string()))?,
                state,
                iss,
            })),
        }
    }

    /// Parses the callback from the full URL the browser was sent to.
    pub fn from_url(url: &Url) -> Result<Self, CallbackError> {
        Self::parse_query(url.query().unwrap_or_default())
    }

    /// The echoed `state`.
    pub fn state(&self) -> Option<&State> {
        match self {
            Self::Success(r) => r.state.as_ref(),
            Self::Error(r) => r.state.as_ref(),
        }
    }

    /// The `iss` parameter.
    pub fn iss(&self) -> Option<&Issuer> {
        match self {
            Self::Success(r) => r.iss.as_ref(),
            Self::Error(r) => r.iss.as_ref(),
        }
    }

    /// Checks that this response answers the client's request (REQUIREMENTS CL-8): `iss`, when
    /// present, equals `expected_issuer` exactly, and is present when `iss_required` (the server's
    /// metadata has `authorization_response_iss_parameter_supported: true`); then `state` equals
    /// `expected_state`. Run it before looking at the code or the error fields.
    pub fn verify(
        &self,
        expected_issuer: &Issuer,
        iss_required: bool,
        expected_state: &State,
    ) -> Result<(), CallbackVerifyError> {
        match self.iss() {
            Some(iss) if iss.as_str() != expected_issuer.as_str() => {
                return Err(CallbackVerifyError::IssuerMismatch {
                    expected: expected_issuer.as_str().to_owned(),
                    found: iss.as_str().to_owned(),
                });
            }
            None if iss_required => return Err(CallbackVerifyError::MissingIssuer),
            _ => {}
        }
        match self.state() {
            Some(state) if state == expected_state => Ok(()),
            _ => Err(CallbackVerifyError::StateMismatch),
        }
    }
}

/// `base` with `extra` appended to its query (keeping any query it already has).
fn append_query(base: &Url, extra: &str) -> Url {
    let mut url = base.clone();
    let query = match url.query() {
        Some(existing) if !existing.is_empty() => format!("{existing}&{extra}"),
        _ => extra.to_owned(),
    };
    url.set_query(Some(&query));
    url
}
