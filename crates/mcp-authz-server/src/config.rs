//! Server configuration: a builder validated once, at construction (REQUIREMENTS AS-7, AS-9, AS-16).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use mcp_authz_metadata::{Issuer, IssuerError, ResourceUri, Scope, ScopeToken};
use mcp_authz_store::{
    AttemptStore, BrowserStateStore, Clock, IdGenerator, RandomIds, SystemClock,
};

use crate::dangerous::AutoApprove;
use crate::lockout::LoginLockout;
use crate::password_checks::PasswordCheckLimits;
use crate::rate_limit::RateLimit;
use crate::signing::SigningAlgorithm;
use crate::templates::PageTemplates;
use crate::users::{UpstreamIdentityProvider, UserAuthenticator};

/// The longest access-token lifetime the builder accepts (REQUIREMENTS AS-9).
pub const MAX_ACCESS_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);
/// The longest authorization-code lifetime the builder accepts (REQUIREMENTS AS-7).
pub const MAX_CODE_LIFETIME: Duration = Duration::from_secs(60);

/// Why a configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The issuer is not a valid issuer URL.
    #[error("invalid issuer: {0}")]
    Issuer(IssuerError),
    /// An `http` issuer without [`ServerConfigBuilder::allow_http_loopback`] (REQUIREMENTS AS-16).
    #[error("an http issuer needs the explicit allow_http_loopback setting")]
    HttpIssuerNotAllowed,
    /// No protected resource was configured: the server would have no audience to issue tokens for.
    #[error("at least one protected resource must be configured")]
    NoResources,
    /// The same resource was configured twice.
    #[error("resource {0} is configured twice")]
    DuplicateResource(String),
    /// A resource's default scope is not within its allowed scopes.
    #[error("the default scope of {0} is not within its allowed scopes")]
    DefaultScopeNotAllowed(String),
    /// A lifetime is zero or above its maximum.
    #[error("{name} must be between 1 s and {max_secs} s")]
    Lifetime {
        /// Which lifetime.
        name: &'static str,
        /// Its maximum, in seconds.
        max_secs: u64,
    },
    /// [`AutoApprove`] was set on an issuer that is not a loopback `http` URL.
    #[error("auto-approve is allowed only with a loopback http issuer")]
    AutoApproveNotLoopback,
    /// The HTTP client for Client ID Metadata Documents could not be built (TLS backend).
    #[error("the HTTP client for metadata documents could not be built")]
    HttpClient,
    /// [`ServerConfigBuilder::scope_description`] or [`ServerConfigBuilder::scope_details`]
    /// describes a scope no resource accepts.
    #[error("a description is given for scope {0}, which no resource accepts")]
    UnknownScopeDescription(String),
    /// [`ServerConfigBuilder::scope_description`] was given an empty text or one over
    /// [`MAX_SCOPE_DESCRIPTION_LEN`] bytes.
    #[error(
        "the description of scope {0} is empty or longer than {MAX_SCOPE_DESCRIPTION_LEN} bytes"
    )]
    ScopeDescriptionLength(String),
    /// [`ServerConfigBuilder::scope_details`] was given an empty text or one over
    /// [`MAX_SCOPE_DETAILS_LEN`] bytes.
    #[error(
        "the longer explanation of scope {0} is empty or longer than {MAX_SCOPE_DETAILS_LEN} bytes"
    )]
    ScopeDetailsLength(String),
    /// [`ServerConfigBuilder::service_name`] is empty or longer than [`MAX_SERVICE_NAME_LEN`] bytes.
    #[error("the service name is empty or longer than {MAX_SERVICE_NAME_LEN} bytes")]
    ServiceName,
    /// [`ServerConfigBuilder::signing_algorithm`] names an algorithm the server does not sign with
    /// (it signs with ES256 or EdDSA).
    #[error("the server cannot sign with {0}: ES256 or EdDSA")]
    UnsupportedSigningAlgorithm(SigningAlgorithm),
}

/// The longest scope description, in bytes: a short sentence on the consent page.
pub const MAX_SCOPE_DESCRIPTION_LEN: usize = 200;

/// The longest explanation of a scope ([`ServerConfigBuilder::scope_details`]), in bytes: a
/// paragraph, folded under the short description on the consent page.
pub const MAX_SCOPE_DETAILS_LEN: usize = 2000;

