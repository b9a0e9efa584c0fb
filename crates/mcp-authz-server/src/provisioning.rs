//! Operator-provisioned confidential clients (resource servers that introspect, machine clients):
//! what one is, built explicitly, and why provisioning one failed, in the API's words (never a
//! backend's).

use std::collections::BTreeSet;

use mcp_authz_metadata::{ClientId, ClientSecret, GrantType, ResourceUri};
use mcp_authz_store::{ClientKind, ClientRecord, StoreError};

use crate::clients::is_confidential;
use crate::secrets::verify_secret;

/// Which audiences a confidential client's introspection may reveal (REQUIREMENTS AS-15): chosen
/// explicitly, since "every resource" is a security decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientResources {
    /// Tokens of every resource of this server.
    All,
    /// Tokens of these resources only.
    Only(Vec<ResourceUri>),
}

/// A confidential client authenticating with `client_secret_basic` (or `client_secret_post`), as
/// the operator provisions it: register it with
/// [`AuthorizationServer::register_client`](crate::AuthorizationServer::register_client), or make
/// sure it exists, idempotently, with
/// [`AuthorizationServer::provision_client`](crate::AuthorizationServer::provision_client).
///
/// ```
/// use mcp_authz_server::{ClientId, ConfidentialClient, GrantType, ResourceUri};
/// let resource_server = ConfidentialClient::builder(ClientId::parse("notes-rs")?)
///     .name("Notes resource server")
///     .resource(ResourceUri::parse("https://notes.example.com/mcp")?)
///     .build()?;
/// let machine = ConfidentialClient::builder(ClientId::parse("nightly-job")?)
///     .grant_type(GrantType::ClientCredentials)
///     .all_resources()
///     .build()?;
/// # let _ = (resource_server, machine);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfidentialClient {
    client_id: ClientId,
    name: String,
    grant_types: Vec<GrantType>,
    resources: ClientResources,
    secret: Option<ClientSecret>,
}

/// Builds a [`ConfidentialClient`]; every setter documents its default.
#[must_use]
#[derive(Debug, Clone)]
pub struct ConfidentialClientBuilder {
    client_id: ClientId,
    name: Option<String>,
    grant_types: Vec<GrantType>,
    resources: Option<ClientResources>,
    secret: Option<ClientSecret>,
    conflicting_resources: bool,
}

impl ConfidentialClient {
    /// A builder for the client `client_id`. Choosing its resources is required:
    /// [`resource`](ConfidentialClientBuilder::resource) or
    /// [`all_resources`](ConfidentialClientBuilder::all_resources).
    pub fn builder(client_id: ClientId) -> ConfidentialClientBuilder {
        ConfidentialClientBuilder {
            client_id,
            name: None,
            grant_types: Vec::new(),
            resources: None,
            secret: None,
            conflicting_resources: false,
        }
    }

    /// The client id.
    pub fn client_id(&self) -> &ClientId {
        &self.client_id
    }

    /// The display name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The grant types it may use.
    pub fn grant_types(&self) -> &[GrantType] {
        &self.grant_types
    }

    /// The resources whose tokens it may introspect (and, with `client_credentials`, get).
    pub fn resources(&self) -> &ClientResources {
        &self.resources
    }

    /// The record to store, with the hash of `secret`.
    pub(crate) fn record(
        &self,
        secret_hash: mcp_authz_store::SecretHashString,
        now: mcp_authz_store::NumericDate,
    ) -> ClientRecord {
        ClientRecord {
            client_id: self.client_id.clone(),
            kind: ClientKind::PreRegistered,
            secret_hash: Some(secret_hash),
            secret_expires_at: None,
            redirect_uris: Vec::new(),
            grant_types: self.grant_types.clone(),
            token_endpoint_auth_method:
                mcp_authz_metadata::TokenEndpointAuthMethod::ClientSecretBasic,
            application_type: mcp_authz_metadata::ApplicationType::Web,
            client_name: Some(self.name.clone()),
            allowed_resources: match &self.resources {
                ClientResources::All => None,
                ClientResources::Only(resources) => Some(resources.clone()),
            },
            allowed_scope: None,
            metadata_json: "{}".to_owned(),
            created_at: now,
        }
    }

