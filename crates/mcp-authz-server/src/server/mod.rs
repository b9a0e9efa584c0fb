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
use mcp_authz_store::{BrowserStateStore, MemoryBrowserStates, Store};
pub use operator::OperatorRevocation;

use crate::applications::Applications;
use crate::audit::Auditor;
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
    /// Records audit events and keeps the security counters.
    pub(crate) audit: Arc<Auditor>,
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
        let audit = Arc::new(Auditor::new(store.clone(), config.clock.clone()));
        let clients = Arc::new(ClientDirectory::new(
            config.clone(),
            store.clone(),
            fetcher,
            password_checks.clone(),
            audit.clone(),
        ));
        let tokens = Arc::new(TokenStatus::new(
            config.clone(),
            store.clone(),
            keys.clone(),
        ));
        let browser_states: Arc<dyn BrowserStateStore> = match &config.browser_states {
            Some(shared) => shared.clone(),
            None => Arc::new(MemoryBrowserStates::new(cap)),
        };
        let browsers = Arc::new(Browsers::new(
            config.insecure_cookies(),
            config.max_pending_per_peer,
            browser_states.clone(),
            config.clock.clone(),
        ));
        let flow = Arc::new(AuthorizationFlow::new(
            config.clone(),
            store.clone(),
            browsers.clone(),
            paths.clone(),
            audit.clone(),
        ));
        let authorize_limiter = Arc::new(RateLimiter::new(config.authorize_limit, cap));
        let mut lockout = Lockout::new(config.login_lockout, cap);
        if let Some(attempts) = &config.login_attempts {
            lockout = lockout.with_shared_accounts(attempts.clone());
        }
        let sign_in = Arc::new(PasswordSignIn::new(authenticator, lockout));
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
                audit.clone(),
            ),
            login: LoginEndpoint::new(
                &config,
                paths.clone(),
                browsers.clone(),
                flow.clone(),
                sign_in.clone(),
                authorize_limiter.clone(),
                audit.clone(),
            ),
            consent: ConsentEndpoint::new(
                &config,
                store.clone(),
                browsers.clone(),
                flow,
                audit.clone(),
            ),
            upstream: UpstreamEndpoint::new(
                &config,
                paths.clone(),
                browsers.clone(),
                authorize_limiter.clone(),
                audit.clone(),
            ),
            token: TokenEndpoint::new(
                &config,
                store.clone(),
                keys.clone(),
                clients.clone(),
                client_limits.clone(),
                audit.clone(),
            ),
            register: RegisterEndpoint::new(
                &config,
                store.clone(),
                RateLimiter::new(config.register_limit, cap),
                audit.clone(),
            ),
            revoke: RevokeEndpoint::new(
                &config,
                store.clone(),
                clients.clone(),
                client_limits.clone(),
                tokens.clone(),
                audit.clone(),
            ),
            introspect: IntrospectEndpoint::new(
                &config,
                clients.clone(),
                client_limits,
                tokens.clone(),
                audit.clone(),
            ),
            account: AccountEndpoint::new(
                config.clone(),
                store.clone(),
                paths.clone(),
                browsers,
                applications.clone(),
                sign_in,
                authorize_limiter,
                audit.clone(),
            ),
        };
        let purger = Purger::new(
            store.clone(),
            browser_states,
            config
                .login_attempts
                .clone()
                .map(|attempts| (attempts, config.login_lockout.shared_counter_window())),
            config.clock.clone(),
            config.audit_retention,
        );
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
                audit,
            }),
        })
    }

    /// Outbound Client ID Metadata Document fetches this server has started since it was created
    /// (0 when metadata documents are disabled), for monitoring (REQUIREMENTS SEC-12).
    pub fn metadata_document_fetches(&self) -> u64 {
        self.inner.clients.fetches_started()
    }

    /// Access tokens this server issued since it was created, for monitoring (REQUIREMENTS OB-2).
    pub fn tokens_issued(&self) -> u64 {
        self.inner.audit.tokens_issued()
    }

    /// Reused refresh tokens this server detected (each revoked its family, AS-8) since it was
    /// created, for monitoring.
    pub fn refresh_reuse_detected(&self) -> u64 {
        self.inner.audit.refresh_reuse_detected()
    }

    /// Refused token, revocation, introspection, registration and sign-in requests since this
    /// server was created, by reason (a short fixed label such as `pkce_failed`,
    /// `wrong_credentials` or `rate_limited`: a closed set), ordered by reason.
    pub fn validation_failures(&self) -> Vec<(&'static str, u64)> {
        self.inner.audit.validation_failures()
    }

    /// Records an audit event (REQUIREMENTS OB-1) in the store and in the log (target
    /// [`AUDIT_TARGET`](crate::AUDIT_TARGET), INFO), for acts outside this server's endpoints (an
    /// application revoking a consent, an operator's change). A store failure is logged at WARN, never
    /// returned: auditing never fails the act it records. Build the event from identifiers only.
    ///
    /// ```no_run
    /// # async fn demo(server: mcp_authz_server::AuthorizationServer, subject: mcp_authz_store::Subject, client: mcp_authz_server::ClientId) {
    /// use mcp_authz_server::{AuditKind, AuditOutcome};
    /// let mut event = server.audit_event(AuditKind::ConsentRevoked, AuditOutcome::Success);
    /// event.subject = Some(subject);
    /// event.client_id = Some(client);
    /// server.record_audit_event(event).await;
    /// # }
    /// ```
    pub async fn record_audit_event(&self, event: mcp_authz_store::AuditEvent) {
        self.inner.audit.record(event).await;
    }

    /// A new audit event of `kind` and `outcome` at this server's clock's now, every other field
    /// empty: fill in what is known, then [`record_audit_event`](Self::record_audit_event).
    pub fn audit_event(
        &self,
        kind: mcp_authz_store::AuditKind,
        outcome: mcp_authz_store::AuditOutcome,
    ) -> mcp_authz_store::AuditEvent {
        mcp_authz_store::AuditEvent::new(kind, outcome, self.now())
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
