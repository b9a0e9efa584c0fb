//! Finding clients (registered or by metadata document) and authenticating them (REQUIREMENTS AS-10,
//! AS-13, SEC-10, SEC-12).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http::header::AUTHORIZATION;
use mcp_authz_metadata::{ClientId, TokenEndpointAuthMethod};
use mcp_authz_store::{
    AuditKind, AuditOutcome, AuditReason, ClientKind, ClientRecord, NumericDate, SecretHash, Store,
};
use mcp_authz_token::fetch::FetchError;
use mcp_authz_token::{BodyClientCredentials, ClientAuthentication, TokenRequest};

use crate::audit::{Auditor, client_label};
use crate::cimd::{CimdError, MetadataFetcher};
use crate::config::ServerConfig;
use crate::error::{EndpointError, InvalidClient};
use crate::fetch_budget::loggable;
use crate::password_checks::PasswordChecks;
use crate::respond::peer_key;
use crate::secrets::HashError;
use crate::session::BoundedMap;

/// How long a registered (dynamic or pre-registered) client record read from the store is reused
/// without asking the store again. Such records are written once at registration; a change made to
/// the store by another process (an operator updating or deleting a client) is seen by this server
/// within this time. Metadata-document clients are not cached here (their freshness follows the
/// document's own cache lifetime and the injected clock).
const CLIENT_CACHE_TTL: Duration = Duration::from_secs(5);

/// The most client records [`CLIENT_CACHE_TTL`] keeps in memory.
const CLIENT_CACHE_CAPACITY: usize = 512;

/// `true` for a client that authenticates with a shared secret.
pub(crate) fn is_confidential(client: &ClientRecord) -> bool {
    client.secret_hash.is_some()
        && client.token_endpoint_auth_method != TokenEndpointAuthMethod::None
}

/// `true` for a client that may use a grant acting without a user (`client_credentials`): only
/// clients the operator registered (SEC-10). Dynamically registered and metadata-document clients
/// never may, whatever grant types their stored record lists (records stored before this rule).
pub(crate) fn may_act_without_user(client: &ClientRecord) -> bool {
    matches!(client.kind, ClientKind::PreRegistered)
}

/// `true` when the client is a metadata-document client whose redirect URIs are all loopback: the
/// consent page warns that any local program could be receiving the code (AS-11).
pub(crate) fn localhost_only_document_client(client: &ClientRecord) -> bool {
    matches!(client.kind, ClientKind::MetadataDocument { .. })
        && client.redirect_uris.iter().all(|u| u.is_loopback())
}

/// Whether finding a client may fetch its Client ID Metadata Document (REQUIREMENTS SEC-12).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Lookup<'a> {
    /// The authorization endpoint: a URL client id's document may be fetched (again when stale),
    /// within the fetch budget of `peer`.
    Fetch {
        /// The requesting peer, charged for the fetch.
        peer: &'a str,
    },
    /// The token, revocation and introspection endpoints: only a client already seen at the
    /// authorization endpoint. A stored document is fetched again when stale; an unstored one only
    /// when `grant` is a code or refresh token issued to that client (its record was purged since).
    /// Anything else is an unknown client: naming URLs here starts no outbound request.
    Known {
        /// The requesting peer, charged for a refetch.
        peer: &'a str,
        /// The grant presented with the request, if any.
        grant: Option<&'a TokenRequest>,
    },
}

/// The clients of one server: the store, a short cache of registered clients, and the metadata
/// document fetcher.
pub(crate) struct ClientDirectory {
    config: Arc<ServerConfig>,
    store: Arc<dyn Store>,
    /// Recently read registered clients (see [`CLIENT_CACHE_TTL`]).
    cache: BoundedMap<ClientRecord>,
    fetcher: Option<MetadataFetcher>,
    /// The server's bound on Argon2 work (operator-configured Argon2 client secrets).
    checks: Arc<PasswordChecks>,
    /// Records first metadata-document fetches, refused fetches and failed authentications.
    audit: Arc<Auditor>,
}

