//! Where `serve` keeps its state: a SQLite file in the data directory, or PostgreSQL.

use std::path::PathBuf;
use std::sync::Arc;

use mcp_authz_store_postgres::PostgresStore;
use mcp_authz_store_sqlite::SqliteStore;

use super::SharedStore;
use crate::cli::ServeArgs;
use crate::error::CliError;

/// The SQLite file's name inside the data directory.
const DATABASE_FILE: &str = "mcp-authz.sqlite3";

/// Opens (and migrates) the store the arguments name.
pub(super) async fn open(args: &ServeArgs) -> Result<SharedStore, CliError> {
    if let Some(url) = &args.store {
        let store = PostgresStore::connect(url).await?;
        tracing::info!("using the PostgreSQL store");
        return Ok(Arc::new(store));
    }
    let dir = match &args.data_dir {
        Some(dir) => dir.clone(),
        None => default_data_dir()?,
    };
    let data_dir_error = |source| CliError::DataDir {
        path: dir.display().to_string(),
        source,
    };
    std::fs::create_dir_all(&dir).map_err(data_dir_error)?;
    // Fails early, with the directory named, if it is not a writable directory.
    let probe = tempfile_probe(&dir);
    std::fs::write(&probe, b"").map_err(data_dir_error)?;
    std::fs::remove_file(&probe).map_err(data_dir_error)?;
    let path = dir.join(DATABASE_FILE);
    let store = SqliteStore::open(&path).await?;
    tracing::info!(path = %path.display(), "using the SQLite store");
    Ok(Arc::new(store))
}

fn tempfile_probe(dir: &std::path::Path) -> PathBuf {
    dir.join(format!(".mcp-authz-write-test-{}", std::process::id()))
}

/// `$XDG_DATA_HOME/mcp-authz`, else `$HOME/.local/share/mcp-authz`.
fn default_data_dir() -> Result<PathBuf, CliError> {
    let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(data) = non_empty("XDG_DATA_HOME") {
        return Ok(PathBuf::from(data).join("mcp-authz"));
    }
    non_empty("HOME")
        .map(|home| PathBuf::from(home).join(".local/share/mcp-authz"))
        .ok_or(CliError::NoDataDir)
}
