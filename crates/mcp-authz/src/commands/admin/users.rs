//! `mcp-authz users add|list|remove`: the local users of the login page. Passwords are read from
//! standard input or a prompt without echo, never from a flag (flags end up in shell history and
//! process listings), and stored as Argon2id hashes by the server crate.

use std::io::{BufRead as _, IsTerminal as _, Write};

use mcp_authz_store::{Clock as _, RandomIds, StoreError, SystemClock, Username};

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
    /// Remove a user and revoke their grants.
    Remove {
        /// The login name.
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
        UsersAction::Remove { username: name } => {
            let parsed = username(&name)?;
            let admin = Admin::open(&args.storage).await?;
            let user = admin
                .store
                .find_user_by_username(&parsed)
                .await?
                .ok_or_else(|| AdminError::UnknownUser(name.clone()))?;
            // Revoke first: a user removed but still holding live refresh tokens would be worse
            // than the reverse.
            let revoked = admin
                .store
                .revoke_subject_grants(&user.id, SystemClock.now())
                .await?;
            admin.store.delete_user(&user.id).await?;
            writeln!(
                out,
                "removed user {}; revoked {} grant(s)",
                user.username.as_str(),
                revoked.grants
            )?;
            Ok(())
        }
    }
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
