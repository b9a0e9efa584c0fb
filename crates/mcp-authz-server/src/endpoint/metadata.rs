//! The RFC 8414 metadata document and its endpoint (REQUIREMENTS AS-1, AS-6, AS-10).

use bytes::Bytes;
use http::Response;
use mcp_authz_metadata::{AuthorizationServerMetadata, GrantType, TokenEndpointAuthMethod};

use crate::config::ServerConfig;
use crate::paths::Paths;
use crate::respond;

/// The metadata of a server with `config`, its endpoints at `paths`.
pub(crate) fn document(config: &ServerConfig, paths: &Paths) -> AuthorizationServerMetadata {
    let endpoint = |path: &str| Paths::url(&config.issuer, path);
    let mut metadata = AuthorizationServerMetadata::for_mcp(
        config.issuer.clone(),
        endpoint(&paths.authorize),
        endpoint(&paths.token),
    );
    metadata.jwks_uri = Some(endpoint(&paths.jwks));
    if config.registration_enabled {
        metadata.registration_endpoint = Some(endpoint(&paths.register));
    }
    let scopes = config.all_scopes();
    metadata.scopes_supported = Some(scopes.iter().cloned().collect());
    metadata.grant_types_supported = Some(vec![
        GrantType::AuthorizationCode,
        GrantType::RefreshToken,
        GrantType::ClientCredentials,
    ]);
    let all_methods = vec![
        TokenEndpointAuthMethod::None,
        TokenEndpointAuthMethod::ClientSecretBasic,
        TokenEndpointAuthMethod::ClientSecretPost,
    ];
    metadata.token_endpoint_auth_methods_supported = Some(all_methods.clone());
    metadata.revocation_endpoint = Some(endpoint(&paths.revoke));
    metadata.revocation_endpoint_auth_methods_supported = Some(all_methods);
    metadata.introspection_endpoint = Some(endpoint(&paths.introspect));
    metadata.introspection_endpoint_auth_methods_supported = Some(vec![
        TokenEndpointAuthMethod::ClientSecretBasic,
        TokenEndpointAuthMethod::ClientSecretPost,
    ]);
    metadata.client_id_metadata_document_supported = Some(config.metadata_documents.enabled);
    metadata
}

/// `GET /.well-known/oauth-authorization-server` (and the other well-known paths): the serialized
/// document, served as it is.
pub(crate) struct MetadataEndpoint {
    json: Bytes,
}

impl MetadataEndpoint {
    /// The endpoint serving `metadata`; `None` if it does not serialize.
    pub(crate) fn new(metadata: &AuthorizationServerMetadata) -> Option<Self> {
        let json = Bytes::from(serde_json::to_vec(metadata).ok()?);
        Some(Self { json })
    }

    /// The document with `Cache-Control: public, max-age=3600`.
    pub(crate) fn handle(&self) -> Response<Bytes> {
        respond::public_json(self.json.clone(), "public, max-age=3600")
    }
}
