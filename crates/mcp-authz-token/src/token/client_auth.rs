//! Client authentication at the token endpoint ([RFC 6749 §2.3.1], OAuth 2.1 §2.4.1):
//! `client_secret_basic`, `client_secret_post` and `none`.
//!
//! [RFC 6749 §2.3.1]: https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use http::HeaderValue;
use mcp_authz_metadata::{ClientId, ClientIdError, ClientSecret, TokenEndpointAuthMethod};

use crate::form::{FormWriter, decode};
use crate::{ErrorCode, ErrorResponse};

/// Longest `Authorization` header value read for Basic credentials.
const MAX_BASIC_LEN: usize = 4096;

/// Standard base64, accepting input with or without padding.
const LENIENT_STANDARD: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// `client_id` and `client_secret` sent as form parameters (`client_secret_post`, or a public client's
/// `client_id`), parsed apart from the grant so that authentication is checked on its own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BodyClientCredentials {
    /// `client_id`.
    pub client_id: Option<ClientId>,
    /// `client_secret`.
    pub client_secret: Option<ClientSecret>,
}

impl BodyClientCredentials {
    pub(crate) fn write(&self, form: &mut FormWriter) {
        form.opt("client_id", self.client_id.as_ref().map(ClientId::as_str))
            .opt(
                "client_secret",
                self.client_secret.as_ref().map(ClientSecret::secret),
            );
    }
}

/// HTTP Basic client credentials (`client_secret_basic`, RFC 6749 §2.3.1): the client id and secret,
/// each form-urlencoded, joined by `:` and base64-encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasicCredentials {
    /// The client identifier.
    pub client_id: ClientId,
    /// The client secret.
    pub client_secret: ClientSecret,
}

/// Why an `Authorization: Basic` header was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BasicCredentialsError {
    /// The header holds bytes other than visible ASCII, space and tab.
    #[error("the Authorization header is not visible ASCII")]
    NotVisibleAscii,
    /// Longer than 4 KiB.
    #[error("the Authorization header is too long")]
    TooLong,
    /// A scheme other than `Basic`.
    #[error("the Authorization scheme is {0:?}, not Basic")]
    NotBasic(String),
    /// The credentials are not base64.
    #[error("the Basic credentials are not base64")]
    MalformedBase64,
    /// The decoded credentials are not UTF-8, or a percent-decoded part is not.
    #[error("the Basic credentials are not UTF-8")]
    NotUtf8,
    /// No `:` between id and secret.
    #[error("the Basic credentials have no ':' between client id and secret")]
    MissingColon,
    /// The client identifier is invalid.
    #[error("invalid client id in Basic credentials: {0}")]
    InvalidClientId(ClientIdError),
    /// The secret is empty.
    #[error("the Basic credentials have an empty secret")]
    EmptySecret,
}

impl BasicCredentials {
    /// Parses an `Authorization` header value of the `Basic` scheme (case-insensitive).
    ///
    /// ```
    /// use http::HeaderValue;
    /// use mcp_authz_token::BasicCredentials;
    /// // RFC 6749 §4.1.3: client "s6BhdRkqt3" with secret "gX1fBat3bV".
    /// let creds = BasicCredentials::parse(&HeaderValue::from_static("Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW")).unwrap();
    /// assert_eq!(creds.client_id.as_str(), "s6BhdRkqt3");
    /// assert_eq!(creds.client_secret.secret(), "gX1fBat3bV");
    /// ```
    pub fn parse(value: &HeaderValue) -> Result<Self, BasicCredentialsError> {
        if value.len() > MAX_BASIC_LEN {
            return Err(BasicCredentialsError::TooLong);
        }
        let text = value
            .to_str()
            .map_err(|_| BasicCredentialsError::NotVisibleAscii)?;
        let text = text.trim_matches([' ', '\t']);
        let (scheme, rest) = text.split_once(' ').unwrap_or((text, ""));
        if !scheme.eq_ignore_ascii_case("basic") {
            return Err(BasicCredentialsError::NotBasic(scheme.to_owned()));
        }
        let encoded = rest.trim_start_matches(' ');
        let decoded = LENIENT_STANDARD
            .decode(encoded)
            .map_err(|_| BasicCredentialsError::MalformedBase64)?;
        let decoded = String::from_utf8(decoded).map_err(|_| BasicCredentialsError::NotUtf8)?;
        let (id, secret) = decoded
            .split_once(':')
            .ok_or(BasicCredentialsError::MissingColon)?;
        let id = decode(id.as_bytes()).map_err(|_| BasicCredentialsError::NotUtf8)?;
        let secret = decode(secret.as_bytes()).map_err(|_| BasicCredentialsError::NotUtf8)?;
        if secret.is_empty() {
            return Err(BasicCredentialsError::EmptySecret);
        }
        Ok(Self {
            client_id: ClientId::parse(&id).map_err(BasicCredentialsError::InvalidClientId)?,
            client_secret: ClientSecret::new(secret),
        })
    }

