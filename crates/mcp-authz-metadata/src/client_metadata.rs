//! Client metadata ([RFC 7591 §2]): what a client registers, dynamically or through a Client ID Metadata
//! Document, and its validation for dynamic registration (REQUIREMENTS AS-12).
//!
//! [RFC 7591 §2]: https://www.rfc-editor.org/rfc/rfc7591#section-2

use serde::Serialize;
use url::Url;

use crate::document::{DEFAULT_MAX_DOCUMENT_SIZE, DocumentError, ExtraMembers, Members};
use crate::{
    ApplicationType, GrantType, RedirectUri, RegistrationErrorCode, ResponseType, Scope,
    TokenEndpointAuthMethod,
};

/// Client metadata ([RFC 7591 §2]), as sent in a registration request, echoed in a registration
/// response, or published in a Client ID Metadata Document.
///
/// Members this type does not model, including language-tagged variants such as `client_name#ja-Jpan-JP`
/// and `jwks`, stay in [`extra`](Self::extra).
///
/// [RFC 7591 §2]: https://www.rfc-editor.org/rfc/rfc7591#section-2
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ClientMetadata {
    /// `redirect_uris`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_uris: Option<Vec<RedirectUri>>,
    /// `token_endpoint_auth_method`. Absent means `client_secret_basic` (RFC 7591 §2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<TokenEndpointAuthMethod>,
    /// `grant_types`. Absent means `["authorization_code"]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant_types: Option<Vec<GrantType>>,
    /// `response_types`. Absent means `["code"]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_types: Option<Vec<ResponseType>>,
    /// `client_name`: shown to the user on the consent screen (REQUIREMENTS AS-11).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    /// `client_uri`: the client's home page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<Url>,
    /// `logo_uri`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo_uri: Option<Url>,
    /// `scope`: the scopes the client may request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    /// `contacts`: ways to reach the people responsible for the client, usually email addresses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contacts: Option<Vec<String>>,
    /// `tos_uri`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tos_uri: Option<Url>,
    /// `policy_uri`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy_uri: Option<Url>,
    /// `jwks_uri`: the client's JSON Web Key Set (for `private_key_jwt`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<Url>,
    /// `software_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_id: Option<String>,
    /// `software_version`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_version: Option<String>,
    /// `software_statement`: a signed JWT asserting metadata values (RFC 7591 §2.3), kept as text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_statement: Option<String>,
    /// `application_type` (OpenID Connect Dynamic Client Registration §2); MCP clients send it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_type: Option<ApplicationType>,
    /// Every other member, kept verbatim.
    #[serde(flatten)]
    pub extra: ExtraMembers,
}

/// Why client metadata is not acceptable for registration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientMetadataError {
    /// No `redirect_uris`, or an empty list: MCP clients use the authorization code flow, which needs one.
    #[error("redirect_uris is missing or empty")]
    MissingRedirectUris,
    /// A redirect URI that the declared `application_type` may not use (OpenID Connect Dynamic Client
    /// Registration §2): `web` clients use `https`; `native` clients use loopback `http`, a private-use
    /// scheme, or `https`.
    #[error(
        "redirect URI {redirect_uri:?} is not allowed for application_type {application_type:?}"
    )]
    RedirectUriNotAllowed {
        /// The declared application type.
        application_type: String,
        /// The offending redirect URI.
        redirect_uri: String,
    },
    /// `grant_types` includes `authorization_code` but `response_types` lacks `code`, or the reverse
    /// (RFC 7591 §2.1).
    #[error(
        "grant_types and response_types are inconsistent: authorization_code and code go together"
    )]
    InconsistentGrantAndResponseTypes,
    /// `grant_types` does not include `authorization_code`, the only user-facing grant of OAuth 2.1.
    #[error("grant_types does not include authorization_code")]
    NoAuthorizationCodeGrant,
    /// Both `jwks` and `jwks_uri` are present; RFC 7591 §2 forbids that.
    #[error("jwks and jwks_uri must not both be present")]
    BothJwksAndJwksUri,
}

impl ClientMetadataError {
    /// The registration error code for this problem (RFC 7591 §3.2.2, REQUIREMENTS AS-12).
    pub fn registration_error_code(&self) -> RegistrationErrorCode {
        match self {
            Self::MissingRedirectUris | Self::RedirectUriNotAllowed { .. } => {
                RegistrationErrorCode::InvalidRedirectUri
            }
            Self::InconsistentGrantAndResponseTypes
            | Self::NoAuthorizationCodeGrant
            | Self::BothJwksAndJwksUri => RegistrationErrorCode::InvalidClientMetadata,
        }
    }
}

/// Client metadata that passed [`ClientMetadata::validate`]: it has redirect URIs consistent with its
/// application type and asks for the authorization code flow.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedClientMetadata {
    metadata: ClientMetadata,
    redirect_uris: Vec<RedirectUri>,
}

impl ClientMetadata {
    /// Reads a registration request body of at most [`DEFAULT_MAX_DOCUMENT_SIZE`] bytes.
    ///
    /// ```
    /// use mcp_authz_metadata::{ClientMetadata, RegistrationErrorCode};
    /// let err = ClientMetadata::parse(br#"{"redirect_uris":["http://app.example.com/cb"]}"#).unwrap_err();
    /// assert_eq!(RegistrationErrorCode::for_document_error(&err), RegistrationErrorCode::InvalidRedirectUri);
    /// ```
    pub fn parse(bytes: &[u8]) -> Result<Self, DocumentError> {
        Self::parse_with_limit(bytes, DEFAULT_MAX_DOCUMENT_SIZE)
    }

