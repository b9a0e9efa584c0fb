//! Settings of `serve` and the admin commands. Each comes from, in this order of precedence: the
//! command-line flag, the `MCP_AUTHZ_*` environment variable (clap's `env`), the configuration file
//! ([`file`](mod@file)), the default.

mod file;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use mcp_authz_metadata::{Issuer, ResourceUri, Scope};
use mcp_authz_server::{RateLimit, SigningAlgorithm};

use crate::cli::{ServeArgs, StoreArgs};
pub(crate) use file::FileSettings;

/// The precedence, as `serve --help` and the admin commands' help show it.
pub(crate) const PRECEDENCE_HELP: &str = "\
Settings come from, in this order of precedence: the flag, its MCP_AUTHZ_* environment variable \
(shown with each flag), the configuration file (--config, default \
$XDG_CONFIG_HOME/mcp-authz/config.toml or ~/.config/mcp-authz/config.toml when it exists; keys are \
the flag names with `_` for `-`, `resources` for --resource; relative paths are relative to the file), \
the default. See crates/mcp-authz/config.example.toml.";

/// The default listen address.
const DEFAULT_BIND: &str = "127.0.0.1:8400";

/// Defaults of the connection limits (REQUIREMENTS SEC-18).
const DEFAULT_HEADER_TIMEOUT: u64 = 10;
const DEFAULT_BODY_TIMEOUT: u64 = 30;
const DEFAULT_MAX_CONNECTIONS: usize = 1024;
const DEFAULT_SHUTDOWN_TIMEOUT: u64 = 10;
/// The largest timeout accepted: one day.
const MAX_LIMIT_SECONDS: u64 = 86_400;
/// The largest connection cap accepted.
const MAX_CONNECTIONS_LIMIT: usize = 1_000_000;

/// Why the settings could not be resolved. One line each.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SettingsError {
    /// The configuration file could not be read.
    #[error("cannot read the configuration file {path}: {source}")]
    ReadFile {
        path: String,
        source: std::io::Error,
    },
    /// The configuration file is not valid.
    #[error("invalid configuration file {path}, line {line}: {message}")]
    File {
        path: String,
        line: usize,
        message: String,
    },
    /// A setting has an invalid value.
    #[error("invalid {what}: {reason}")]
    Invalid { what: &'static str, reason: String },
    /// Two settings exclude each other.
    #[error("{0}")]
    Conflict(&'static str),
    /// No data directory was given and none could be derived from the environment.
    #[error("no data directory: set --data-dir (neither XDG_DATA_HOME nor HOME is set)")]
    NoDataDir,
}

/// How much `serve` logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LogLevel {
    /// Errors only.
    Error,
    /// Warnings and errors.
    Warn,
    /// The default.
    Info,
    /// Verbose.
    Debug,
    /// Everything.
    Trace,
}

impl LogLevel {
    /// The matching `tracing` level.
    pub(crate) fn level(self) -> tracing::Level {
        match self {
            Self::Error => tracing::Level::ERROR,
            Self::Warn => tracing::Level::WARN,
            Self::Info => tracing::Level::INFO,
            Self::Debug => tracing::Level::DEBUG,
            Self::Trace => tracing::Level::TRACE,
        }
    }
}

/// The algorithm of the signing keys the server creates (`--signing-alg`, `signing_alg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum SigningAlg {
    /// ECDSA on P-256 (`ES256`): the default.
    Es256,
    /// Ed25519 (`EdDSA`, RFC 8037).
    Eddsa,
}

impl SigningAlg {
    /// The server's algorithm.
    pub(crate) fn algorithm(self) -> SigningAlgorithm {
        match self {
            Self::Es256 => SigningAlgorithm::Es256,
            Self::Eddsa => SigningAlgorithm::EdDsa,
        }
    }
}

/// Where state lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StoreLocation {
    /// A SQLite file in this directory.
    Sqlite(PathBuf),
    /// A PostgreSQL URL.
    Postgres(String),
}

/// The resolved storage settings (shared by `serve` and the admin commands).
#[derive(Clone)]
pub(crate) struct StorageSettings {
    data_dir: Option<PathBuf>,
    store: Option<String>,
    /// `--dangerous-allow-shared-data-dir`.
    dangerous_allow_shared_data_dir: bool,
}

impl std::fmt::Debug for StorageSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The PostgreSQL URL may hold a password.
        f.debug_struct("StorageSettings")
            .field("data_dir", &self.data_dir)
            .field("store", &self.store.as_ref().map(|_| "<redacted>"))
            .field(
                "dangerous_allow_shared_data_dir",
                &self.dangerous_allow_shared_data_dir,
            )
            .finish()
    }
}

