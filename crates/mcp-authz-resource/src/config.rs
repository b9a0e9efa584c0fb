//! What a protected MCP server is: its canonical resource URI, authorization servers, scopes, scope
//! hierarchy and the scopes each operation needs. Validated at construction.

use std::collections::BTreeMap;

use bytes::Bytes;
use mcp_authz_metadata::{
    Issuer, ProtectedResourceMetadata, ResourceUri, Scope, ScopeToken, Url, is_loopback_host,
    protected_resource_metadata_path, protected_resource_metadata_url,
};

use crate::ScopeHierarchy;

/// Default largest request body the layer reads to find `tools/call` names: 1 MiB.
pub const DEFAULT_MAX_INSPECTED_BODY: usize = 1024 * 1024;

/// Why a configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No authorization server (REQUIREMENTS RS-1 needs at least one).
    #[error("at least one authorization server is required")]
    NoAuthorizationServer,
    /// The resource is plain `http` on a non-loopback host.
    #[error("the resource {0:?} is not https (http is allowed only on loopback hosts)")]
    InsecureResource(String),
    /// An endpoint URL is not `https` (or loopback `http`), or carries user information or a fragment.
    #[error("the endpoint {0:?} is not https (http is allowed only on loopback hosts)")]
    InsecureEndpoint(String),
    /// A required scope is missing from `scopes_supported`.
    #[error("the scope {0:?} is required by an operation but not listed in scopes_supported")]
    UnlistedScope(String),
    /// `offline_access` is required by an operation; it is never challenged for (REQUIREMENTS RS-9).
    #[error("offline_access cannot be required by an operation")]
    OfflineAccessRequired,
    /// An empty algorithm allow-list.
    #[error("the algorithm allow-list is empty")]
    NoAlgorithms,
    /// The metadata document could not be serialised.
    #[error("the protected resource metadata could not be serialised: {0}")]
    Metadata(String),
    /// The HTTP client could not be built.
    #[error("the HTTP client could not be built: {0}")]
    HttpClient(String),
}

/// The configuration of a protected resource. Build it with [`ResourceServerConfig::builder`].
///
/// ```
/// use mcp_authz_metadata::{Issuer, ResourceUri};
/// use mcp_authz_resource::{ConfigError, ResourceServerConfig};
/// let config = ResourceServerConfig::builder(ResourceUri::parse("https://mcp.example.com/mcp")?)
///     .authorization_server(Issuer::parse("https://auth.example.com")?)
///     .scopes_supported("mcp:tools files:read files:write".parse()?)
///     .required_scope("mcp:tools".parse()?)
///     .tool_scope("write_file", "files:write".parse()?)
///     .scope_implies("files:write".parse()?, ["files:read".parse()?])
///     .build()?;
/// assert_eq!(config.metadata_paths(), ["/.well-known/oauth-protected-resource/mcp"]);
///
/// let no_server = ResourceServerConfig::builder(ResourceUri::parse("https://mcp.example.com")?).build();
/// assert_eq!(no_server.err(), Some(ConfigError::NoAuthorizationServer));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct ResourceServerConfig {
    resource: ResourceUri,
    authorization_servers: Vec<Issuer>,
    scopes_supported: Scope,
    required_scope: Scope,
    hierarchy: ScopeHierarchy,
    tool_scopes: BTreeMap<String, Scope>,
    metadata_url: Url,
    metadata_paths: Vec<String>,
    metadata_json: Bytes,
    max_inspected_body: usize,
    pub(crate) strip_authorization: bool,
}

/// Builds a [`ResourceServerConfig`]. Every setter documents its default.
#[must_use]
#[derive(Debug, Clone)]
pub struct ResourceServerConfigBuilder {
    resource: ResourceUri,
    authorization_servers: Vec<Issuer>,
    scopes_supported: Scope,
    required_scope: Scope,
    hierarchy: ScopeHierarchy,
    tool_scopes: BTreeMap<String, Scope>,
    resource_name: Option<String>,
    serve_root_metadata: bool,
    max_inspected_body: usize,
    pub(crate) allow_http: bool,
    pub(crate) strip_authorization: bool,
}

