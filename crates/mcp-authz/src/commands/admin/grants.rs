//! `mcp-authz grants list|revoke`: the grants (refresh-token families) users gave clients
//! (REQUIREMENTS OB-4).

use std::io::Write;

use mcp_authz_metadata::ClientId;
use mcp_authz_store::{FamilyId, Grant, Subject};

use super::{Admin, time::rfc3339, write_json};
use crate::error::{AdminError, CliError};
use crate::settings::StoreArgs;

/// `grants`: list and revoke grants.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct GrantsArgs {
    /// The configuration file and the store.
    #[command(flatten)]
    pub(crate) storage: StoreArgs,
    /// What to do.
    #[command(subcommand)]
    pub(crate) action: GrantsAction,
}

/// The `grants` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub(crate) enum GrantsAction {
    /// List grants, revoked ones too (oldest first).
    List {
        /// Only this user's (username, or subject).
        #[arg(long, value_name = "USER")]
        user: Option<String>,
        /// Only this client's.
        #[arg(long, value_name = "CLIENT_ID")]
        client: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke one grant by its id (its refresh tokens stop working, its access tokens are
    /// refused), or with --user and/or --client every active grant of a user, a client or a user
    /// to a client.
    Revoke {
        /// The grant (family) id, as `grants list` shows it.
        #[arg(value_name = "FAMILY_ID", required_unless_present_any = ["user", "client"], conflicts_with_all = ["user", "client"])]
        family: Option<String>,
        /// Every grant of this user (username, or subject).
        #[arg(long, value_name = "USER")]
        user: Option<String>,
        /// Every grant to this client.
        #[arg(long, value_name = "CLIENT_ID")]
        client: Option<String>,
    },
}

/// A client id from `--client`.
pub(super) fn client_id(text: &str) -> Result<ClientId, CliError> {
    ClientId::parse(text).map_err(|e| CliError::InvalidArgument {
        what: "--client",
        reason: e.to_string(),
    })
}

/// A grant as JSON: no token, no secret.
pub(super) fn grant_json(grant: &Grant) -> serde_json::Value {
    serde_json::json!({
        "id": grant.id.as_str(),
        "subject": grant.subject.as_str(),
        "client_id": grant.client_id.as_str(),
        "scope": grant.scope.to_string(),
        "resources": grant.resources.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "created_at": rfc3339(grant.created_at),
        "expires_at": rfc3339(grant.expires_at),
        "revoked_at": grant.revoked.map(|r| rfc3339(r.at)),
        "revoked_reason": grant.revoked.map(|r| r.reason.as_str()),
    })
}

/// The grants `user` and `client` select.
async fn selected(
    admin: &Admin,
    user: Option<&str>,
    client: Option<&str>,
) -> Result<(Option<Subject>, Option<ClientId>, Vec<Grant>), CliError> {
    let subject = match user {
        Some(user) => Some(admin.subject_of(user).await?),
        None => None,
    };
    let client = client.map(client_id).transpose()?;
    let grants = admin
        .server
        .grants(subject.as_ref(), client.as_ref())
        .await?;
    Ok((subject, client, grants))
}

pub(super) async fn run(args: GrantsArgs, out: &mut impl Write) -> Result<(), CliError> {
    let admin = Admin::open(&args.storage).await?;
    match args.action {
        GrantsAction::List { user, client, json } => {
            let (_, _, grants) = selected(&admin, user.as_deref(), client.as_deref()).await?;
            if json {
                return write_json(out, &grants.iter().map(grant_json).collect());
            }
            writeln!(
                out,
                "{:<36} {:<36} {:<36} {:<20} {:<20} SCOPE",
                "GRANT", "SUBJECT", "CLIENT", "CREATED", "STATUS"
            )?;
            for g in &grants {
                let status = match g.revoked {
                    Some(r) => format!("revoked:{}", r.reason.as_str()),
                    None => "active".to_owned(),
                };
                writeln!(
                    out,
                    "{:<36} {:<36} {:<36} {:<20} {:<20} {}",
                    g.id.as_str(),
                    g.subject.as_str(),
                    g.client_id.as_str(),
                    rfc3339(g.created_at),
                    status,
                    g.scope
                )?;
            }
            Ok(())
        }
        GrantsAction::Revoke {
            family,
            user,
            client,
        } => {
            if let Some(family) = family {
                let id = FamilyId::parse(&family).map_err(|e| CliError::InvalidArgument {
                    what: "FAMILY_ID",
                    reason: e.to_string(),
                })?;
                if !admin.server.revoke_grant(&id).await? {
                    return Err(AdminError::UnknownGrant(family).into());
                }
                writeln!(out, "revoked grant {family} and its tokens")?;
                return Ok(());
            }
            let (_, _, grants) = selected(&admin, user.as_deref(), client.as_deref()).await?;
            let mut revoked = 0u64;
            for grant in grants.iter().filter(|g| g.revoked.is_none()) {
                if admin.server.revoke_grant(&grant.id).await? {
                    revoked += 1;
                }
            }
            writeln!(out, "revoked {revoked} grant(s) and their tokens")?;
            Ok(())
        }
    }
}
