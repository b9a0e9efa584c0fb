//! `mcp-authz login <mcp-url>`: the whole client flow, narrated phase by phase on standard error —
//! discovery, authorization (registration, PKCE, the browser) and access (token exchange, a first
//! authenticated request) — with the tokens stored in the configuration directory.

use std::io::Write;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use mcp_authz_client::{
    ClientCredentials, ClientError, Discovery, FileTokenStore, McpClient, OAuthClient,
    OAuthClientBuilder, PreRegisteredClient, StoredGrant, TokenStore as _,
};
use mcp_authz_metadata::{ClientId, ResourceUri, Scope, TokenEndpointAuthMethod};
use mcp_authz_token::BearerChallenge;

use super::client::{
    BrowserStep, ClientContext, ClientOptions, PROTOCOL_VERSION, Probe, Progress, check_token_file,
    http_client, parse_server_url, policy_for, printable, probe, run_until_interrupted,
};
use crate::error::CliError;

/// The options of `login`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct LoginArgs {
    /// The MCP server's URL, e.g. `https://mcp.example.com/mcp`.
    pub(crate) url: String,
    /// The scope to ask for (space-separated). Default: the scope the server's challenge names,
    /// else every scope its protected resource metadata lists.
    #[arg(long)]
    pub(crate) scope: Option<String>,
    /// An https URL of this client's Client ID Metadata Document, used as `client_id` at
    /// authorization servers that support such documents.
    #[arg(long, value_name = "URL", conflicts_with = "client_id")]
    pub(crate) client_metadata_url: Option<String>,
    /// The `client_id` of a public client registered out of band at the authorization server (e.g.
    /// with `mcp-authz clients add NAME --redirect-uri http://127.0.0.1/callback`); it is used instead
    /// of registering.
    #[arg(long, value_name = "ID")]
    pub(crate) client_id: Option<String>,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// Runs the login.
pub(crate) fn run(args: &LoginArgs, out: &mut impl Write) -> Result<(), CliError> {
    let resource = parse_server_url(&args.url)?;
    let scope = args
        .scope
        .as_deref()
        .map(Scope::parse)
        .transpose()
        .map_err(|e| CliError::InvalidArgument {
            what: "--scope",
            reason: e.to_string(),
        })?;
    let metadata_document = args
        .client_metadata_url
        .as_deref()
        .map(parse_metadata_document_url)
        .transpose()?;
    let pre_registered = args
        .client_id
        .as_deref()
        .map(ClientId::parse)
        .transpose()
        .map_err(|e| CliError::InvalidArgument {
            what: "--client-id",
            reason: e.to_string(),
        })?;
    let store = args.client.token_store()?;
    let step = Arc::new(BrowserStep::login(
        args.client.redirect(),
        args.client.browser_timeout(),
    ));
    let login = Login {
        resource,
        scope,
        metadata_document,
        pre_registered,
        store,
        step,
        progress: Progress,
    };
    let summary = run_until_interrupted(
        login.run(),
        "the login did not finish; no new tokens were stored",
    )?;
    writeln!(out, "{}", printable(&summary))?;
    Ok(())
}

/// A Client ID Metadata Document URL: an https URL with a path, in normalised form.
fn parse_metadata_document_url(url: &str) -> Result<ClientId, CliError> {
    let invalid = |reason: String| CliError::InvalidArgument {
        what: "--client-metadata-url",
        reason,
    };
    let client_id = ClientId::parse(url).map_err(|e| invalid(e.to_string()))?;
    if client_id.metadata_document_url().is_none() {
        return Err(invalid(format!(
            "{url:?} is not a client ID metadata document URL (https, a path, no fragment, \
             no user information, normalised)"
        )));
    }
    Ok(client_id)
}

/// One login.
struct Login {
    resource: ResourceUri,
    scope: Option<Scope>,
    metadata_document: Option<ClientId>,
    pre_registered: Option<ClientId>,
    store: Arc<FileTokenStore>,
    step: Arc<BrowserStep>,
    progress: Progress,
}

