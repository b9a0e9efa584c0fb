//! The RFC 8414 metadata document (REQUIREMENTS AS-1, AS-6, AS-10).

use mcp_authz_metadata::{AuthorizationServerMetadata, GrantType, TokenEndpointAuthMethod, Url};

use super::Paths;
use crate::config::ServerConfig;

fn endpoint(config: &ServerConfig, path: &str) -> Url {
    let mut url = config.issuer.url().clone();
    url.set_path(path);
    url.set_query(None);
    url
}

/// The metadata of a server with `config`, its endpoints at `paths`.
pub(crate) fn document(config: &ServerConfig, paths: &Paths) -> AuthorizationServerMetadata {
    let mut metadata = AuthorizationServerMetadata::for_mcp(
        config.issuer.clone(),
        endpoint(config, &paths.authorize),
        endpoint(config, &paths.token),
    );
    metadata.jwks_uri = Some(endpoint(config, &paths.jwks));
    if config.registration_enabled {
        metadata.registration_endpoint = Some(endpoint(config, &paths.register));
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
    metadata.revocation_endpoint = Some(endpoint(config, &paths.revoke));
    metadata.revocation_endpoint_auth_methods_supported = Some(all_methods);
    metadata.introspection_endpoint = Some(endpoint(config, &paths.introspect));
    metadata.introspection_endpoint_auth_methods_supported = Some(vec![
        TokenEndpointAuthMethod::ClientSecretBasic,
        TokenEndpointAuthMethod::ClientSecretPost,
    ]);
    metadata.client_id_metadata_document_supported = Some(config.metadata_documents.enabled);
    metadata
}
