//! Token requests ([RFC 6749 §4.1.3], [RFC 6749 §6], [RFC 6749 §4.4], [RFC 7636 §4.5], [RFC 8707 §2]),
//! one enum tagged by `grant_type`.
//!
//! [RFC 6749 §4.1.3]: https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3
//! [RFC 6749 §6]: https://www.rfc-editor.org/rfc/rfc6749#section-6
//! [RFC 6749 §4.4]: https://www.rfc-editor.org/rfc/rfc6749#section-4.4
//! [RFC 7636 §4.5]: https://www.rfc-editor.org/rfc/rfc7636#section-4.5
//! [RFC 8707 §2]: https://www.rfc-editor.org/rfc/rfc8707#section-2

use mcp_authz_metadata::{
    ClientId, ClientIdError, ClientSecret, GrantType, RedirectUri, RedirectUriError, ResourceUri,
    ResourceUriError, Scope, ScopeError,
};
use mcp_authz_pkce::{CodeVerifier, PkceError};

use crate::form::{FormParams, FormWriter};
use crate::{
    AuthorizationCode, BodyClientCredentials, ErrorCode, ErrorResponse, FormError, RefreshToken,
    SecretSyntaxError,
};

/// The parameters of token requests that may appear once.
const SINGLE: [&str; 8] = [
    "grant_type",
    "code",
    "redirect_uri",
    "code_verifier",
    "refresh_token",
    "scope",
    "client_id",
    "client_secret",
];

/// A token request, by grant type. Parameters a grant does not define are ignored.
///
/// ```
/// use mcp_authz_token::TokenRequest;
/// let body = b"grant_type=refresh_token&refresh_token=tGzv3JOkF0XG5Qx2TlKWIA&client_id=app";
/// let parsed = TokenRequest::parse_form(body)?;
/// assert!(matches!(parsed.request, TokenRequest::RefreshToken(ref g) if g.refresh_token.secret() == "tGzv3JOkF0XG5Qx2TlKWIA"));
/// assert_eq!(parsed.client.client_id.unwrap().as_str(), "app");
/// # Ok::<(), mcp_authz_token::TokenRequestError>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum TokenRequest {
    /// `grant_type=authorization_code`.
    AuthorizationCode(AuthorizationCodeGrant),
    /// `grant_type=refresh_token`.
    RefreshToken(RefreshTokenGrant),
    /// `grant_type=client_credentials`.
    ClientCredentials(ClientCredentialsGrant),
    /// Any other grant type (including `password` and JWT bearer), kept so that the server can answer
    /// `unsupported_grant_type` ([`TokenRequest::require_supported`]).
    Unsupported(GrantType),
}

/// The authorization code grant (OAuth 2.1 §4.1.3). Not `Clone`: it holds a single-use code and verifier.
#[derive(Debug)]
pub struct AuthorizationCodeGrant {
    /// `code`.
    pub code: AuthorizationCode,
    /// `redirect_uri`, when the authorization request carried one.
    pub redirect_uri: Option<RedirectUri>,
    /// `code_verifier` (required: every MCP authorization uses PKCE).
    pub code_verifier: CodeVerifier,
    /// Every `resource`, in order (RFC 8707).
    pub resources: Vec<ResourceUri>,
}

/// The refresh token grant (OAuth 2.1 §4.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenGrant {
    /// `refresh_token`.
    pub refresh_token: RefreshToken,
    /// `scope`, to narrow the grant.
    pub scope: Option<Scope>,
    /// Every `resource`, in order (RFC 8707).
    pub resources: Vec<ResourceUri>,
}

/// The client credentials grant (OAuth 2.1 §4.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientCredentialsGrant {
    /// `scope`.
    pub scope: Option<Scope>,
    /// Every `resource`, in order (RFC 8707).
    pub resources: Vec<ResourceUri>,
}

/// A parsed endpoint request together with the client credentials found in the same form body.
#[derive(Debug)]
pub struct WithClientCredentials<T> {
    /// The request proper.
    pub request: T,
    /// `client_id` / `client_secret` from the body.
    pub client: BodyClientCredentials,
}

