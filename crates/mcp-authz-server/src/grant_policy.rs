//! What a client is granted: the resources and scope of an authorization request or a
//! `client_credentials` request, and how a token request may narrow a grant (REQUIREMENTS AS-5, AS-11,
//! SEC-10). The one home of these rules: the authorization and token endpoints both call it.

use mcp_authz_metadata::{ResourceUri, Scope};
use mcp_authz_store::{ClientKind, ClientRecord};

use crate::config::ResourcePolicy;
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
    served: &[ResourcePolicy],
    client: &ClientRecord,
    requested_resources: &[ResourceUri],
    requested_scope: Option<&Scope>,
) -> Result<Grant, PolicyError> {
    let resources: Vec<ResourceUri> = if requested_resources.is_empty() {
        served
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
        let Some(policy) = served.iter().find(|p| &p.resource == resource) else {
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
    served: &[ResourcePolicy],
    requested: &[ResourceUri],
    granted: &[ResourceUri],
) -> Result<Vec<ResourceUri>, PolicyError> {
    if requested.is_empty() {
        return Ok(granted.to_vec());
    }
    for resource in requested {
        if !served.iter().any(|p| &p.resource == resource) {
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

#[cfg(test)]
mod tests {
    use mcp_authz_metadata::{
        ApplicationType, ClientId, GrantType, ResourceUri, Scope, TokenEndpointAuthMethod,
    };
    use mcp_authz_store::{ClientKind, ClientRecord, NumericDate};
    use proptest::prelude::*;

    use super::{Grant, narrow_resources, narrow_scope, resolve_grant};
    use crate::config::ServerConfig;
    use crate::error::PolicyError;

    const MCP: &str = "https://mcp.example.com/mcp";
    const OTHER: &str = "https://other.example.com/mcp";

    fn resource(uri: &str) -> ResourceUri {
        ResourceUri::parse(uri).unwrap()
    }

    fn scope(text: &str) -> Scope {
        if text.is_empty() {
            Scope::new()
        } else {
            Scope::parse(text).unwrap()
        }
    }

    fn config() -> ServerConfig {
        ServerConfig::builder_from_str("https://auth.example.com")
            .unwrap()
            .resource_with_default(resource(MCP), scope("read write admin"), scope("read"))
            .resource(resource(OTHER), scope("other"))
            .build()
            .unwrap()
    }

    fn client(kind: ClientKind, allowed_scope: Option<&str>) -> ClientRecord {
        ClientRecord {
            client_id: ClientId::parse("c").unwrap(),
            kind,
            secret_hash: None,
            secret_expires_at: None,
            redirect_uris: Vec::new(),
            grant_types: vec![GrantType::AuthorizationCode],
            token_endpoint_auth_method: TokenEndpointAuthMethod::None,
            application_type: ApplicationType::Native,
            client_name: None,
            allowed_resources: None,
            allowed_scope: allowed_scope.map(scope),
            metadata_json: "{}".to_owned(),
            created_at: NumericDate::from_secs(0),
        }
    }

    #[test]
    fn defaults_to_the_first_resource_and_its_default_scope() {
        let grant = resolve_grant(
            &config().resources,
            &client(ClientKind::Dynamic, None),
            &[],
            None,
        );
        assert_eq!(
            grant,
            Ok(Grant {
                resources: vec![resource(MCP)],
                scope: scope("read"),
            })
        );
    }

    #[test]
    fn unserved_or_disallowed_resources_and_wider_scopes_are_refused() {
        let config = config();
        let dynamic = client(ClientKind::Dynamic, None);
        let unserved = [resource("https://elsewhere.example.com/")];
        assert_eq!(
            resolve_grant(&config.resources, &dynamic, &unserved, None),
            Err(PolicyError::UnservedResource)
        );
        let mut limited = dynamic.clone();
        limited.allowed_resources = Some(vec![resource(OTHER)]);
        assert_eq!(
            resolve_grant(&config.resources, &limited, &[resource(MCP)], None),
            Err(PolicyError::ResourceNotAllowed)
        );
        assert_eq!(
            resolve_grant(
                &config.resources,
                &dynamic,
                &[resource(MCP)],
                Some(&scope("other"))
            ),
            Err(PolicyError::ScopeNotAllowed)
        );
        // offline_access only asks for a refresh token.
        assert!(
            resolve_grant(
                &config.resources,
                &dynamic,
                &[resource(MCP)],
                Some(&scope("read offline_access"))
            )
            .is_ok()
        );
    }

    #[test]
    fn a_registered_scope_is_a_default_for_dynamic_clients_and_a_ceiling_for_operator_clients() {
        let config = config();
        let dynamic = client(ClientKind::Dynamic, Some("write"));
        let grant = resolve_grant(&config.resources, &dynamic, &[], None).unwrap();
        assert_eq!(grant.scope, scope("write"));
        assert!(resolve_grant(&config.resources, &dynamic, &[], Some(&scope("admin"))).is_ok());
        let operator = client(ClientKind::PreRegistered, Some("write"));
        assert_eq!(
            resolve_grant(&config.resources, &operator, &[], Some(&scope("admin"))),
            Err(PolicyError::ScopeNotAllowed)
        );
        assert_eq!(
            resolve_grant(&config.resources, &operator, &[], None)
                .unwrap()
                .scope,
            Scope::new()
        );
    }

    #[test]
    fn token_requests_only_narrow() {
        let config = config();
        let granted = [resource(MCP)];
        assert_eq!(
            narrow_resources(&config.resources, &[], &granted),
            Ok(granted.to_vec())
        );
        assert_eq!(
            narrow_resources(&config.resources, &[resource(OTHER)], &granted),
            Err(PolicyError::ResourceNotGranted)
        );
        assert_eq!(
            narrow_resources(
                &config.resources,
                &[resource("https://elsewhere.example.com/")],
                &granted
            ),
            Err(PolicyError::UnservedResource)
        );
        assert_eq!(
            narrow_scope(Some(&scope("read admin")), &scope("read")),
            Err(PolicyError::ScopeWidened)
        );
        assert_eq!(narrow_scope(None, &scope("read")), Ok(scope("read")));
    }

    proptest! {
        /// Whatever is requested, a narrowed scope lies within the granted one.
        #[test]
        fn narrowing_never_widens(
            granted in proptest::sample::subsequence(vec!["a", "b", "c", "d"], 0..=4),
            requested in proptest::sample::subsequence(vec!["a", "b", "c", "d", "e"], 0..=5),
        ) {
            let granted = scope(&granted.join(" "));
            let requested = scope(&requested.join(" "));
            if let Ok(narrowed) = narrow_scope(Some(&requested), &granted) {
                prop_assert!(narrowed.is_subset(&granted));
            } else {
                prop_assert!(!requested.is_subset(&granted));
            }
        }
    }
}
