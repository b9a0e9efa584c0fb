//! OAuth 2.0 protected resource metadata ([RFC 9728 §2]) and its validation (REQUIREMENTS RS-1, CL-2).
//!
//! [RFC 9728 §2]: https://www.rfc-editor.org/rfc/rfc9728#section-2

use serde::Serialize;
use url::Url;

use crate::document::{DEFAULT_MAX_DOCUMENT_SIZE, DocumentError, ExtraMembers, Members};
use crate::endpoint::{EndpointProblem, check_endpoint};
use crate::vocab::registry::open_registry;
use crate::{Issuer, ResourceUri, Scope, ScopeToken};

open_registry! {
    /// A way of presenting a bearer token to a protected resource ([RFC 9728 §2]
    /// `bearer_methods_supported`, RFC 6750 §2). MCP allows only `header` (REQUIREMENTS RS-7).
    ///
    /// [RFC 9728 §2]: https://www.rfc-editor.org/rfc/rfc9728#section-2
    BearerMethod {
        /// `header`: the `Authorization` request header field (RFC 6750 §2.1).
        Header => "header",
        /// `body`: a form-encoded body parameter (RFC 6750 §2.2).
        Body => "body",
        /// `query`: a URI query parameter (RFC 6750 §2.3).
        Query => "query",
    }
}

/// A protected resource metadata document as published or received ([RFC 9728 §2]), not yet checked
/// against the resource it was fetched for.
///
/// `resource` is held as a [`ResourceUri`], so it is already in canonical form (REQUIREMENTS TY-5);
/// [`ProtectedResourceMetadata::validate`] compares it with the expected resource.
///
/// [RFC 9728 §2]: https://www.rfc-editor.org/rfc/rfc9728#section-2
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ProtectedResourceMetadata {
    /// `resource` (REQUIRED): the protected resource's resource identifier.
    pub resource: ResourceUri,
    /// `authorization_servers`: issuer identifiers of authorization servers for this resource. MCP
    /// requires at least one (REQUIREMENTS RS-1; checked by `validate`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_servers: Option<Vec<Issuer>>,
    /// `jwks_uri`: the resource's JSON Web Key Set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<Url>,
    /// `scopes_supported`. MCP servers never list `offline_access` here (REQUIREMENTS RS-9).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes_supported: Option<Vec<ScopeToken>>,
    /// `bearer_methods_supported`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bearer_methods_supported: Option<Vec<BearerMethod>>,
    /// `resource_signing_alg_values_supported`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_signing_alg_values_supported: Option<Vec<String>>,
    /// `resource_name`: a human-readable name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    /// `resource_documentation`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_documentation: Option<Url>,
    /// `resource_policy_uri`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_policy_uri: Option<Url>,
    /// `resource_tos_uri`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_tos_uri: Option<Url>,
    /// `tls_client_certificate_bound_access_tokens` (RFC 8705).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_client_certificate_bound_access_tokens: Option<bool>,
    /// `authorization_details_types_supported` (RFC 9396).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_details_types_supported: Option<Vec<String>>,
    /// `dpop_signing_alg_values_supported` (RFC 9449).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dpop_signing_alg_values_supported: Option<Vec<String>>,
    /// `dpop_bound_access_tokens_required` (RFC 9449).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dpop_bound_access_tokens_required: Option<bool>,
    /// Every other member, kept verbatim (e.g. `signed_metadata`, `resource_name#ja`).
    #[serde(flatten)]
    pub extra: ExtraMembers,
}

/// Why a protected resource metadata document is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtectedResourceMetadataError {
    /// `resource` is not the canonical URI of the server the client is talking to (RFC 9728 §3.3,
    /// REQUIREMENTS CL-2). The client must abort.
    #[error("resource {found:?} in the document is not the expected resource {expected:?}")]
    ResourceMismatch {
        /// The canonical URI the client expected.
        expected: String,
        /// The canonical form of the document's `resource`.
        found: String,
    },
    /// `authorization_servers` is absent or empty (REQUIREMENTS RS-1).
    #[error("authorization_servers is missing or empty")]
    NoAuthorizationServers,
    /// `jwks_uri` is not `https` (or loopback `http`), or has a fragment or user information.
    #[error("jwks_uri {url:?} is not acceptable: {problem}")]
    InvalidJwksUri {
        /// The URL.
        url: String,
        /// What is wrong with it.
        problem: EndpointProblem,
    },
}

/// Protected resource metadata that passed [`ProtectedResourceMetadata::validate`]: it describes the
/// expected resource and names at least one authorization server.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedProtectedResourceMetadata {
    document: ProtectedResourceMetadata,
    authorization_servers: Vec<Issuer>,
    first_authorization_server: Issuer,
}