impl StorageSettings {
    /// The store: PostgreSQL when a URL is set, else SQLite in the data directory (default
    /// `$XDG_DATA_HOME/mcp-authz`, else `~/.local/share/mcp-authz`).
    pub(crate) fn location(&self) -> Result<StoreLocation, SettingsError> {
        match (&self.store, &self.data_dir) {
            (Some(url), None) => Ok(StoreLocation::Postgres(url.clone())),
            (None, Some(dir)) => Ok(StoreLocation::Sqlite(dir.clone())),
            (None, None) => default_data_dir().map(StoreLocation::Sqlite),
            (Some(_), Some(_)) => Err(SettingsError::Conflict(
                "both a data directory and a PostgreSQL store are set: choose one",
            )),
        }
    }

    /// Whether a data directory other users may access is refused (the default) or accepted.
    pub(crate) fn sharing(&self) -> crate::data_dir::Sharing {
        if self.dangerous_allow_shared_data_dir {
            crate::data_dir::Sharing::DangerousAllow
        } else {
            crate::data_dir::Sharing::Refuse
        }
    }
}

/// A protected resource the authorization server issues tokens for, besides its own demo server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExtraResource {
    /// Its canonical URI (the audience).
    pub(crate) resource: ResourceUri,
    /// The scopes its tokens may carry.
    pub(crate) scopes: Scope,
}

impl ExtraResource {
    /// Parses `URL[=SCOPE,SCOPE,...]`; without scopes, the demo server's.
    fn parse(text: &str, default_scopes: &str) -> Result<Self, SettingsError> {
        let invalid = |reason: String| SettingsError::Invalid {
            what: "--resource",
            reason: format!("{text:?}: {reason}"),
        };
        let (url, scopes) = match text.split_once('=') {
            Some((url, scopes)) => (url, scopes.replace(',', " ")),
            None => (text, default_scopes.to_owned()),
        };
        Ok(Self {
            resource: ResourceUri::parse(url).map_err(|e| invalid(e.to_string()))?,
            scopes: Scope::parse(&scopes).map_err(|e| invalid(e.to_string()))?,
        })
    }
}

/// The certificate chain and private key `serve` terminates TLS with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TlsFiles {
    /// PEM certificate chain, leaf first.
    pub(crate) cert: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub(crate) key: PathBuf,
}

/// What every listener of `serve` allows a connection (REQUIREMENTS SEC-18).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConnectionLimits {
    /// Time to send a complete request head (and to finish the TLS handshake); also the keep-alive
    /// idle limit.
    pub(crate) header_timeout: Duration,
    /// Time for a request body to arrive once it is read.
    pub(crate) body_timeout: Duration,
    /// Connections served at once.
    pub(crate) max_connections: usize,
    /// Time open connections get to finish after a shutdown signal.
    pub(crate) shutdown_timeout: Duration,
}

/// Every setting of `serve`, resolved (the log level is resolved earlier, by [`serve_log_level`]).
#[derive(Debug, Clone)]
pub(crate) struct ServeSettings {
    /// The listen address.
    pub(crate) bind: SocketAddr,
    /// The issuer; default `http(s)://<bound address>`.
    pub(crate) issuer: Option<String>,
    /// Where state lives (unused in resource-server-only mode).
    pub(crate) storage: StorageSettings,
    /// `--dev`.
    pub(crate) dev: bool,
    /// Serve https with these files.
    pub(crate) tls: Option<TlsFiles>,
    /// Resource-server-only mode: the external authorization server's issuer.
    pub(crate) authorization_server: Option<Issuer>,
    /// More resources the authorization server issues tokens for.
    pub(crate) resources: Vec<ExtraResource>,
    /// The access-token lifetime in seconds.
    pub(crate) access_token_ttl: Option<u64>,
    /// The algorithm of new signing keys.
    pub(crate) signing_alg: Option<SigningAlg>,
    /// `--dangerous-allow-loopback-cimd` (command line only): the PEM roots to trust.
    pub(crate) dangerous_loopback_cimd: Option<PathBuf>,
    /// Timeouts and the connection cap.
    pub(crate) limits: ConnectionLimits,
    /// The operator's rate limits (`None`: the server's default).
    pub(crate) rate_limits: RateLimits,
}

/// The rate limits an operator set (`--authorize-rate-limit`, `--token-rate-limit`,
/// `--register-rate-limit`); `None` keeps the server's default.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct RateLimits {
    /// The authorization endpoint and its pages.
    pub(crate) authorize: Option<RateLimit>,
    /// The token, revocation and introspection endpoints.
    pub(crate) token: Option<RateLimit>,
    /// Dynamic registration.
    pub(crate) register: Option<RateLimit>,
}

