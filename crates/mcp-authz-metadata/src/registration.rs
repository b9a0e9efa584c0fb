//! Dynamic client registration responses ([RFC 7591 §3.2.1]) and errors ([RFC 7591 §3.2.2]).
//!
//! [RFC 7591 §3.2.1]: https://www.rfc-editor.org/rfc/rfc7591#section-3.2.1
//! [RFC 7591 §3.2.2]: https://www.rfc-editor.org/rfc/rfc7591#section-3.2.2

use std::fmt;

use serde::Serialize;
use subtle::ConstantTimeEq;
use url::Url;

use crate::document::{DEFAULT_MAX_DOCUMENT_SIZE, DocumentError, ExtraMembers, Members};
use crate::vocab::registry::open_registry;
use crate::{ClientId, ClientMetadata, ClientSecret};

open_registry! {
    /// A dynamic registration error code ([RFC 7591 §3.2.2]).
    ///
    /// [RFC 7591 §3.2.2]: https://www.rfc-editor.org/rfc/rfc7591#section-3.2.2
    RegistrationErrorCode {
        /// `invalid_redirect_uri`: a redirect URI is invalid.
        InvalidRedirectUri => "invalid_redirect_uri",
        /// `invalid_client_metadata`: a metadata field is invalid.
        InvalidClientMetadata => "invalid_client_metadata",
        /// `invalid_software_statement`: the software statement is invalid.
        InvalidSoftwareStatement => "invalid_software_statement",
        /// `unapproved_software_statement`: the software statement is not approved.
        UnapprovedSoftwareStatement => "unapproved_software_statement",
    }
}

impl RegistrationErrorCode {
    /// The error code with which an authorization server answers a registration request whose body
    /// could not be read: `invalid_redirect_uri` for a bad `redirect_uris` member,
    /// `invalid_software_statement` for a bad `software_statement`, `invalid_client_metadata` otherwise.
    pub fn for_document_error(error: &DocumentError) -> Self {
        match error {
            DocumentError::InvalidMember {
                member: "redirect_uris",
                ..
            } => Self::InvalidRedirectUri,
            DocumentError::InvalidMember {
                member: "software_statement",
                ..
            } => Self::InvalidSoftwareStatement,
            _ => Self::InvalidClientMetadata,
        }
    }
}

/// A registration error response ([RFC 7591 §3.2.2]), sent with HTTP 400.
///
/// [RFC 7591 §3.2.2]: https://www.rfc-editor.org/rfc/rfc7591#section-3.2.2
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RegistrationErrorResponse {
    /// `error` (REQUIRED).
    pub error: RegistrationErrorCode,
    /// `error_description`: human-readable, for the developer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    /// Every other member, kept verbatim.
    #[serde(flatten)]
    pub extra: ExtraMembers,
}

impl RegistrationErrorResponse {
    /// An error response with a description.
    pub fn new(error: RegistrationErrorCode, description: impl Into<String>) -> Self {
        Self {
            error,
            error_description: Some(description.into()),
            extra: ExtraMembers::new(),
        }
    }

    /// Reads an error response of at most [`DEFAULT_MAX_DOCUMENT_SIZE`] bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, DocumentError> {
        Self::parse_with_limit(bytes, DEFAULT_MAX_DOCUMENT_SIZE)
    }

    /// Reads an error response of at most `limit` bytes.
    pub fn parse_with_limit(bytes: &[u8], limit: usize) -> Result<Self, DocumentError> {
        let mut m = Members::from_slice(bytes, limit)?;
        Ok(Self {
            error: m.required("error")?,
            error_description: m.optional("error_description")?,
            extra: m.into_extra(),
        })
    }
}

/// The RFC 7592 registration access token: a bearer credential for the client configuration endpoint.
/// A secret: redacted `Debug`, no `Display`, constant-time equality.
#[derive(Clone)]
pub struct RegistrationAccessToken(String);

impl RegistrationAccessToken {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The token's text, for sending it. Never log it.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl PartialEq for RegistrationAccessToken {
    fn eq(&self, other: &Self) -> bool {
        bool::from(self.0.as_bytes().ct_eq(other.0.as_bytes()))
    }
}

