//! # mcp-authz-token
//!
//! The wire messages of OAuth 2.1 as the Model Context Protocol uses them, as types: parse untrusted
//! input into a typed value or a precise error, render typed values back. No I/O, no HTTP client, no
//! server framework, no async runtime by default (the `reqwest` feature adds the one HTTP client);
//! header types come from the `http` crate.
//!
//! - **Authorization endpoint**: [`AuthorizationRequest`] (PKCE S256 required, several `resource`s),
//!   [`AuthorizationCallback`] = [`AuthorizationResponse`] (with RFC 9207 `iss`) or
//!   [`AuthorizationErrorResponse`], rendered onto a redirect URI and parsed back; [`State`].
//! - **Token endpoint**: [`TokenRequest`] tagged by `grant_type`, parsed from a form body that may not
//!   repeat parameters; client authentication ([`BasicCredentials`], [`BodyClientCredentials`],
//!   [`ClientAuthentication`]); [`TokenResponse`]; [`ErrorCode`] and [`ErrorResponse`] with their HTTP
//!   statuses.
//! - **Secrets**: [`AccessToken`], [`RefreshToken`], [`AuthorizationCode`], [`PresentedToken`]:
//!   redacted `Debug`, no `Display`, constant-time equality; codes are not `Clone`.
//! - **JWT access tokens** (RFC 9068): [`JwtAccessTokenClaims`] and the pure
//!   [`JwtAccessTokenClaims::validate`] of `iss`, `aud`, `exp`, `nbf`, `iat` (signatures: see JOSE below); [`AT_JWT_TYP`].
//! - **JOSE**: public [`Jwk`]s and [`JwkSet`]s (RFC 7517; EC P-256/P-384, RSA, OKP Ed25519) checked
//!   at parse, the one [`JwsAlgorithm`] type, and [`CompactJws`] verified by a [`VerifyingKey`] parsed
//!   once per key (`ring`): the pure signature check both servers share.
//! - **Introspection and revocation** (RFC 7662, RFC 7009): [`IntrospectionRequest`],
//!   [`IntrospectionResponse`], [`RevocationRequest`].
//! - **Resource side**: the RFC 9110 `WWW-Authenticate` grammar ([`Challenge`]), the typed
//!   [`BearerChallenge`] (RFC 6750 §3, RFC 9728 §5.1) and its renderer, Bearer token extraction
//!   ([`bearer_token`]) and the query-string check ([`has_access_token_param`]).
//!
//! - **Outbound HTTP** ([`fetch`]): the one [`HttpClient`](fetch::HttpClient) abstraction and
//!   [`FetchError`](fetch::FetchError) of the client, the resource layer and the server; with the
//!   `reqwest` feature, `fetch::ReqwestHttpClient` (redirects off, time limit,
//!   capped body, connect-time [`AddressGuard`](fetch::AddressGuard)).
//!
//! Every error maps to its wire form in one function: `error_response()` for endpoint errors,
//! `challenge()` for resource-server errors.
//!
//! ```
//! use http::HeaderValue;
//! use mcp_authz_token::{BearerChallenge, BearerError, bearer_token};
//!
//! // Resource server: take the token from the request...
//! let token = bearer_token(&HeaderValue::from_static("Bearer mF_9.B5f-4.1JqM"))?;
//! # let _ = token;
//! // ...or answer with a challenge.
//! let challenge = BearerChallenge::new()
//!     .with_error(BearerError::InvalidToken)
//!     .with_error_description("The access token expired");
//! assert_eq!(challenge.status(), http::StatusCode::UNAUTHORIZED);
//!
//! // Client: read the challenge back.
//! let header = challenge.to_header_value()?;
//! assert_eq!(BearerChallenge::from_header_values([&header])?, Some(challenge));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
// The README's code blocks are compiled and run as doc tests.
#![cfg_attr(doctest, doc = include_str!("../README.md"))]
#![forbid(unsafe_code)]

mod authorize;
mod bearer;
mod challenge;
mod claims;
mod error_code;
pub mod fetch;
mod form;
mod introspection;
mod jose;
mod secret;
mod token;
mod token_hint;

pub use authorize::{
    AuthorizationCallback, AuthorizationErrorResponse, AuthorizationRequest,
    AuthorizationRequestError, AuthorizationRequestRejection, AuthorizationResponse, CallbackError,
    CallbackVerifyError, State,
};
pub use bearer::{
    BearerTokenError, MAX_AUTHORIZATION_LEN, bearer_token, bearer_token_from_headers,
    has_access_token_param, reject_token_in_query,
};
pub use challenge::{
    AuthParam, BearerChallenge, BearerChallengeError, BearerError, Challenge, ChallengeParseError,
    ChallengeRenderError, MAX_CHALLENGE_INPUT_LEN,
};
pub use claims::{
    AT_JWT_TYP, Audience, ClaimsError, ClaimsExpectations, DEFAULT_LEEWAY, JwtAccessTokenClaims,
    NumericDate, is_at_jwt_typ,
};
pub use error_code::{ErrorCode, ErrorResponse, sanitize_description};
pub use form::{FormError, MAX_FORM_LEN};
pub use introspection::{ActiveToken, IntrospectionResponse};
pub use jose::{
    CompactJws, Jwk, JwkError, JwkKey, JwkSet, JwkSetError, JwsAlgorithm, JwsError, JwsHeader,
    KeyUse, UnsupportedAlgorithm, VerifyingKey,
};
pub use secret::{
    AccessToken, AuthorizationCode, MAX_SECRET_LEN, PresentedToken, RefreshToken, SecretSyntaxError,
};
pub use token::{
    AuthorizationCodeGrant, BasicCredentials, BasicCredentialsError, BodyClientCredentials,
    ClientAuthError, ClientAuthentication, ClientCredentialsGrant, RefreshTokenGrant, TokenRequest,
    TokenRequestError, TokenResponse, TokenType, WithClientCredentials,
};
pub use token_hint::{
    IntrospectionRequest, RevocationRequest, TokenHintRequestError, TokenTypeHint,
};
