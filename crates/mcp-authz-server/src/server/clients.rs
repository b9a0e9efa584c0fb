//! Finding clients (registered or by metadata document) and authenticating them (REQUIREMENTS AS-10,
//! AS-13).

use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http::header::AUTHORIZATION;
use mcp_authz_metadata::{
    ApplicationType, ClientId, ClientSecret, GrantType, ResourceUri, TokenEndpointAuthMethod,
};
use mcp_authz_store::{ClientKind, ClientRecord, NumericDate, SecretHash, StoreError};
use mcp_authz_token::{BodyClientCredentials, ClientAuthentication, ErrorCode, TokenRequest};

use crate::cimd::FetchError;
use crate::fetch_budget::loggable;

use super::{AuthorizationServer, Failure, Handled, is_failure, peer_key};
use crate::respond;
use crate::secrets::{hash_client_secret, verify_secret_off_thread};
use crate::session::random_id;

/// How long a registered (dynamic or pre-registered) client record read from the store is reused
/// without asking the store again. Such records are written once at registration; a change made to
/// the store by another process (an operator updating or deleting a client) is seen by this server
/// within this time. Metadata-document clients are not cached here (their freshness follows the
/// document's own cache lifetime and the injected clock).
pub(crate) const CLIENT_CACHE_TTL: Duration = Duration::from_secs(5);

/// The most client records [`CLIENT_CACHE_TTL`] keeps in memory.
pub(crate) const CLIENT_CACHE_CAPACITY: usize = 512;

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

pub(crate) fn invalid_client(description: &str) -> Failure {
    Failure::respond(respond::error(ErrorCode::InvalidClient, description))
}

impl AuthorizationServer {
    /// Pre-registers a confidential client authenticating with `client_secret_basic` or
    /// `client_secret_post`: a machine client (`client_credentials`) or a resource server that
    /// introspects tokens whose audience is one of `allowed_resources` (REQUIREMENTS AS-15). Returns the
    /// generated 256-bit secret, which is stored only as a hash: show it once.
    pub async fn register_confidential_client(
        &self,
        client_id: ClientId,
        client_name: &str,
        grant_types: Vec<GrantType>,
        allowed_resources: Option<Vec<ResourceUri>>,
    ) -> Result<ClientSecret, StoreError> {
        let secret = ClientSecret::new(random_id().ok_or(StoreError::RandomnessUnavailable)?);
        let hash =
            hash_client_secret(secret.secret()).map_err(|_| StoreError::RandomnessUnavailable)?;
        let record = ClientRecord {
            client_id,
            kind: ClientKind::PreRegistered,
            secret_hash: Some(hash),
            secret_expires_at: None,
            redirect_uris: Vec::new(),
            grant_types,
            token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretBasic,
            application_type: ApplicationType::Web,
            client_name: Some(client_name.to_owned()),
            allowed_resources,
            allowed_scope: None,
            metadata_json: "{}".to_owned(),
            created_at: self.now(),
        };
        self.inner.store.insert_client(record).await?;
        Ok(secret)
    }