impl ResourceServerConfig {
    /// A builder for the resource with this canonical URI (REQUIREMENTS TY-5).
    pub fn builder(resource: ResourceUri) -> ResourceServerConfigBuilder {
        ResourceServerConfigBuilder {
            resource,
            authorization_servers: Vec::new(),
            scopes_supported: Scope::new(),
            required_scope: Scope::new(),
            hierarchy: ScopeHierarchy::new(),
            tool_scopes: BTreeMap::new(),
            resource_name: None,
            serve_root_metadata: false,
            max_inspected_body: DEFAULT_MAX_INSPECTED_BODY,
            allow_http: false,
            strip_authorization: true,
        }
    }

    /// The canonical resource URI.
    pub fn resource(&self) -> &ResourceUri {
        &self.resource
    }

    /// The authorization servers; never empty.
    pub fn authorization_servers(&self) -> &[Issuer] {
        &self.authorization_servers
    }

    /// `scopes_supported`, without `offline_access` (REQUIREMENTS RS-9).
    pub fn scopes_supported(&self) -> &Scope {
        &self.scopes_supported
    }

    /// The scope every request needs.
    pub fn required_scope(&self) -> &Scope {
        &self.required_scope
    }

    /// The scope hierarchy.
    pub fn hierarchy(&self) -> &ScopeHierarchy {
        &self.hierarchy
    }

    /// The scope a call of `tool` needs: the [`required_scope`](Self::required_scope) plus the
    /// tool's own (REQUIREMENTS RS-5). Tools without configured scopes need only the required scope.
    pub fn tool_scope(&self, tool: &str) -> Scope {
        match self.tool_scopes.get(tool) {
            Some(scope) => self.required_scope.union(scope),
            None => self.required_scope.clone(),
        }
    }

    /// `true` when some tool has scopes of its own, so the layer reads `tools/call` bodies.
    pub fn has_tool_scopes(&self) -> bool {
        !self.tool_scopes.is_empty()
    }

    /// The scope named in 401 challenges (REQUIREMENTS RS-2): the required scope, or
    /// `scopes_supported` when no scope is required.
    pub fn challenge_scope(&self) -> &Scope {
        if self.required_scope.is_empty() {
            &self.scopes_supported
        } else {
            &self.required_scope
        }
    }

    /// The URL of the protected resource metadata, as named in `resource_metadata` (RFC 9728 §5.1).
    pub fn metadata_url(&self) -> &Url {
        &self.metadata_url
    }

    /// The paths at which the metadata is served (REQUIREMENTS RS-1).
    pub fn metadata_paths(&self) -> &[String] {
        &self.metadata_paths
    }

    /// The metadata document, serialised.
    pub fn metadata_json(&self) -> &Bytes {
        &self.metadata_json
    }

    /// The largest request body read to find tool names.
    pub fn max_inspected_body(&self) -> usize {
        self.max_inspected_body
    }
}

impl ResourceServerConfigBuilder {
    /// Adds an authorization server (`authorization_servers` of the metadata). Default: none, and at
    /// least one is required.
    pub fn authorization_server(mut self, issuer: Issuer) -> Self {
        self.authorization_servers.push(issuer);
        self
    }

    /// `scopes_supported`; `offline_access` is dropped (REQUIREMENTS RS-9). Default: every scope named
    /// by [`required_scope`](Self::required_scope), [`tool_scope`](Self::tool_scope) and the hierarchy.
    /// When set, every scope an operation requires must be listed.
    pub fn scopes_supported(mut self, scope: Scope) -> Self {
        self.scopes_supported = scope.without_offline_access();
        self
    }

    /// The scope every request needs. Default: none (any valid token for this resource passes).
    pub fn required_scope(mut self, scope: Scope) -> Self {
        self.required_scope = scope;
        self
    }

    /// The scope a `tools/call` of `tool` needs on top of the required scope. Default: none.
    pub fn tool_scope(mut self, tool: impl Into<String>, scope: Scope) -> Self {
        self.tool_scopes.insert(tool.into(), scope);
        self
    }

