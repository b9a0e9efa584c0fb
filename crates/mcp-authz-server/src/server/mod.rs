//! [`AuthorizationServer`]: the composition of the endpoints over one store, and its public API.
//!
//! - `mod.rs`: construction and accessors;
//! - [`dispatch`]: one method per endpoint and the path dispatcher;
//! - [`admin`]: operator actions (pre-registering clients, key rotation, the revocation check);
//! - [`operator`]: revocation by token value for the operator's command line;
//! - [`accounts`]: users, grants and consents for the operator (OB-3, OB-4).

mod accounts;
mod admin;
mod dispatch;
mod health;
mod operator;

use std::sync::Arc;
use std::time::Duration;

pub use accounts::{SetPasswordError, UserExport, UserRevocation};
pub use health::NotReady;
use mcp_authz_metadata::AuthorizationServerMetadata;
use mcp_authz_store::Store;
pub use operator::OperatorRevocation;

use crate::applications::Applications;
use crate::browser::Browsers;
use crate::cimd::MetadataFetcher;
use crate::client_limits::ClientLimits;
use crate::clients::ClientDirectory;
use crate::config::{ConfigError, ServerConfig};
use crate::endpoint::{
    AccountEndpoint, AuthorizeEndpoint, ConsentEndpoint, IntrospectEndpoint, JwksEndpoint,
    LoginEndpoint, MetadataEndpoint, RegisterEndpoint, RevokeEndpoint, TokenEndpoint,
    UpstreamEndpoint, metadata_document,
};
use crate::flow::AuthorizationFlow;
use crate::keys::Keys;
use crate::lockout::Lockout;
use crate::password_checks::PasswordChecks;
use crate::paths::Paths;
use crate::purge::{PurgeTask, Purger};
use crate::rate_limit::RateLimiter;
use crate::sign_in::{Authenticator, PasswordSignIn};
use crate::token_status::TokenStatus;
use crate::users::LocalUsers;

/// The endpoints of one server.
struct Endpoints {
    metadata: MetadataEndpoint,
    jwks: JwksEndpoint,
    authorize: AuthorizeEndpoint,
    login: LoginEndpoint,
    consent: ConsentEndpoint,
    upstream: UpstreamEndpoint,
    token: TokenEndpoint,
    register: RegisterEndpoint,
    revoke: RevokeEndpoint,
    introspect: IntrospectEndpoint,
    account: AccountEndpoint,
}

pub(crate) struct Inner {
    pub(crate) config: Arc<ServerConfig>,
    pub(crate) store: Arc<dyn Store>,
    keys: Arc<Keys>,
    clients: Arc<ClientDirectory>,
    tokens: Arc<TokenStatus>,
    /// The applications users authorized (the account page and the operator API).
    applications: Arc<Applications>,
    metadata: AuthorizationServerMetadata,
    paths: Arc<Paths>,
    endpoints: Endpoints,
    /// The bound on concurrent Argon2 work, shared by the login form, client secrets and
    /// [`AuthorizationServer::local_users`].
    password_checks: Arc<PasswordChecks>,
    /// The background purge's own dependencies.
    purger: Purger,
}

/// An OAuth 2.1 authorization server for MCP over an `Arc<dyn Store>`.
///
/// Cheap to clone (one `Arc`). Serve it with [`router`](Self::router) (axum) or call
/// [`handle`](Self::handle) from any HTTP stack; each endpoint is also a method of its own.
#[derive(Clone)]
pub struct AuthorizationServer {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for AuthorizationServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizationServer")
            .field("issuer", &self.inner.config.issuer)
            .finish_non_exhaustive()
    }
}

