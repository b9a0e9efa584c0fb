//! The framework-neutral authorization server over `http` types.

mod authorize;
mod clients;
mod introspect;
mod metadata;
mod operator;
mod pages;
mod register;
mod standing;
mod token;

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use mcp_authz_metadata::{AuthorizationServerMetadata, authorization_server_metadata_paths};
pub use operator::OperatorRevocation;

use mcp_authz_store::{ClientRecord, NumericDate, Store, StoreError};

use crate::cimd::MetadataFetcher;
use crate::config::{ConfigError, ServerConfig};
use crate::keys::{KeyError, KeyRotation, Keys};
use crate::lockout::Lockout;
use crate::rate_limit::RateLimiter;
use crate::respond::{self, ClientAddr};
use crate::session::{BoundedMap, OwnedMap, PendingRequests, Session};
use crate::signing::SigningAlgorithm;
use crate::users::{LocalUsers, UserAuthenticator};

/// The endpoint paths, derived from the issuer's path.
#[derive(Debug, Clone)]
pub(crate) struct Paths {
    pub(crate) metadata: Vec<String>,
    pub(crate) jwks: String,
    pub(crate) authorize: String,
    pub(crate) login: String,
    pub(crate) consent: String,
    pub(crate) resume: String,
    pub(crate) upstream: String,
    pub(crate) upstream_callback: String,
    pub(crate) token: String,
    pub(crate) register: String,
    pub(crate) revoke: String,
    pub(crate) introspect: String,
}

impl Paths {
    fn new(config: &ServerConfig) -> Self {
        let base = config.issuer.path_component();
        Self {
            metadata: authorization_server_metadata_paths(&config.issuer),
            jwks: format!("{base}/jwks.json"),
            authorize: format!("{base}/authorize"),
            login: format!("{base}/authorize/login"),
            consent: format!("{base}/authorize/consent"),
            resume: format!("{base}/authorize/resume"),
            upstream: format!("{base}/authorize/upstream"),
            upstream_callback: format!("{base}/authorize/upstream/callback"),
            token: format!("{base}/token"),
            register: format!("{base}/register"),
            revoke: format!("{base}/revoke"),
            introspect: format!("{base}/introspect"),
        }
    }
}

/// Why a handler stopped: an answer already made, or an internal failure to map.
pub(crate) enum Failure {
    /// A complete response (an OAuth error, an error page).
    Respond(Box<Response<Bytes>>),
    /// A store failure: 503 when unavailable, else 500.
    Store(StoreError),
    /// A signing-key failure: 500 (or 503 when its store is unavailable).
    Key(KeyError),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl From<KeyError> for Failure {
    fn from(e: KeyError) -> Self {
        Self::Key(e)
    }
}

impl Failure {
    /// A complete response.
    pub(crate) fn respond(response: Response<Bytes>) -> Self {
        Self::Respond(Box::new(response))
    }