    /// Declares that `broader` implies each of `narrower` (REQUIREMENTS RS-6). Default: no implication.
    pub fn scope_implies(
        mut self,
        broader: ScopeToken,
        narrower: impl IntoIterator<Item = ScopeToken>,
    ) -> Self {
        self.hierarchy = self.hierarchy.imply(broader, narrower);
        self
    }

    /// Replaces the scope hierarchy. Default: empty.
    pub fn scope_hierarchy(mut self, hierarchy: ScopeHierarchy) -> Self {
        self.hierarchy = hierarchy;
        self
    }

    /// `resource_name` of the metadata. Default: none.
    pub fn resource_name(mut self, name: impl Into<String>) -> Self {
        self.resource_name = Some(name.into());
        self
    }

    /// Also serve the metadata at the root form `/.well-known/oauth-protected-resource` when the
    /// resource has a path (clients fall back to it). Default: `false` (a host may serve several
    /// resources). A resource without a path is always served at the root form.
    pub fn serve_root_metadata(mut self, serve: bool) -> Self {
        self.serve_root_metadata = serve;
        self
    }

    /// The largest request body read to find `tools/call` names; larger bodies get 413 when tool
    /// scopes are configured. Default: [`DEFAULT_MAX_INSPECTED_BODY`] (1 MiB).
    pub fn max_inspected_body(mut self, bytes: usize) -> Self {
        self.max_inspected_body = bytes;
        self
    }

    /// Checks the configuration: at least one authorization server; an `https` resource (or loopback
    /// `http`); no operation requiring `offline_access`; every required scope listed in
    /// `scopes_supported` when that is set.
    pub fn build(self) -> Result<ResourceServerConfig, ConfigError> {
        if self.authorization_servers.is_empty() {
            return Err(ConfigError::NoAuthorizationServer);
        }
        let url = self.resource.url();
        let loopback = url.host().as_ref().is_some_and(is_loopback_host);
        if !self.resource.is_https() && !loopback && !self.allow_http {
            return Err(ConfigError::InsecureResource(
                self.resource.as_str().to_owned(),
            ));
        }
        let mut needed = self.required_scope.clone();
        for scope in self.tool_scopes.values() {
            needed = needed.union(scope);
        }
        if needed.iter().any(ScopeToken::is_offline_access) {
            return Err(ConfigError::OfflineAccessRequired);
        }
        let scopes_supported = if self.scopes_supported.is_empty() {
            let mut all = needed.clone();
            for token in self.hierarchy.tokens() {
                all.insert(token.clone());
            }
            all.without_offline_access()
        } else {
            if let Some(missing) = needed.difference(&self.scopes_supported).iter().next() {
                return Err(ConfigError::UnlistedScope(missing.as_str().to_owned()));
            }
            self.scopes_supported
        };
        let mut document = ProtectedResourceMetadata::new(
            self.resource.clone(),
            self.authorization_servers.clone(),
        )
        .with_scopes_supported(&scopes_supported);
        document.resource_name = self.resource_name;
        let metadata_json = serde_json::to_vec(&document)
            .map(Bytes::from)
            .map_err(|e| ConfigError::Metadata(e.to_string()))?;
        let mut metadata_paths = vec![protected_resource_metadata_path(&self.resource)];
        let root = mcp_authz_metadata::PROTECTED_RESOURCE_WELL_KNOWN.to_owned();
        if self.serve_root_metadata && !metadata_paths.contains(&root) {
            metadata_paths.push(root);
        }
        Ok(ResourceServerConfig {
            metadata_url: protected_resource_metadata_url(&self.resource),
            resource: self.resource,
            authorization_servers: self.authorization_servers,
            scopes_supported,
            required_scope: self.required_scope,
            hierarchy: self.hierarchy,
            tool_scopes: self.tool_scopes,
            metadata_paths,
            metadata_json,
            max_inspected_body: self.max_inspected_body,
            strip_authorization: self.strip_authorization,
        })
    }
}
