//! `mcp-authz logout <mcp-url>`: revokes the stored tokens for an MCP server at its authorization
//! server (RFC 7009) and forgets them locally; the client registration is kept for the next login.

use std::io::Write;

use mcp_authz_client::{OAuthClient, TokenStore as _};
use mcp_authz_metadata::ResourceUri;

use super::client::{
    ClientOptions, Progress, check_token_file, http_client, parse_server_url, policy_for, probe,
    run_until_interrupted,
};
use crate::error::CliError;

/// The options of `logout`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct LogoutArgs {
    /// The MCP server's URL, as given to `mcp-authz login`.
    pub(crate) url: String,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// Runs the logout.
pub(crate) fn run(args: &LogoutArgs, out: &mut impl Write) -> Result<(), CliError> {
    let resource = parse_server_url(&args.url)?;
    let line = run_until_interrupted(
        logout(&resource, &args.client),
        "the logout did not finish; the tokens may still be stored",
    )?;
    writeln!(out, "{line}")?;
    Ok(())
}

async fn logout(resource: &ResourceUri, options: &ClientOptions) -> Result<String, CliError> {
    let store = options.token_store()?;
    check_token_file(&store, false, &Progress).await?;
    let policy = policy_for(resource);
    let http = http_client(&policy)?;
    let challenge = probe(http.as_ref(), &policy, resource)
        .await?
        .challenge
        .ok()
        .flatten();
    let oauth = OAuthClient::builder(resource.as_str())?
        .http_client(http)
        .url_policy(policy)
        .token_store(store.clone())
        .build()?;
    let discovery = oauth.discover_from(challenge.as_ref()).await?;
    let key = oauth.grant_key(&discovery);
    if store
        .load_grant(&key)
        .await
        .map_err(mcp_authz_client::ClientError::from)?
        .is_none()
    {
        return Ok(format!("not logged in to {resource}: nothing to do"));
    }
    let outcome = oauth.logout(&discovery).await?;
    let issuer = discovery.issuer();
    Ok(match (&outcome.revocation_error, outcome.revoked) {
        (Some(error), _) => {
            Progress.warn(format!(
                "revocation at {issuer} failed ({error}); the tokens may stay valid there until \
                 they expire"
            ));
            format!("logged out of {resource}: the tokens were forgotten locally")
        }
        (None, 0) => format!(
            "logged out of {resource}: the tokens were forgotten locally ({issuer} offers no \
             revocation endpoint)"
        ),
        (None, revoked) => format!(
            "logged out of {resource}: {revoked} token(s) revoked at {issuer} and forgotten locally"
        ),
    })
}
