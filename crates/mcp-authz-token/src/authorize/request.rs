//! The authorization request ([RFC 6749 §4.1.1], [RFC 7636 §4.3], [RFC 8707 §2]).
//!
//! [RFC 6749 §4.1.1]: https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1
//! [RFC 7636 §4.3]: https://www.rfc-editor.org/rfc/rfc7636#section-4.3
//! [RFC 8707 §2]: https://www.rfc-editor.org/rfc/rfc8707#section-2

use mcp_authz_metadata::{
    ClientId, ClientIdError, RedirectUri, RedirectUriError, ResourceUri, ResourceUriError,
    ResponseType, Scope, ScopeError,
};
use mcp_authz_pkce::{CodeChallenge, CodeChallengeMethod, PkceError};
use url::Url;

use crate::form::{FormParams, FormWriter};
use crate::{ErrorCode, FormError, SecretSyntaxError, State};

use super::AuthorizationErrorResponse;

/// The parameters of an authorization request that may appear once.
const SINGLE: [&str; 7] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
];

/// An authorization request of the authorization code flow with PKCE, as MCP requires it.
///
/// `response_type` is always `code` and `code_challenge_method` always `S256` (REQUIREMENTS AS-2,
/// AS-3): requests asking for anything else do not parse. `resource` may repeat (RFC 8707 §2); unknown
/// parameters are ignored; every other parameter appears at most once (OAuth 2.1 §3.1).
///
/// ```
/// use mcp_authz_token::AuthorizationRequest;
/// let query = "response_type=code&client_id=s6BhdRkqt3&state=xyz\
///     &redirect_uri=https%3A%2F%2Fclient%2Eexample%2Ecom%2Fcb\
///     &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256\
///     &resource=https%3A%2F%2Fmcp.example.com";
/// let request = AuthorizationRequest::parse_query(query)?;
/// assert_eq!(request.client_id.as_str(), "s6BhdRkqt3");
/// assert_eq!(request.resources[0].as_str(), "https://mcp.example.com");
/// assert_eq!(AuthorizationRequest::parse_query(&request.to_query())?, request);
/// # Ok::<(), Box<mcp_authz_token::AuthorizationRequestRejection>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    /// `client_id`.
    pub client_id: ClientId,
    /// `redirect_uri`; optional on the wire when the client registered exactly one.
    pub redirect_uri: Option<RedirectUri>,
    /// `scope`, absent when not requested.
    pub scope: Option<Scope>,
    /// `state`, the client's CSRF token.
    pub state: Option<State>,
    /// `code_challenge` with `code_challenge_method=S256`.
    pub code_challenge: CodeChallenge,
    /// Every `resource` parameter (RFC 8707), in order.
    pub resources: Vec<ResourceUri>,
}

