//! Where `serve` and the admin commands keep state: a SQLite file in the data directory, or
//! PostgreSQL. One opener for both, so that they always agree on the store.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mcp_authz_store::{AttemptStore, BrowserStateStore, Store};
use mcp_authz_store_postgres::PostgresStore;
use mcp_authz_store_sqlite::SqliteStore;

use crate::data_dir::{self, Sharing};
use crate::error::CliError;
use crate::settings::StoreLocation;

/// The SQLite file's name inside the data directory.
const DATABASE_FILE: &str = "mcp-authz.sqlite3";

/// The store handle type.
pub(crate) type SharedStore = Arc<dyn Store>;

/// Whether a missing data directory is created (`serve`) or an error (admin commands, which must not
/// make an empty second database next to the one the server uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Missing {
    /// Create the directory and the database.
    Create,
    /// Refuse with [`CliError::NoStore`].
    Refuse,
}

/// State kept where every instance sees it: the PostgreSQL store's (REQUIREMENTS SC-1); `None`
/// keeps it in the server's memory (SQLite: one instance).
pub(crate) type SharedStates = Option<SharedState>;

/// What instances on one PostgreSQL database share besides the [`Store`].
pub(crate) struct SharedState {
    /// Browser sessions and pending requests.
    pub(crate) browser: Arc<dyn BrowserStateStore>,
    /// The per-account counters of failed logins (SEC-19).
    pub(crate) login_attempts: Arc<dyn AttemptStore>,
    /// The store itself, for its operation metrics.
    pub(crate) postgres: PostgresStore,
}

/// Opens (and migrates) the store at `location`.
pub(crate) async fn open(
    location: &StoreLocation,
    missing: Missing,
    sharing: Sharing,
) -> Result<SharedStore, CliError> {
    Ok(open_for_serve(location, missing, sharing).await?.0)
}

/// [`open`], with where `serve` keeps browser state.
///
/// A SQLite data directory is created mode 0700 and its database 0600; an existing one that other
/// users may access is refused unless `sharing` allows it (see [`data_dir`]).
pub(crate) async fn open_for_serve(
    location: &StoreLocation,
    missing: Missing,
    sharing: Sharing,
) -> Result<(SharedStore, SharedStates), CliError> {
    let (dir, path) = match location {
        StoreLocation::Postgres(url) => {
            let store = PostgresStore::connect(url).await?;
            tracing::info!("using the PostgreSQL store");
            let postgres = store.clone();
            let store = Arc::new(store);
            let shared = SharedState {
                browser: store.clone(),
                login_attempts: store.clone(),
                postgres,
            };
            return Ok((store, Some(shared)));
        }
        StoreLocation::Sqlite(dir) => (dir.clone(), dir.join(DATABASE_FILE)),
        // An application's own database: its directory is checked like a data directory.
        StoreLocation::SqliteFile(file) => {
            let dir = match file.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
                _ => PathBuf::from("."),
            };
            (dir, file.clone())
        }
    };
    let dir = dir.as_path();
    if missing == Missing::Refuse && !path.is_file() {
        return Err(CliError::NoStore {
            path: path.display().to_string(),
        });
    }
    let data_dir_error = |source| CliError::DataDir {
        path: dir.display().to_string(),
        source,
    };
    data_dir::create_private(dir)?;
    data_dir::check_private(dir, &path, sharing)?;
    // Fails early, with the directory named, if it is not a writable directory.
    let probe = tempfile_probe(dir);
    std::fs::write(&probe, b"").map_err(data_dir_error)?;
    std::fs::remove_file(&probe).map_err(data_dir_error)?;
    // A database file the process cannot write would let the server start and then fail every
    // sign-in and token request: refuse it now, naming the file.
    if path.is_file()
        && let Err(source) = std::fs::OpenOptions::new().write(true).open(&path)
    {
        return Err(CliError::DatabaseNotWritable {
            path: path.display().to_string(),
            source,
        });
    }
    let store = SqliteStore::open(&path).await?;
    tracing::info!(path = %path.display(), "using the SQLite store");
    Ok((Arc::new(store), None))
}

fn tempfile_probe(dir: &Path) -> PathBuf {
    dir.join(format!(".mcp-authz-write-test-{}", std::process::id()))
}
