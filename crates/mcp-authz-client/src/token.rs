//! Token endpoint requests (authorization code and refresh) with the client's authentication method.

use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use mcp_authz_metadata::TokenEndpointAuthMethod;
use mcp_authz_token::{
    BasicCredentials, BodyClientCredentials, ErrorCode, ErrorResponse, RevocationRequest,
    TokenRequest, TokenResponse, TokenType,
};
use url::Url;

use crate::fetch::Fetcher;
use crate::{ClientCredentials, FetchError, HttpRequest, HttpResponse};

/// Why a token request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The request failed.
    #[error("the token request failed: {0}")]
    Fetch(#[from] FetchError),
    /// The server answered with an OAuth error.
    #[error(
        "the token endpoint refused the request ({status}): {error}{}",
        crate::text::detail(description)
    )]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The OAuth error code (`invalid_grant`, ...).
        error: ErrorCode,
        /// The error description, if any.
        description: Option<String>,
    },
    /// The server answered with an error status and no OAuth error body.
    #[error("the token endpoint answered {status} without an OAuth error")]
    Status {
        /// The HTTP status.
        status: u16,
    },
    /// The success response does not parse.
    #[error("the token response is malformed: {0}")]
    MalformedResponse(String),
    /// The client assertion could not be signed.
    #[error("the client assertion could not be signed: {0}")]
    Assertion(String),
    /// A token type other than `Bearer`.
    #[error("the token type \"{0}\" is not supported (only Bearer)")]
    UnsupportedTokenType(String),
}

impl TokenError {
    /// `true` for `invalid_client`: the authorization server does not know this client (any more),
    /// or its authentication failed; its registration is dead.
    pub fn is_invalid_client(&self) -> bool {
        matches!(
            self,
            Self::Rejected {
                error: ErrorCode::InvalidClient,
                ..
            }
        )
    }

    /// `true` for `invalid_grant`: the code or refresh token is dead and must not be retried.
    pub fn is_invalid_grant(&self) -> bool {
        matches!(
            self,
            Self::Rejected {
                error: ErrorCode::InvalidGrant,
                ..
            }
        )
    }
}

/// `client_assertion_type` for a JWT client assertion (RFC 7523 §2.2).
const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How `client` authenticates a request to the token or revocation endpoint: the credentials that go
/// in the form body, and the HTTP Basic credentials (`client_secret_basic`). With an `assertion` the
/// body carries only the `client_id` and the assertion is added by [`post_form`].
fn client_authentication(
    client: &ClientCredentials,
    assertion: Option<&str>,
) -> (BodyClientCredentials, Option<BasicCredentials>) {
    let mut body_credentials = BodyClientCredentials {
        client_id: Some(client.client_id.clone()),
        client_secret: None,
    };
    let mut basic = None;
    match (&client.token_endpoint_auth_method, &client.client_secret) {
        _ if assertion.is_some() => {}
        (TokenEndpointAuthMethod::ClientSecretBasic, Some(secret)) => {
            body_credentials.client_id = None;
            basic = Some(BasicCredentials {
                client_id: client.client_id.clone(),
                client_secret: secret.clone(),
            });
        }
        (TokenEndpointAuthMethod::ClientSecretPost, Some(secret)) => {
            body_credentials.client_secret = Some(secret.clone());
        }
        _ => {}
    }
    (body_credentials, basic)
}

/// POSTs `form` (which already holds the body credentials) to `endpoint`, with the client assertion
/// or Basic credentials: a small JSON answer is expected, redirects are refused.
async fn post_form(
    fetcher: &Fetcher,
    endpoint: &Url,
    mut form: String,
    basic: Option<BasicCredentials>,
    assertion: Option<&str>,
) -> Result<HttpResponse, FetchError> {
    if let Some(assertion) = assertion {
        let extra = form_urlencoded::Serializer::new(String::new())
            .append_pair("client_assertion_type", JWT_BEARER_ASSERTION)
            .append_pair("client_assertion", assertion)
            .finish();
        form = format!("{form}&{extra}");
    }
    let mut request = HttpRequest::post(endpoint.clone(), form.into_bytes());
    request.headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    request
        .headers
        .insert(ACCEPT, HeaderValue::from_static("application/json"));
    if let Some(basic) = basic {
        request
            .headers
            .insert(AUTHORIZATION, basic.to_header_value());
    }
    fetcher.document_exchange(request).await
}

/// The OAuth error of a non-2xx answer, or its bare status.
fn rejection(response: &HttpResponse) -> TokenError {
    let status = response.status.as_u16();
    match serde_json::from_slice::<ErrorResponse>(&response.body) {
        Ok(error) => TokenError::Rejected {
            status,
            error: error.error,
            description: error.error_description,
        },
        Err(_) => TokenError::Status { status },
    }
}

/// Sends `grant` to `endpoint`, authenticating as `client`, or with `assertion` (a signed client
/// assertion JWT) when given.
pub(crate) async fn request_token(
    fetcher: &Fetcher,
    endpoint: &Url,
    grant: &TokenRequest,
    client: &ClientCredentials,
    assertion: Option<&str>,
) -> Result<TokenResponse, TokenError> {
    let (body_credentials, basic) = client_authentication(client, assertion);
    let form = grant.to_form(&body_credentials);
    let response = post_form(fetcher, endpoint, form, basic, assertion).await?;
    if !response.status.is_success() {
        return Err(rejection(&response));
    }
    let token: TokenResponse = serde_json::from_slice(&response.body)
        .map_err(|e| TokenError::MalformedResponse(e.to_string()))?;
    match &token.token_type {
        TokenType::Bearer => Ok(token),
        other => Err(TokenError::UnsupportedTokenType(other.as_str().to_owned())),
    }
}

/// Revokes `token` at `endpoint` (RFC 7009 §2.1), authenticating as `client`. A 200 means the token
/// is no longer valid (or never was: RFC 7009 §2.2).
pub(crate) async fn revoke_token(
    fetcher: &Fetcher,
    endpoint: &Url,
    request: &RevocationRequest,
    client: &ClientCredentials,
    assertion: Option<&str>,
) -> Result<(), TokenError> {
    let (body_credentials, basic) = client_authentication(client, assertion);
    let form = request.to_form(&body_credentials);
    let response = post_form(fetcher, endpoint, form, basic, assertion).await?;
    if response.status.is_success() {
        Ok(())
    } else {
        Err(rejection(&response))
    }
}