/// Why an authorization request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthorizationRequestError {
    /// The query string itself is malformed or repeats a parameter.
    #[error(transparent)]
    Form(#[from] FormError),
    /// A required parameter is absent or empty.
    #[error("missing parameter {0}")]
    MissingParameter(&'static str),
    /// `client_id` is malformed.
    #[error("invalid client_id: {0}")]
    InvalidClientId(ClientIdError),
    /// `redirect_uri` is malformed or not allowed.
    #[error("invalid redirect_uri: {0}")]
    InvalidRedirectUri(RedirectUriError),
    /// `state` is not `1*VSCHAR`.
    #[error("invalid state: {0}")]
    InvalidState(SecretSyntaxError),
    /// A `response_type` other than `code`.
    #[error("response_type {0} is not supported: only code is allowed")]
    UnsupportedResponseType(ResponseType),
    /// `code_challenge` is malformed, or the method is not `S256`.
    #[error("invalid PKCE parameters: {0}")]
    Pkce(PkceError),
    /// `scope` is malformed.
    #[error("invalid scope: {0}")]
    InvalidScope(ScopeError),
    /// A `resource` is not an absolute http(s) URI without a fragment.
    #[error("invalid resource: {0}")]
    InvalidResource(ResourceUriError),
}

impl AuthorizationRequestError {
    /// The OAuth error code for this error (RFC 6749 §4.1.2.1, RFC 8707 §2).
    pub fn error_code(&self) -> ErrorCode {
        match self {
            Self::UnsupportedResponseType(_) => ErrorCode::UnsupportedResponseType,
            Self::InvalidScope(_) => ErrorCode::InvalidScope,
            Self::InvalidResource(_) => ErrorCode::InvalidTarget,
            Self::Form(_)
            | Self::MissingParameter(_)
            | Self::InvalidClientId(_)
            | Self::InvalidRedirectUri(_)
            | Self::InvalidState(_)
            | Self::Pkce(_) => ErrorCode::InvalidRequest,
        }
    }

    /// `false` when the error concerns the client or its redirect URI: the authorization server must
    /// then show the error to the user and never redirect (RFC 6749 §4.1.2.1, REQUIREMENTS AS-4, SEC-1).
    pub fn may_redirect(&self) -> bool {
        !matches!(
            self,
            Self::Form(_)
                | Self::MissingParameter("client_id")
                | Self::InvalidClientId(_)
                | Self::InvalidRedirectUri(_)
        )
    }
}

/// A refused authorization request, with what could be recovered of it so that the authorization
/// server can decide whether, and where, to redirect the error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct AuthorizationRequestRejection {
    /// Why the request was refused.
    pub error: AuthorizationRequestError,
    /// `client_id`, if it parsed.
    pub client_id: Option<ClientId>,
    /// `redirect_uri`, if it parsed.
    pub redirect_uri: Option<RedirectUri>,
    /// `state`, if it parsed, to echo in the error response.
    pub state: Option<State>,
}

impl AuthorizationRequestRejection {
    /// The error response to redirect with (after the server has checked that `client_id` is
    /// registered and `redirect_uri` matches, and only when
    /// [`AuthorizationRequestError::may_redirect`]): the error code, a description, the echoed
    /// `state` and the server's `iss` (RFC 9207, REQUIREMENTS AS-6).
    pub fn error_response(
        &self,
        iss: Option<mcp_authz_metadata::Issuer>,
    ) -> AuthorizationErrorResponse {
        AuthorizationErrorResponse::new(self.error.error_code())
            .with_description(self.error.to_string())
            .with_state(self.state.clone())
            .with_iss(iss)
    }
}

impl AuthorizationRequest {
    /// A request for `client_id` with the given S256 challenge and nothing else.
    pub fn new(client_id: ClientId, code_challenge: CodeChallenge) -> Self {
        Self {
            client_id,
            redirect_uri: None,
            scope: None,
            state: None,
            code_challenge,
            resources: Vec::new(),
        }
    }

    /// Sets `redirect_uri`.
    #[must_use]
    pub fn with_redirect_uri(mut self, redirect_uri: RedirectUri) -> Self {
        self.redirect_uri = Some(redirect_uri);
        self
    }

    /// Sets `scope` (an empty scope is omitted from the wire).
    #[must_use]
    pub fn with_scope(mut self, scope: Scope) -> Self {
        self.scope = (!scope.is_empty()).then_some(scope);
        self
    }

    /// Sets `state`.
    #[must_use]
    pub fn with_state(mut self, state: State) -> Self {
        self.state = Some(state);
        self
    }

    /// Adds a `resource`.
    #[must_use]
    pub fn with_resource(mut self, resource: ResourceUri) -> Self {
        self.resources.push(resource);
        self
    }

