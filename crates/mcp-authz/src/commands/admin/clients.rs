//! `mcp-authz clients add|list|remove`.

use std::io::Write;

use mcp_authz_metadata::{
    ApplicationType, ClientId, GrantType, RedirectUri, ResourceUri, TokenEndpointAuthMethod,
};
use mcp_authz_store::{ClientKind, ClientRecord, Clock as _, StoreError, SystemClock};

use mcp_authz_server::ConfidentialClient;

use super::{Admin, time::rfc3339, write_json};
use crate::error::{AdminError, CliError};
use crate::settings::StoreArgs;

/// `clients`: manage registered clients.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ClientsArgs {
    /// The configuration file and the store.
    #[command(flatten)]
    pub(crate) storage: StoreArgs,
    /// What to do.
    #[command(subcommand)]
    pub(crate) action: ClientsAction,
}

/// The `clients` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub(crate) enum ClientsAction {
    /// Pre-register a client: a public client (authorization code + PKCE) with its redirect URIs, or
    /// with --client-credentials a confidential machine client, whose secret is printed once.
    Add {
        /// The client id.
        client_id: String,
        /// A redirect URI of a public client (repeatable).
        #[arg(
            long = "redirect-uri",
            value_name = "URI",
            required_unless_present = "client_credentials"
        )]
        redirect_uris: Vec<String>,
        /// A confidential client for the `client_credentials` grant (`client_secret_basic`).
        #[arg(long, conflicts_with = "redirect_uris")]
        client_credentials: bool,
        /// A resource the client may get tokens for (repeatable). Default: every resource.
        #[arg(long = "resource", value_name = "URL")]
        resources: Vec<String>,
        /// The name shown on the consent page.
        #[arg(long)]
        name: Option<String>,
    },
    /// List every client.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Remove a client and revoke its grants.
    Remove {
        /// The client id.
        client_id: String,
    },
}

fn client_id(text: &str) -> Result<ClientId, CliError> {
    ClientId::parse(text).map_err(|e| CliError::InvalidArgument {
        what: "client id",
        reason: e.to_string(),
    })
}

pub(super) async fn run(args: ClientsArgs, out: &mut impl Write) -> Result<(), CliError> {
    let admin = Admin::open(&args.storage).await?;
    match args.action {
        ClientsAction::Add {
            client_id: id,
            redirect_uris,
            client_credentials,
            resources,
            name,
        } => {
            let id = client_id(&id)?;
            let resources = resources
                .iter()
                .map(|r| {
                    ResourceUri::parse(r).map_err(|e| CliError::InvalidArgument {
                        what: "--resource",
                        reason: e.to_string(),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let name = name.unwrap_or_else(|| id.as_str().to_owned());
            if client_credentials {
                // `--resource` absent: every resource, as documented.
                let builder = ConfidentialClient::builder(id.clone())
                    .name(name)
                    .grant_type(GrantType::ClientCredentials);
                let builder = if resources.is_empty() {
                    builder.all_resources()
                } else {
                    builder.resources(resources)
                };
                let client = builder.build().map_err(AdminError::from)?;
                let secret = admin
                    .server
                    .register_client(&client)
                    .await
                    .map_err(AdminError::from)?;
                writeln!(out, "client_id: {}", id.as_str())?;
                writeln!(out, "client_secret: {}", secret.secret())?;
                eprintln!(
                    "mcp-authz: the secret is shown only this once; it is stored as a hash. \
                     Authenticate with client_secret_basic."
                );
            } else {
                let redirect_uris = redirect_uris
                    .iter()
                    .map(|u| {
                        RedirectUri::parse(u).map_err(|e| CliError::InvalidArgument {
                            what: "--redirect-uri",
                            reason: e.to_string(),
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let application_type = if redirect_uris.iter().all(is_native) {
                    ApplicationType::Native
                } else {
                    ApplicationType::Web
                };
                let record = ClientRecord {
                    client_id: id.clone(),
                    kind: ClientKind::PreRegistered,
                    secret_hash: None,
                    secret_expires_at: None,
                    redirect_uris,
                    grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
                    token_endpoint_auth_method: TokenEndpointAuthMethod::None,
                    application_type,
                    client_name: Some(name),
                    allowed_resources: (!resources.is_empty()).then_some(resources),
                    allowed_scope: None,
                    metadata_json: "{}".to_owned(),
                    created_at: SystemClock.now(),
                };
                admin
                    .store
                    .insert_client(record)
                    .await
                    .map_err(|e| match e {
                        StoreError::Conflict { .. } => {
                            CliError::from(AdminError::ClientExists(id.as_str().to_owned()))
                        }
                        e => CliError::from(e),
                    })?;
                writeln!(out, "client_id: {}", id.as_str())?;
            }
            Ok(())
        }
        ClientsAction::List { json } => {
            let clients = admin.store.list_clients().await?;
            if json {
                let rows: Vec<serde_json::Value> = clients.iter().map(to_json).collect();
                return write_json(out, &serde_json::Value::Array(rows));
            }
            writeln!(
                out,
                "{:<40} {:<10} {:<20} {:<20} NAME",
                "CLIENT_ID", "KIND", "AUTH", "CREATED"
            )?;
            for c in &clients {
                writeln!(
                    out,
                    "{:<40} {:<10} {:<20} {:<20} {}",
                    c.client_id.as_str(),
                    kind(&c.kind),
                    c.token_endpoint_auth_method.as_str(),
                    rfc3339(c.created_at),
                    c.client_name.as_deref().unwrap_or("-")
                )?;
            }
            Ok(())
        }
        ClientsAction::Remove { client_id: id } => {
            let id = client_id(&id)?;
            let revoked = admin
                .server
                .remove_client(&id)
                .await
                .map_err(AdminError::from)?;
            writeln!(
                out,
                "removed client {}; revoked {} grant(s)",
                id.as_str(),
                revoked
            )?;
            Ok(())
        }
    }
}

/// Loopback and private-scheme redirect URIs belong to native apps.
fn is_native(uri: &RedirectUri) -> bool {
    let text = uri.as_str();
    !(text.starts_with("https://"))
        || text.starts_with("https://127.0.0.1")
        || text.starts_with("https://localhost")
}

fn kind(kind: &ClientKind) -> &'static str {
    match kind {
        ClientKind::Dynamic => "dynamic",
        ClientKind::PreRegistered => "operator",
        ClientKind::MetadataDocument { .. } => "document",
        _ => "other",
    }
}

fn to_json(c: &ClientRecord) -> serde_json::Value {
    serde_json::json!({
        "client_id": c.client_id.as_str(),
        "kind": kind(&c.kind),
        "client_name": c.client_name,
        "token_endpoint_auth_method": c.token_endpoint_auth_method.as_str(),
        "grant_types": c.grant_types.iter().map(GrantType::as_str).collect::<Vec<_>>(),
        "redirect_uris": c.redirect_uris.iter().map(RedirectUri::as_str).collect::<Vec<_>>(),
        "allowed_resources": c.allowed_resources.as_ref().map(|rs| rs.iter().map(ResourceUri::as_str).collect::<Vec<_>>()),
        "created_at": rfc3339(c.created_at),
    })
}
