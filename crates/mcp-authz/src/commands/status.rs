//! `mcp-authz status`: what the token file holds, without a secret: each MCP server logged in to,
//! its authorization server, the scope and when the access token expires, whether it can be
//! refreshed, and the client registered at each authorization server.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use mcp_authz_client::StoredGrant;

use super::client::{ClientOptions, Progress, check_token_file, runtime};
use crate::error::{CliError, printable};

/// The options of `status`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// Prints the status.
pub(crate) fn run(args: &StatusArgs, out: &mut impl Write) -> Result<(), CliError> {
    let store = args.client.token_store()?;
    let contents = runtime()?.block_on(async {
        check_token_file(&store, false, &Progress).await?;
        store
            .contents()
            .await
            .map_err(|e| CliError::Client(e.into()))
    })?;
    writeln!(out, "token file: {}", store.path().display())?;
    if contents.grants.is_empty() {
        writeln!(out, "not logged in to any MCP server")?;
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    for (key, grant) in &contents.grants {
        writeln!(
            out,
            "{}",
            printable(&format!(
                "{}\n  authorization server: {}\n  scope: {}\n  access token: {}\n  refresh token: {}",
                key.resource,
                key.issuer,
                grant
                    .scope
                    .as_ref()
                    .map_or_else(|| "(unstated)".to_owned(), ToString::to_string),
                expiry(grant, now),
                if grant.refresh_token.is_some() {
                    "stored"
                } else {
                    "none (log in again when the access token expires)"
                }
            ))
        )?;
    }
    for client in &contents.clients {
        writeln!(
            out,
            "{}",
            printable(&format!(
                "client at {}: {} ({})",
                client.issuer,
                client.client_id,
                if client.client_secret.is_some() {
                    "confidential"
                } else {
                    "public"
                }
            ))
        )?;
    }
    Ok(())
}

/// "expires in N s", "expired N s ago" or "no stated expiry".
fn expiry(grant: &StoredGrant, now: u64) -> String {
    match grant.expires_at {
        None => "no stated expiry".to_owned(),
        Some(at) if at > now => format!("expires in {} s", at - now),
        Some(at) => format!(
            "expired {} s ago (refreshed on the next call)",
            now.saturating_sub(at)
        ),
    }
}
