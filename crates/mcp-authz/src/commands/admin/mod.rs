//! The admin commands — `clients`, `users`, `keys`, `tokens`, `grants`, `consents`, `audit` — on
//! the store `serve` uses, found by the
//! same `--config`, `--data-dir` and `--store` resolution. A running server sees their changes at once
//! (new signing keys within seconds: see `keys`).

mod audit;
mod clients;
mod consents;
mod grants;
mod keys;
mod time;
mod tokens;
mod users;

use std::io::Write;

use mcp_authz_metadata::{ResourceUri, Scope};
use mcp_authz_server::{AuthorizationServer, MAX_ACCESS_TOKEN_LIFETIME, ServerConfig};

pub(crate) use audit::AuditArgs;
pub(crate) use clients::ClientsArgs;
pub(crate) use consents::ConsentsArgs;
pub(crate) use grants::GrantsArgs;
pub(crate) use keys::KeysArgs;
pub(crate) use tokens::TokensArgs;
pub(crate) use users::UsersArgs;

use crate::error::CliError;
use crate::settings::StoreArgs;
use crate::storage::{self, Missing, SharedStore};

/// The store and an authorization server over it (for what the server crate owns: secret and
/// password hashing, key generation).
struct Admin {
    store: SharedStore,
    server: AuthorizationServer,
    /// The configuration file's `signing_alg`, if set: the default of `keys rotate --alg`.
    signing_alg: Option<crate::settings::SigningAlg>,
}

/// A placeholder issuer: admin commands never issue tokens, and compare no issuer.
const ADMIN_ISSUER: &str = "http://127.0.0.1/";

impl Admin {
    /// Opens the store the arguments (or the environment, or the configuration file) name. Refuses
    /// to create a database: a typo in `--data-dir` must not silently make an empty one.
    async fn open(args: &StoreArgs) -> Result<Self, CliError> {
        let (storage_settings, file) = crate::settings::storage(args)?;
        let store = storage::open(
            &storage_settings.location()?,
            Missing::Refuse,
            storage_settings.sharing(),
        )
        .await?;
        let resource =
            ResourceUri::parse("http://127.0.0.1/mcp").map_err(|e| CliError::InvalidArgument {
                what: "resource",
                reason: e.to_string(),
            })?;
        // Key rotation keeps the previous key for the longest access-token lifetime any server may
        // be configured with, so it is safe whatever the running server's setting.
        let config = ServerConfig::builder_from_str(ADMIN_ISSUER)?
            .allow_http_loopback()
            .resource(resource, Scope::new())
            .access_token_lifetime(MAX_ACCESS_TOKEN_LIFETIME)
            .registration(false)
            .build()?;
        let server = AuthorizationServer::new(config, store.clone())?;
        Ok(Self {
            store,
            server,
            signing_alg: file.signing_alg,
        })
    }
}

impl Admin {
    /// The subject `name` stands for: a local user's (by username, or subject), else `name` as
    /// a subject of an upstream identity provider, if it has grants or consents.
    async fn subject_of(&self, name: &str) -> Result<mcp_authz_store::Subject, CliError> {
        if let Some(user) = self.server.find_user(name).await? {
            return Ok(user.id);
        }
        let unknown = || CliError::from(crate::error::AdminError::UnknownUser(name.to_owned()));
        let subject = mcp_authz_store::Subject::parse(name).map_err(|_| unknown())?;
        if self.server.grants(Some(&subject), None).await?.is_empty()
            && self.server.consents(Some(&subject), None).await?.is_empty()
        {
            return Err(unknown());
        }
        Ok(subject)
    }
}

/// Runs an admin command on its own runtime.
fn block_on<F: std::future::Future<Output = Result<(), CliError>>>(
    future: F,
) -> Result<(), CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Serve)?
        .block_on(future)
}

/// `mcp-authz clients …`.
pub(crate) fn clients(args: ClientsArgs, out: &mut impl Write) -> Result<(), CliError> {
    block_on(clients::run(args, out))
}

/// `mcp-authz users …`.
pub(crate) fn users(args: UsersArgs, out: &mut impl Write) -> Result<(), CliError> {
    block_on(users::run(args, out))
}

/// `mcp-authz grants …`.
pub(crate) fn grants(args: GrantsArgs, out: &mut impl Write) -> Result<(), CliError> {
    block_on(grants::run(args, out))
}

/// `mcp-authz consents …`.
pub(crate) fn consents(args: ConsentsArgs, out: &mut impl Write) -> Result<(), CliError> {
    block_on(consents::run(args, out))
}

/// `mcp-authz keys …`.
pub(crate) fn keys(args: KeysArgs, out: &mut impl Write) -> Result<(), CliError> {
    block_on(keys::run(args, out))
}

/// `mcp-authz audit …`.
pub(crate) fn audit(args: AuditArgs, out: &mut impl Write) -> Result<(), CliError> {
    block_on(audit::run(args, out))
}

/// `mcp-authz tokens …`.
pub(crate) fn tokens(args: TokensArgs, out: &mut impl Write) -> Result<(), CliError> {
    block_on(tokens::run(args, out))
}

/// Writes `value` as pretty JSON and a newline.
fn write_json(out: &mut impl Write, value: &serde_json::Value) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::Failed(e.to_string()))?;
    writeln!(out, "{text}")?;
    Ok(())
}