impl Login {
    /// The three phases; returns the line printed on standard output.
    async fn run(self) -> Result<String, CliError> {
        let policy = policy_for(&self.resource);
        let http = http_client(&policy)?;

        check_token_file(&self.store, true, &self.progress).await?;
        self.progress.phase(1, "discovery");
        let probe = probe(http.as_ref(), &policy, &self.resource)
            .await
            .inspect_err(|_| {
                self.progress
                    .failed(format!("request to {}", self.resource))
            })?;
        if let Some(error) = probe.not_found(&self.resource) {
            self.progress
                .failed(format!("request to {}", self.resource));
            return Err(error);
        }
        let challenge = self.narrate_probe(probe);
        // Scope selection (MCP, CL-6): the user's --scope, else the scope the challenge names, else
        // (in the client) every scope the protected resource metadata lists.
        let scope = self
            .scope
            .clone()
            .or_else(|| challenge.as_ref().and_then(|c| c.scope.clone()));
        let builder = || -> Result<OAuthClientBuilder, ClientError> {
            let mut builder = OAuthClient::builder(self.resource.as_str())?
                .http_client(http.clone())
                .url_policy(policy.clone())
                .token_store(self.store.clone())
                .authorization_step(self.step.clone())
                .client_name("mcp-authz command line")
                .verify_stored_registration(true);
            if let Some(scope) = &scope {
                builder = builder.scope(scope.clone());
            }
            if let Some(url) = &self.metadata_document {
                builder = builder.client_id_metadata_document(url.clone());
            }
            Ok(builder)
        };
        let discovery = builder()?
            .build()?
            .discover_from(challenge.as_ref())
            .await
            .inspect_err(|_| self.progress.failed("metadata discovery"))?;
        self.narrate_discovery(&discovery);
        // Pre-registered credentials are bound to the issuer just discovered (never another one).
        let mut builder = builder()?;
        if let Some(client_id) = &self.pre_registered {
            builder = builder.pre_registered(PreRegisteredClient {
                issuer: discovery.issuer().clone(),
                client_id: client_id.clone(),
                client_secret: None,
            });
        }
        let oauth = Arc::new(builder.build()?);

        self.progress.phase(2, "authorization");
        let stored_before = self
            .store
            .load_client(discovery.issuer())
            .await
            .map_err(ClientError::from)?
            .map(|c| c.client_id);
        self.step.expect_client(ClientContext {
            stored_before,
            pre_registered: self.pre_registered.clone(),
            metadata_document: self.metadata_document.clone(),
            registration_endpoint: discovery
                .authorization_server
                .registration_endpoint()
                .cloned(),
        });
        let grant = oauth
            .authorize_with(discovery.clone())
            .await
            .inspect_err(|_| self.progress.failed("authorization"))?;
        self.narrate_grant(&discovery, &grant);
        self.keep_client(&discovery).await?;

        let mcp = McpClient::new(oauth, PROTOCOL_VERSION);
        mcp.connect()
            .await
            .inspect_err(|_| self.progress.failed("initialize with the new access token"))?;
        let tools = mcp
            .list_tools()
            .await
            .inspect_err(|_| self.progress.failed("tools/list with the new access token"))?;
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        self.progress.done(format!(
            "first authenticated request: initialize and tools/list answered, {} tool(s): {}",
            names.len(),
            names.join(", ")
        ));
        Ok(format!(
            "logged in to {} (authorization server {}); tokens stored in {}",
            discovery.resource(),
            discovery.issuer(),
            self.store.path().display()
        ))
    }

    /// The client crate stores only the clients it registered; a pre-registered `client_id` or a
    /// Client ID Metadata Document URL used for this login is stored too, so that `call` refreshes
    /// with the same `client_id`.
    async fn keep_client(&self, discovery: &Discovery) -> Result<(), CliError> {
        let metadata_document = self.metadata_document.as_ref().filter(|_| {
            discovery
                .authorization_server
                .supports_client_id_metadata_documents()
        });
        let Some(client_id) = self.pre_registered.as_ref().or(metadata_document) else {
            return Ok(());
        };
        let credentials = ClientCredentials {
            issuer: discovery.issuer().clone(),
            client_id: client_id.clone(),
            client_secret: None,
            token_endpoint_auth_method: TokenEndpointAuthMethod::None,
        };
        self.store
            .save_client(&credentials)
            .await
            .map_err(ClientError::from)?;
        Ok(())
    }

    /// Tells what the unauthenticated request showed; returns the challenge to discover from.
    fn narrate_probe(&self, probe: Probe) -> Option<BearerChallenge> {
        let resource = &self.resource;
        match (probe.status.as_u16(), probe.challenge) {
            (401, Ok(Some(challenge))) => {
                match &challenge.resource_metadata {
                    Some(url) => self.progress.done(format!(
                        "{resource} answered 401 with a Bearer challenge: resource_metadata {url}"
                    )),
                    None => self.progress.done(format!(
                        "{resource} answered 401 with a Bearer challenge without resource_metadata: \
                         trying the well-known URLs"
                    )),
                }
                Some(challenge)
            }
            (401, Ok(None)) => {
                self.progress.done(format!(
                    "{resource} answered 401 without a Bearer challenge: trying the well-known URLs"
                ));
                None
            }
            (401, Err(error)) => {
                self.progress.done(format!(
                    "{resource} answered 401 with a malformed challenge ({error}): trying the \
                     well-known URLs"
                ));
                None
            }
            (status, _) => {
                self.progress.done(format!(
                    "{resource} answered {status} without asking for a token: trying the \
                     well-known URLs"
                ));
                None
            }
        }
    }

    fn narrate_discovery(&self, discovery: &Discovery) {
        self.progress.done(format!(
            "protected resource metadata at {}: resource {} (matches), authorization server {}",
            discovery.protected_resource_metadata_url,
            discovery.resource(),
            discovery.issuer()
        ));
        let metadata = &discovery.authorization_server;
        self.progress.done(format!(
            "authorization server metadata: issuer {} (identical), PKCE S256 supported, \
             authorization endpoint {}, token endpoint {}",
            metadata.issuer(),
            metadata.authorization_endpoint(),
            metadata.token_endpoint()
        ));
    }

    fn narrate_grant(&self, discovery: &Discovery, grant: &StoredGrant) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let expiry = grant.expires_at.map_or_else(
            || "no stated expiry".to_owned(),
            |at| format!("expires in {} s", at.saturating_sub(now)),
        );
        let refresh = if grant.refresh_token.is_some() {
            "a refresh token"
        } else {
            "no refresh token"
        };
        let scope = grant
            .scope
            .as_ref()
            .map_or_else(|| "unstated".to_owned(), ToString::to_string);
        self.progress.done(format!(
            "iss and state verified; code exchanged at {}: access token ({expiry}), {refresh}, \
             scope \"{scope}\"",
            discovery.authorization_server.token_endpoint()
        ));
        self.progress.done(format!(
            "tokens saved to {} (mode 0600)",
            self.store.path().display()
        ));
    }
}
