//! The typed causes of endpoint errors. Each variant's `Display` is the description sent on the wire;
//! the code and status are decided in [`super::wire`] only.

use mcp_authz_metadata::{ClientMetadataError, DocumentError, GrantType};
use mcp_authz_token::AuthorizationRequestError;

/// Why a client did not authenticate (`invalid_client`, RFC 6749 §5.2, REQUIREMENTS AS-13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum InvalidClient {
    /// The request names no client.
    #[error("client authentication is required")]
    Missing,
    /// No such client (or a metadata-document client not seen at the authorization endpoint).
    #[error("unknown client")]
    Unknown,
    /// An authentication method this server does not implement.
    #[error("unsupported client authentication")]
    UnsupportedMethod,
    /// Not the registered `token_endpoint_auth_method` (SEC-20).
    #[error("the client must authenticate with its registered token_endpoint_auth_method")]
    WrongMethod,
    /// A wrong or expired secret, a secret from a public client, or none from a confidential one.
    #[error("client authentication failed")]
    Failed,
}

/// Why a code or refresh token does not stand (`invalid_grant`, RFC 6749 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum InvalidGrant {
    /// No such authorization code.
    #[error("unknown authorization code")]
    UnknownCode,
    /// The code belongs to another client.
    #[error("the code was issued to another client")]
    CodeOfAnotherClient,
    /// `redirect_uri` differs from the authorization request's.
    #[error("redirect_uri does not match the authorization request")]
    RedirectUriMismatch,
    /// `redirect_uri` is missing and the client registered several.
    #[error("redirect_uri is required")]
    RedirectUriRequired,
    /// The PKCE verifier does not match the challenge.
    #[error("PKCE verification failed")]
    Pkce,
    /// The code was exchanged before (its grant is now revoked).
    #[error("the authorization code was already used")]
    CodeReplayed,
    /// The code expired.
    #[error("the authorization code expired")]
    CodeExpired,
    /// No such refresh token.
    #[error("unknown refresh token")]
    UnknownRefreshToken,
    /// The refresh token belongs to another client.
    #[error("the refresh token was issued to another client")]
    RefreshTokenOfAnotherClient,
    /// A rotated refresh token presented again (its family is now revoked, SEC-20).
    #[error("the refresh token was already used")]
    RefreshTokenReused,
    /// The grant was revoked.
    #[error("the grant was revoked")]
    GrantRevoked,
    /// The refresh token expired.
    #[error("the refresh token expired")]
    RefreshTokenExpired,
}

/// Why the grant policy refused the requested resources or scope (`invalid_target` RFC 8707 §2,
/// `invalid_scope` RFC 6749 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PolicyError {
    /// A resource this server does not serve.
    #[error("the resource is not served by this server")]
    UnservedResource,
    /// A resource outside the client's allowed resources.
    #[error("the resource is not allowed for this client")]
    ResourceNotAllowed,
    /// A token request names a resource the grant does not cover.
    #[error("the resource was not granted")]
    ResourceNotGranted,
    /// A scope beyond what the resources and the client allow.
    #[error("the requested scope is not allowed")]
    ScopeNotAllowed,
    /// A refresh asks for more than the grant's scope.
    #[error("refresh cannot widen the scope")]
    ScopeWidened,
}

/// Why a client may not use a grant (`unauthorized_client`, RFC 6749 §4.1.2.1 and §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum UnauthorizedClient {
    /// The client's grant types do not include `authorization_code`.
    #[error("the client may not use the authorization code grant")]
    NoAuthorizationCodeGrant,
    /// The client's grant types do not include this grant.
    #[error("the client may not use this grant type")]
    GrantType,
    /// `client_credentials` from a public client.
    #[error("client_credentials needs a confidential client")]
    NotConfidential,
    /// `client_credentials` from a client the operator did not register (SEC-10).
    #[error("client_credentials is only available to clients registered by the operator")]
    NotOperatorRegistered,
}

