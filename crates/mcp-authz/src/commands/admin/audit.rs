//! `mcp-authz audit`: the stored audit events (REQUIREMENTS OB-1), filtered by client, user and
//! time, as a table or JSON. Events never hold a token, code, secret or password.

use std::io::Write;

use mcp_authz_metadata::ClientId;
use mcp_authz_store::{AuditEvent, AuditQuery, Clock as _, Subject, SystemClock, Username};

use super::time::{parse_since, rfc3339};
use super::{Admin, write_json};
use crate::error::CliError;
use crate::settings::StoreArgs;

/// `audit`: list audit events.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct AuditArgs {
    /// The configuration file and the store.
    #[command(flatten)]
    pub(crate) storage: StoreArgs,
    /// Only events of this client.
    #[arg(long, value_name = "CLIENT_ID")]
    client: Option<String>,
    /// Only events of this user (username, or subject).
    #[arg(long, value_name = "USER")]
    user: Option<String>,
    /// Only events since this time: RFC 3339 UTC (2026-01-31T12:00:00Z, or a date) or a duration
    /// before now (30m, 24h, 7d).
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// At most this many events (the most recent).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    limit: u32,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

fn invalid(what: &'static str, reason: impl ToString) -> CliError {
    CliError::InvalidArgument {
        what,
        reason: reason.to_string(),
    }
}

/// The query the arguments ask for; `--user` names a user by username and by subject at once.
async fn query(args: &AuditArgs, admin: &Admin) -> Result<AuditQuery, CliError> {
    let mut query = AuditQuery {
        limit: args.limit,
        ..AuditQuery::default()
    };
    if let Some(client) = &args.client {
        query.client_id = Some(ClientId::parse(client).map_err(|e| invalid("--client", e))?);
    }
    if let Some(user) = &args.user {
        query.username = Username::parse(user).ok();
        let known = match &query.username {
            Some(name) => admin.store.find_user_by_username(name).await?,
            None => None,
        };
        query.subject = match known {
            Some(user) => Some(user.id),
            None => Subject::parse(user).ok(),
        };
        if query.subject.is_none() && query.username.is_none() {
            return Err(invalid("--user", "not a username or subject"));
        }
    }
    if let Some(since) = &args.since {
        query.since =
            Some(parse_since(since, SystemClock.now()).map_err(|e| invalid("--since", e))?);
    }
    Ok(query)
}

pub(super) async fn run(args: AuditArgs, out: &mut impl Write) -> Result<(), CliError> {
    let admin = Admin::open(&args.storage).await?;
    let events = admin
        .store
        .audit_events(&query(&args, &admin).await?)
        .await?;
    if args.json {
        let rows: Vec<serde_json::Value> = events.iter().map(to_json).collect();
        return write_json(out, &serde_json::Value::Array(rows));
    }
    writeln!(
        out,
        "{:<20} {:<26} {:<7} {:<28} {:<24} {:<16} {:<15} SCOPE",
        "TIME", "KIND", "OUTCOME", "REASON", "CLIENT_ID", "USER", "PEER"
    )?;
    for e in &events {
        let user = match (&e.username, &e.subject) {
            (Some(name), _) => name.as_str().to_owned(),
            (None, Some(subject)) => subject.as_str().to_owned(),
            (None, None) => "-".to_owned(),
        };
        let scope = e.scope.to_string();
        writeln!(
            out,
            "{:<20} {:<26} {:<7} {:<28} {:<24} {:<16} {:<15} {}",
            rfc3339(e.at),
            e.kind.as_str(),
            e.outcome.as_str(),
            e.reason.as_ref().map_or("-", |r| r.as_str()),
            e.client_id.as_ref().map_or("-", ClientId::as_str),
            user,
            e.peer.map_or_else(|| "-".to_owned(), |p| p.to_string()),
            if scope.is_empty() {
                "-"
            } else {
                scope.as_str()
            },
        )?;
    }
    Ok(())
}

pub(super) fn to_json(e: &AuditEvent) -> serde_json::Value {
    serde_json::json!({
        "time": rfc3339(e.at),
        "kind": e.kind.as_str(),
        "outcome": e.outcome.as_str(),
        "reason": e.reason.as_ref().map(|r| r.as_str()),
        "client_id": e.client_id.as_ref().map(ClientId::as_str),
        "subject": e.subject.as_ref().map(Subject::as_str),
        "username": e.username.as_ref().map(Username::as_str),
        "scope": e.scope.to_string(),
        "resources": e.resources.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "peer": e.peer.map(|p| p.to_string()),
    })
}
