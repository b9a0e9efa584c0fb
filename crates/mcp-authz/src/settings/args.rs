//! The arguments that say where the configuration and the state are: one group shared by `serve` and
//! the admin commands.

use std::path::PathBuf;

/// Where the configuration and the state are: shared by `serve` and the admin commands.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct StoreArgs {
    /// The configuration file (TOML). Default: `$XDG_CONFIG_HOME/mcp-authz/config.toml`, else
    /// `~/.config/mcp-authz/config.toml`, when it exists.
    #[arg(long, env = "MCP_AUTHZ_CONFIG", value_name = "PATH", global = true)]
    pub(crate) config: Option<PathBuf>,
    /// The directory of the SQLite database. Default: `$XDG_DATA_HOME/mcp-authz`, else
    /// `~/.local/share/mcp-authz`.
    #[arg(long, env = "MCP_AUTHZ_DATA_DIR", value_name = "DIR", global = true)]
    pub(crate) data_dir: Option<PathBuf>,
    /// A PostgreSQL URL (`postgres://...`) for state shared between instances, instead of SQLite.
    #[arg(
        long,
        env = "MCP_AUTHZ_STORE",
        value_name = "URL",
        hide_env_values = true,
        global = true
    )]
    pub(crate) store: Option<String>,
    /// A SQLite database file, instead of `mcp-authz.sqlite3` in the data directory: the database of
    /// an application embedding `mcp-authz-server`, provisioned with the admin commands.
    #[arg(long, env = "MCP_AUTHZ_DATABASE", value_name = "PATH", global = true)]
    pub(crate) database: Option<PathBuf>,
    /// DANGEROUS: accept a data directory or database files that the group or others may read or
    /// write. They hold the private signing keys, so by default such a directory is refused; a new
    /// one is created mode 0700, its files 0600.
    #[arg(long, env = "MCP_AUTHZ_DANGEROUS_ALLOW_SHARED_DATA_DIR", global = true)]
    pub(crate) dangerous_allow_shared_data_dir: bool,
}
