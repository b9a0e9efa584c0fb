//! An rmcp client application authorized by `mcp-authz-client`, with a token store of its own.
//!
//! [`DirectoryTokenStore`] is what a store author writes: the five [`TokenStore`] methods over any
//! storage (here one small JSON file per grant and per client registration in a private directory,
//! each replaced atomically). [`connect`] is what an application does: an [`OAuthClient`] for the MCP
//! server with that store and an authorization step, wrapped into an rmcp client transport; rmcp's
//! own API (`list_tools`, `call_tool`) then runs with login, refresh and step-up handled underneath.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mcp_authz_client::{
    AuthorizationStep, AuthorizedRmcpClient, ClientCredentials, ClientError, GrantKey, Issuer,
    OAuthClient, StoreError, StoredGrant, TokenStore, Url, UrlPolicy,
};
use rmcp::ServiceExt as _;
use rmcp::service::{RoleClient, RunningService};
use sha2::{Digest as _, Sha256};
use url::Host;

/// Grants and client registrations as files in one directory (created `0700`), each file `0600` and
/// replaced atomically: `grant-<sha256 of the key>.json`, `client-<sha256 of the issuer>.json`. A
/// crash leaves the old or the new file, never a mix; another process sees every rotation.
#[derive(Debug, Clone)]
pub struct DirectoryTokenStore {
    dir: PathBuf,
}

impl DirectoryTokenStore {
    /// The store in `dir`, created (mode `0700`) if missing.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let dir = dir.into();
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&dir).map_err(io)?;
        Ok(Self { dir })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, kind: &str, key: &str) -> PathBuf {
        let digest = Sha256::digest(key.as_bytes());
        let name: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{kind}-{name}.json"))
    }

    async fn read<T: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        path: PathBuf,
    ) -> Result<Option<T>, StoreError> {
        blocking(move || match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| StoreError::Corrupt(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(e)),
        })
        .await
    }

    async fn write<T: serde::Serialize>(&self, path: PathBuf, value: &T) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(value).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let dir = self.dir.clone();
        blocking(move || {
            let mut builder = tempfile::Builder::new();
            builder.prefix(".tmp-");
            #[cfg(unix)]
            builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600));
            let mut file = builder.tempfile_in(&dir).map_err(io)?;
            file.write_all(&bytes).map_err(io)?;
            file.as_file().sync_all().map_err(io)?;
            file.persist(&path).map_err(|e| io(e.error))?;
            Ok(())
        })
        .await
    }

    async fn remove(&self, path: PathBuf) -> Result<(), StoreError> {
        blocking(move || match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(e)),
        })
        .await
    }
}

fn io(error: std::io::Error) -> StoreError {
    StoreError::Io(error.to_string())
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StoreError::Io(e.to_string()))?
}

#[async_trait::async_trait]
impl TokenStore for DirectoryTokenStore {
    async fn load_grant(&self, key: &GrantKey) -> Result<Option<StoredGrant>, StoreError> {
        self.read(self.path("grant", &key.storage_key())).await
    }

    async fn save_grant(&self, key: &GrantKey, grant: &StoredGrant) -> Result<(), StoreError> {
        self.write(self.path("grant", &key.storage_key()), grant)
            .await
    }

    async fn remove_grant(&self, key: &GrantKey) -> Result<(), StoreError> {
        self.remove(self.path("grant", &key.storage_key())).await
    }

    async fn load_client(&self, issuer: &Issuer) -> Result<Option<ClientCredentials>, StoreError> {
        self.read(self.path("client", issuer.as_str())).await
    }

    async fn save_client(&self, credentials: &ClientCredentials) -> Result<(), StoreError> {
        self.write(
            self.path("client", credentials.issuer.as_str()),
            credentials,
        )
        .await
    }

    async fn remove_client(&self, issuer: &Issuer) -> Result<(), StoreError> {
        self.remove(self.path("client", issuer.as_str())).await
    }
}

/// An rmcp client session with the MCP server at `url`, authorized through `store` and `step`
/// (`LoopbackRedirect` for a person at a browser). Outbound requests need https, except when the MCP
/// server itself is on a loopback host.
pub async fn connect(
    url: &str,
    store: Arc<dyn TokenStore>,
    step: Arc<dyn AuthorizationStep>,
) -> Result<RunningService<RoleClient, ()>, AppError> {
    // https only, except for an MCP server on this machine (local development): then plain http and
    // loopback addresses are allowed too, as `mcp-authz login` does.
    let loopback = Url::parse(url).ok().is_some_and(|u| match u.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(name)) => name == "localhost",
        None => false,
    });
    let oauth = OAuthClient::builder(url)?
        .url_policy(UrlPolicy::default().allow_loopback(loopback))
        .token_store(store)
        .authorization_step(step)
        .client_name("rmcp-client-app example")
        .build()?;
    ().serve(AuthorizedRmcpClient::transport(Arc::new(oauth)))
        .await
        .map_err(|e| AppError::Mcp(Box::new(e)))
}

/// Why the application failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Discovery, registration, authorization or a token request.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The MCP session could not start.
    #[error("MCP: {0}")]
    Mcp(Box<rmcp::service::ClientInitializeError>),
    /// An MCP request failed.
    #[error("MCP: {0}")]
    Service(#[from] rmcp::ServiceError),
}