/// Why a registration request was refused (RFC 7591 §3.2.2, REQUIREMENTS AS-12).
#[derive(Debug, thiserror::Error)]
pub(crate) enum RegistrationRefusal {
    /// The body is not a client metadata document.
    #[error("{0}")]
    Document(DocumentError),
    /// The metadata is inconsistent.
    #[error("{0}")]
    Metadata(ClientMetadataError),
    /// `application_type` other than `web` or `native`.
    #[error("application_type must be web or native")]
    ApplicationType,
    /// An unsupported `token_endpoint_auth_method`.
    #[error("token_endpoint_auth_method must be none, client_secret_basic or client_secret_post")]
    AuthMethod,
    /// `client_credentials`, which only the operator registers (SEC-10).
    #[error("client_credentials is only available to clients registered by the operator")]
    ClientCredentials,
    /// Another grant type this server does not register.
    #[error("grant type {} is not allowed", .0.as_str())]
    GrantType(GrantType),
    /// A scope no resource of this server has.
    #[error("scope contains unknown scopes")]
    UnknownScope,
}

/// What is not here (404).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum NotFound {
    /// No endpoint at this path.
    #[error("no endpoint at this path")]
    Path,
    /// Dynamic registration is disabled.
    #[error("dynamic client registration is not enabled")]
    RegistrationDisabled,
}

/// An error shown to the user as an HTML page, never redirected (SEC-1). The `Display` is the text on
/// the page.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PageError {
    /// An authorization request whose client or redirect URI cannot be read.
    #[error("{0}")]
    Request(AuthorizationRequestError),
    /// No valid `client_id`.
    #[error("The request has no valid client_id.")]
    NoClientId,
    /// The client is unknown (or its metadata document does not validate).
    #[error("The client is not known to this server.")]
    UnknownClient,
    /// The redirect URI is not one the client registered.
    #[error("The redirect URI is not registered for this client.")]
    UnregisteredRedirectUri,
    /// No redirect URI and several registered.
    #[error("The request has no redirect_uri and the client registered several.")]
    AmbiguousRedirectUri,
    /// A login or consent form that is not this browser's, expired, or lacks its CSRF token (SEC-4).
    #[error("The form expired or is not valid. Start again from the application.")]
    FormExpired,
    /// The pending authorization request expired or is not this browser's.
    #[error("The authorization request expired. Start again from the application.")]
    RequestExpired,
    /// An upstream login callback whose `state` or browser does not match.
    #[error("The sign-in could not be verified. Start again from the application.")]
    SignInUnverified,
    /// The upstream identity provider refused the user (403).
    #[error("The identity provider did not sign you in.")]
    UpstreamRefused,
    /// A form of the account pages that is not this browser's, expired, or lacks its CSRF token
    /// (SEC-4).
    #[error("The form expired or is not valid. Open the connected applications page again.")]
    AccountFormExpired,
    /// A consent form without a signed-in session.
    #[error("Sign in first.")]
    NotSignedIn,
    /// Too many password checks are running or waiting (503 with `Retry-After`): the password was
    /// not checked, so this is never "wrong password".
    #[error("The server is busy checking other sign-ins. Try again in a few seconds.")]
    PasswordChecksBusy,
}

/// Why the authorization endpoint redirects an error to the client.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RedirectCause {
    /// The request parsed its client and redirect URI but not the rest.
    #[error("{0}")]
    Request(AuthorizationRequestError),
    /// The client may not use the code grant.
    #[error(transparent)]
    Unauthorized(#[from] UnauthorizedClient),
    /// The grant policy refused the resources or scope.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The user denied the request (`access_denied`).
    #[error("the user denied the request")]
    AccessDenied,
}

impl From<AuthorizationRequestError> for RedirectCause {
    fn from(e: AuthorizationRequestError) -> Self {
        Self::Request(e)
    }
}