    /// The client with this id: a stored one, or a fetched (and cached) metadata document for a URL
    /// client id when `lookup` allows it. `None` for unknown clients and documents that do not fetch
    /// or validate.
    pub(crate) async fn find_client(
        &self,
        client_id: &ClientId,
        lookup: Lookup<'_>,
    ) -> Result<Option<ClientRecord>, Failure> {
        if let Some(cached) = self.inner.clients.get(client_id.as_str()) {
            return Ok(Some(cached));
        }
        let now = self.now();
        let stored = self.inner.store.get_client(client_id).await?;
        if let Some(client) = &stored
            && client.is_fresh(now)
        {
            if matches!(client.kind, ClientKind::Dynamic | ClientKind::PreRegistered) {
                self.inner.clients.insert(
                    client_id.as_str().to_owned(),
                    client.clone(),
                    CLIENT_CACHE_TTL,
                );
            }
            return Ok(stored);
        }
        let Some(fetcher) = &self.inner.fetcher else {
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
                self.inner.store.upsert_client(record.clone()).await?;
                Ok(Some(record))
            }
            Err(e @ (FetchError::Throttled | FetchError::RecentlyFailed(_))) => {
                tracing::debug!(client_id = %loggable(client_id.as_str()), error = %loggable(&e.to_string()), "client metadata document not fetched");
                Ok(None)
            }
            Err(e) => {
                tracing::warn!(client_id = %loggable(client_id.as_str()), error = %loggable(&e.to_string()), "client metadata document refused");
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
    ) -> Result<bool, Failure> {
        let store = &self.inner.store;
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
    pub(crate) async fn authenticate_client(
        &self,
        request: &Request<Bytes>,
        body: BodyClientCredentials,
        require_secret: bool,
        grant: Option<&TokenRequest>,
    ) -> Result<ClientRecord, Failure> {
        let auth = ClientAuthentication::resolve(request.headers().get(AUTHORIZATION), body)
            .map_err(|e| Failure::respond(respond::oauth_error(&e.error_response())))?
            .ok_or_else(|| invalid_client("client authentication is required"))?;
        let peer = peer_key(request);
        let lookup = Lookup::Known { peer: &peer, grant };
        let client = self
            .find_client(auth.client_id(), lookup)
            .await?
            .ok_or_else(|| invalid_client("unknown client"))?;
        let secret = match &auth {
            ClientAuthentication::None { .. } => None,
            ClientAuthentication::SecretBasic(basic) => Some(&basic.client_secret),
            ClientAuthentication::SecretPost { client_secret, .. } => Some(client_secret),
            _ => return Err(invalid_client("unsupported client authentication")),
        };
        // SEC-20: exactly the registered method; a basic client's secret in the body (or the reverse)
        // is refused like a wrong secret.
        if auth.method() != client.token_endpoint_auth_method {
            return Err(invalid_client(
                "the client must authenticate with its registered token_endpoint_auth_method",
            ));
        }
        match (is_confidential(&client), secret) {
            (false, None) if !require_secret => Ok(client),
            (true, Some(secret)) => {
                let expired = client
                    .secret_expires_at
                    .is_some_and(|at| at.as_secs() != 0 && self.now() >= at);
                let valid = match &client.secret_hash {
                    Some(hash) => verify_secret_off_thread(secret.secret(), hash)
                        .await
                        .map_err(|e| {
                            tracing::error!(error = %e, "client secret verification failed");
                            Failure::respond(respond::server_error())
                        })?,
                    None => false,
                };
                if valid && !expired {
                    Ok(client)
                } else {
                    Err(invalid_client("client authentication failed"))
                }
            }
            _ => Err(invalid_client("client authentication failed")),
        }
    }
}

/// The rate limits of the client-authenticated endpoints (token, revocation, introspection), REQUIREMENTS
/// SEC-11: limits cannot be turned against a client by naming it.
///
/// - A request is refused while its **peer address** has no failure budget left, and every failed
///   answer (4xx other than 429) is charged to the peer: unauthenticated floods cost their sender.
/// - A client's own bucket is charged only for what that client provably did: a **confidential** client
///   once its secret verified ([`charge_confidential`](AuthorizationServer::charge_confidential)); a
///   **public** client, which has nothing to verify before the grant, only when its grant succeeded (a
///   valid code with its PKCE verifier, or a valid refresh token): before the grant its bucket is only
///   read ([`peek_public`](AuthorizationServer::peek_public)), so nobody else can empty it.
/// - A public client id is shared by every installation of the application (every user of a metadata
///   document client, for one), so its bucket is per client id **and** peer: one user holding valid
///   tokens of the application cannot spend the budget of its other users.
impl AuthorizationServer {
    /// Runs `handler` under the peer's failure budget (see above).
    pub(crate) async fn limited_by_peer(
        &self,
        request: &Request<Bytes>,
        handler: impl Future<Output = Handled>,
    ) -> Handled {
        let peer = peer_key(request);
        if let Err(wait) = self.inner.token_peer_limiter.peek(&peer) {
            return Ok(respond::too_many_requests(wait));
        }
        let result = handler.await;
        if is_failure(&result) {
            self.inner.token_peer_limiter.charge(&peer);
        }
        result
    }

    /// Charges an authenticated confidential client's own bucket: 429 when it is empty.
    pub(crate) fn charge_confidential(&self, client: &ClientRecord) -> Result<(), Failure> {
        self.inner
            .token_limiter
            .check(&confidential_key(client))
            .map_err(|wait| Failure::respond(respond::too_many_requests(wait)))
    }

    /// 429 when the bucket of a public client at this peer is empty; takes nothing (charged by
    /// [`charge_public_success`](Self::charge_public_success)).
    pub(crate) fn peek_public(
        &self,
        client: &ClientRecord,
        request: &Request<Bytes>,
    ) -> Result<(), Failure> {
        self.inner
            .token_limiter
            .peek(&public_key(client, request))
            .map_err(|wait| Failure::respond(respond::too_many_requests(wait)))
    }

    /// Charges the bucket of a public client at this peer for a grant that succeeded.
    pub(crate) fn charge_public_success(
        &self,
        client: &ClientRecord,
        request: &Request<Bytes>,
        result: &Handled,
    ) {
        if matches!(result, Ok(response) if response.status().is_success()) {
            self.inner
                .token_limiter
                .charge(&public_key(client, request));
        }
    }

    /// Charges an unauthenticated request (a public client's revocation) to its peer: 429 when the
    /// peer's budget is empty.
    pub(crate) fn charge_peer(&self, request: &Request<Bytes>) -> Result<(), Failure> {
        self.inner
            .token_peer_limiter
            .check(&peer_key(request))
            .map_err(|wait| Failure::respond(respond::too_many_requests(wait)))
    }
}

/// The rate-limit key of a public client's successful grants: peer and client id (a peer key holds
/// no space, so the pair is unambiguous; the prefix keeps it apart from [`confidential_key`]).
fn public_key(client: &ClientRecord, request: &Request<Bytes>) -> String {
    format!("public {} {}", peer_key(request), client.client_id.as_str())
}

/// The rate-limit key of an authenticated confidential client.
fn confidential_key(client: &ClientRecord) -> String {
    format!("confidential {}", client.client_id.as_str())
}

/// `true` when the client is a metadata-document client whose redirect URIs are all loopback: the
/// consent page warns that any local program could be receiving the code (AS-11).
pub(crate) fn localhost_only_document_client(client: &ClientRecord) -> bool {
    matches!(client.kind, ClientKind::MetadataDocument { .. })
        && client.redirect_uris.iter().all(|u| u.is_loopback())
}