    /// The `Authorization` header value, marked sensitive.
    pub fn to_header_value(&self) -> HeaderValue {
        let id: String =
            form_urlencoded::byte_serialize(self.client_id.as_str().as_bytes()).collect();
        let secret: String =
            form_urlencoded::byte_serialize(self.client_secret.secret().as_bytes()).collect();
        let text = format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")));
        // "Basic " followed by base64 is always a valid header value.
        let mut value =
            HeaderValue::try_from(text).unwrap_or_else(|_| HeaderValue::from_static("Basic"));
        value.set_sensitive(true);
        value
    }
}

/// How a client authenticated at the token endpoint, once header and body have been reconciled.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientAuthentication {
    /// `none`: a public client that only identified itself with `client_id` (PKCE protects the code).
    None {
        /// The client identifier.
        client_id: ClientId,
    },
    /// `client_secret_basic`.
    SecretBasic(BasicCredentials),
    /// `client_secret_post`.
    SecretPost {
        /// The client identifier.
        client_id: ClientId,
        /// The client secret.
        client_secret: ClientSecret,
    },
}

/// Why the client's authentication could not be determined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientAuthError {
    /// The `Authorization` header is malformed.
    #[error(transparent)]
    Basic(#[from] BasicCredentialsError),
    /// Both an `Authorization` header and a body `client_secret` (RFC 6749 §2.3: one method per request).
    #[error("the client used more than one authentication method")]
    MultipleMethods,
    /// The body's `client_id` differs from the Basic credentials' client id.
    #[error("the client_id parameter does not match the Basic credentials")]
    ClientIdMismatch,
    /// A `client_secret` without a `client_id`.
    #[error("client_secret was sent without client_id")]
    SecretWithoutId,
}

impl ClientAuthError {
    /// The token endpoint's error response: `invalid_client` (401) for unusable Basic credentials,
    /// `invalid_request` for requests that mix methods or omit the identifier (RFC 6749 §5.2).
    pub fn error_response(&self) -> ErrorResponse {
        let code = match self {
            Self::Basic(_) => ErrorCode::InvalidClient,
            Self::MultipleMethods | Self::ClientIdMismatch | Self::SecretWithoutId => {
                ErrorCode::InvalidRequest
            }
        };
        ErrorResponse::new(code).with_description(self.to_string())
    }
}

impl ClientAuthentication {
    /// Reconciles the `Authorization` header (if any) with the credentials of the form body.
    /// `Ok(None)` when the request carries no client identification at all.
    ///
    /// ```
    /// use mcp_authz_metadata::ClientId;
    /// use mcp_authz_token::{BodyClientCredentials, ClientAuthentication};
    /// let body = BodyClientCredentials { client_id: Some(ClientId::parse("app").unwrap()), client_secret: None };
    /// let auth = ClientAuthentication::resolve(None, body).unwrap().unwrap();
    /// assert_eq!(auth.client_id().as_str(), "app");
    /// ```
    pub fn resolve(
        authorization: Option<&HeaderValue>,
        body: BodyClientCredentials,
    ) -> Result<Option<Self>, ClientAuthError> {
        match (authorization, body.client_id, body.client_secret) {
            (Some(_), _, Some(_)) => Err(ClientAuthError::MultipleMethods),
            (Some(header), body_id, None) => {
                let basic = BasicCredentials::parse(header)?;
                match body_id {
                    Some(id) if id != basic.client_id => Err(ClientAuthError::ClientIdMismatch),
                    _ => Ok(Some(Self::SecretBasic(basic))),
                }
            }
            (None, Some(client_id), Some(client_secret)) => Ok(Some(Self::SecretPost {
                client_id,
                client_secret,
            })),
            (None, Some(client_id), None) => Ok(Some(Self::None { client_id })),
            (None, None, Some(_)) => Err(ClientAuthError::SecretWithoutId),
            (None, None, None) => Ok(None),
        }
    }

    /// The client identifier, whatever the method.
    pub fn client_id(&self) -> &ClientId {
        match self {
            Self::None { client_id } | Self::SecretPost { client_id, .. } => client_id,
            Self::SecretBasic(basic) => &basic.client_id,
        }
    }

    /// The authentication method used, to compare with the client's registered
    /// `token_endpoint_auth_method`.
    pub fn method(&self) -> TokenEndpointAuthMethod {
        match self {
            Self::None { .. } => TokenEndpointAuthMethod::None,
            Self::SecretBasic(_) => TokenEndpointAuthMethod::ClientSecretBasic,
            Self::SecretPost { .. } => TokenEndpointAuthMethod::ClientSecretPost,
        }
    }
}
