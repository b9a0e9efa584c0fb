//! The authorization server metadata document ([RFC 8414 §2]), with the OpenID Connect Discovery members
//! MCP meets, [RFC 9207]'s `authorization_response_iss_parameter_supported` and the Client ID Metadata
//! Document draft's `client_id_metadata_document_supported`.
//!
//! [RFC 8414 §2]: https://www.rfc-editor.org/rfc/rfc8414#section-2
//! [RFC 9207]: https://www.rfc-editor.org/rfc/rfc9207

use mcp_authz_pkce::CodeChallengeMethod;
use serde::Serialize;
use url::Url;

use crate::document::{DEFAULT_MAX_DOCUMENT_SIZE, DocumentError, ExtraMembers, Members};
use crate::{GrantType, Issuer, ResponseType, ScopeToken, TokenEndpointAuthMethod};

/// An authorization server metadata document as published or received, not yet checked against an
/// expected issuer ([RFC 8414 §2]).
///
/// Reading one ([`AuthorizationServerMetadata::parse`]) checks only that each known member has the right
/// type and a valid value; [`AuthorizationServerMetadata::validate`] then checks it against the issuer it
/// was discovered for and the MCP requirements, and gives a
/// [`ValidatedAuthorizationServerMetadata`](crate::ValidatedAuthorizationServerMetadata).
///
/// Publishing one: start from [`AuthorizationServerMetadata::new`] or
/// [`AuthorizationServerMetadata::for_mcp`], set the public fields, and serialise with serde. Members
/// this type does not model live in [`extra`](Self::extra); do not put a modelled member's name there,
/// or it would be written twice.
///
/// [RFC 8414 §2]: https://www.rfc-editor.org/rfc/rfc8414#section-2
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AuthorizationServerMetadata {
    /// `issuer` (REQUIRED): the authorization server's issuer identifier.
    pub issuer: Issuer,
    /// `authorization_endpoint`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_endpoint: Option<Url>,
    /// `token_endpoint`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint: Option<Url>,
    /// `jwks_uri`: the authorization server's JSON Web Key Set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<Url>,
    /// `registration_endpoint`: RFC 7591 dynamic client registration.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registration_endpoint: Option<Url>,
    /// `scopes_supported`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes_supported: Option<Vec<ScopeToken>>,
    /// `response_types_supported` (REQUIRED by RFC 8414; checked by `validate`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_types_supported: Option<Vec<ResponseType>>,
    /// `response_modes_supported`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_modes_supported: Option<Vec<String>>,
    /// `grant_types_supported`. Absent means `["authorization_code", "implicit"]` (RFC 8414 §2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant_types_supported: Option<Vec<GrantType>>,
    /// `token_endpoint_auth_methods_supported`. Absent means `["client_secret_basic"]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_methods_supported: Option<Vec<TokenEndpointAuthMethod>>,
    /// `token_endpoint_auth_signing_alg_values_supported`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_signing_alg_values_supported: Option<Vec<String>>,
    /// `service_documentation`: a human-readable page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_documentation: Option<Url>,
    /// `ui_locales_supported`: BCP 47 language tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ui_locales_supported: Option<Vec<String>>,
    /// `op_policy_uri`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub op_policy_uri: Option<Url>,
    /// `op_tos_uri`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub op_tos_uri: Option<Url>,
    /// `revocation_endpoint` (RFC 7009).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<Url>,
    /// `revocation_endpoint_auth_methods_supported`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint_auth_methods_supported: Option<Vec<TokenEndpointAuthMethod>>,
    /// `revocation_endpoint_auth_signing_alg_values_supported`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint_auth_signing_alg_values_supported: Option<Vec<String>>,
    /// `introspection_endpoint` (RFC 7662).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub introspection_endpoint: Option<Url>,
    /// `introspection_endpoint_auth_methods_supported`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub introspection_endpoint_auth_methods_supported: Option<Vec<TokenEndpointAuthMethod>>,
    /// `introspection_endpoint_auth_signing_alg_values_supported`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub introspection_endpoint_auth_signing_alg_values_supported: Option<Vec<String>>,
    /// `code_challenge_methods_supported`. MCP clients refuse a server without `S256` here
    /// (REQUIREMENTS CL-4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_challenge_methods_supported: Option<Vec<CodeChallengeMethod>>,
    /// `authorization_response_iss_parameter_supported` (RFC 9207 §3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_response_iss_parameter_supported: Option<bool>,
    /// `client_id_metadata_document_supported` (Client ID Metadata Document draft; REQUIREMENTS AS-10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id_metadata_document_supported: Option<bool>,
    /// `userinfo_endpoint` (OpenID Connect Discovery 1.0 §3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub userinfo_endpoint: Option<Url>,
    /// `subject_types_supported` (OpenID Connect Discovery 1.0 §3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_types_supported: Option<Vec<String>>,
    /// `id_token_signing_alg_values_supported` (OpenID Connect Discovery 1.0 §3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token_signing_alg_values_supported: Option<Vec<String>>,
    /// Every other member, kept verbatim (e.g. `signed_metadata`, `claims_supported`).
    #[serde(flatten)]
    pub extra: ExtraMembers,
}