    fn into_response(self) -> Response<Bytes> {
        match self {
            Self::Respond(response) => *response,
            Self::Store(e) | Self::Key(KeyError::Store(e)) if e.is_unavailable() => {
                tracing::warn!(error = %e, "store unavailable");
                respond::unavailable()
            }
            Self::Store(e) | Self::Key(KeyError::Store(e)) => {
                tracing::error!(error = %e, "store failure");
                respond::server_error()
            }
            Self::Key(e) => {
                tracing::error!(error = %e, "signing key failure");
                respond::server_error()
            }
        }
    }
}

/// The result of a handler.
pub(crate) type Handled = Result<Response<Bytes>, Failure>;

pub(crate) struct Inner {
    pub(crate) config: ServerConfig,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) keys: Keys,
    pub(crate) authenticator: Arc<dyn UserAuthenticator>,
    /// Signed-in sessions only: anonymous browsers have none (SEC-17).
    pub(crate) sessions: BoundedMap<Session>,
    pub(crate) pending: PendingRequests,
    /// Upstream login `state` -> (browser id, pending request id), bounded per peer.
    pub(crate) upstream_states: OwnedMap<(String, String)>,
    /// Recently read registered clients (see `clients::CLIENT_CACHE_TTL`).
    pub(crate) clients: BoundedMap<ClientRecord>,
    pub(crate) authorize_limiter: RateLimiter,
    /// Failed logins per address and account, and per account (SEC-19).
    pub(crate) lockout: Lockout,
    /// Token, revocation and introspection requests of authenticated clients, per client (SEC-11).
    pub(crate) token_limiter: RateLimiter,
    /// Unauthenticated and failed token, revocation and introspection requests, per peer (SEC-11).
    pub(crate) token_peer_limiter: RateLimiter,
    pub(crate) register_limiter: RateLimiter,
    pub(crate) fetcher: Option<MetadataFetcher>,
    pub(crate) metadata: AuthorizationServerMetadata,
    pub(crate) metadata_json: Bytes,
    pub(crate) paths: Paths,
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
        let paths = Paths::new(&config);
        let metadata = metadata::document(&config, &paths);
        let metadata_json =
            Bytes::from(serde_json::to_vec(&metadata).map_err(|_| ConfigError::NoResources)?);
        let fetcher = if config.metadata_documents.enabled {
            Some(MetadataFetcher::new(config.metadata_documents.clone())?)
        } else {
            None
        };
        let authenticator = config
            .authenticator
            .clone()
            .unwrap_or_else(|| Arc::new(LocalUsers::new(store.clone())));
        let cap = config.max_pending;
        let inner = Inner {
            keys: Keys::new(
                store.clone(),
                config.ids.clone(),
                config.signing_algorithm,
                config.access_token_lifetime + std::time::Duration::from_secs(60),
            ),
            authenticator,
            sessions: BoundedMap::new(cap),
            pending: PendingRequests::new(cap, config.max_pending_per_peer),
            upstream_states: OwnedMap::new(cap, config.max_pending_per_peer),
            clients: BoundedMap::new(clients::CLIENT_CACHE_CAPACITY),
            authorize_limiter: RateLimiter::new(config.authorize_limit, cap),
            lockout: Lockout::new(config.login_lockout, cap),
            token_limiter: RateLimiter::new(config.token_limit, cap),
            token_peer_limiter: RateLimiter::new(config.token_limit, cap),
            register_limiter: RateLimiter::new(config.register_limit, cap),
            fetcher,
            metadata,
            metadata_json,
            paths,
            store,
            config,
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// Outbound Client ID Metadata Document fetches this server has started since it was created
    /// (0 when metadata documents are disabled), for monitoring (REQUIREMENTS SEC-12).
    pub fn metadata_document_fetches(&self) -> u64 {
        self.inner
            .fetcher
            .as_ref()
            .map_or(0, MetadataFetcher::fetches_started)
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
        LocalUsers::new(self.inner.store.clone())
    }

    /// Generates a new signing key of the configured algorithm
    /// ([`ServerConfigBuilder::signing_algorithm`](crate::ServerConfigBuilder::signing_algorithm)) and
    /// publishes it in the JWKS at once; it starts signing after
    /// [`DEFAULT_KEY_PUBLICATION_DELAY`](crate::DEFAULT_KEY_PUBLICATION_DELAY) (10 min), when resource
    /// servers have refetched the JWKS (REQUIREMENTS SEC-15). The previous key then stays in the JWKS
    /// until every token it signed has expired (REQUIREMENTS AS-9).
    pub async fn rotate_signing_key(&self) -> Result<KeyRotation, KeyError> {
        self.rotate_signing_key_after(crate::DEFAULT_KEY_PUBLICATION_DELAY)
            .await
    }

    /// Like [`rotate_signing_key`](Self::rotate_signing_key) with another publication delay. Keep it
    /// longer than the JWKS lifetime of your resource servers (the JWKS is served with `max-age` of
    /// [`JWKS_MAX_AGE`](crate::JWKS_MAX_AGE)), or tokens signed with the new key may be refused.
    pub async fn rotate_signing_key_after(
        &self,
        delay: std::time::Duration,
    ) -> Result<KeyRotation, KeyError> {
        self.rotate_signing_key_to(self.inner.config.signing_algorithm, delay)
            .await
    }

    /// Rotates with no publication delay: the new key signs at once. For a compromised key, or when
    /// no remote resource server caches the JWKS; other verifiers refuse the new tokens until they
    /// refetch it (on the unknown `kid`, at most once per their refetch interval).
    pub async fn rotate_signing_key_now(&self) -> Result<KeyRotation, KeyError> {
        self.rotate_signing_key_after(std::time::Duration::ZERO)
            .await
    }

    /// Like [`rotate_signing_key_after`](Self::rotate_signing_key_after) with a key of `algorithm`:
    /// switching algorithms keeps the tokens of the previous key verifiable (the JWKS lists both).
    pub async fn rotate_signing_key_to(
        &self,
        algorithm: SigningAlgorithm,
        delay: std::time::Duration,
    ) -> Result<KeyRotation, KeyError> {
        self.inner.keys.rotate(algorithm, self.now(), delay).await
    }

    pub(crate) fn now(&self) -> NumericDate {
        self.inner.config.clock.now()
    }

    /// Dispatches a request to its endpoint by path; 404 for unknown paths, 405 for wrong methods.
    pub async fn handle(&self, request: Request<Bytes>) -> Response<Bytes> {
        let paths = &self.inner.paths;
        let path = request.uri().path();
        let method = request.method().clone();
        let get = method == Method::GET || method == Method::HEAD;
        let post = method == Method::POST;
        if paths.metadata.iter().any(|p| p == path) {
            return if get {
                self.metadata_endpoint()
            } else {
                not_allowed()
            };
        }
        let p = path.to_owned();
        match p.as_str() {
            x if x == paths.jwks => {
                if get {
                    self.jwks(request).await
                } else {
                    not_allowed()
                }
            }
            x if x == paths.authorize => {
                if get {
                    self.authorize(request).await
                } else {
                    not_allowed()
                }
            }
            x if x == paths.resume => {
                if get {
                    self.resume(request).await
                } else {
                    not_allowed()
                }
            }
            x if x == paths.upstream => {
                if get {
                    self.upstream_login(request).await
                } else {
                    not_allowed()
                }
            }
            x if x == paths.upstream_callback => {
                if get {
                    self.upstream_callback(request).await
                } else {
                    not_allowed()
                }
            }
            x if x == paths.login => post_only(post, self.login(request)).await,
            x if x == paths.consent => post_only(post, self.consent(request)).await,
            x if x == paths.token => post_only(post, self.token(request)).await,
            x if x == paths.register => post_only(post, self.register(request)).await,
            x if x == paths.revoke => post_only(post, self.revoke(request)).await,
            x if x == paths.introspect => post_only(post, self.introspect(request)).await,
            _ => respond::json(StatusCode::NOT_FOUND, r#"{"error":"not_found"}"#),
        }
    }

    /// The JWKS (`jwks_uri`): active, published and not-yet-expired retired keys, with
    /// `Cache-Control: public, max-age=` [`JWKS_MAX_AGE`](crate::JWKS_MAX_AGE).
    pub async fn jwks(&self, _request: Request<Bytes>) -> Response<Bytes> {
        match self.inner.keys.jwks(self.now()).await {
            Ok(body) => respond::public_json(body, crate::keys::JWKS_CACHE_CONTROL),
            Err(e) => Failure::Key(e).into_response(),
        }
    }

    /// The RFC 8414 metadata document (served at every well-known path, AS-1).
    pub fn metadata_endpoint(&self) -> Response<Bytes> {
        respond::public_json(self.inner.metadata_json.clone(), "public, max-age=3600")
    }
}

async fn post_only(post: bool, handler: impl Future<Output = Response<Bytes>>) -> Response<Bytes> {
    if post { handler.await } else { not_allowed() }
}

fn not_allowed() -> Response<Bytes> {
    respond::json(
        StatusCode::METHOD_NOT_ALLOWED,
        r#"{"error":"invalid_request","error_description":"method not allowed"}"#,
    )
}

/// The rate-limit key of an anonymous request: the peer IP, or one shared key without it.
pub(crate) fn peer_key(request: &Request<Bytes>) -> String {
    request
        .extensions()
        .get::<ClientAddr>()
        .map_or_else(|| "unknown".to_owned(), |a| a.0.to_string())
}

/// `true` for a 4xx answer other than 429: a request that failed, charged to its peer (SEC-11).
pub(crate) fn is_failure(result: &Handled) -> bool {
    let status = match result {
        Ok(response) => response.status(),
        Err(Failure::Respond(response)) => response.status(),
        Err(_) => return false,
    };
    status.is_client_error() && status != StatusCode::TOO_MANY_REQUESTS
}

/// Collapses a handler result into a response.
pub(crate) fn finish(result: Handled) -> Response<Bytes> {
    result.unwrap_or_else(Failure::into_response)
}