impl ClientDirectory {
    /// The clients of `store`, fetching metadata documents with `fetcher` when enabled.
    pub(crate) fn new(
        config: Arc<ServerConfig>,
        store: Arc<dyn Store>,
        fetcher: Option<MetadataFetcher>,
        checks: Arc<PasswordChecks>,
        audit: Arc<Auditor>,
    ) -> Self {
        Self {
            audit,
            checks,
            config,
            store,
            cache: BoundedMap::new(CLIENT_CACHE_CAPACITY),
            fetcher,
        }
    }

    /// Drops a cached record after the operator changed or removed the client.
    pub(crate) fn forget(&self, client_id: &ClientId) {
        self.cache.remove(client_id.as_str());
    }

    /// Outbound metadata document fetches started so far (0 when disabled).
    pub(crate) fn fetches_started(&self) -> u64 {
        self.fetcher
            .as_ref()
            .map_or(0, MetadataFetcher::fetches_started)
    }

    /// The client with this id: a stored one, or a fetched (and cached) metadata document for a URL
    /// client id when `lookup` allows it. `None` for unknown clients and documents that do not fetch
    /// or validate.
    pub(crate) async fn find(
        &self,
        client_id: &ClientId,
        lookup: Lookup<'_>,
    ) -> Result<Option<ClientRecord>, EndpointError> {
        if let Some(cached) = self.cache.get(client_id.as_str()) {
            return Ok(Some(cached));
        }
        let now = self.config.clock.now();
        let stored = self.store.get_client(client_id).await?;
        if let Some(client) = &stored
            && client.is_fresh(now)
        {
            if matches!(client.kind, ClientKind::Dynamic | ClientKind::PreRegistered) {
                self.cache.insert(
                    client_id.as_str().to_owned(),
                    client.clone(),
                    CLIENT_CACHE_TTL,
                );
            }
            return Ok(stored);
        }
        let Some(fetcher) = &self.fetcher else {
            return Ok(stored.filter(|c| c.is_fresh(now)));
        };
        if client_id.metadata_document_url().is_none() {
            return Ok(stored);
        }
        let peer = match lookup {
            Lookup::Fetch { peer } => peer,
            Lookup::Known { peer, grant } => {
                let known = stored.is_some()
                    || match grant {
                        Some(grant) => self.grant_names_client(grant, client_id, now).await?,
                        None => false,
                    };
                if !known {
                    return Ok(None);
                }
                peer
            }
        };
        match fetcher.fetch(client_id, now, peer).await {
            Ok(record) => {
                self.store.upsert_client(record.clone()).await?;
                if stored.is_none() {
                    let mut event = self.audit.event_from(
                        AuditKind::MetadataDocumentFetched,
                        AuditOutcome::Success,
                        peer.parse().ok(),
                    );
                    event.client_id = Some(client_id.clone());
                    self.audit.record(event).await;
                }
                Ok(Some(record))
            }
            Err(e @ (CimdError::Throttled | CimdError::RecentlyFailed(_))) => {
                tracing::debug!(client_id = %loggable(client_id.as_str()), error = %loggable(&e.to_string()), "client metadata document not fetched");
                Ok(None)
            }
            Err(e) => {
                tracing::warn!(client_id = %loggable(client_id.as_str()), error = %loggable(&e.to_string()), "client metadata document refused");
                let (kind, label) = match &e {
                    CimdError::Fetch(FetchError::Policy(_)) => {
                        (AuditKind::FetchRefused, "address_policy")
                    }
                    e if e.is_host_failure() => {
                        (AuditKind::FetchRefused, "host_unreachable_or_guarded")
                    }
                    CimdError::Invalid(_) => {
                        (AuditKind::MetadataDocumentFetched, "invalid_document")
                    }
                    _ => (AuditKind::MetadataDocumentFetched, "fetch_failed"),
                };
                let mut event =
                    self.audit
                        .event_from(kind, AuditOutcome::Failure, peer.parse().ok());
                event.client_id = Some(client_id.clone());
                event.reason = AuditReason::lossy(label);
                self.audit.record(event).await;
                Ok(None)
            }
        }
    }