/// The rate limits from the flags (and their variables), else the file.
fn rate_limits(args: &ServeArgs, file: &FileSettings) -> Result<RateLimits, SettingsError> {
    let parse = |what: &'static str, text: Option<&String>| {
        text.map(|text| {
            text.parse::<RateLimit>()
                .map_err(|e| SettingsError::Invalid {
                    what,
                    reason: e.to_string(),
                })
        })
        .transpose()
    };
    Ok(RateLimits {
        authorize: parse(
            "--authorize-rate-limit",
            args.authorize_rate_limit
                .as_ref()
                .or(file.authorize_rate_limit.as_ref()),
        )?,
        token: parse(
            "--token-rate-limit",
            args.token_rate_limit
                .as_ref()
                .or(file.token_rate_limit.as_ref()),
        )?,
        register: parse(
            "--register-rate-limit",
            args.register_rate_limit
                .as_ref()
                .or(file.register_rate_limit.as_ref()),
        )?,
    })
}

/// Loads the file the arguments name (or the default one).
fn load_file(store: &StoreArgs) -> Result<FileSettings, SettingsError> {
    FileSettings::load(store.config.as_deref())
}

/// The storage settings of an admin command.
pub(crate) fn storage(args: &StoreArgs) -> Result<(StorageSettings, FileSettings), SettingsError> {
    let file = load_file(args)?;
    Ok((merge_storage(args, &file), file))
}

fn merge_storage(args: &StoreArgs, file: &FileSettings) -> StorageSettings {
    let dangerous_allow_shared_data_dir = args.dangerous_allow_shared_data_dir
        || file.dangerous_allow_shared_data_dir.unwrap_or(false);
    // A flag or variable naming one backend overrides the file's choice of the other.
    if args.data_dir.is_some() || args.store.is_some() {
        return StorageSettings {
            data_dir: args.data_dir.clone(),
            store: args.store.clone(),
            dangerous_allow_shared_data_dir,
        };
    }
    StorageSettings {
        data_dir: file.data_dir.clone(),
        store: file.store.clone(),
        dangerous_allow_shared_data_dir,
    }
}

/// Resolves `serve`'s settings: flag or environment variable, then file, then default.
pub(crate) fn serve(args: &ServeArgs, demo_scopes: &str) -> Result<ServeSettings, SettingsError> {
    let file = load_file(&args.storage)?;
    let bind = match args.bind.or(file.bind) {
        Some(bind) => bind,
        None => DEFAULT_BIND.parse().map_err(|_| SettingsError::Invalid {
            what: "default bind address",
            reason: DEFAULT_BIND.to_owned(),
        })?,
    };
    let tls = match (
        args.tls_cert.clone().or(file.tls_cert.clone()),
        args.tls_key.clone().or(file.tls_key.clone()),
    ) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
        (None, None) => None,
        _ => {
            return Err(SettingsError::Conflict(
                "--tls-cert and --tls-key go together: set both or neither",
            ));
        }
    };
    let authorization_server = args
        .authorization_server
        .clone()
        .or(file.authorization_server.clone())
        .map(|text| {
            Issuer::parse(&text).map_err(|e| SettingsError::Invalid {
                what: "--authorization-server",
                reason: format!("{text:?}: {e}"),
            })
        })
        .transpose()?;
    let resource_texts = if args.resources.is_empty() {
        file.resources.clone().unwrap_or_default()
    } else {
        args.resources.clone()
    };
    let resources = resource_texts
        .iter()
        .map(|text| ExtraResource::parse(text, demo_scopes))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ServeSettings {
        bind,
        issuer: args.issuer.clone().or(file.issuer.clone()),
        storage: merge_storage(&args.storage, &file),
        dev: args.dev.or(file.dev).unwrap_or(false),
        tls,
        authorization_server,
        resources,
        access_token_ttl: args.access_token_ttl.or(file.access_token_ttl),
        signing_alg: args.signing_alg.or(file.signing_alg),
        dangerous_loopback_cimd: args.dangerous_allow_loopback_cimd.clone(),
        limits: limits(args, &file)?,
        rate_limits: rate_limits(args, &file)?,
    })
}