/// Why a token request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenRequestError {
    /// The body is malformed or repeats a parameter (OAuth 2.1 §3.2).
    #[error(transparent)]
    Form(#[from] FormError),
    /// A required parameter is absent or empty.
    #[error("missing parameter {0}")]
    MissingParameter(&'static str),
    /// `code` is not `1*VSCHAR`.
    #[error("invalid code: {0}")]
    InvalidCode(SecretSyntaxError),
    /// `refresh_token` is not `1*VSCHAR`.
    #[error("invalid refresh_token: {0}")]
    InvalidRefreshToken(SecretSyntaxError),
    /// `redirect_uri` is malformed.
    #[error("invalid redirect_uri: {0}")]
    InvalidRedirectUri(RedirectUriError),
    /// `code_verifier` is malformed.
    #[error("invalid code_verifier: {0}")]
    InvalidCodeVerifier(PkceError),
    /// `scope` is malformed.
    #[error("invalid scope: {0}")]
    InvalidScope(ScopeError),
    /// A `resource` is not an absolute http(s) URI without a fragment.
    #[error("invalid resource: {0}")]
    InvalidResource(ResourceUriError),
    /// The body's `client_id` is malformed.
    #[error("invalid client_id: {0}")]
    InvalidClientId(ClientIdError),
    /// The grant type is not supported (from [`TokenRequest::require_supported`]).
    #[error("grant_type {0} is not supported")]
    UnsupportedGrantType(GrantType),
}

impl TokenRequestError {
    /// The OAuth error code (RFC 6749 §5.2): `invalid_grant` for unusable codes, refresh tokens,
    /// redirect URIs and PKCE verifiers, missing or not (REQUIREMENTS PK-4); `invalid_scope`,
    /// `invalid_target`, `invalid_client`, `unsupported_grant_type` where they apply; `invalid_request`
    /// otherwise.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            Self::MissingParameter("code_verifier")
            | Self::InvalidCode(_)
            | Self::InvalidRefreshToken(_)
            | Self::InvalidRedirectUri(_)
            | Self::InvalidCodeVerifier(_) => ErrorCode::InvalidGrant,
            Self::InvalidScope(_) => ErrorCode::InvalidScope,
            Self::InvalidResource(_) => ErrorCode::InvalidTarget,
            Self::InvalidClientId(_) => ErrorCode::InvalidClient,
            Self::UnsupportedGrantType(_) => ErrorCode::UnsupportedGrantType,
            Self::Form(_) | Self::MissingParameter(_) => ErrorCode::InvalidRequest,
        }
    }

    /// The JSON error body, with the error's text as `error_description`.
    ///
    /// ```
    /// use mcp_authz_token::{ErrorCode, TokenRequest};
    /// let err = TokenRequest::parse_form(b"grant_type=authorization_code&code=a&code=b").unwrap_err();
    /// assert_eq!(err.error_response().error, ErrorCode::InvalidRequest);
    /// assert_eq!(err.error_response().error_description.as_deref(), Some("parameter code is included more than once"));
    /// ```
    pub fn error_response(&self) -> ErrorResponse {
        ErrorResponse::new(self.error_code()).with_description(self.to_string())
    }
}