    /// `true` when `grant` is an authorization code or refresh token this server issued to
    /// `client_id` (whatever its state): evidence that the client was seen at the authorization
    /// endpoint, so its metadata document may be fetched again after its record was purged.
    async fn grant_names_client(
        &self,
        grant: &TokenRequest,
        client_id: &ClientId,
        now: NumericDate,
    ) -> Result<bool, EndpointError> {
        let store = &self.store;
        Ok(match grant {
            TokenRequest::AuthorizationCode(grant) => store
                .find_code(&SecretHash::of(grant.code.secret()))
                .await?
                .is_some_and(|code| &code.client_id == client_id),
            TokenRequest::RefreshToken(grant) => store
                .find_refresh_token(&SecretHash::of(grant.refresh_token.secret()), now)
                .await?
                .is_some_and(|lookup| &lookup.grant.client_id == client_id),
            _ => false,
        })
    }

    /// Authenticates the client of a token, revocation or introspection request (REQUIREMENTS
    /// AS-13). `require_secret` refuses public clients (introspection). A metadata-document client
    /// must already be known ([`Lookup::Known`] with `grant`, the token request's grant if any).
    pub(crate) async fn authenticate(
        &self,
        request: &Request<Bytes>,
        body: BodyClientCredentials,
        require_secret: bool,
        grant: Option<&TokenRequest>,
    ) -> Result<ClientRecord, EndpointError> {
        let auth = match ClientAuthentication::resolve(request.headers().get(AUTHORIZATION), body) {
            Ok(Some(auth)) => auth,
            Ok(None) => {
                let label = client_label(&InvalidClient::Missing);
                self.audit.client_auth_failed(request, None, label).await;
                return Err(InvalidClient::Missing.into());
            }
            Err(e) => {
                self.audit
                    .client_auth_failed(request, None, "unreadable_credentials")
                    .await;
                return Err(e.into());
            }
        };
        let result = self.check(request, &auth, require_secret, grant).await;
        if let Err(EndpointError::Client(cause)) = &result {
            self.audit
                .client_auth_failed(request, Some(auth.client_id()), client_label(cause))
                .await;
        }
        result
    }

    /// Checks the credentials `auth` of `request` (see [`authenticate`](Self::authenticate)).
    async fn check(
        &self,
        request: &Request<Bytes>,
        auth: &ClientAuthentication,
        require_secret: bool,
        grant: Option<&TokenRequest>,
    ) -> Result<ClientRecord, EndpointError> {
        let peer = peer_key(request);
        let lookup = Lookup::Known { peer: &peer, grant };
        let client = self
            .find(auth.client_id(), lookup)
            .await?
            .ok_or(InvalidClient::Unknown)?;
        let secret = match auth {
            ClientAuthentication::None { .. } => None,
            ClientAuthentication::SecretBasic(basic) => Some(&basic.client_secret),
            ClientAuthentication::SecretPost { client_secret, .. } => Some(client_secret),
            _ => return Err(InvalidClient::UnsupportedMethod.into()),
        };
        // SEC-20: exactly the registered method; a basic client's secret in the body (or the reverse)
        // is refused like a wrong secret.
        if auth.method() != client.token_endpoint_auth_method {
            return Err(InvalidClient::WrongMethod.into());
        }
        match (is_confidential(&client), secret) {
            (false, None) if !require_secret => Ok(client),
            (true, Some(secret)) => {
                let expired = client
                    .secret_expires_at
                    .is_some_and(|at| at.as_secs() != 0 && self.config.clock.now() >= at);
                let valid = match &client.secret_hash {
                    Some(hash) => match self.checks.verify(secret.secret(), hash).await {
                        Ok(valid) => valid,
                        Err(HashError::Busy) => return Err(EndpointError::PasswordChecksBusy),
                        Err(e) => {
                            tracing::error!(error = %e, "client secret verification failed");
                            return Err(EndpointError::SecretVerification);
                        }
                    },
                    None => false,
                };
                if valid && !expired {
                    Ok(client)
                } else {
                    Err(InvalidClient::Failed.into())
                }
            }
            _ => Err(InvalidClient::Failed.into()),
        }
    }
}
