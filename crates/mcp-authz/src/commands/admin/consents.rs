//! `mcp-authz consents list|revoke`: the consents users remembered for clients (REQUIREMENTS
//! OB-4). Forgetting one makes the next authorization of that client ask the user again; its
//! grants stay (`grants revoke` takes them back).

use std::io::Write;

use mcp_authz_store::Consent;

use super::grants::client_id;
use super::{Admin, time::rfc3339, write_json};
use crate::error::{AdminError, CliError};
use crate::settings::StoreArgs;

/// `consents`: list and revoke remembered consents.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ConsentsArgs {
    /// The configuration file and the store.
    #[command(flatten)]
    pub(crate) storage: StoreArgs,
    /// What to do.
    #[command(subcommand)]
    pub(crate) action: ConsentsAction,
}

/// The `consents` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub(crate) enum ConsentsAction {
    /// List remembered consents (by user, then client).
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
    /// Forget a user's consent for a client: the next authorization asks again.
    Revoke {
        /// The user (username, or subject).
        #[arg(long, value_name = "USER")]
        user: String,
        /// The client.
        #[arg(long, value_name = "CLIENT_ID")]
        client: String,
    },
}

/// A consent as JSON.
pub(super) fn consent_json(consent: &Consent) -> serde_json::Value {
    serde_json::json!({
        "subject": consent.subject.as_str(),
        "client_id": consent.client_id.as_str(),
        "scope": consent.scope.to_string(),
        "resources": consent.resources.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "granted_at": rfc3339(consent.granted_at),
    })
}

pub(super) async fn run(args: ConsentsArgs, out: &mut impl Write) -> Result<(), CliError> {
    let admin = Admin::open(&args.storage).await?;
    match args.action {
        ConsentsAction::List { user, client, json } => {
            let subject = match user {
                Some(user) => Some(admin.subject_of(&user).await?),
                None => None,
            };
            let client = client.as_deref().map(client_id).transpose()?;
            let consents = admin
                .server
                .consents(subject.as_ref(), client.as_ref())
                .await?;
            if json {
                return write_json(out, &consents.iter().map(consent_json).collect());
            }
            writeln!(
                out,
                "{:<36} {:<36} {:<20} SCOPE",
                "SUBJECT", "CLIENT", "GRANTED"
            )?;
            for c in &consents {
                writeln!(
                    out,
                    "{:<36} {:<36} {:<20} {}",
                    c.subject.as_str(),
                    c.client_id.as_str(),
                    rfc3339(c.granted_at),
                    c.scope
                )?;
            }
            Ok(())
        }
        ConsentsAction::Revoke { user, client } => {
            let subject = admin.subject_of(&user).await?;
            let id = client_id(&client)?;
            if !admin.server.revoke_consent(&subject, &id).await? {
                return Err(AdminError::UnknownConsent { user, client }.into());
            }
            writeln!(
                out,
                "forgot the consent of user {user} for client {client}; its next authorization asks again"
            )?;
            Ok(())
        }
    }
}