    /// The configured secret, if any (else one is generated at registration).
    pub(crate) fn secret(&self) -> Option<&ClientSecret> {
        self.secret.as_ref()
    }

    /// The first setting of `stored` that differs from this client, if any.
    pub(crate) fn difference(&self, stored: &ClientRecord) -> Option<ClientSetting> {
        if !matches!(stored.kind, ClientKind::PreRegistered) || !is_confidential(stored) {
            return Some(ClientSetting::Kind);
        }
        if stored.client_name.as_deref() != Some(self.name.as_str()) {
            return Some(ClientSetting::Name);
        }
        let set = |g: &[GrantType]| {
            g.iter()
                .map(|g| g.as_str().to_owned())
                .collect::<BTreeSet<_>>()
        };
        if set(&stored.grant_types) != set(&self.grant_types) {
            return Some(ClientSetting::GrantTypes);
        }
        let resources = |r: &[ResourceUri]| {
            r.iter()
                .map(|r| r.as_str().to_owned())
                .collect::<BTreeSet<_>>()
        };
        let same_resources = match (&self.resources, &stored.allowed_resources) {
            (ClientResources::All, None) => true,
            (ClientResources::Only(wanted), Some(stored)) => resources(wanted) == resources(stored),
            _ => false,
        };
        if !same_resources {
            return Some(ClientSetting::Resources);
        }
        if let (Some(secret), Some(hash)) = (&self.secret, &stored.secret_hash)
            && !verify_secret(secret.secret(), hash)
        {
            return Some(ClientSetting::Secret);
        }
        None
    }
}

impl ConfidentialClientBuilder {
    /// The display name. Default: the client id.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Allows a grant type (`client_credentials` for a machine client). Default: none, for a
    /// resource server that only introspects.
    pub fn grant_type(mut self, grant_type: GrantType) -> Self {
        if !self.grant_types.contains(&grant_type) {
            self.grant_types.push(grant_type);
        }
        self
    }

    /// Allows the tokens of `resource`. No default: call this or
    /// [`all_resources`](Self::all_resources).
    pub fn resource(mut self, resource: ResourceUri) -> Self {
        match &mut self.resources {
            Some(ClientResources::Only(resources)) => resources.push(resource),
            Some(ClientResources::All) => self.conflicting_resources = true,
            None => self.resources = Some(ClientResources::Only(vec![resource])),
        }
        self
    }

    /// Allows the tokens of each of `resources`.
    pub fn resources(self, resources: impl IntoIterator<Item = ResourceUri>) -> Self {
        resources.into_iter().fold(self, Self::resource)
    }

    /// Allows the tokens of every resource of this server: its introspection reveals every token.
    pub fn all_resources(mut self) -> Self {
        match self.resources {
            Some(ClientResources::Only(_)) => self.conflicting_resources = true,
            _ => self.resources = Some(ClientResources::All),
        }
        self
    }

    /// Uses this secret (from the operator's configuration) instead of generating one at
    /// registration. [`provision_client`](crate::AuthorizationServer::provision_client) then also
    /// checks that a stored client has this secret. Default: generated (256 bits), returned once.
    pub fn secret(mut self, secret: ClientSecret) -> Self {
        self.secret = Some(secret);
        self
    }

    /// Checks that the resources were chosen, once.
    pub fn build(self) -> Result<ConfidentialClient, ProvisionError> {
        let client_id = self.client_id;
        if self.conflicting_resources {
            return Err(ProvisionError::ConflictingResources { client_id });
        }
        let Some(resources) = self.resources else {
            return Err(ProvisionError::NoResources { client_id });
        };
        Ok(ConfidentialClient {
            name: self.name.unwrap_or_else(|| client_id.as_str().to_owned()),
            client_id,
            grant_types: self.grant_types,
            resources,
            secret: self.secret,
        })
    }
}