impl AuthorizationServer {
    /// A server with `config` over `store`. Signing keys are created in the store on first use.
    pub fn new(config: ServerConfig, store: Arc<dyn Store>) -> Result<Self, ConfigError> {
        let paths = Arc::new(Paths::new(&config));
        let metadata = metadata_document(&config, &paths);
        let metadata_endpoint = MetadataEndpoint::new(&metadata).ok_or(ConfigError::NoResources)?;
        let fetcher = if config.metadata_documents.enabled {
            Some(MetadataFetcher::new(config.metadata_documents.clone())?)
        } else {
            None
        };
        let password_checks = PasswordChecks::new(config.password_checks);
        let authenticator = match config.authenticator.clone() {
            Some(custom) => Authenticator::Custom(custom),
            None => Authenticator::Local(LocalUsers::with_checks(
                store.clone(),
                password_checks.clone(),
            )),
        };
        let cap = config.max_pending;
        let keys = Arc::new(Keys::new(
            store.clone(),
            config.ids.clone(),
            config.signing_algorithm,
            config.access_token_lifetime + std::time::Duration::from_secs(60),
        ));
        let config = Arc::new(config);
        let clients = Arc::new(ClientDirectory::new(
            config.clone(),
            store.clone(),
            fetcher,
            password_checks.clone(),
        ));
        let tokens = Arc::new(TokenStatus::new(
            config.clone(),
            store.clone(),
            keys.clone(),
        ));
        let browsers = Arc::new(Browsers::new(
            config.insecure_cookies(),
            cap,
            config.max_pending_per_peer,
        ));
        let flow = Arc::new(AuthorizationFlow::new(
            config.clone(),
            store.clone(),
            browsers.clone(),
            paths.clone(),
        ));
        let authorize_limiter = Arc::new(RateLimiter::new(config.authorize_limit, cap));
        let sign_in = Arc::new(PasswordSignIn::new(
            authenticator,
            Lockout::new(config.login_lockout, cap),
        ));
        let applications = Arc::new(Applications::new(store.clone()));
        let client_limits = Arc::new(ClientLimits::new(config.token_limit, cap));
        let endpoints = Endpoints {
            metadata: metadata_endpoint,
            jwks: JwksEndpoint::new(&config, keys.clone()),
            authorize: AuthorizeEndpoint::new(
                &config,
                clients.clone(),
                browsers.clone(),
                flow.clone(),
                authorize_limiter.clone(),
            ),
            login: LoginEndpoint::new(
                &config,
                paths.clone(),
                browsers.clone(),
                flow.clone(),
                sign_in.clone(),
                authorize_limiter.clone(),
            ),
            consent: ConsentEndpoint::new(&config, store.clone(), browsers.clone(), flow),
            upstream: UpstreamEndpoint::new(
                &config,
                paths.clone(),
                browsers.clone(),
                authorize_limiter.clone(),
            ),
            token: TokenEndpoint::new(
                &config,
                store.clone(),
                keys.clone(),
                clients.clone(),
                client_limits.clone(),
            ),
            register: RegisterEndpoint::new(
                &config,
                store.clone(),
                RateLimiter::new(config.register_limit, cap),
            ),
            revoke: RevokeEndpoint::new(
                &config,
                store.clone(),
                clients.clone(),
                client_limits.clone(),
                tokens.clone(),
            ),
            introspect: IntrospectEndpoint::new(
                &config,
                clients.clone(),
                client_limits,
                tokens.clone(),
            ),
            account: AccountEndpoint::new(
                config.clone(),
                store.clone(),
                paths.clone(),
                browsers,
                applications.clone(),
                sign_in,
                authorize_limiter,
            ),
        };
        let purger = Purger::new(store.clone(), config.clock.clone());
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                store,
                keys,
                clients,
                tokens,
                applications,
                metadata,
                paths,
                endpoints,
                password_checks,
                purger,
            }),
        })
    }

    /// Outbound Client ID Metadata Document fetches this server has started since it was created
    /// (0 when metadata documents are disabled), for monitoring (REQUIREMENTS SEC-12).
    pub fn metadata_document_fetches(&self) -> u64 {
        self.inner.clients.fetches_started()
    }

    /// Spawns the background purge of this server's store with this server's clock, every
    /// `interval`; see [`PurgeTask`]. Keep the handle for as long as the server serves.
    pub fn spawn_purge(&self, interval: Duration) -> PurgeTask {
        self.inner.purger.spawn(interval)
    }

    /// The RFC 8414 metadata this server serves.
    pub fn metadata(&self) -> &AuthorizationServerMetadata {
        &self.inner.metadata
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.inner.config
    }

    /// The built-in local users over this server's store (to create accounts).
    pub fn local_users(&self) -> LocalUsers {
        LocalUsers::with_checks(self.inner.store.clone(), self.inner.password_checks.clone())
    }

    /// The most Argon2 password checks and hashes that ran at once since this server was created,
    /// for monitoring: never more than
    /// [`max_concurrent_password_checks`](crate::ServerConfigBuilder::max_concurrent_password_checks).
    pub fn password_checks_peak(&self) -> usize {
        self.inner.password_checks.peak()
    }

    pub(crate) fn now(&self) -> mcp_authz_store::NumericDate {
        self.inner.config.clock.now()
    }
}