    /// Parses the query component (without `?`) of an authorization request. The rejection is boxed:
    /// it carries the recovered `client_id`, `redirect_uri` and `state`.
    pub fn parse_query(query: &str) -> Result<Self, Box<AuthorizationRequestRejection>> {
        let reject = |error| {
            Box::new(AuthorizationRequestRejection {
                error,
                client_id: None,
                redirect_uri: None,
                state: None,
            })
        };
        let params = FormParams::parse(query.as_bytes(), &SINGLE, &["resource"])
            .map_err(|e| reject(AuthorizationRequestError::Form(e)))?;

        // client_id, redirect_uri and state first: they decide where an error may go.
        let client_id = params
            .get("client_id")
            .map(|v| ClientId::parse(v).map_err(AuthorizationRequestError::InvalidClientId));
        let redirect_uri = params
            .get("redirect_uri")
            .map(|v| RedirectUri::parse(v).map_err(AuthorizationRequestError::InvalidRedirectUri));
        let state = params
            .get("state")
            .map(|v| State::parse(v).map_err(AuthorizationRequestError::InvalidState));
        let mut rejection = AuthorizationRequestRejection {
            error: AuthorizationRequestError::MissingParameter("client_id"),
            client_id: client_id.clone().and_then(Result::ok),
            redirect_uri: redirect_uri.clone().and_then(Result::ok),
            state: state.clone().and_then(Result::ok),
        };
        match Self::parse_rest(&params, client_id, redirect_uri, state) {
            Ok(request) => Ok(request),
            Err(error) => {
                rejection.error = error;
                Err(Box::new(rejection))
            }
        }
    }

    fn parse_rest(
        params: &FormParams,
        client_id: Option<Result<ClientId, AuthorizationRequestError>>,
        redirect_uri: Option<Result<RedirectUri, AuthorizationRequestError>>,
        state: Option<Result<State, AuthorizationRequestError>>,
    ) -> Result<Self, AuthorizationRequestError> {
        let client_id =
            client_id.ok_or(AuthorizationRequestError::MissingParameter("client_id"))??;
        let redirect_uri = redirect_uri.transpose()?;
        let state = state.transpose()?;
        let response_type = params
            .get("response_type")
            .ok_or(AuthorizationRequestError::MissingParameter("response_type"))?;
        match ResponseType::from(response_type) {
            ResponseType::Code => {}
            other => return Err(AuthorizationRequestError::UnsupportedResponseType(other)),
        }
        let challenge =
            params
                .get("code_challenge")
                .ok_or(AuthorizationRequestError::MissingParameter(
                    "code_challenge",
                ))?;
        let method = params
            .get("code_challenge_method")
            .map(|m| match m.parse() {
                Ok(method) => method,
                Err(never) => match never {},
            });
        let code_challenge = CodeChallenge::parse_with_method(challenge, method.as_ref())
            .map_err(AuthorizationRequestError::Pkce)?;
        let scope = params
            .get("scope")
            .map(Scope::parse)
            .transpose()
            .map_err(AuthorizationRequestError::InvalidScope)?;
        let resources = params
            .all("resource")
            .map(ResourceUri::parse)
            .collect::<Result<Vec<_>, _>>()
            .map_err(AuthorizationRequestError::InvalidResource)?;
        Ok(Self {
            client_id,
            redirect_uri,
            scope,
            state,
            code_challenge,
            resources,
        })
    }

    /// The query string of this request (form-urlencoded, without `?`).
    pub fn to_query(&self) -> String {
        let mut form = FormWriter::new();
        form.pair("response_type", ResponseType::Code.as_str())
            .pair("client_id", self.client_id.as_str())
            .opt(
                "redirect_uri",
                self.redirect_uri.as_ref().map(RedirectUri::as_str),
            )
            .opt(
                "scope",
                self.scope.as_ref().map(Scope::to_string).as_deref(),
            )
            .opt("state", self.state.as_ref().map(State::as_str))
            .pair("code_challenge", &self.code_challenge.to_string())
            .pair("code_challenge_method", CodeChallengeMethod::S256.as_str());
        for resource in &self.resources {
            form.pair("resource", resource.as_str());
        }
        form.finish()
    }

    /// The authorization endpoint URL with this request appended to its query.
    pub fn to_url(&self, authorization_endpoint: &Url) -> Url {
        let mut url = authorization_endpoint.clone();
        let query = match url.query() {
            Some(existing) if !existing.is_empty() => format!("{existing}&{}", self.to_query()),
            _ => self.to_query(),
        };
        url.set_query(Some(&query));
        url
    }
}