    /// Reads a registration request body of at most `limit` bytes.
    pub fn parse_with_limit(bytes: &[u8], limit: usize) -> Result<Self, DocumentError> {
        Self::from_members(Members::from_slice(bytes, limit)?)
    }

    /// Takes the client metadata members; the rest become `extra`.
    pub(crate) fn from_members(mut m: Members) -> Result<Self, DocumentError> {
        Ok(Self {
            redirect_uris: m.optional("redirect_uris")?,
            token_endpoint_auth_method: m.optional("token_endpoint_auth_method")?,
            grant_types: m.optional("grant_types")?,
            response_types: m.optional("response_types")?,
            client_name: m.optional("client_name")?,
            client_uri: m.optional("client_uri")?,
            logo_uri: m.optional("logo_uri")?,
            scope: m.optional("scope")?,
            contacts: m.optional("contacts")?,
            tos_uri: m.optional("tos_uri")?,
            policy_uri: m.optional("policy_uri")?,
            jwks_uri: m.optional("jwks_uri")?,
            software_id: m.optional("software_id")?,
            software_version: m.optional("software_version")?,
            software_statement: m.optional("software_statement")?,
            application_type: m.optional("application_type")?,
            extra: m.into_extra(),
        })
    }

    /// The grant types, with the RFC 7591 default `["authorization_code"]` when absent.
    pub fn effective_grant_types(&self) -> Vec<GrantType> {
        self.grant_types
            .clone()
            .unwrap_or_else(|| vec![GrantType::AuthorizationCode])
    }

    /// The response types, with the RFC 7591 default `["code"]` when absent.
    pub fn effective_response_types(&self) -> Vec<ResponseType> {
        self.response_types
            .clone()
            .unwrap_or_else(|| vec![ResponseType::Code])
    }

    /// The token endpoint authentication method, with the RFC 7591 default `client_secret_basic` when
    /// absent.
    pub fn effective_token_endpoint_auth_method(&self) -> TokenEndpointAuthMethod {
        self.token_endpoint_auth_method
            .clone()
            .unwrap_or(TokenEndpointAuthMethod::ClientSecretBasic)
    }

    /// Checks metadata for registration (REQUIREMENTS AS-12): redirect URIs present; each allowed for
    /// the declared `application_type` (when one is declared); `authorization_code` among the grant
    /// types and consistent with the `code` response type; not both `jwks` and `jwks_uri`.
    ///
    /// ```
    /// use mcp_authz_metadata::{ClientMetadata, ClientMetadataError};
    /// let native = ClientMetadata::parse(
    ///     br#"{"redirect_uris":["http://127.0.0.1/cb"],"application_type":"native"}"#,
    /// )?;
    /// assert!(native.validate().is_ok());
    /// let web = ClientMetadata::parse(
    ///     br#"{"redirect_uris":["http://127.0.0.1/cb"],"application_type":"web"}"#,
    /// )?;
    /// assert!(matches!(web.validate(), Err(ClientMetadataError::RedirectUriNotAllowed { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn validate(self) -> Result<ValidatedClientMetadata, ClientMetadataError> {
        use ClientMetadataError as E;
        let redirect_uris = match &self.redirect_uris {
            Some(uris) if !uris.is_empty() => uris.clone(),
            _ => return Err(E::MissingRedirectUris),
        };
        if let Some(application_type) = &self.application_type {
            for uri in &redirect_uris {
                let allowed = match application_type {
                    ApplicationType::Web => uri.is_https(),
                    ApplicationType::Native => {
                        uri.is_loopback() || uri.is_private_use_scheme() || uri.is_https()
                    }
                    // An application type we do not know imposes no rule we could check.
                    _ => true,
                };
                if !allowed {
                    return Err(E::RedirectUriNotAllowed {
                        application_type: application_type.as_str().to_owned(),
                        redirect_uri: uri.as_str().to_owned(),
                    });
                }
            }
        }
        let grants = self.effective_grant_types();
        let code_grant = grants.contains(&GrantType::AuthorizationCode);
        let code_response = self
            .effective_response_types()
            .contains(&ResponseType::Code);
        if !code_grant && !code_response {
            return Err(E::NoAuthorizationCodeGrant);
        }
        if code_grant != code_response {
            return Err(E::InconsistentGrantAndResponseTypes);
        }
        if self.jwks_uri.is_some() && self.extra.contains_key("jwks") {
            return Err(E::BothJwksAndJwksUri);
        }
        Ok(ValidatedClientMetadata {
            metadata: self,
            redirect_uris,
        })
    }
}

impl ValidatedClientMetadata {
    /// The redirect URIs; never empty.
    pub fn redirect_uris(&self) -> &[RedirectUri] {
        &self.redirect_uris
    }

    /// The metadata.
    pub fn metadata(&self) -> &ClientMetadata {
        &self.metadata
    }

    /// The metadata, by value.
    pub fn into_metadata(self) -> ClientMetadata {
        self.metadata
    }
}