/// The service name of a configuration that does not set one.
pub(crate) const DEFAULT_SERVICE_NAME: &str = "mcp-authz";

/// The longest service name, in bytes.
pub const MAX_SERVICE_NAME_LEN: usize = 100;

/// A protected resource the server issues tokens for, with the scopes it accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourcePolicy {
    /// The resource (RFC 8707), which becomes the access token's `aud`.
    pub resource: ResourceUri,
    /// Every scope a token for this resource may carry.
    pub scopes: Scope,
    /// The scope granted when a request names none.
    pub default_scope: Scope,
}

/// Client ID Metadata Document fetching (REQUIREMENTS AS-10, SEC-6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataDocumentConfig {
    /// Whether URL client ids are fetched at all. Default `true`.
    pub enabled: bool,
    /// Whether loopback, private, link-local and metadata-service addresses may be fetched. Default
    /// `false`; tests of a local document server set it.
    pub allow_private_addresses: bool,
    /// Total time of one fetch. Default 5 s.
    pub timeout: Duration,
    /// The largest accepted document. Default 64 KiB.
    pub max_size: usize,
    /// Cache time floor (a `max-age` below it is raised). Default 60 s.
    pub min_cache: Duration,
    /// Cache time ceiling. Default 24 h.
    pub max_cache: Duration,
    /// Extra trusted root certificates (DER) besides the web PKI roots, for private deployments and
    /// tests. Default none.
    pub extra_root_certificates: Vec<Vec<u8>>,
}

impl Default for MetadataDocumentConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            allow_private_addresses: false,
            timeout: Duration::from_secs(5),
            max_size: 64 * 1024,
            min_cache: Duration::from_secs(60),
            max_cache: Duration::from_secs(24 * 3600),
            extra_root_certificates: Vec::new(),
        }
    }
}

/// A validated server configuration; build it with [`ServerConfig::builder`].
#[derive(Clone)]
pub struct ServerConfig {
    pub(crate) issuer: Issuer,
    pub(crate) resources: Vec<ResourcePolicy>,
    /// The operator's name for this service, in the pages' title and heading.
    pub(crate) service_name: String,
    /// What each scope allows, in the user's words, for the consent page.
    pub(crate) scope_descriptions: BTreeMap<ScopeToken, String>,
    /// A longer explanation of a scope, folded under its description on the consent page.
    pub(crate) scope_details: BTreeMap<ScopeToken, String>,
    /// The login, consent and error pages' templates.
    pub(crate) templates: PageTemplates,
    pub(crate) access_token_lifetime: Duration,
    pub(crate) code_lifetime: Duration,
    pub(crate) refresh_token_lifetime: Duration,
    pub(crate) grant_lifetime: Duration,
    /// How long audit events are kept (REQUIREMENTS OB-1).
    pub(crate) audit_retention: Duration,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) ids: Arc<dyn IdGenerator>,
    pub(crate) authenticator: Option<Arc<dyn UserAuthenticator>>,
    pub(crate) upstream: Option<Arc<dyn UpstreamIdentityProvider>>,
    pub(crate) auto_approve: Option<AutoApprove>,
    pub(crate) authorize_limit: RateLimit,
    pub(crate) token_limit: RateLimit,
    pub(crate) register_limit: RateLimit,
    pub(crate) registration_enabled: bool,
    pub(crate) metadata_documents: MetadataDocumentConfig,
    pub(crate) max_pending: usize,
    pub(crate) max_pending_per_peer: usize,
    pub(crate) browser_states: Option<Arc<dyn BrowserStateStore>>,
    pub(crate) login_attempts: Option<Arc<dyn AttemptStore>>,
    pub(crate) signing_algorithm: SigningAlgorithm,
    pub(crate) login_lockout: LoginLockout,
    pub(crate) password_checks: PasswordCheckLimits,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("issuer", &self.issuer)
            .field("resources", &self.resources)
            .field("access_token_lifetime", &self.access_token_lifetime)
            .field("code_lifetime", &self.code_lifetime)
            .field("auto_approve", &self.auto_approve)
            .field("signing_algorithm", &self.signing_algorithm)
            .finish_non_exhaustive()
    }
}

