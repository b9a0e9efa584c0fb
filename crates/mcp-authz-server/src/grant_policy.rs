//! What a client is granted: the resources and scope of an authorization request or a
//! `client_credentials` request, and how a token request may narrow a grant (REQUIREMENTS AS-5, AS-11,
//! SEC-10). The one home of these rules: the authorization and token endpoints both call it.

use mcp_authz_metadata::{ResourceUri, Scope};
use mcp_authz_store::{ClientKind, ClientRecord};

use crate::config::ServerConfig;
use crate::error::PolicyError;

/// The resources and scope a request is granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Grant {
    /// The audiences of the tokens (RFC 8707).
    pub(crate) resources: Vec<ResourceUri>,
    /// The granted scope.
    pub(crate) scope: Scope,
}

/// The grant of a request from `client` for `requested_resources` (the first configured resource when
/// none) and `requested_scope` (the client's or the resources' default scope when none).
pub(crate) fn resolve_grant(
    config: &ServerConfig,
    client: &ClientRecord,
    requested_resources: &[ResourceUri],
    requested_scope: Option<&Scope>,
) -> Result<Grant, PolicyError> {
    let resources: Vec<ResourceUri> = if requested_resources.is_empty() {
        config
            .resources
            .first()
            .map(|p| p.resource.clone())
            .into_iter()
            .collect()
    } else {
        requested_resources.to_vec()
    };
    let mut allowed = Scope::new();
    let mut default = Scope::new();
    for resource in &resources {
        let Some(policy) = config.resource(resource) else {
            return Err(PolicyError::UnservedResource);
        };
        if let Some(allowed_resources) = &client.allowed_resources
            && !allowed_resources.contains(resource)
        {
            return Err(PolicyError::ResourceNotAllowed);
        }
        allowed = allowed.union(&policy.scopes);
        default = default.union(&policy.default_scope);
    }
    if let Some(client_scope) = &client.allowed_scope {
        match client.kind {
            // A self-registered or metadata-document client's `scope` is what it asks for when it
            // names none, never a ceiling: MCP clients widen their scope step by step (step-up, the
            // union of challenged scopes), and what they get stays bounded by the resources' scopes
            // and by what the user approves on the consent page (asked again for anything new).
            ClientKind::Dynamic | ClientKind::MetadataDocument { .. } => {
                let registered = client_scope.intersection(&allowed);
                if !registered.is_empty() {
                    default = registered;
                }
            }
            // The operator's ceiling for a client the operator registered (and for any kind added
            // later, until it is decided otherwise).
            _ => {
                allowed = allowed.intersection(client_scope);
                default = default.intersection(client_scope);
            }
        }
    }
    let scope = match requested_scope {
        Some(scope) => {
            // offline_access only asks for a refresh token, which this server issues anyway.
            if !scope.without_offline_access().is_subset(&allowed) {
                return Err(PolicyError::ScopeNotAllowed);
            }
            scope.clone()
        }
        None => default,
    };
    Ok(Grant { resources, scope })
}

/// The resources a token request narrows to: `requested` must lie within `granted` (AS-5); none
/// requested keeps `granted`.
pub(crate) fn narrow_resources(
    config: &ServerConfig,
    requested: &[ResourceUri],
    granted: &[ResourceUri],
) -> Result<Vec<ResourceUri>, PolicyError> {
    if requested.is_empty() {
        return Ok(granted.to_vec());
    }
    for resource in requested {
        if config.resource(resource).is_none() {
            return Err(PolicyError::UnservedResource);
        }
        if !granted.contains(resource) {
            return Err(PolicyError::ResourceNotGranted);
        }
    }
    Ok(requested.to_vec())
}

/// The scope a refresh request narrows to: within `granted` (a refresh never widens), `granted` when
/// none is requested.
pub(crate) fn narrow_scope(
    requested: Option<&Scope>,
    granted: &Scope,
) -> Result<Scope, PolicyError> {
    match requested {
        Some(scope) if !scope.is_subset(granted) => Err(PolicyError::ScopeWidened),
        Some(scope) => Ok(scope.clone()),
        None => Ok(granted.clone()),
    }
}