impl AuthorizationServerMetadata {
    /// A document with only `issuer` set.
    pub fn new(issuer: Issuer) -> Self {
        Self {
            issuer,
            authorization_endpoint: None,
            token_endpoint: None,
            jwks_uri: None,
            registration_endpoint: None,
            scopes_supported: None,
            response_types_supported: None,
            response_modes_supported: None,
            grant_types_supported: None,
            token_endpoint_auth_methods_supported: None,
            token_endpoint_auth_signing_alg_values_supported: None,
            service_documentation: None,
            ui_locales_supported: None,
            op_policy_uri: None,
            op_tos_uri: None,
            revocation_endpoint: None,
            revocation_endpoint_auth_methods_supported: None,
            revocation_endpoint_auth_signing_alg_values_supported: None,
            introspection_endpoint: None,
            introspection_endpoint_auth_methods_supported: None,
            introspection_endpoint_auth_signing_alg_values_supported: None,
            code_challenge_methods_supported: None,
            authorization_response_iss_parameter_supported: None,
            client_id_metadata_document_supported: None,
            userinfo_endpoint: None,
            subject_types_supported: None,
            id_token_signing_alg_values_supported: None,
            extra: ExtraMembers::new(),
        }
    }

    /// The document an MCP authorization server publishes (REQUIREMENTS AS-1, AS-2, AS-6): the two
    /// endpoints, `response_types_supported: ["code"]`, `grant_types_supported: ["authorization_code",
    /// "refresh_token"]`, `code_challenge_methods_supported: ["S256"]`,
    /// `token_endpoint_auth_methods_supported: ["none"]` and
    /// `authorization_response_iss_parameter_supported: true`. Add the optional endpoints afterwards.
    ///
    /// ```
    /// use mcp_authz_metadata::{AuthorizationServerMetadata, Issuer, Url};
    /// let issuer = Issuer::parse("https://auth.example.com")?;
    /// let doc = AuthorizationServerMetadata::for_mcp(
    ///     issuer.clone(),
    ///     Url::parse("https://auth.example.com/authorize")?,
    ///     Url::parse("https://auth.example.com/token")?,
    /// );
    /// let validated = doc.validate(&issuer)?;
    /// assert_eq!(validated.token_endpoint().as_str(), "https://auth.example.com/token");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn for_mcp(issuer: Issuer, authorization_endpoint: Url, token_endpoint: Url) -> Self {
        Self {
            authorization_endpoint: Some(authorization_endpoint),
            token_endpoint: Some(token_endpoint),
            response_types_supported: Some(vec![ResponseType::Code]),
            grant_types_supported: Some(vec![
                GrantType::AuthorizationCode,
                GrantType::RefreshToken,
            ]),
            token_endpoint_auth_methods_supported: Some(vec![TokenEndpointAuthMethod::None]),
            code_challenge_methods_supported: Some(vec![CodeChallengeMethod::S256]),
            authorization_response_iss_parameter_supported: Some(true),
            ..Self::new(issuer)
        }
    }

    /// Reads a document of at most [`DEFAULT_MAX_DOCUMENT_SIZE`] bytes.
    ///
    /// ```
    /// use mcp_authz_metadata::{AuthorizationServerMetadata, DocumentError};
    /// let doc = AuthorizationServerMetadata::parse(br#"{"issuer":"https://as.example","x-custom":1}"#)?;
    /// assert_eq!(doc.issuer.as_str(), "https://as.example");
    /// assert!(doc.extra.contains_key("x-custom"));
    /// assert_eq!(
    ///     AuthorizationServerMetadata::parse(b"{}").err(),
    ///     Some(DocumentError::MissingMember("issuer")),
    /// );
    /// # Ok::<(), DocumentError>(())
    /// ```
    pub fn parse(bytes: &[u8]) -> Result<Self, DocumentError> {
        Self::parse_with_limit(bytes, DEFAULT_MAX_DOCUMENT_SIZE)
    }

    /// Reads a document of at most `limit` bytes.
    pub fn parse_with_limit(bytes: &[u8], limit: usize) -> Result<Self, DocumentError> {
        let mut m = Members::from_slice(bytes, limit)?;
        Ok(Self {
            issuer: m.required("issuer")?,
            authorization_endpoint: m.optional("authorization_endpoint")?,
            token_endpoint: m.optional("token_endpoint")?,
            jwks_uri: m.optional("jwks_uri")?,
            registration_endpoint: m.optional("registration_endpoint")?,
            scopes_supported: m.optional("scopes_supported")?,
            response_types_supported: m.optional("response_types_supported")?,
            response_modes_supported: m.optional("response_modes_supported")?,
            grant_types_supported: m.optional("grant_types_supported")?,
            token_endpoint_auth_methods_supported: m
                .optional("token_endpoint_auth_methods_supported")?,
            token_endpoint_auth_signing_alg_values_supported: m
                .optional("token_endpoint_auth_signing_alg_values_supported")?,
            service_documentation: m.optional("service_documentation")?,
            ui_locales_supported: m.optional("ui_locales_supported")?,
            op_policy_uri: m.optional("op_policy_uri")?,
            op_tos_uri: m.optional("op_tos_uri")?,
            revocation_endpoint: m.optional("revocation_endpoint")?,
            revocation_endpoint_auth_methods_supported: m
                .optional("revocation_endpoint_auth_methods_supported")?,
            revocation_endpoint_auth_signing_alg_values_supported: m
                .optional("revocation_endpoint_auth_signing_alg_values_supported")?,
            introspection_endpoint: m.optional("introspection_endpoint")?,
            introspection_endpoint_auth_methods_supported: m
                .optional("introspection_endpoint_auth_methods_supported")?,
            introspection_endpoint_auth_signing_alg_values_supported: m
                .optional("introspection_endpoint_auth_signing_alg_values_supported")?,
            code_challenge_methods_supported: m.optional("code_challenge_methods_supported")?,
            authorization_response_iss_parameter_supported: m
                .optional("authorization_response_iss_parameter_supported")?,
            client_id_metadata_document_supported: m
                .optional("client_id_metadata_document_supported")?,
            userinfo_endpoint: m.optional("userinfo_endpoint")?,
            subject_types_supported: m.optional("subject_types_supported")?,
            id_token_signing_alg_values_supported: m
                .optional("id_token_signing_alg_values_supported")?,
            extra: m.into_extra(),
        })
    }
}
