//! Client identifiers ([RFC 6749 §2.2], Client ID Metadata Documents).
//!
//! [RFC 6749 §2.2]: https://www.rfc-editor.org/rfc/rfc6749#section-2.2

use url::Url;

use super::string_newtype_impls;

/// Why a client identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientIdError {
    /// An empty client identifier.
    #[error("client_id is empty")]
    Empty,
    /// A character outside VSCHAR (`%x20-7E`, RFC 6749 Appendix A.1).
    #[error("client_id contains {0:?}, which is not allowed (VSCHAR is %x20-7E)")]
    InvalidChar(char),
    /// Longer than this crate accepts (2,048 bytes), to bound storage and log lines.
    #[error("client_id is longer than 2048 bytes")]
    TooLong,
}

/// Longest client identifier accepted.
const MAX_CLIENT_ID_LEN: usize = 2048;

/// An OAuth client identifier: `1*VSCHAR`.
///
/// Either an opaque string issued by an authorization server (pre-registration or RFC 7591 dynamic
/// registration) or an `https` URL with a path, naming a Client ID Metadata Document
/// ([`ClientId::metadata_document_url`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientId(String);

impl ClientId {
    /// Parses a client identifier.
    ///
    /// ```
    /// use mcp_authz_metadata::{ClientId, ClientIdError};
    /// assert!(ClientId::parse("s6BhdRkqt3").is_ok());
    /// assert_eq!(ClientId::parse(""), Err(ClientIdError::Empty));
    /// ```
    pub fn parse(s: &str) -> Result<Self, ClientIdError> {
        if s.is_empty() {
            return Err(ClientIdError::Empty);
        }
        if s.len() > MAX_CLIENT_ID_LEN {
            return Err(ClientIdError::TooLong);
        }
        if let Some(bad) = s.chars().find(|c| !matches!(c, '\x20'..='\x7E')) {
            return Err(ClientIdError::InvalidChar(bad));
        }
        Ok(Self(s.to_owned()))
    }

    /// The identifier's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The URL of the Client ID Metadata Document this identifier names, if it is one: an `https` URL
    /// with a non-root path, no fragment, no user information and no dot segments
    /// (draft-ietf-oauth-client-id-metadata-document §3), written in the URL parser's normalised form
    /// (lowercase scheme and host, no default port), so that the URL fetched is the identifier itself
    /// and the document's `client_id` can be compared with it as a simple string.
    ///
    /// ```
    /// use mcp_authz_metadata::ClientId;
    /// let cimd = ClientId::parse("https://app.example.com/oauth/client.json").unwrap();
    /// assert!(cimd.metadata_document_url().is_some());
    /// assert!(ClientId::parse("https://app.example.com").unwrap().metadata_document_url().is_none());
    /// assert!(ClientId::parse("s6BhdRkqt3").unwrap().metadata_document_url().is_none());
    /// // Dot segments, which the URL parser would resolve into a different URL, are refused.
    /// assert!(ClientId::parse("https://app.example.com/a/../client.json").unwrap().metadata_document_url().is_none());
    /// ```
    pub fn metadata_document_url(&self) -> Option<Url> {
        if !self.0.starts_with("https://") {
            return None;
        }
        let url = Url::parse(&self.0).ok()?;
        let usable = url.scheme() == "https"
            && url.host().is_some()
            && url.path() != "/"
            && url.fragment().is_none()
            && url.username().is_empty()
            && url.password().is_none()
            && url.as_str() == self.0;
        usable.then_some(url)
    }
}

string_newtype_impls!(ClientId, ClientIdError);