/// A setting in which a stored client differs from the one provisioned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClientSetting {
    /// It is not an operator-provisioned confidential client (a dynamically registered or public
    /// client, or a metadata document).
    Kind,
    /// The display name.
    Name,
    /// The grant types.
    GrantTypes,
    /// The resources.
    Resources,
    /// The secret (the configured one does not verify against the stored hash).
    Secret,
}

impl std::fmt::Display for ClientSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Kind => "kind (not an operator-provisioned confidential client)",
            Self::Name => "name",
            Self::GrantTypes => "grant types",
            Self::Resources => "resources",
            Self::Secret => "secret",
        })
    }
}

/// What [`provision_client`](crate::AuthorizationServer::provision_client) did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Provisioned {
    /// The client was registered now. `generated_secret` is the secret generated for it (when none
    /// was configured): stored only as a hash, show it once.
    Registered {
        /// The generated secret, `None` when the client was built with one.
        generated_secret: Option<ClientSecret>,
    },
    /// The client was already registered with the same settings: nothing changed.
    Unchanged,
}

/// Why provisioning, rotating or removing a client failed. Never carries a backend's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProvisionError {
    /// Neither [`resource`](ConfidentialClientBuilder::resource) nor
    /// [`all_resources`](ConfidentialClientBuilder::all_resources) was called.
    #[error(
        "choose the resources of client {client_id}: .resource(...) for some, .all_resources() for every one"
    )]
    NoResources {
        /// The client.
        client_id: ClientId,
    },
    /// Both some resources and every resource were chosen.
    #[error("client {client_id} is given both some resources and every resource")]
    ConflictingResources {
        /// The client.
        client_id: ClientId,
    },
    /// [`register_client`](crate::AuthorizationServer::register_client): the id is taken.
    #[error("client {client_id} is already registered")]
    AlreadyRegistered {
        /// The client.
        client_id: ClientId,
    },
    /// [`provision_client`](crate::AuthorizationServer::provision_client): a client with this id is
    /// registered with other settings. Nothing was changed; remove it or change the configuration.
    #[error("client {client_id} is already registered with another {setting}")]
    SettingsConflict {
        /// The client.
        client_id: ClientId,
        /// The first differing setting.
        setting: ClientSetting,
    },
    /// No client with this id is registered.
    #[error("client {client_id} is not registered")]
    NotRegistered {
        /// The client.
        client_id: ClientId,
    },
    /// The client has no secret to rotate (a public client, or a metadata document).
    #[error("client {client_id} is not a confidential client")]
    NotConfidential {
        /// The client.
        client_id: ClientId,
    },
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator is unavailable")]
    RandomnessUnavailable,
    /// The store cannot answer now (a database outage); retrying later may succeed.
    #[error("the store is unavailable")]
    StoreUnavailable,
    /// The store failed otherwise (a corrupt record); its details are logged.
    #[error("the store failed on client {client_id}")]
    Store {
        /// The client.
        client_id: ClientId,
    },
}

impl ProvisionError {
    /// The error for a store failure on `client_id`, logging the backend's description (which may
    /// name tables and columns) instead of passing it on.
    pub(crate) fn store(client_id: &ClientId, error: StoreError) -> Self {
        tracing::warn!(client_id = client_id.as_str(), %error, "client provisioning: store error");
        match error {
            StoreError::Conflict { .. } => Self::AlreadyRegistered {
                client_id: client_id.clone(),
            },
            StoreError::NotFound { .. } => Self::NotRegistered {
                client_id: client_id.clone(),
            },
            StoreError::RandomnessUnavailable => Self::RandomnessUnavailable,
            e if e.is_unavailable() => Self::StoreUnavailable,
            _ => Self::Store {
                client_id: client_id.clone(),
            },
        }
    }
}