impl ServerConfig {
    /// A builder for the issuer `issuer` (the rest is validated in
    /// [`build`](ServerConfigBuilder::build)); [`builder_from_str`](Self::builder_from_str) takes text.
    ///
    /// ```
    /// use mcp_authz_server::{ConfigError, Issuer, ResourceUri, Scope, ServerConfig};
    /// let config = ServerConfig::builder(Issuer::parse("https://auth.example.com")?)
    ///     .resource(ResourceUri::parse("https://mcp.example.com/mcp")?, Scope::parse("read write")?)
    ///     .build()?;
    /// assert_eq!(config.issuer().as_str(), "https://auth.example.com");
    /// // http issuers need the explicit loopback setting (AS-16).
    /// let refused = ServerConfig::builder(Issuer::parse("http://127.0.0.1:8080")?)
    ///     .resource(ResourceUri::parse("http://127.0.0.1:9000/mcp")?, Scope::new())
    ///     .build();
    /// assert_eq!(refused.unwrap_err(), ConfigError::HttpIssuerNotAllowed);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder(issuer: Issuer) -> ServerConfigBuilder {
        ServerConfigBuilder {
            issuer,
            allow_http_loopback: false,
            resources: Vec::new(),
            scope_descriptions: BTreeMap::new(),
            scope_details: BTreeMap::new(),
            templates: PageTemplates::default(),
            service_name: DEFAULT_SERVICE_NAME.to_owned(),
            access_token_lifetime: Duration::from_secs(600),
            code_lifetime: Duration::from_secs(60),
            refresh_token_lifetime: Duration::from_secs(30 * 24 * 3600),
            grant_lifetime: Duration::from_secs(90 * 24 * 3600),
            audit_retention: DEFAULT_AUDIT_RETENTION,
            clock: Arc::new(SystemClock),
            ids: Arc::new(RandomIds),
            authenticator: None,
            upstream: None,
            auto_approve: None,
            authorize_limit: RateLimit::per_second(20, 40),
            token_limit: RateLimit::per_second(50, 100),
            register_limit: RateLimit::per_second(1, 10),
            registration_enabled: true,
            metadata_documents: MetadataDocumentConfig::default(),
            max_pending: 10_000,
            max_pending_per_peer: 64,
            browser_states: None,
            login_attempts: None,
            signing_algorithm: SigningAlgorithm::Es256,
            login_lockout: LoginLockout::default(),
            password_checks: PasswordCheckLimits::default(),
        }
    }

    /// [`builder`](Self::builder) for an issuer given as text (a configuration file, an
    /// environment variable): [`ConfigError::Issuer`] when it is not an issuer URL.
    ///
    /// ```
    /// use mcp_authz_server::{ConfigError, ServerConfig};
    /// assert!(ServerConfig::builder_from_str("https://auth.example.com").is_ok());
    /// assert!(matches!(
    ///     ServerConfig::builder_from_str("https://auth.example.com/?q"),
    ///     Err(ConfigError::Issuer(_))
    /// ));
    /// ```
    pub fn builder_from_str(issuer: &str) -> Result<ServerConfigBuilder, ConfigError> {
        Issuer::parse(issuer)
            .map(Self::builder)
            .map_err(ConfigError::Issuer)
    }

    /// The issuer identifier.
    pub fn issuer(&self) -> &Issuer {
        &self.issuer
    }

    /// The protected resources.
    pub fn resources(&self) -> &[ResourcePolicy] {
        &self.resources
    }

    /// The access-token lifetime.
    pub fn access_token_lifetime(&self) -> Duration {
        self.access_token_lifetime
    }

    /// The algorithm of signing keys the server creates.
    pub fn signing_algorithm(&self) -> SigningAlgorithm {
        self.signing_algorithm
    }

    /// `true` when cookies may omit `Secure`: a loopback `http` issuer.
    pub(crate) fn insecure_cookies(&self) -> bool {
        self.issuer.is_insecure_loopback()
    }

    /// Every scope of every resource.
    pub(crate) fn all_scopes(&self) -> Scope {
        self.resources
            .iter()
            .fold(Scope::new(), |acc, p| acc.union(&p.scopes))
    }
}

