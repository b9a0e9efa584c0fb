//! The requests of the introspection ([RFC 7662 §2.1]) and revocation ([RFC 7009 §2.1]) endpoints:
//! `token` and `token_type_hint`.
//!
//! [RFC 7662 §2.1]: https://www.rfc-editor.org/rfc/rfc7662#section-2.1
//! [RFC 7009 §2.1]: https://www.rfc-editor.org/rfc/rfc7009#section-2.1

use std::fmt;

use mcp_authz_metadata::ClientIdError;

use crate::form::{FormParams, FormWriter};
use crate::token::body_client_credentials;
use crate::{
    BodyClientCredentials, ErrorCode, ErrorResponse, FormError, PresentedToken, SecretSyntaxError,
    WithClientCredentials,
};

/// A `token_type_hint` (RFC 7009 §2.1, RFC 7662 §2.1): a hint only; servers search every kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenTypeHint {
    /// `access_token`.
    AccessToken,
    /// `refresh_token`.
    RefreshToken,
    /// Any other hint, kept verbatim.
    Unknown(String),
}

impl TokenTypeHint {
    /// The wire form.
    pub fn as_str(&self) -> &str {
        match self {
            Self::AccessToken => "access_token",
            Self::RefreshToken => "refresh_token",
            Self::Unknown(other) => other,
        }
    }
}

impl From<&str> for TokenTypeHint {
    fn from(s: &str) -> Self {
        match s {
            "access_token" => Self::AccessToken,
            "refresh_token" => Self::RefreshToken,
            other => Self::Unknown(other.to_owned()),
        }
    }
}

impl fmt::Display for TokenTypeHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an introspection or revocation request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenHintRequestError {
    /// The body is malformed or repeats a parameter.
    #[error(transparent)]
    Form(#[from] FormError),
    /// `token` is absent or empty.
    #[error("missing parameter token")]
    MissingToken,
    /// `token` is not `1*VSCHAR`.
    #[error("invalid token parameter: {0}")]
    InvalidToken(SecretSyntaxError),
    /// The body's `client_id` is malformed.
    #[error("invalid client_id: {0}")]
    InvalidClientId(ClientIdError),
}

impl TokenHintRequestError {
    /// The JSON error body: `invalid_client` for a malformed `client_id`, `invalid_request` otherwise.
    pub fn error_response(&self) -> ErrorResponse {
        let code = match self {
            Self::InvalidClientId(_) => ErrorCode::InvalidClient,
            Self::Form(_) | Self::MissingToken | Self::InvalidToken(_) => ErrorCode::InvalidRequest,
        };
        ErrorResponse::new(code).with_description(self.to_string())
    }
}

/// Defines a `token` + `token_type_hint` request type.
macro_rules! token_hint_request {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, PartialEq, Eq)]
        pub struct $name {
            /// `token`.
            pub token: PresentedToken,
            /// `token_type_hint`.
            pub token_type_hint: Option<TokenTypeHint>,
        }

        impl $name {
            /// A request for `token` with no hint.
            pub fn new(token: impl Into<PresentedToken>) -> Self {
                Self { token: token.into(), token_type_hint: None }
            }

            /// Parses an `application/x-www-form-urlencoded` body; unknown parameters are ignored.
            pub fn parse_form(body: &[u8]) -> Result<WithClientCredentials<Self>, TokenHintRequestError> {
                let params = FormParams::parse(body, &["token", "token_type_hint", "client_id", "client_secret"], &[])?;
                let client = body_client_credentials(&params).map_err(TokenHintRequestError::InvalidClientId)?;
                let token = params.get("token").ok_or(TokenHintRequestError::MissingToken)?;
                let request = Self {
                    token: PresentedToken::parse(token).map_err(TokenHintRequestError::InvalidToken)?,
                    token_type_hint: params.get("token_type_hint").map(TokenTypeHint::from),
                };
                Ok(WithClientCredentials { request, client })
            }

            /// The form body, with the given body credentials.
            pub fn to_form(&self, client: &BodyClientCredentials) -> String {
                let mut form = FormWriter::new();
                form.pair("token", self.token.secret())
                    .opt("token_type_hint", self.token_type_hint.as_ref().map(TokenTypeHint::as_str));
                client.write(&mut form);
                form.finish()
            }
        }
    };
}

token_hint_request! {
    /// An introspection request ([RFC 7662 §2.1](https://www.rfc-editor.org/rfc/rfc7662#section-2.1)).
    ///
    /// ```
    /// use mcp_authz_token::{IntrospectionRequest, TokenTypeHint};
    /// let parsed = IntrospectionRequest::parse_form(b"token=mF_9.B5f-4.1JqM&token_type_hint=access_token")?;
    /// assert_eq!(parsed.request.token.secret(), "mF_9.B5f-4.1JqM");
    /// assert_eq!(parsed.request.token_type_hint, Some(TokenTypeHint::AccessToken));
    /// # Ok::<(), mcp_authz_token::TokenHintRequestError>(())
    /// ```
    IntrospectionRequest
}

token_hint_request! {
    /// A revocation request ([RFC 7009 §2.1](https://www.rfc-editor.org/rfc/rfc7009#section-2.1)).
    ///
    /// ```
    /// use mcp_authz_token::{RevocationRequest, TokenTypeHint};
    /// let parsed = RevocationRequest::parse_form(b"token=45ghiukldjahdnhzdauz&token_type_hint=refresh_token")?;
    /// assert_eq!(parsed.request.token_type_hint, Some(TokenTypeHint::RefreshToken));
    /// # Ok::<(), mcp_authz_token::TokenHintRequestError>(())
    /// ```
    RevocationRequest
}
