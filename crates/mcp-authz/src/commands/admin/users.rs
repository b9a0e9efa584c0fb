//! `mcp-authz users add|list|passwd|disable|enable|export|remove`: the local users of the login
//! page (REQUIREMENTS OB-4). Passwords are read from standard input or a prompt without echo, never
//! from a flag (flags end up in shell history and process listings), and stored as Argon2id hashes
//! by the server crate.

use std::io::{BufRead as _, IsTerminal as _, Write};

use mcp_authz_store::{Clock as _, RandomIds, StoreError, SystemClock, Username};

use super::consents::consent_json;
use super::grants::grant_json;
use super::{Admin, time::rfc3339, write_json};
use crate::error::{AdminError, CliError};
use crate::settings::StoreArgs;

/// Passwords shorter than this are refused.
const MIN_PASSWORD: usize = 8;

/// `users`: manage local users.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct UsersArgs {
    /// The configuration file and the store.
    #[command(flatten)]
    pub(crate) storage: StoreArgs,
    /// What to do.
    #[command(subcommand)]
    pub(crate) action: UsersAction,
}

/// The `users` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub(crate) enum UsersAction {
    /// Create a user. The password is read from standard input (first line), or prompted for
    /// twice without echo on a terminal.
    Add {
        /// The login name.
        username: String,
    },
    /// List every user.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Set a user's password. The password is read from standard input (first line), or
    /// prompted for twice without echo on a terminal.
    Passwd {
        /// The login name (or subject).
        username: String,
    },
    /// Disable a user: they can no longer sign in, and every grant of theirs is revoked (their
    /// refresh tokens fail, their access tokens are refused).
    Disable {
        /// The login name (or subject).
        username: String,
    },
    /// Enable a disabled user again (their revoked grants stay revoked).
    Enable {
        /// The login name (or subject).
        username: String,
    },
    /// Print everything kept about a user as JSON: the user, their grants and consents (no
    /// password hash, no token).
    Export {
        /// The login name (or subject).
        username: String,
    },
    /// Remove a user and everything they granted: grants revoked (with their tokens), consents
    /// forgotten.
    Remove {
        /// The login name (or subject).
        username: String,
    },
}

fn username(text: &str) -> Result<Username, CliError> {
    Username::parse(text).map_err(|e| CliError::InvalidArgument {
        what: "username",
        reason: e.to_string(),
    })
}

pub(super) async fn run(args: UsersArgs, out: &mut impl Write) -> Result<(), CliError> {
    match args.action {
        UsersAction::Add { username: name } => {
            username(&name)?;
            // The store first: a wrong --data-dir fails before the password is asked for.
            let admin = Admin::open(&args.storage).await?;
            let password = read_password()?;
            let user = admin
                .server
                .local_users()
                .create_user(&RandomIds, &name, &password, SystemClock.now())
                .await
                .map_err(|e| match e {
                    mcp_authz_server::CreateUserError::Store(StoreError::Conflict { .. }) => {
                        CliError::from(AdminError::UserExists(name.clone()))
                    }
                    e => CliError::from(e),
                })?;
            writeln!(
                out,
                "created user {} (subject {})",
                user.username.as_str(),
                user.id.as_str()
            )?;
            Ok(())
        }
        UsersAction::List { json } => {
            let admin = Admin::open(&args.storage).await?;
            let users = admin.store.list_users().await?;
            if json {
                let rows = users
                    .iter()
                    .map(|u| {
                        serde_json::json!({
                            "username": u.username.as_str(),
                            "subject": u.id.as_str(),
                            "created_at": rfc3339(u.created_at),
                            "disabled": u.disabled,
                        })
                    })
                    .collect();
                return write_json(out, &serde_json::Value::Array(rows));
            }
            writeln!(
                out,
                "{:<24} {:<36} {:<20} STATUS",
                "USERNAME", "SUBJECT", "CREATED"
            )?;
            for u in &users {
                writeln!(
                    out,
                    "{:<24} {:<36} {:<20} {}",
                    u.username.as_str(),
                    u.id.as_str(),
                    rfc3339(u.created_at),
                    if u.disabled { "disabled" } else { "enabled" }
                )?;
            }
            Ok(())
        }
        UsersAction::Passwd { username: name } => {
            // The user first: a wrong name fails before the password is asked for.
            let admin = Admin::open(&args.storage).await?;
            let user = known_user(&admin, &name).await?;
            let password = read_password()?;
            admin
                .server
                .set_user_password(&user.id, &password)
                .await
                .map_err(AdminError::from)?;
            writeln!(out, "set the password of user {}", user.username.as_str())?;
            Ok(())
        }
        UsersAction::Disable { username: name } => {
            let admin = Admin::open(&args.storage).await?;
            let user = known_user(&admin, &name).await?;
            let revoked = admin.server.disable_user(&user.id).await?;
            writeln!(
                out,
                "disabled user {}; revoked {} grant(s)",
                user.username.as_str(),
                revoked.grants
            )?;
            Ok(())
        }
        UsersAction::Enable { username: name } => {
            let admin = Admin::open(&args.storage).await?;
            let user = known_user(&admin, &name).await?;
            admin.server.enable_user(&user.id).await?;
            writeln!(out, "enabled user {}", user.username.as_str())?;
            Ok(())
        }
        UsersAction::Export { username: name } => {
            let admin = Admin::open(&args.storage).await?;
            let user = known_user(&admin, &name).await?;
            let export = admin
                .server
                .export_user(&user.id)
                .await?
                .ok_or_else(|| AdminError::UnknownUser(name.clone()))?;
            let value = serde_json::json!({
                "user": {
                    "username": export.username.as_str(),
                    "subject": export.subject.as_str(),
                    "created_at": rfc3339(export.created_at),
                    "disabled": export.disabled,
                },
                "grants": export.grants.iter().map(grant_json).collect::<Vec<_>>(),
                "consents": export.consents.iter().map(consent_json).collect::<Vec<_>>(),
                "audit_events": export.audit_events.iter().map(super::audit::to_json).collect::<Vec<_>>(),
            });
            write_json(out, &value)
        }
        UsersAction::Remove { username: name } => {
            let admin = Admin::open(&args.storage).await?;
            let user = known_user(&admin, &name).await?;
            let removed = admin.server.remove_user(&user.id).await?;
            writeln!(
                out,
                "removed user {}; revoked {} grant(s), forgot {} consent(s)",
                user.username.as_str(),
                removed.grants,
                removed.consents
            )?;
            Ok(())
        }
    }
}

/// The local user `name` (a username, or a subject).
async fn known_user(admin: &Admin, name: &str) -> Result<mcp_authz_store::User, CliError> {
    Ok(admin
        .server
        .find_user(name)
        .await?
        .ok_or_else(|| AdminError::UnknownUser(name.to_owned()))?)
}

/// The new password: from a prompt without echo (asked twice) on a terminal, else the first line
/// of standard input.
fn read_password() -> Result<String, CliError> {
    let fail = |reason: String| CliError::from(AdminError::Password(reason));
    let password = if std::io::stdin().is_terminal() {
        let first =
            rpassword::prompt_password("New password: ").map_err(|e| fail(e.to_string()))?;
        let again = rpassword::prompt_password("Repeat it: ").map_err(|e| fail(e.to_string()))?;
        if first != again {
            return Err(fail("the two entries differ".into()));
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| fail(format!("cannot read standard input: {e}")))?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    if password.chars().count() < MIN_PASSWORD {
        return Err(fail(format!(
            "at least {MIN_PASSWORD} characters are required (read from standard input, or a prompt on a terminal)"
        )));
    }
    Ok(password)
}
