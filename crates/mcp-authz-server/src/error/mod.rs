//! Why an endpoint did not succeed, as typed causes ([`EndpointError`] and its sub-enums), and the one
//! total mapping of those causes to HTTP responses ([`wire`]).
//!
//! Handlers never build an error response themselves: they return `Err(cause)` and
//! [`wire::response`] decides the status, the RFC error code, the description (the cause's
//! `Display`), `WWW-Authenticate`, `Retry-After`, `Cache-Control: no-store`, and whether the answer is
//! JSON, an HTML page or a redirect to the client.

mod causes;
pub(crate) mod wire;

use std::time::Duration;

use mcp_authz_metadata::{Issuer, RedirectUri};
use mcp_authz_store::StoreError;
use mcp_authz_token::{
    ClientAuthError, SecretSyntaxError, State, TokenHintRequestError, TokenRequestError,
};

pub(crate) use causes::{
    InvalidClient, InvalidGrant, NotFound, PageError, PolicyError, RedirectCause,
    RegistrationRefusal, UnauthorizedClient,
};

use crate::keys::KeyError;

/// The result of a handler: a response, or the typed cause [`wire::response`] answers.
pub(crate) type Handled = Result<http::Response<bytes::Bytes>, EndpointError>;

/// Every way an endpoint can fail; [`wire::response`] maps each to the wire.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EndpointError {
    /// A token request that does not parse (RFC 6749 §5.2; the parser picks the code).
    #[error(transparent)]
    TokenRequest(#[from] TokenRequestError),
    /// A revocation or introspection request that does not parse (RFC 7009 §2.1, RFC 7662 §2.1).
    #[error(transparent)]
    TokenHintRequest(#[from] TokenHintRequestError),
    /// Client credentials that cannot be read (several methods, mismatched ids, bad Basic header).
    #[error(transparent)]
    ClientCredentials(#[from] ClientAuthError),
    /// `invalid_client`: the client did not authenticate (401 with `WWW-Authenticate: Basic`).
    #[error(transparent)]
    Client(#[from] InvalidClient),
    /// `invalid_grant`: the code or refresh token does not stand.
    #[error(transparent)]
    Grant(#[from] InvalidGrant),
    /// `invalid_target` / `invalid_scope`: the grant policy refused the resources or scope.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// `unauthorized_client`: the client may not use this grant.
    #[error(transparent)]
    Unauthorized(#[from] UnauthorizedClient),
    /// `unsupported_grant_type`: a grant type this server does not implement.
    #[error("unsupported grant type")]
    UnsupportedGrantType,
    /// An RFC 7591 §3.2.2 registration error.
    #[error(transparent)]
    Registration(#[from] RegistrationRefusal),
    /// An HTML error page at a browser-facing endpoint: the client or its redirect URI is not
    /// verified, or the browser's form or request expired (RFC 6749 §4.1.2.1, SEC-1).
    #[error(transparent)]
    Page(#[from] PageError),
    /// An error redirect to a verified redirect URI (RFC 6749 §4.1.2.1, RFC 9207).
    #[error("{}", .0.cause)]
    Redirect(Box<ErrorRedirect>),
    /// A rate limit is exhausted: 429 with `Retry-After` (SEC-8, SEC-11).
    #[error("too many requests")]
    RateLimited(Duration),
    /// No endpoint here (404).
    #[error(transparent)]
    NotFound(#[from] NotFound),
    /// The endpoint exists but not for this method (405).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The request body is larger than the server reads (413).
    #[error("the request body is too large")]
    BodyTooLarge,
    /// Too many password checks are running or waiting (an Argon2 client secret was not checked):
    /// 503 `temporarily_unavailable` with `Retry-After`.
    #[error("the server is busy checking other secrets; try again later")]
    PasswordChecksBusy,
    /// A store failure: 503 when unavailable, else 500.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A signing-key failure: 500 (503 when its store is unavailable).
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Verifying a client secret failed internally (not a wrong secret): 500.
    #[error("client secret verification failed")]
    SecretVerification,
    /// An access token this server just signed does not read back as a token: 500.
    #[error("the signed access token is not a valid token: {0}")]
    IssuedToken(SecretSyntaxError),
}

impl EndpointError {
    /// The store could not produce randomness for a secret or identifier.
    pub(crate) fn randomness() -> Self {
        Self::Store(StoreError::RandomnessUnavailable)
    }

    /// An error redirect to `redirect_uri`, which the caller verified against the client's
    /// registration (never an unverified URI, SEC-1).
    pub(crate) fn redirect(
        redirect_uri: RedirectUri,
        state: Option<State>,
        iss: Issuer,
        status: http::StatusCode,
        cause: impl Into<RedirectCause>,
    ) -> Self {
        Self::Redirect(Box::new(ErrorRedirect {
            redirect_uri,
            state,
            iss,
            status,
            cause: cause.into(),
        }))
    }
}

/// An error the authorization endpoint reports to the client through its verified redirect URI.
#[derive(Debug)]
pub(crate) struct ErrorRedirect {
    /// The verified redirect URI.
    pub(crate) redirect_uri: RedirectUri,
    /// The request's `state`, echoed.
    pub(crate) state: Option<State>,
    /// This server's issuer (RFC 9207 `iss`).
    pub(crate) iss: Issuer,
    /// 302 from the authorization endpoint (GET), 303 after a form POST.
    pub(crate) status: http::StatusCode,
    /// Why.
    pub(crate) cause: RedirectCause,
}
