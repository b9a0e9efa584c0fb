//! `mcp-authz keys list|rotate`.
//!
//! Rotation creates a new key (ES256, or EdDSA with `--alg eddsa`, `MCP_AUTHZ_SIGNING_ALG` or the
//! configuration file's `signing_alg`) and publishes it in the JWKS at once; a running server starts
//! signing with it after the publication delay (default 10 minutes, `--publication-delay`), by when
//! resource servers have refetched the JWKS (it is served with `max-age=300`), so that no fresh token
//! is refused for an unknown key (SEC-15). `--now` makes it sign at once (a compromised key). The
//! previous key then stays published in the JWKS (and valid for verification) for the longest
//! access-token lifetime (1 hour) plus a minute, then leaves it and is purged. A running server
//! notices an immediate rotation within 10 seconds (its active-key cache).

use std::io::Write;
use std::time::Duration;

use mcp_authz_store::{Clock as _, KeyState, NumericDate, SigningKey, SystemClock};

use super::time::{parse_duration, rfc3339};
use super::{Admin, write_json};
use crate::error::{AdminError, CliError};
use crate::settings::SigningAlg;
use crate::settings::StoreArgs;

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
    /// Create a new signing key and publish it; it starts signing after the publication delay, and
    /// the previous one then stays published for verification until every token it signed has
    /// expired.
    Rotate {
        /// The new key's algorithm. Default: the configuration file's `signing_alg`, else es256.
        #[arg(long, env = "MCP_AUTHZ_SIGNING_ALG", value_enum)]
        alg: Option<SigningAlg>,
        /// How long the new key is in the JWKS before it signs (`90s`, `10m`, `1h`; a bare number is
        /// seconds). Keep it longer than the JWKS lifetime of your resource servers (the JWKS is
        /// served with max-age=300). Default: 10m.
        #[arg(long, value_name = "DURATION", value_parser = parse_duration, conflicts_with = "now")]
        publication_delay: Option<Duration>,
        /// Sign with the new key at once (a compromised key): resource servers that have not fetched
        /// the JWKS since refuse its tokens until they refetch it.
        #[arg(long)]
        now: bool,
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
                            "signs_from": k.activates_at.map(rfc3339),
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
        KeysAction::Rotate {
            alg,
            publication_delay,
            now,
        } => {
            let algorithm = alg
                .or(admin.signing_alg)
                .map(SigningAlg::algorithm)
                .unwrap_or_default();
            let delay = if now {
                Duration::ZERO
            } else {
                publication_delay.unwrap_or(mcp_authz_server::DEFAULT_KEY_PUBLICATION_DELAY)
            };
            let rotation = admin
                .server
                .rotate_signing_key_to(algorithm, delay)
                .await
                .map_err(AdminError::Key)?;
            if delay.is_zero() {
                writeln!(out, "active key: {}", rotation.kid.as_str())?;
                eprintln!(
                    "mcp-authz: the previous key stays published for verification for 1 hour and 1 minute; \
                     a running server signs with the new key within 10 seconds."
                );
            } else {
                writeln!(
                    out,
                    "next key: {} signs from {}",
                    rotation.kid.as_str(),
                    rfc3339(rotation.signs_from)
                )?;
                eprintln!(
                    "mcp-authz: the new key is published in the JWKS now and signs from then on; the \
                     previous key then stays published for verification for 1 hour and 1 minute."
                );
            }
            Ok(())
        }
    }
}

/// `active`, `published`, `retired until …`, or `expired` (retired and past its time: purgeable).
fn status(key: &SigningKey, now: NumericDate) -> String {
    match key.state {
        KeyState::Active => "active".to_owned(),
        KeyState::Published => match key.activates_at {
            Some(at) if now < at => format!("published, signs from {}", rfc3339(at)),
            // Due: a running server activates it when it next signs.
            Some(_) => "published, due".to_owned(),
            None => "published".to_owned(),
        },
        KeyState::Retired { until } if now < until => format!("retired until {}", rfc3339(until)),
        KeyState::Retired { .. } => "expired".to_owned(),
        _ => "unknown".to_owned(),
    }
}
