//! Settings shared by `serve` and the admin commands: where the configuration and the state are, and
//! the value types both resolve (`serve`'s own settings are resolved in `commands::serve::settings`).
//! Each comes from, in this order of precedence: the command-line flag, the `MCP_AUTHZ_*` environment
//! variable (clap's `env`), the configuration file ([`file`](mod@file)), the default.

mod args;
mod file;

use std::path::PathBuf;

use mcp_authz_server::SigningAlgorithm;

pub(crate) use args::StoreArgs;
pub(crate) use file::FileSettings;

use crate::error::SettingsError;

/// The precedence, as `serve --help` and the admin commands' help show it.
pub(crate) const PRECEDENCE_HELP: &str = "\
Settings come from, in this order of precedence: the flag, its MCP_AUTHZ_* environment variable \
(shown with each flag), the configuration file (--config, default \
$XDG_CONFIG_HOME/mcp-authz/config.toml or ~/.config/mcp-authz/config.toml when it exists; keys are \
the flag names with `_` for `-`, `resources` for --resource; relative paths are relative to the file), \
the default. `mcp-authz serve --example-config` prints an annotated configuration file with every \
key.";

/// The annotated example configuration file (`serve --example-config`).
pub(crate) const EXAMPLE_CONFIG: &str = include_str!("../../config.example.toml");

/// How `serve` writes log lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LogFormat {
    /// Human-readable lines: the default.
    #[default]
    Text,
    /// One JSON object per line (time, level, target, message and fields), for log collectors.
    Json,
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
    /// This SQLite file (`--database`).
    SqliteFile(PathBuf),
    /// A PostgreSQL URL.
    Postgres(String),
}

/// The resolved storage settings (shared by `serve` and the admin commands).
#[derive(Clone)]
pub(crate) struct StorageSettings {
    data_dir: Option<PathBuf>,
    database: Option<PathBuf>,
    store: Option<String>,
    /// `--dangerous-allow-shared-data-dir`.
    dangerous_allow_shared_data_dir: bool,
}

impl std::fmt::Debug for StorageSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The PostgreSQL URL may hold a password.
        f.debug_struct("StorageSettings")
            .field("data_dir", &self.data_dir)
            .field("database", &self.database)
            .field("store", &self.store.as_ref().map(|_| "<redacted>"))
            .field(
                "dangerous_allow_shared_data_dir",
                &self.dangerous_allow_shared_data_dir,
            )
            .finish()
    }
}

impl StorageSettings {
    /// The store: PostgreSQL when a URL is set, the SQLite file `--database` names, else SQLite in
    /// the data directory (default `$XDG_DATA_HOME/mcp-authz`, else `~/.local/share/mcp-authz`).
    pub(crate) fn location(&self) -> Result<StoreLocation, SettingsError> {
        match (&self.store, &self.data_dir, &self.database) {
            (Some(url), None, None) => Ok(StoreLocation::Postgres(url.clone())),
            (None, Some(dir), None) => Ok(StoreLocation::Sqlite(dir.clone())),
            (None, None, Some(file)) => Ok(StoreLocation::SqliteFile(file.clone())),
            (None, None, None) => default_data_dir().map(StoreLocation::Sqlite),
            _ => Err(SettingsError::Conflict(
                "more than one of a data directory, a database file and a PostgreSQL store are set: choose one",
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

/// Loads the file the arguments name (or the default one).
pub(crate) fn load_file(store: &StoreArgs) -> Result<FileSettings, SettingsError> {
    FileSettings::load(store.config.as_deref())
}

/// The storage settings of an admin command.
pub(crate) fn storage(args: &StoreArgs) -> Result<(StorageSettings, FileSettings), SettingsError> {
    let file = load_file(args)?;
    Ok((merge_storage(args, &file), file))
}

pub(crate) fn merge_storage(args: &StoreArgs, file: &FileSettings) -> StorageSettings {
    let dangerous_allow_shared_data_dir = args.dangerous_allow_shared_data_dir
        || file.dangerous_allow_shared_data_dir.unwrap_or(false);
    // A flag or variable naming one backend overrides the file's choice of the other.
    if args.data_dir.is_some() || args.store.is_some() || args.database.is_some() {
        return StorageSettings {
            data_dir: args.data_dir.clone(),
            database: args.database.clone(),
            store: args.store.clone(),
            dangerous_allow_shared_data_dir,
        };
    }
    StorageSettings {
        data_dir: file.data_dir.clone(),
        database: None,
        store: file.store.clone(),
        dangerous_allow_shared_data_dir,
    }
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
    fn a_flag_for_one_backend_overrides_the_file_choice_of_the_other() {
        let file = FileSettings {
            store: Some("postgres://db/x".into()),
            ..FileSettings::default()
        };
        let args = StoreArgs {
            config: None,
            data_dir: Some("/tmp/d".into()),
            store: None,
            database: None,
            dangerous_allow_shared_data_dir: false,
        };
        assert_eq!(
            merge_storage(&args, &file).location().unwrap(),
            StoreLocation::Sqlite("/tmp/d".into())
        );
        let both = StorageSettings {
            data_dir: Some("/a".into()),
            database: None,
            store: Some("postgres://b".into()),
            dangerous_allow_shared_data_dir: false,
        };
        assert!(matches!(both.location(), Err(SettingsError::Conflict(_))));
        let file_and_dir = StorageSettings {
            data_dir: Some("/a".into()),
            database: Some("/b/app.sqlite3".into()),
            store: None,
            dangerous_allow_shared_data_dir: false,
        };
        assert!(matches!(
            file_and_dir.location(),
            Err(SettingsError::Conflict(_))
        ));
    }
}
