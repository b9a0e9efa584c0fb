//! `mcp-authz tokens revoke`: one token by value (from standard input, never a flag), or every grant
//! of a client or a user.

use std::io::{Read as _, Write};

use mcp_authz_metadata::ClientId;
use mcp_authz_server::OperatorRevocation;
use mcp_authz_store::{Clock as _, Subject, SystemClock, Username};

use super::Admin;
use crate::error::{AdminError, CliError};
use crate::settings::StoreArgs;

/// The largest token read from standard input.
const MAX_TOKEN: u64 = 16 * 1024;

/// `tokens`: revocation.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct TokensArgs {
    /// The configuration file and the store.
    #[command(flatten)]
    pub(crate) storage: StoreArgs,
    /// What to do.
    #[command(subcommand)]
    pub(crate) action: TokensAction,
}

/// The `tokens` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub(crate) enum TokensAction {
    /// Revoke the token read from standard input (an access token goes onto the deny-list; a
    /// refresh token's whole grant is revoked), or with --client / --user every grant of a client or
    /// a user (their refresh tokens stop working; access tokens run out within their lifetime).
    Revoke {
        /// Revoke every grant of this client.
        #[arg(long, value_name = "CLIENT_ID", conflicts_with = "user")]
        client: Option<String>,
        /// Revoke every grant of this user (username, or subject).
        #[arg(long, value_name = "USER")]
        user: Option<String>,
    },
}

pub(super) async fn run(args: TokensArgs, out: &mut impl Write) -> Result<(), CliError> {
    let TokensAction::Revoke { client, user } = args.action;
    let admin = Admin::open(&args.storage).await?;
    let now = SystemClock.now();
    if let Some(client) = client {
        let id = ClientId::parse(&client).map_err(|e| CliError::InvalidArgument {
            what: "--client",
            reason: e.to_string(),
        })?;
        if admin.store.get_client(&id).await?.is_none() {
            return Err(AdminError::UnknownClient(client).into());
        }
        let counts = admin.store.revoke_client_grants(&id, now).await?;
        writeln!(out, "revoked {} grant(s) of client {client}", counts.grants)?;
        return Ok(());
    }
    if let Some(user) = user {
        let by_name = match Username::parse(&user) {
            Ok(name) => admin.store.find_user_by_username(&name).await?,
            Err(_) => None,
        };
        let subject = match by_name {
            Some(found) => found.id,
            None => {
                let subject =
                    Subject::parse(&user).map_err(|_| AdminError::UnknownUser(user.clone()))?;
                if admin.store.get_user(&subject).await?.is_none()
                    && admin.store.subject_grants(&subject).await?.is_empty()
                {
                    return Err(AdminError::UnknownUser(user).into());
                }
                subject
            }
        };
        let counts = admin.store.revoke_subject_grants(&subject, now).await?;
        writeln!(
            out,
            "revoked {} grant(s) of user {}",
            counts.grants,
            subject.as_str()
        )?;
        return Ok(());
    }
    let mut token = String::new();
    std::io::stdin()
        .take(MAX_TOKEN)
        .read_to_string(&mut token)
        .map_err(|source| CliError::Read {
            path: "standard input".into(),
            source,
        })?;
    let token = token.trim();
    if token.is_empty() {
        return Err(CliError::InvalidArgument {
            what: "token",
            reason: "standard input is empty: pipe the token in, or use --client / --user".into(),
        });
    }
    match admin.server.revoke_as_operator(token).await? {
        OperatorRevocation::AccessToken => writeln!(out, "revoked the access token")?,
        OperatorRevocation::Grant => {
            writeln!(
                out,
                "revoked the refresh token's grant and its token family"
            )?;
        }
        _ => {
            return Err(CliError::Failed(
                "not a token of this server (or already expired): nothing revoked".into(),
            ));
        }
    }
    Ok(())
}