/// The builder of [`ServerConfig`]; every setter documents its default.
#[must_use]
pub struct ServerConfigBuilder {
    issuer: Issuer,
    allow_http_loopback: bool,
    resources: Vec<ResourcePolicy>,
    scope_descriptions: BTreeMap<ScopeToken, String>,
    scope_details: BTreeMap<ScopeToken, String>,
    templates: PageTemplates,
    service_name: String,
    access_token_lifetime: Duration,
    code_lifetime: Duration,
    refresh_token_lifetime: Duration,
    grant_lifetime: Duration,
    audit_retention: Duration,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    authenticator: Option<Arc<dyn UserAuthenticator>>,
    upstream: Option<Arc<dyn UpstreamIdentityProvider>>,
    auto_approve: Option<AutoApprove>,
    authorize_limit: RateLimit,
    token_limit: RateLimit,
    register_limit: RateLimit,
    registration_enabled: bool,
    metadata_documents: MetadataDocumentConfig,
    max_pending: usize,
    max_pending_per_peer: usize,
    browser_states: Option<Arc<dyn BrowserStateStore>>,
    login_attempts: Option<Arc<dyn AttemptStore>>,
    signing_algorithm: SigningAlgorithm,
    login_lockout: LoginLockout,
    password_checks: PasswordCheckLimits,
}

impl ServerConfigBuilder {
    /// Allows an `http` issuer on a loopback host, for local development (REQUIREMENTS AS-16).
    /// Default: off, only `https` issuers.
    pub fn allow_http_loopback(mut self) -> Self {
        self.allow_http_loopback = true;
        self
    }

    /// Adds a protected resource whose tokens may carry `scopes`; a request without `scope` gets all
    /// of them. Default: none (at least one is required).
    pub fn resource(self, resource: ResourceUri, scopes: Scope) -> Self {
        self.resource_with_default(resource, scopes.clone(), scopes)
    }

