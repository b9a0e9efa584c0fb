//! Client ID Metadata Documents ([draft-ietf-oauth-client-id-metadata-document]): client metadata
//! published at an `https` URL that is itself the `client_id` (REQUIREMENTS AS-10, CL-5).
//!
//! [draft-ietf-oauth-client-id-metadata-document]: https://datatracker.ietf.org/doc/draft-ietf-oauth-client-id-metadata-document/

use serde::Serialize;

use crate::document::{DEFAULT_MAX_DOCUMENT_SIZE, DocumentError, Members};
use crate::{ClientId, ClientMetadata, RedirectUri, TokenEndpointAuthMethod};

/// A Client ID Metadata Document as fetched or published, not yet checked against its URL.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ClientIdMetadataDocument {
    /// `client_id` (REQUIRED): must be exactly the URL the document is served from.
    pub client_id: ClientId,
    /// The client metadata ([RFC 7591 §2](https://www.rfc-editor.org/rfc/rfc7591#section-2)),
    /// including unknown members.
    #[serde(flatten)]
    pub metadata: ClientMetadata,
}

/// Why a Client ID Metadata Document is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientIdMetadataDocumentError {
    /// The URL the document was fetched from is not a valid client identifier URL: `https`, with a
    /// path, no fragment, no user information, no dot segments, in normalised form.
    #[error("{0:?} is not a Client ID Metadata Document URL")]
    NotAMetadataDocumentUrl(String),
    /// The document's `client_id` is not exactly the URL it was fetched from (simple string comparison).
    #[error("client_id {found:?} is not identical to the document URL {expected:?}")]
    ClientIdMismatch {
        /// The URL the document was fetched from.
        expected: String,
        /// The document's `client_id`.
        found: String,
    },
    /// No `redirect_uris`, or an empty list.
    #[error("redirect_uris is missing or empty")]
    MissingRedirectUris,
    /// No `client_name`, which MCP requires so that the consent screen can name the client.
    #[error("client_name is missing")]
    MissingClientName,
    /// A `client_secret` or `client_secret_expires_at` member: these documents are public, so they
    /// cannot carry shared secrets.
    #[error("the document contains {0:?}; client metadata documents carry no shared secret")]
    SharedSecretMember(&'static str),
    /// `token_endpoint_auth_method` is based on a shared secret (`client_secret_basic`,
    /// `client_secret_post`, `client_secret_jwt`, ...).
    #[error("token_endpoint_auth_method {0:?} uses a shared secret, which is not allowed")]
    SharedSecretAuthMethod(String),
}

/// A Client ID Metadata Document that passed [`ClientIdMetadataDocument::validate`].
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedClientIdMetadataDocument {
    document: ClientIdMetadataDocument,
    redirect_uris: Vec<RedirectUri>,
    client_name: String,
}

impl ClientIdMetadataDocument {
    /// Reads a document of at most [`DEFAULT_MAX_DOCUMENT_SIZE`] bytes (REQUIREMENTS SEC-6).
    pub fn parse(bytes: &[u8]) -> Result<Self, DocumentError> {
        Self::parse_with_limit(bytes, DEFAULT_MAX_DOCUMENT_SIZE)
    }

    /// Reads a document of at most `limit` bytes.
    pub fn parse_with_limit(bytes: &[u8], limit: usize) -> Result<Self, DocumentError> {
        let mut m = Members::from_slice(bytes, limit)?;
        Ok(Self {
            client_id: m.required("client_id")?,
            metadata: ClientMetadata::from_members(m)?,
        })
    }

    /// Checks the document against the URL it was fetched from, given as the `client_id` of the
    /// authorization request: that client identifier is a metadata document URL; the document's
    /// `client_id` is identical to it; `redirect_uris` and `client_name` are present; no
    /// `client_secret` / `client_secret_expires_at` member and no shared-secret authentication method.
    ///
    /// ```
    /// use mcp_authz_metadata::{ClientId, ClientIdMetadataDocument, ClientIdMetadataDocumentError};
    /// let url = ClientId::parse("https://app.example.com/oauth/client.json")?;
    /// let doc = ClientIdMetadataDocument::parse(br#"{
    ///     "client_id": "https://app.example.com/oauth/client.json",
    ///     "client_name": "Example",
    ///     "redirect_uris": ["http://127.0.0.1:3000/callback"],
    ///     "token_endpoint_auth_method": "client_secret_basic"
    /// }"#)?;
    /// assert_eq!(
    ///     doc.validate(&url).err(),
    ///     Some(ClientIdMetadataDocumentError::SharedSecretAuthMethod("client_secret_basic".into())),
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn validate(
        self,
        document_url: &ClientId,
    ) -> Result<ValidatedClientIdMetadataDocument, ClientIdMetadataDocumentError> {
        use ClientIdMetadataDocumentError as E;
        if document_url.metadata_document_url().is_none() {
            return Err(E::NotAMetadataDocumentUrl(document_url.as_str().to_owned()));
        }
        if self.client_id.as_str() != document_url.as_str() {
            return Err(E::ClientIdMismatch {
                expected: document_url.as_str().to_owned(),
                found: self.client_id.as_str().to_owned(),
            });
        }
        for member in ["client_secret", "client_secret_expires_at"] {
            if self.metadata.extra.contains_key(member) {
                return Err(E::SharedSecretMember(member));
            }
        }
        if let Some(method) = &self.metadata.token_endpoint_auth_method
            && uses_shared_secret(method)
        {
            return Err(E::SharedSecretAuthMethod(method.as_str().to_owned()));
        }
        let redirect_uris = match &self.metadata.redirect_uris {
            Some(uris) if !uris.is_empty() => uris.clone(),
            _ => return Err(E::MissingRedirectUris),
        };
        let client_name = self
            .metadata
            .client_name
            .clone()
            .ok_or(E::MissingClientName)?;
        Ok(ValidatedClientIdMetadataDocument {
            document: self,
            redirect_uris,
            client_name,
        })
    }
}

/// `client_secret_basic`, `client_secret_post`, `client_secret_jwt` and any other `client_secret_*`.
fn uses_shared_secret(method: &TokenEndpointAuthMethod) -> bool {
    match method {
        TokenEndpointAuthMethod::ClientSecretBasic | TokenEndpointAuthMethod::ClientSecretPost => {
            true
        }
        other => other.as_str().starts_with("client_secret"),
    }
}

impl ValidatedClientIdMetadataDocument {
    /// The client identifier: identical to the document URL.
    pub fn client_id(&self) -> &ClientId {
        &self.document.client_id
    }

    /// The client's name, for the consent screen (REQUIREMENTS AS-11).
    pub fn client_name(&self) -> &str {
        &self.client_name
    }

    /// The redirect URIs that govern authorization requests of this client (REQUIREMENTS AS-4); never
    /// empty.
    pub fn redirect_uris(&self) -> &[RedirectUri] {
        &self.redirect_uris
    }

    /// `true` when every redirect URI is a loopback one: the consent screen shows an extra warning
    /// (REQUIREMENTS AS-11).
    pub fn has_only_loopback_redirect_uris(&self) -> bool {
        self.redirect_uris.iter().all(RedirectUri::is_loopback)
    }

    /// The full document.
    pub fn document(&self) -> &ClientIdMetadataDocument {
        &self.document
    }

    /// The full document, by value.
    pub fn into_document(self) -> ClientIdMetadataDocument {
        self.document
    }
}
