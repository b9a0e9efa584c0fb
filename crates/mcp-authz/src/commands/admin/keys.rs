//! `mcp-authz keys list|rotate`.
//!
//! Rotation creates a new key (ES256, or EdDSA with `--alg eddsa`, `MCP_AUTHZ_SIGNING_ALG` or the
//! configuration file's `signing_alg`) and makes it active at once; the previous key stays published in
//! the JWKS (and valid for verification) for the longest access-token lifetime (1 hour) plus a
//! minute, then leaves it and is purged. A running server signs with the new key within 10 seconds
//! (its active-key cache) and serves the new JWKS immediately; resource servers refetch the JWKS when
//! they see the unknown `kid` (the demo server at most every 30 seconds).

use std::io::Write;

use mcp_authz_store::{Clock as _, KeyState, SigningKey, SystemClock, UnixTime};

use super::{Admin, AdminError, time::rfc3339, write_json};
use crate::cli::StoreArgs;
use crate::error::CliError;
use crate::settings::SigningAlg;

/// `keys`: signing keys.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct KeysArgs {
    /// The configuration file and the store.
    #[command(flatten)]
    pub(crate) storage: StoreArgs,
    /// What to do.
    #[command(subcommand)]
    pub(crate) action: KeysAction,
}

/// The `keys` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub(crate) enum KeysAction {
    /// List every key: kid, algorithm, creation time, status.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Create a new signing key and make it active; the previous one stays published for
    /// verification until every token it signed has expired.
    Rotate {
        /// The new key's algorithm. Default: the configuration file's `signing_alg`, else es256.
        #[arg(long, env = "MCP_AUTHZ_SIGNING_ALG", value_enum)]
        alg: Option<SigningAlg>,
    },
}

pub(super) async fn run(args: KeysArgs, out: &mut impl Write) -> Result<(), CliError> {
    let admin = Admin::open(&args.storage).await?;
    match args.action {
        KeysAction::List { json } => {
            let now = SystemClock.now();
            let keys = admin.store.list_keys().await?;
            if json {
                let rows = keys
                    .iter()
                    .map(|k| {
                        serde_json::json!({
                            "kid": k.kid.as_str(),
                            "alg": k.algorithm.as_str(),
                            "created_at": rfc3339(k.created_at),
                            "status": status(k, now),
                            "published": k.is_published(now),
                        })
                    })
                    .collect();
                return write_json(out, &serde_json::Value::Array(rows));
            }
            writeln!(out, "{:<36} {:<6} {:<20} STATUS", "KID", "ALG", "CREATED")?;
            for k in &keys {
                writeln!(
                    out,
                    "{:<36} {:<6} {:<20} {}",
                    k.kid.as_str(),
                    k.algorithm.as_str(),
                    rfc3339(k.created_at),
                    status(k, now)
                )?;
            }
            Ok(())
        }
        KeysAction::Rotate { alg } => {
            let algorithm = alg
                .or(admin.signing_alg)
                .map(SigningAlg::algorithm)
                .unwrap_or_default();
            let kid = admin
                .server
                .rotate_signing_key_to(algorithm)
                .await
                .map_err(AdminError::Key)?;
            writeln!(out, "active key: {}", kid.as_str())?;
            eprintln!(
                "mcp-authz: the previous key stays published for verification for 1 hour and 1 minute; \
                 a running server signs with the new key within 10 seconds."
            );
            Ok(())
        }
    }
}

/// `active`, `published`, `retired until …`, or `expired` (retired and past its time: purgeable).
fn status(key: &SigningKey, now: UnixTime) -> String {
    match key.state {
        KeyState::Active => "active".to_owned(),
        KeyState::Published => "published".to_owned(),
        KeyState::Retired { until } if now < until => format!("retired until {}", rfc3339(until)),
        KeyState::Retired { .. } => "expired".to_owned(),
        _ => "unknown".to_owned(),
    }
}