    /// The name of the service users sign in to, shown in the title, header and heading of the
    /// login, consent and error pages; [`build`](Self::build) refuses an empty one or one over
    /// [`MAX_SERVICE_NAME_LEN`] bytes ([`ConfigError::ServiceName`]). Default: `mcp-authz`.
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = name.into();
        self
    }

    /// Describes what `scope` (a scope of a configured resource) allows, in a short sentence the
    /// consent page shows next to it; scopes without one are shown as having no description.
    /// [`build`](Self::build) refuses a scope no resource accepts
    /// ([`ConfigError::UnknownScopeDescription`]) and an empty or over-long text
    /// ([`ConfigError::ScopeDescriptionLength`]). Default: none.
    pub fn scope_description(mut self, scope: ScopeToken, text: impl Into<String>) -> Self {
        self.scope_descriptions.insert(scope, text.into());
        self
    }

    /// Explains what `scope` (a scope of a configured resource) allows at more length than its
    /// [description](Self::scope_description): the consent page folds it under the short one, in a
    /// `<details>` the user can open. [`build`](Self::build) refuses a scope no resource accepts
    /// ([`ConfigError::UnknownScopeDescription`]) and an empty text or one over
    /// [`MAX_SCOPE_DETAILS_LEN`] bytes ([`ConfigError::ScopeDetailsLength`]). Default: none.
    pub fn scope_details(mut self, scope: ScopeToken, text: impl Into<String>) -> Self {
        self.scope_details.insert(scope, text.into());
        self
    }

    /// The templates of the login, consent and error pages, for pages in the operator's own words
    /// and look ([`PageTemplates::from_dir`], [`PageTemplates::with`]; the placeholders are in
    /// `docs/pages.md`). Every value filled in is escaped or built from escaped text. Default: the
    /// built-in templates ([`PageTemplate::builtin`](crate::PageTemplate::builtin)).
    pub fn page_templates(mut self, templates: PageTemplates) -> Self {
        self.templates = templates;
        self
    }

    /// Adds a protected resource with a default scope narrower than its allowed scopes.
    pub fn resource_with_default(
        mut self,
        resource: ResourceUri,
        scopes: Scope,
        default_scope: Scope,
    ) -> Self {
        self.resources.push(ResourcePolicy {
            resource,
            scopes,
            default_scope,
        });
        self
    }

    /// Access-token lifetime. Default 10 minutes; at most 1 hour.
    pub fn access_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.access_token_lifetime = lifetime;
        self
    }

    /// Authorization-code lifetime. Default 60 s; at most 60 s.
    pub fn code_lifetime(mut self, lifetime: Duration) -> Self {
        self.code_lifetime = lifetime;
        self
    }

    /// Refresh-token lifetime (each rotation starts a new one). Default 30 days.
    pub fn refresh_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.refresh_token_lifetime = lifetime;
        self
    }

    /// Absolute lifetime of a grant (refresh-token family). Default 90 days.
    pub fn grant_lifetime(mut self, lifetime: Duration) -> Self {
        self.grant_lifetime = lifetime;
        self
    }

    /// How long audit events are kept before the background purge
    /// ([`AuthorizationServer::spawn_purge`](crate::AuthorizationServer::spawn_purge)) removes them:
    /// from 1 second to [`MAX_AUDIT_RETENTION`]. Default [`DEFAULT_AUDIT_RETENTION`] (90 days).
    pub fn audit_retention(mut self, retention: Duration) -> Self {
        self.audit_retention = retention;
        self
    }

    /// The clock. Default the system clock; tests inject a `ManualClock`.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The id generator. Default 128-bit random ids; tests inject `CounterIds`.
    pub fn ids(mut self, ids: Arc<dyn IdGenerator>) -> Self {
        self.ids = ids;
        self
    }

    /// How users log in. Default: the local users of the store ([`LocalUsers`](crate::LocalUsers)).
    pub fn authenticator(mut self, authenticator: Arc<dyn UserAuthenticator>) -> Self {
        self.authenticator = Some(authenticator);
        self
    }

    /// A redirect-based upstream identity provider offered on the login page. Default: none.
    pub fn upstream_identity_provider(
        mut self,
        provider: Arc<dyn UpstreamIdentityProvider>,
    ) -> Self {
        self.upstream = Some(provider);
        self
    }

    /// Skips login and consent (see [`AutoApprove`]); allowed only with a loopback `http` issuer.
    /// Default: off.
    pub fn dangerous_auto_approve(mut self, auto_approve: AutoApprove) -> Self {
        self.auto_approve = Some(auto_approve);
        self
    }

    /// Rate limit of the authorization endpoint and its pages, per client IP. Default 20/s, burst 40.
    pub fn authorize_rate_limit(mut self, limit: RateLimit) -> Self {
        self.authorize_limit = limit;
        self
    }

    /// Rate limit of the token, revocation and introspection endpoints (SEC-11): applied per
    /// authenticated client (a confidential client once its secret verified; a public client, per
    /// address, for each successful grant), and separately per peer address to unauthenticated and
    /// failed requests, so
    /// that nobody can exhaust a client's limit by naming it. Default 50/s, burst 100.
    pub fn token_rate_limit(mut self, limit: RateLimit) -> Self {
        self.token_limit = limit;
        self
    }

    /// Rate limit of dynamic registration, per client IP. Default 1/s, burst 10.
    pub fn register_rate_limit(mut self, limit: RateLimit) -> Self {
        self.register_limit = limit;
        self
    }

    /// Enables or disables RFC 7591 dynamic registration. Default enabled.
    pub fn registration(mut self, enabled: bool) -> Self {
        self.registration_enabled = enabled;
        self
    }

    /// Client ID Metadata Document fetching. Default [`MetadataDocumentConfig::default`].
    pub fn metadata_documents(mut self, config: MetadataDocumentConfig) -> Self {
        self.metadata_documents = config;
        self
    }

    /// Bound of every in-memory table (signed-in sessions, pending authorizations of anonymous
    /// browsers and of signed-in sessions, each apart, rate-limit buckets, login lockout counters).
    /// Default 10,000 entries each.
    pub fn max_pending(mut self, max: usize) -> Self {
        self.max_pending = max.max(1);
        self
    }

    /// Most pending authorization requests one peer address keeps while signed out (and one
    /// signed-in session keeps); beyond it, that peer's (session's) oldest request is dropped, never
    /// another's (REQUIREMENTS SEC-17). Default 64.
    pub fn max_pending_per_peer(mut self, max: usize) -> Self {
        self.max_pending_per_peer = max.max(1);
        self
    }

    /// Keeps browser sessions, pending authorization requests and upstream logins in `states`
    /// instead of this process's memory, so that several instances sharing `states` (a
    /// `PostgresStore`) can each serve any step of a browser flow: no sticky sessions
    /// (REQUIREMENTS SC-1). Default: in memory ([`MemoryBrowserStates`], bounded by
    /// [`max_pending`](Self::max_pending)), for one instance.
    ///
    /// [`MemoryBrowserStates`]: mcp_authz_store::MemoryBrowserStates
    pub fn shared_browser_state(mut self, states: Arc<dyn BrowserStateStore>) -> Self {
        self.browser_states = Some(states);
        self
    }

    /// The algorithm of the signing keys the server creates: the first key of an empty store and every
    /// [rotation](crate::AuthorizationServer::rotate_signing_key). Existing keys keep theirs, so
    /// changing it takes effect at the next rotation; tokens of keys of the other algorithm stay
    /// verifiable while their key is published. Default [`SigningAlgorithm::Es256`]; ES256 or EdDSA
    /// ([`build`](Self::build) refuses the others).
    pub fn signing_algorithm(mut self, algorithm: SigningAlgorithm) -> Self {
        self.signing_algorithm = algorithm;
        self
    }

    /// Backoff and temporary lockout of the login form against password guessing (REQUIREMENTS
    /// SEC-19): per address and account, and per account from all addresses except those it signed
    /// in from. Locks grow from the first duration, double per further failure up to the maximum, and
    /// expire; the server's clock ([`clock`](Self::clock)) times them. Default
    /// [`LoginLockout::default`]: 5 and 20 failures, 1 to 15 minutes.
    pub fn login_lockout(mut self, policy: LoginLockout) -> Self {
        self.login_lockout = policy;
        self
    }

    /// Keeps the per-account counters of the [login lockout](Self::login_lockout) in `attempts`,
    /// shared by every instance of the server (REQUIREMENTS SC-1, SEC-19): failed logins of one
    /// account spread over N instances then lock it after the account limit in total, not N times
    /// it. Pass the same PostgreSQL store to every instance (`mcp-authz serve` does so on
    /// PostgreSQL). Counters are keyed by the SHA-256 of the account name. A store that cannot
    /// answer refuses the login with 503 (never lets it through unlocked). The per-(address,
    /// account) counters and the addresses an account signed in from stay in each instance's
    /// memory. Default: none, every counter in this instance's memory.
    pub fn shared_login_attempts(mut self, attempts: Arc<dyn AttemptStore>) -> Self {
        self.login_attempts = Some(attempts);
        self
    }

    /// How many Argon2 password checks (login form, Argon2 client secrets) and hashes run at once
    /// (at least 1). Each costs 19 MiB and tens of milliseconds of CPU, so this bounds the memory
    /// and CPU that concurrent failed logins can take to `checks` × 19 MiB; checks beyond it wait in
    /// the [queue](Self::password_check_queue). Default: the number of CPUs, at least 2.
    pub fn max_concurrent_password_checks(mut self, checks: usize) -> Self {
        self.password_checks.max_concurrent = checks.max(1);
        self
    }

    /// How many password checks may wait for a turn, and for how long, when
    /// [`max_concurrent_password_checks`](Self::max_concurrent_password_checks) are running; others
    /// are refused with 503 `temporarily_unavailable` and `Retry-After` (never as a wrong password).
    /// Default: 64 waiting, for at most 3 seconds.
    pub fn password_check_queue(mut self, waiting: usize, max_wait: Duration) -> Self {
        self.password_checks.max_waiting = waiting;
        self.password_checks.max_wait = max_wait;
        self
    }

    /// Validates the configuration.
    pub fn build(self) -> Result<ServerConfig, ConfigError> {
        let issuer = self.issuer;
        if issuer.is_insecure_loopback() && !self.allow_http_loopback {
            return Err(ConfigError::HttpIssuerNotAllowed);
        }
        if self.resources.is_empty() {
            return Err(ConfigError::NoResources);
        }
        if !crate::signing::can_sign(self.signing_algorithm) {
            return Err(ConfigError::UnsupportedSigningAlgorithm(
                self.signing_algorithm,
            ));
        }
        for (i, policy) in self.resources.iter().enumerate() {
            if self
                .resources
                .iter()
                .skip(i + 1)
                .any(|p| p.resource == policy.resource)
            {
                return Err(ConfigError::DuplicateResource(
                    policy.resource.as_str().to_owned(),
                ));
            }
            if !policy.default_scope.is_subset(&policy.scopes) {
                return Err(ConfigError::DefaultScopeNotAllowed(
                    policy.resource.as_str().to_owned(),
                ));
            }
        }
        if self.service_name.trim().is_empty() || self.service_name.len() > MAX_SERVICE_NAME_LEN {
            return Err(ConfigError::ServiceName);
        }
        let accepted = self
            .resources
            .iter()
            .fold(Scope::new(), |acc, p| acc.union(&p.scopes));
        for (scope, text) in &self.scope_descriptions {
            if !accepted.contains(scope.as_str()) {
                return Err(ConfigError::UnknownScopeDescription(
                    scope.as_str().to_owned(),
                ));
            }
            if text.trim().is_empty() || text.len() > MAX_SCOPE_DESCRIPTION_LEN {
                return Err(ConfigError::ScopeDescriptionLength(
                    scope.as_str().to_owned(),
                ));
            }
        }
        for (scope, text) in &self.scope_details {
            if !accepted.contains(scope.as_str()) {
                return Err(ConfigError::UnknownScopeDescription(
                    scope.as_str().to_owned(),
                ));
            }
            if text.trim().is_empty() || text.len() > MAX_SCOPE_DETAILS_LEN {
                return Err(ConfigError::ScopeDetailsLength(scope.as_str().to_owned()));
            }
        }
        check_lifetime(
            "access_token_lifetime",
            self.access_token_lifetime,
            MAX_ACCESS_TOKEN_LIFETIME,
        )?;
        check_lifetime("code_lifetime", self.code_lifetime, MAX_CODE_LIFETIME)?;
        let year = Duration::from_secs(366 * 24 * 3600);
        check_lifetime("refresh_token_lifetime", self.refresh_token_lifetime, year)?;
        check_lifetime("grant_lifetime", self.grant_lifetime, year)?;
        check_lifetime("audit_retention", self.audit_retention, MAX_AUDIT_RETENTION)?;
        if self.auto_approve.is_some() && !issuer.is_insecure_loopback() {
            return Err(ConfigError::AutoApproveNotLoopback);
        }
        Ok(ServerConfig {
            issuer,
            resources: self.resources,
            scope_descriptions: self.scope_descriptions,
            scope_details: self.scope_details,
            templates: self.templates,
            service_name: self.service_name,
            access_token_lifetime: self.access_token_lifetime,
            code_lifetime: self.code_lifetime,
            refresh_token_lifetime: self.refresh_token_lifetime,
            grant_lifetime: self.grant_lifetime,
            audit_retention: self.audit_retention,
            clock: self.clock,
            ids: self.ids,
            authenticator: self.authenticator,
            upstream: self.upstream,
            auto_approve: self.auto_approve,
            authorize_limit: self.authorize_limit,
            token_limit: self.token_limit,
            register_limit: self.register_limit,
            registration_enabled: self.registration_enabled,
            metadata_documents: self.metadata_documents,
            max_pending: self.max_pending,
            max_pending_per_peer: self.max_pending_per_peer,
            browser_states: self.browser_states,
            login_attempts: self.login_attempts,
            signing_algorithm: self.signing_algorithm,
            login_lockout: self.login_lockout,
            password_checks: self.password_checks,
        })
    }
}