impl Eq for RegistrationAccessToken {}

impl fmt::Debug for RegistrationAccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RegistrationAccessToken(<redacted>)")
    }
}

impl serde::Serialize for RegistrationAccessToken {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for RegistrationAccessToken {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}

/// A successful registration response ([RFC 7591 §3.2.1]): the issued identifier and credentials, plus
/// every registered metadata value.
///
/// Parsing enforces the response's own rules: `client_id` is required, and `client_secret_expires_at` is
/// required when a `client_secret` is issued.
///
/// [RFC 7591 §3.2.1]: https://www.rfc-editor.org/rfc/rfc7591#section-3.2.1
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ClientRegistrationResponse {
    /// `client_id` (REQUIRED).
    pub client_id: ClientId,
    /// `client_secret`: issued only to confidential clients.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<ClientSecret>,
    /// `client_id_issued_at`: seconds since the Unix epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id_issued_at: Option<u64>,
    /// `client_secret_expires_at`: seconds since the Unix epoch, `0` for never. Required with a secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_expires_at: Option<u64>,
    /// `registration_access_token` (RFC 7592 §3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_access_token: Option<RegistrationAccessToken>,
    /// `registration_client_uri` (RFC 7592 §3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_client_uri: Option<Url>,
    /// The registered client metadata, including unknown members.
    #[serde(flatten)]
    pub metadata: ClientMetadata,
}

impl ClientRegistrationResponse {
    /// A response for a public client: an identifier and the registered metadata.
    pub fn new(client_id: ClientId, metadata: ClientMetadata) -> Self {
        Self {
            client_id,
            client_secret: None,
            client_id_issued_at: None,
            client_secret_expires_at: None,
            registration_access_token: None,
            registration_client_uri: None,
            metadata,
        }
    }

    /// Reads a registration response of at most [`DEFAULT_MAX_DOCUMENT_SIZE`] bytes.
    ///
    /// ```
    /// use mcp_authz_metadata::{ClientRegistrationResponse, DocumentError};
    /// let ok = ClientRegistrationResponse::parse(br#"{"client_id":"s6BhdRkqt3","client_name":"x"}"#)?;
    /// assert_eq!(ok.client_id.as_str(), "s6BhdRkqt3");
    /// assert_eq!(
    ///     ClientRegistrationResponse::parse(br#"{"client_id":"a","client_secret":"b"}"#).err(),
    ///     Some(DocumentError::MissingMember("client_secret_expires_at")),
    /// );
    /// # Ok::<(), DocumentError>(())
    /// ```
    pub fn parse(bytes: &[u8]) -> Result<Self, DocumentError> {
        Self::parse_with_limit(bytes, DEFAULT_MAX_DOCUMENT_SIZE)
    }

    /// Reads a registration response of at most `limit` bytes.
    pub fn parse_with_limit(bytes: &[u8], limit: usize) -> Result<Self, DocumentError> {
        let mut m = Members::from_slice(bytes, limit)?;
        let client_id = m.required("client_id")?;
        let client_secret: Option<ClientSecret> = m.optional("client_secret")?;
        let client_id_issued_at = m.optional("client_id_issued_at")?;
        let client_secret_expires_at = m.optional("client_secret_expires_at")?;
        if client_secret.is_some() && client_secret_expires_at.is_none() {
            return Err(DocumentError::MissingMember("client_secret_expires_at"));
        }
        Ok(Self {
            client_id,
            client_secret,
            client_id_issued_at,
            client_secret_expires_at,
            registration_access_token: m.optional("registration_access_token")?,
            registration_client_uri: m.optional("registration_client_uri")?,
            metadata: ClientMetadata::from_members(m)?,
        })
    }

    /// `true` when the issued secret has expired at `now` (seconds since the Unix epoch). A secret with
    /// `client_secret_expires_at: 0` never expires; no secret never expires.
    pub fn is_secret_expired(&self, now: u64) -> bool {
        match (self.client_secret.is_some(), self.client_secret_expires_at) {
            (true, Some(at)) => at != 0 && now >= at,
            _ => false,
        }
    }
}