impl ProtectedResourceMetadata {
    /// A document for `resource` served by `authorization_servers` (REQUIREMENTS RS-1), with
    /// `bearer_methods_supported: ["header"]` (REQUIREMENTS RS-7).
    ///
    /// ```
    /// use mcp_authz_metadata::{Issuer, ProtectedResourceMetadata, ResourceUri};
    /// let resource = ResourceUri::parse("https://mcp.example.com/mcp")?;
    /// let doc = ProtectedResourceMetadata::new(
    ///     resource.clone(),
    ///     vec![Issuer::parse("https://auth.example.com")?],
    /// );
    /// let json = serde_json::to_string(&doc)?;
    /// let validated = ProtectedResourceMetadata::parse(json.as_bytes())?.validate(&resource)?;
    /// assert_eq!(validated.authorization_server().as_str(), "https://auth.example.com");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(resource: ResourceUri, authorization_servers: Vec<Issuer>) -> Self {
        Self {
            resource,
            authorization_servers: Some(authorization_servers),
            jwks_uri: None,
            scopes_supported: None,
            bearer_methods_supported: Some(vec![BearerMethod::Header]),
            resource_signing_alg_values_supported: None,
            resource_name: None,
            resource_documentation: None,
            resource_policy_uri: None,
            resource_tos_uri: None,
            tls_client_certificate_bound_access_tokens: None,
            authorization_details_types_supported: None,
            dpop_signing_alg_values_supported: None,
            dpop_bound_access_tokens_required: None,
            extra: ExtraMembers::new(),
        }
    }

    /// Sets `scopes_supported` from a scope, leaving out `offline_access`, which MCP servers never
    /// advertise (REQUIREMENTS RS-9).
    #[must_use]
    pub fn with_scopes_supported(mut self, scope: &Scope) -> Self {
        self.scopes_supported = Some(scope.without_offline_access().iter().cloned().collect());
        self
    }

    /// Reads a document of at most [`DEFAULT_MAX_DOCUMENT_SIZE`] bytes.
    pub fn parse(bytes: &[u8]) -> Result<Self, DocumentError> {
        Self::parse_with_limit(bytes, DEFAULT_MAX_DOCUMENT_SIZE)
    }

    /// Reads a document of at most `limit` bytes.
    pub fn parse_with_limit(bytes: &[u8], limit: usize) -> Result<Self, DocumentError> {
        let mut m = Members::from_slice(bytes, limit)?;
        Ok(Self {
            resource: m.required("resource")?,
            authorization_servers: m.optional("authorization_servers")?,
            jwks_uri: m.optional("jwks_uri")?,
            scopes_supported: m.optional("scopes_supported")?,
            bearer_methods_supported: m.optional("bearer_methods_supported")?,
            resource_signing_alg_values_supported: m
                .optional("resource_signing_alg_values_supported")?,
            resource_name: m.optional("resource_name")?,
            resource_documentation: m.optional("resource_documentation")?,
            resource_policy_uri: m.optional("resource_policy_uri")?,
            resource_tos_uri: m.optional("resource_tos_uri")?,
            tls_client_certificate_bound_access_tokens: m
                .optional("tls_client_certificate_bound_access_tokens")?,
            authorization_details_types_supported: m
                .optional("authorization_details_types_supported")?,
            dpop_signing_alg_values_supported: m.optional("dpop_signing_alg_values_supported")?,
            dpop_bound_access_tokens_required: m.optional("dpop_bound_access_tokens_required")?,
            extra: m.into_extra(),
        })
    }

    /// Checks the document against the canonical URI of the resource it was fetched for: `resource`
    /// must equal it (REQUIREMENTS CL-2; both sides canonical per TY-5), `authorization_servers` must
    /// name at least one server (REQUIREMENTS RS-1), and `jwks_uri`, if present, must be `https` or
    /// loopback `http`.
    ///
    /// ```
    /// use mcp_authz_metadata::{ProtectedResourceMetadata, ProtectedResourceMetadataError, ResourceUri};
    /// let doc = ProtectedResourceMetadata::parse(
    ///     br#"{"resource":"https://evil.example/mcp","authorization_servers":["https://as.example"]}"#,
    /// )?;
    /// let expected = ResourceUri::parse("https://mcp.example.com/mcp")?;
    /// assert!(matches!(
    ///     doc.validate(&expected),
    ///     Err(ProtectedResourceMetadataError::ResourceMismatch { .. })
    /// ));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn validate(
        self,
        expected_resource: &ResourceUri,
    ) -> Result<ValidatedProtectedResourceMetadata, ProtectedResourceMetadataError> {
        use ProtectedResourceMetadataError as E;
        if &self.resource != expected_resource {
            return Err(E::ResourceMismatch {
                expected: expected_resource.as_str().to_owned(),
                found: self.resource.as_str().to_owned(),
            });
        }
        let authorization_servers = self.authorization_servers.clone().unwrap_or_default();
        let first_authorization_server = authorization_servers
            .first()
            .cloned()
            .ok_or(E::NoAuthorizationServers)?;
        if let Some(url) = &self.jwks_uri {
            check_endpoint(url).map_err(|problem| E::InvalidJwksUri {
                url: url.as_str().to_owned(),
                problem,
            })?;
        }
        Ok(ValidatedProtectedResourceMetadata {
            document: self,
            authorization_servers,
            first_authorization_server,
        })
    }
}

impl ValidatedProtectedResourceMetadata {
    /// The resource: equal to the one given to `validate`.
    pub fn resource(&self) -> &ResourceUri {
        &self.document.resource
    }

    /// The authorization servers, in document order; never empty.
    pub fn authorization_servers(&self) -> &[Issuer] {
        &self.authorization_servers
    }

    /// The first authorization server listed, the default choice (RFC 9728 §7.6 leaves the choice to
    /// the client).
    pub fn authorization_server(&self) -> &Issuer {
        &self.first_authorization_server
    }

    /// `scopes_supported` as a scope, without `offline_access` (REQUIREMENTS CL-6, RS-9); `None` when the
    /// document does not list scopes.
    pub fn scopes_supported(&self) -> Option<Scope> {
        self.document.scopes_supported.as_ref().map(|tokens| {
            tokens
                .iter()
                .cloned()
                .collect::<Scope>()
                .without_offline_access()
        })
    }

    /// The full document.
    pub fn document(&self) -> &ProtectedResourceMetadata {
        &self.document
    }

    /// The full document, by value.
    pub fn into_document(self) -> ProtectedResourceMetadata {
        self.document
    }
}