impl TokenRequest {
    /// Parses an `application/x-www-form-urlencoded` token request body.
    pub fn parse_form(body: &[u8]) -> Result<WithClientCredentials<Self>, TokenRequestError> {
        let params = FormParams::parse(body, &SINGLE, &["resource"])?;
        let client =
            body_client_credentials(&params).map_err(TokenRequestError::InvalidClientId)?;
        let grant_type = params
            .get("grant_type")
            .ok_or(TokenRequestError::MissingParameter("grant_type"))?;
        let request = match GrantType::from(grant_type) {
            GrantType::AuthorizationCode => Self::AuthorizationCode(AuthorizationCodeGrant {
                code: AuthorizationCode::parse(
                    params
                        .get("code")
                        .ok_or(TokenRequestError::MissingParameter("code"))?,
                )
                .map_err(TokenRequestError::InvalidCode)?,
                redirect_uri: params
                    .get("redirect_uri")
                    .map(RedirectUri::parse)
                    .transpose()
                    .map_err(TokenRequestError::InvalidRedirectUri)?,
                code_verifier: CodeVerifier::parse(
                    params
                        .get("code_verifier")
                        .ok_or(TokenRequestError::MissingParameter("code_verifier"))?,
                )
                .map_err(TokenRequestError::InvalidCodeVerifier)?,
                resources: resources(&params)?,
            }),
            GrantType::RefreshToken => Self::RefreshToken(RefreshTokenGrant {
                refresh_token: RefreshToken::parse(
                    params
                        .get("refresh_token")
                        .ok_or(TokenRequestError::MissingParameter("refresh_token"))?,
                )
                .map_err(TokenRequestError::InvalidRefreshToken)?,
                scope: scope(&params)?,
                resources: resources(&params)?,
            }),
            GrantType::ClientCredentials => Self::ClientCredentials(ClientCredentialsGrant {
                scope: scope(&params)?,
                resources: resources(&params)?,
            }),
            other => Self::Unsupported(other),
        };
        Ok(WithClientCredentials { request, client })
    }

    /// The grant type of this request.
    pub fn grant_type(&self) -> GrantType {
        match self {
            Self::AuthorizationCode(_) => GrantType::AuthorizationCode,
            Self::RefreshToken(_) => GrantType::RefreshToken,
            Self::ClientCredentials(_) => GrantType::ClientCredentials,
            Self::Unsupported(other) => other.clone(),
        }
    }

    /// `Err(UnsupportedGrantType)` for [`TokenRequest::Unsupported`], the request otherwise.
    pub fn require_supported(self) -> Result<Self, TokenRequestError> {
        match self {
            Self::Unsupported(grant_type) => {
                Err(TokenRequestError::UnsupportedGrantType(grant_type))
            }
            supported => Ok(supported),
        }
    }

    /// The form body of this request, with the given body credentials (pass
    /// `&BodyClientCredentials::default()` for none).
    pub fn to_form(&self, client: &BodyClientCredentials) -> String {
        let mut form = FormWriter::new();
        form.pair("grant_type", self.grant_type().as_str());
        let (scope, resources): (Option<&Scope>, &[ResourceUri]) = match self {
            Self::AuthorizationCode(grant) => {
                form.pair("code", grant.code.secret())
                    .opt(
                        "redirect_uri",
                        grant.redirect_uri.as_ref().map(RedirectUri::as_str),
                    )
                    .pair("code_verifier", grant.code_verifier.secret());
                (None, &grant.resources)
            }
            Self::RefreshToken(grant) => {
                form.pair("refresh_token", grant.refresh_token.secret());
                (grant.scope.as_ref(), &grant.resources)
            }
            Self::ClientCredentials(grant) => (grant.scope.as_ref(), &grant.resources),
            Self::Unsupported(_) => (None, &[]),
        };
        form.opt("scope", scope.map(Scope::to_string).as_deref());
        for resource in resources {
            form.pair("resource", resource.as_str());
        }
        client.write(&mut form);
        form.finish()
    }
}

/// `client_id` and `client_secret` of a form body.
pub(crate) fn body_client_credentials(
    params: &FormParams,
) -> Result<BodyClientCredentials, ClientIdError> {
    Ok(BodyClientCredentials {
        client_id: params.get("client_id").map(ClientId::parse).transpose()?,
        client_secret: params.get("client_secret").map(ClientSecret::new),
    })
}

fn scope(params: &FormParams) -> Result<Option<Scope>, TokenRequestError> {
    params
        .get("scope")
        .map(Scope::parse)
        .transpose()
        .map_err(TokenRequestError::InvalidScope)
}

fn resources(params: &FormParams) -> Result<Vec<ResourceUri>, TokenRequestError> {
    params
        .all("resource")
        .map(ResourceUri::parse)
        .collect::<Result<_, _>>()
        .map_err(TokenRequestError::InvalidResource)
}