/// How long audit events are kept by default: 90 days.
pub const DEFAULT_AUDIT_RETENTION: Duration = Duration::from_secs(90 * 24 * 3600);

/// The longest audit retention accepted: 10 years.
pub const MAX_AUDIT_RETENTION: Duration = Duration::from_secs(3660 * 24 * 3600);

fn check_lifetime(name: &'static str, value: Duration, max: Duration) -> Result<(), ConfigError> {
    if value.as_secs() == 0 || value > max {
        return Err(ConfigError::Lifetime {
            name,
            max_secs: max.as_secs(),
        });
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn only_algorithms_the_server_signs_with_are_accepted() {
        let builder = |algorithm| {
            ServerConfig::builder(Issuer::parse("https://auth.example.com").unwrap())
                .resource(
                    ResourceUri::parse("https://mcp.example.com/mcp").unwrap(),
                    Scope::parse("tools:read").unwrap(),
                )
                .signing_algorithm(algorithm)
                .build()
        };
        for algorithm in SigningAlgorithm::ALL {
            match algorithm {
                SigningAlgorithm::Es256 | SigningAlgorithm::EdDsa => {
                    assert_eq!(builder(algorithm).unwrap().signing_algorithm(), algorithm);
                }
                _ => assert_eq!(
                    builder(algorithm).unwrap_err(),
                    ConfigError::UnsupportedSigningAlgorithm(algorithm)
                ),
            }
        }
    }
}
