//! The file token store: one JSON file, replaced atomically (temp file + rename), mode 0600.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use mcp_authz_metadata::Issuer;
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use super::{ClientCredentials, GrantKey, StoreError, StoredGrant, TokenStore};

/// A [`TokenStore`] in one JSON file (REQUIREMENTS CL-13).
///
/// Every change rewrites the file through a temporary file in the same directory, created with mode
/// `0600`, flushed to disk and renamed over the old file: a crash leaves the old or the new content,
/// never a mix. Every read goes to the file, so another instance (a restarted process) sees the
/// latest rotated refresh token.
#[derive(Debug)]
pub struct FileTokenStore {
    path: PathBuf,
    lock: Mutex<()>,
}

/// What a [`FileTokenStore`] holds (see [`FileTokenStore::contents`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenFileContents {
    /// The grants, by the server and issuer they are for.
    pub grants: Vec<(GrantKey, StoredGrant)>,
    /// The client registrations, one per issuer.
    pub clients: Vec<ClientCredentials>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Contents {
    #[serde(default)]
    grants: BTreeMap<String, StoredGrant>,
    #[serde(default)]
    clients: BTreeMap<String, ClientCredentials>,
}

impl FileTokenStore {
    /// A store backed by `path` (created on first write; its directory must exist).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            lock: Mutex::new(()),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Everything the file holds, for listing (e.g. a `status` command): the grants with their keys
    /// and the client registrations, each sorted. Entries whose key does not parse are skipped.
    pub async fn contents(&self) -> Result<TokenFileContents, StoreError> {
        let contents = self.read().await?;
        let grants = contents
            .grants
            .into_iter()
            .filter_map(|(key, grant)| Some((GrantKey::from_storage_key(&key)?, grant)))
            .collect();
        Ok(TokenFileContents {
            grants,
            clients: contents.clients.into_values().collect(),
        })
    }

    async fn read(&self) -> Result<Contents, StoreError> {
        let path = self.path.clone();
        blocking(move || read_file(&path)).await
    }

    async fn update(
        &self,
        change: impl FnOnce(&mut Contents) + Send + 'static,
    ) -> Result<(), StoreError> {
        let _guard = self.lock.lock().await;
        let path = self.path.clone();
        blocking(move || {
            let mut contents = read_file(&path)?;
            change(&mut contents);
            write_file(&path, &contents)
        })
        .await
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::Io(e.to_string()))?
}

fn read_file(path: &Path) -> Result<Contents, StoreError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt(e.to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Contents::default()),
        Err(e) => Err(StoreError::Io(e.to_string())),
    }
}

fn write_file(path: &Path, contents: &Contents) -> Result<(), StoreError> {
    let io = |e: std::io::Error| StoreError::Io(e.to_string());
    let bytes =
        serde_json::to_vec_pretty(contents).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut file = tempfile::Builder::new()
        .prefix(".mcp-authz-tokens")
        .tempfile_in(&dir)
        .map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(io)?;
    }
    file.write_all(&bytes).map_err(io)?;
    file.as_file().sync_all().map_err(io)?;
    file.persist(path).map_err(|e| io(e.error))?;
    #[cfg(unix)]
    if let Ok(dir) = std::fs::File::open(&dir) {
        // Make the rename durable; a failure here leaves a correct file that may roll back on a crash.
        let _ = dir.sync_all();
    }
    Ok(())
}

#[async_trait::async_trait]
impl TokenStore for FileTokenStore {
    async fn load_grant(&self, key: &GrantKey) -> Result<Option<StoredGrant>, StoreError> {
        Ok(self.read().await?.grants.remove(&key.storage_key()))
    }

    async fn save_grant(&self, key: &GrantKey, grant: &StoredGrant) -> Result<(), StoreError> {
        let (key, grant) = (key.storage_key(), grant.clone());
        self.update(move |c| {
            c.grants.insert(key, grant);
        })
        .await
    }

    async fn remove_grant(&self, key: &GrantKey) -> Result<(), StoreError> {
        let key = key.storage_key();
        self.update(move |c| {
            c.grants.remove(&key);
        })
        .await
    }

    async fn load_client(&self, issuer: &Issuer) -> Result<Option<ClientCredentials>, StoreError> {
        Ok(self.read().await?.clients.remove(issuer.as_str()))
    }

    async fn remove_client(&self, issuer: &Issuer) -> Result<(), StoreError> {
        let issuer = issuer.as_str().to_owned();
        self.update(move |c| {
            c.clients.remove(&issuer);
        })
        .await
    }

    async fn save_client(&self, credentials: &ClientCredentials) -> Result<(), StoreError> {
        let credentials = credentials.clone();
        self.update(move |c| {
            c.clients
                .insert(credentials.issuer.as_str().to_owned(), credentials);
        })
        .await
    }
}
