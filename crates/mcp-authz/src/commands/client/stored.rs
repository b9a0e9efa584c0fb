//! An MCP session with the stored grant, for `call` and `tools`: the probe, discovery, the grant
//! looked up under the URL the user logged in to, and the failures told in the user's terms (not
//! logged in, the client is gone, no MCP server at the URL).

use std::sync::Arc;

use mcp_authz_client::{ClientError, GrantKey, McpClient, OAuthClient, TokenStore};
use mcp_authz_metadata::{Issuer, ResourceUri};

use super::{
    BrowserStep, ClientOptions, PROTOCOL_VERSION, Progress, check_token_file, http_client,
    policy_for, probe,
};
use crate::error::CliError;

/// A connected MCP session with the stored grant.
pub(in crate::commands) struct StoredSession {
    /// The MCP session.
    pub(in crate::commands) mcp: McpClient,
    resource: ResourceUri,
    issuer: Issuer,
    store: Arc<dyn TokenStore>,
    step: Arc<BrowserStep>,
    key: GrantKey,
    had_client: bool,
}

impl StoredSession {
    /// Opens the session: a 404 and a missing grant stop here, before anything is sent with a token.
    pub(in crate::commands) async fn open(
        resource: &ResourceUri,
        options: &ClientOptions,
    ) -> Result<Self, CliError> {
        let file = options.token_store()?;
        check_token_file(&file, false, &Progress).await?;
        let store: Arc<dyn TokenStore> = file;
        let step = Arc::new(BrowserStep::step_up_only(
            options.redirect(),
            options.browser_timeout(),
        ));
        let policy = policy_for(resource);
        let http = http_client(&policy)?;
        let probe = probe(http.as_ref(), &policy, resource).await?;
        if let Some(error) = probe.not_found(resource) {
            return Err(error);
        }
        let challenge = probe.challenge.ok().flatten();
        let oauth = OAuthClient::builder(resource.as_str())?
            .http_client(http)
            .url_policy(policy)
            .token_store(store.clone())
            .authorization_step(step.clone())
            .client_name("mcp-authz command line")
            .build()?;
        let discovery = oauth.discover_from(challenge.as_ref()).await?;
        // Keyed by the URL the user logged in to: a grant for a parent resource is never sent here
        // unless the user logged in to this very URL (CL-2, SEC-7).
        let key = oauth.grant_key(&discovery);
        if store
            .load_grant(&key)
            .await
            .map_err(ClientError::from)?
            .is_none()
        {
            return Err(CliError::NotLoggedIn {
                resource: resource.to_string(),
            });
        }
        let issuer = discovery.issuer().clone();
        let had_client = store
            .load_client(&issuer)
            .await
            .map_err(ClientError::from)?
            .is_some();
        step.require_grant(store.clone(), key.clone());
        let mcp = McpClient::new(Arc::new(oauth), PROTOCOL_VERSION);
        let session = Self {
            mcp,
            resource: resource.clone(),
            issuer,
            store,
            step,
            key,
            had_client,
        };
        if let Err(error) = session.mcp.connect().await {
            return Err(session.explain(error.into()).await);
        }
        Ok(session)
    }

    /// `error` in the user's terms: when the grant could not be renewed and the browser step was
    /// refused, the user is not logged in any more. The cause is named: the server forgot the
    /// client (`invalid_client` dropped our registration), or refused the stored grant
    /// (`invalid_grant` dropped it: revoked or expired).
    pub(in crate::commands) async fn explain(&self, error: CliError) -> CliError {
        if !self.step.refused_sign_in() {
            return error;
        }
        let resource = self.resource.to_string();
        let client_gone =
            self.had_client && matches!(self.store.load_client(&self.issuer).await, Ok(None));
        let grant_gone = matches!(self.store.load_grant(&self.key).await, Ok(None));
        if client_gone {
            CliError::ClientGone { resource }
        } else if grant_gone {
            CliError::GrantRefused { resource }
        } else {
            CliError::NotLoggedIn { resource }
        }
    }
}