/// The connection limits: each at least 1 (0 would refuse or cut off every client) and at most
/// [`MAX_LIMIT_SECONDS`] / [`MAX_CONNECTIONS_LIMIT`] (larger values mean "no limit" and overflow
/// timers).
fn limits(args: &ServeArgs, file: &FileSettings) -> Result<ConnectionLimits, SettingsError> {
    let seconds = |what: &'static str, value: Option<u64>, default: u64| match value {
        Some(v) if !(1..=MAX_LIMIT_SECONDS).contains(&v) => Err(SettingsError::Invalid {
            what,
            reason: format!("must be between 1 and {MAX_LIMIT_SECONDS} seconds"),
        }),
        value => Ok(Duration::from_secs(value.unwrap_or(default))),
    };
    let max_connections = match args.max_connections.or(file.max_connections) {
        Some(n) if !(1..=MAX_CONNECTIONS_LIMIT).contains(&n) => {
            return Err(SettingsError::Invalid {
                what: "--max-connections",
                reason: format!("must be between 1 and {MAX_CONNECTIONS_LIMIT}"),
            });
        }
        value => value.unwrap_or(DEFAULT_MAX_CONNECTIONS),
    };
    Ok(ConnectionLimits {
        header_timeout: seconds(
            "--header-timeout",
            args.header_timeout.or(file.header_timeout),
            DEFAULT_HEADER_TIMEOUT,
        )?,
        body_timeout: seconds(
            "--body-timeout",
            args.body_timeout.or(file.body_timeout),
            DEFAULT_BODY_TIMEOUT,
        )?,
        max_connections,
        shutdown_timeout: seconds(
            "--shutdown-timeout",
            args.shutdown_timeout.or(file.shutdown_timeout),
            DEFAULT_SHUTDOWN_TIMEOUT,
        )?,
    })
}

/// The log level for `serve` before anything else runs: a broken file is reported later by
/// [`serve`], so it is ignored here.
pub(crate) fn serve_log_level(args: &ServeArgs) -> tracing::Level {
    args.log_level
        .or_else(|| load_file(&args.storage).ok().and_then(|f| f.log_level))
        .unwrap_or(LogLevel::Info)
        .level()
}

/// `$XDG_DATA_HOME/mcp-authz`, else `$HOME/.local/share/mcp-authz`.
fn default_data_dir() -> Result<PathBuf, SettingsError> {
    let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(data) = non_empty("XDG_DATA_HOME") {
        return Ok(PathBuf::from(data).join("mcp-authz"));
    }
    non_empty("HOME")
        .map(|home| PathBuf::from(home).join(".local/share/mcp-authz"))
        .ok_or(SettingsError::NoDataDir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_parse_with_and_without_scopes() {
        let r = ExtraResource::parse("https://mcp.example.com/mcp=a,b:c", "x").unwrap();
        assert_eq!(r.resource.as_str(), "https://mcp.example.com/mcp");
        assert_eq!(r.scopes, Scope::parse("a b:c").unwrap());
        let d = ExtraResource::parse("https://mcp.example.com/mcp", "x y").unwrap();
        assert_eq!(d.scopes, Scope::parse("x y").unwrap());
        assert!(ExtraResource::parse("not a url=a", "x").is_err());
    }

    #[test]
    fn a_flag_for_one_backend_overrides_the_file_choice_of_the_other() {
        let file = FileSettings {
            store: Some("postgres://db/x".into()),
            ..FileSettings::default()
        };
        let args = StoreArgs {
            config: None,
            data_dir: Some("/tmp/d".into()),
            store: None,
            dangerous_allow_shared_data_dir: false,
        };
        assert_eq!(
            merge_storage(&args, &file).location().unwrap(),
            StoreLocation::Sqlite("/tmp/d".into())
        );
        let both = StorageSettings {
            data_dir: Some("/a".into()),
            store: Some("postgres://b".into()),
            dangerous_allow_shared_data_dir: false,
        };
        assert!(matches!(both.location(), Err(SettingsError::Conflict(_))));
    }

    proptest::proptest! {
        /// Any `--resource` text is a value or an error, never a panic.
        #[test]
        fn any_resource_text_parses_or_errs(text in "\\PC{0,80}") {
            let _ = ExtraResource::parse(&text, "mcp:tools");
        }

        /// `URL=SCOPES` round trip: the canonical URI and the scopes come back.
        #[test]
        fn resource_with_scopes_round_trips(
            host in "[a-z]{1,10}\\.example",
            path in "(/[a-z0-9]{1,6}){0,3}",
            scopes in proptest::collection::btree_set("[a-z][a-z:._-]{0,8}", 1..4),
        ) {
            let url = format!("https://{host}{path}");
            let joined = scopes.iter().cloned().collect::<Vec<_>>();
            let r = ExtraResource::parse(&format!("{url}={}", joined.join(",")), "x").unwrap();
            proptest::prop_assert_eq!(r.resource, ResourceUri::parse(&url).unwrap());
            proptest::prop_assert_eq!(r.scopes, Scope::parse(&joined.join(" ")).unwrap());
        }
    }
}
