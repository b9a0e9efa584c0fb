//! The authorized HTTP client: discovery, registration, authorization, refresh and step-up around
//! every request (REQUIREMENTS CL-1 .. CL-13).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::StatusCode;
use http::header::{AUTHORIZATION, HeaderValue, WWW_AUTHENTICATE};
use mcp_authz_metadata::{ApplicationType, ClientId, ResourceUri, Scope, ScopeToken};
use mcp_authz_pkce::CodeVerifier;
use mcp_authz_token::{
    AccessToken, AuthorizationCallback, AuthorizationCodeGrant, AuthorizationRequest,
    BearerChallenge, BearerError, ClientCredentialsGrant, RefreshTokenGrant, RevocationRequest,
    State, TokenRequest, TokenResponse, TokenTypeHint,
};
use tokio::sync::Mutex;

use crate::discovery::discover;
use crate::fetch::Fetcher;
use crate::registration::{RegistrationSettings, obtain_client};
use crate::token::{request_token, revoke_token};
use crate::{
    AuthorizationError, AuthorizationStep, ClientAssertionClaims, ClientAssertionSigner,
    ClientCredentials, ClientError, Discovery, GrantKey, HttpClient, HttpRequest, HttpResponse,
    Logout, LoopbackRedirect, MemoryTokenStore, PreRegisteredClient, StoredGrant, TokenError,
    TokenStore, UrlPolicy,
};

/// Most authorizations one operation may start (initial plus step-ups, REQUIREMENTS CL-10).
pub const MAX_AUTHORIZATIONS_PER_OPERATION: u32 = 3;

/// Builder of an [`OAuthClient`]; every setter documents its default.
#[must_use]
pub struct OAuthClientBuilder {
    resource: ResourceUri,
    http: Option<Arc<dyn HttpClient>>,
    policy: UrlPolicy,
    store: Option<Arc<dyn TokenStore>>,
    step: Option<Arc<dyn AuthorizationStep>>,
    registration: RegistrationSettings,
    offline_access: bool,
    refresh_skew: Duration,
    flow: Flow,
    signer: Option<Arc<dyn ClientAssertionSigner>>,
    scope: Option<Scope>,
}

/// How the client obtains its first token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Flow {
    /// The authorization code flow with PKCE and a user agent (the default).
    AuthorizationCode,
    /// The client credentials grant (machine-to-machine, no user): needs pre-registered credentials
    /// or a [`ClientAssertionSigner`].
    ClientCredentials,
}

impl OAuthClientBuilder {
    /// The grant used to obtain tokens. Default: [`Flow::AuthorizationCode`].
    pub fn flow(mut self, flow: Flow) -> Self {
        self.flow = flow;
        self
    }

    /// Authenticate at the token endpoint with `private_key_jwt` assertions signed by `signer`
    /// instead of a client secret. Default: none.
    pub fn client_assertion_signer(mut self, signer: Arc<dyn ClientAssertionSigner>) -> Self {
        self.signer = Some(signer);
        self
    }

    /// The HTTP client. Default: [`ReqwestHttpClient::with_policy`](crate::ReqwestHttpClient) with
    /// this builder's URL policy (feature `reqwest`).
    pub fn http_client(mut self, http: Arc<dyn HttpClient>) -> Self {
        self.http = Some(http);
        self
    }

    /// The URL policy for every request. Default: [`UrlPolicy::default`] (https only, no loopback, no
    /// private addresses).
    pub fn url_policy(mut self, policy: UrlPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// The token store. Default: a [`MemoryTokenStore`].
    pub fn token_store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// The user-agent step. Default: [`LoopbackRedirect`] that opens the browser.
    pub fn authorization_step(mut self, step: Arc<dyn AuthorizationStep>) -> Self {
        self.step = Some(step);
        self
    }

    /// Adds credentials registered out of band at one issuer. Default: none.
    pub fn pre_registered(mut self, client: PreRegisteredClient) -> Self {
        self.registration.pre_registered.push(client);
        self
    }

    /// The HTTPS URL of this client's Client ID Metadata Document, used as `client_id` at servers
    /// that advertise `client_id_metadata_document_supported`. Default: none.
    pub fn client_id_metadata_document(mut self, url: ClientId) -> Self {
        self.registration.client_id_metadata_document = Some(url);
        self
    }

    /// `client_name` for dynamic registration. Default: `"mcp-authz-client"`.
    pub fn client_name(mut self, name: impl Into<String>) -> Self {
        self.registration.client_name = name.into();
        self
    }

    /// `application_type` for dynamic registration. Default: `native`.
    pub fn application_type(mut self, application_type: ApplicationType) -> Self {
        self.registration.application_type = application_type;
        self
    }

    /// Whether to check, before a stored dynamic registration is used for a new authorization, that
    /// the authorization server still knows it, and to register again when it does not (the client
    /// was removed, or the server's database was reset). The check is one token request with a
    /// random refresh token: a server that answers `invalid_client` (RFC 6749 §5.2) no longer knows
    /// the client; any other answer keeps the registration. Without it, such a server shows the user
    /// an error page and the authorization never comes back. Default: `false`.
    pub fn verify_stored_registration(mut self, verify: bool) -> Self {
        self.registration.verify_stored = verify;
        self
    }

    /// Whether to add `offline_access` when the server lists it (REQUIREMENTS CL-6). Default: `true`.
    pub fn request_offline_access(mut self, request: bool) -> Self {
        self.offline_access = request;
        self
    }

    /// The scope of the first authorization, instead of the challenge's or the protected resource's
    /// `scopes_supported` (step-up still asks for the union of granted and challenged scopes).
    /// Default: none (CL-6 selection).
    pub fn scope(mut self, scope: Scope) -> Self {
        self.scope = (!scope.is_empty()).then_some(scope);
        self
    }

    /// Refresh this long before the access token expires. Default: 60 s.
    pub fn refresh_skew(mut self, skew: Duration) -> Self {
        self.refresh_skew = skew;
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<OAuthClient, ClientError> {
        let http: Arc<dyn HttpClient> = match self.http {
            Some(http) => http,
            None => default_http(&self.policy)?,
        };
        Ok(OAuthClient {
            resource: self.resource,
            fetcher: Fetcher::new(http, self.policy),
            store: self
                .store
                .unwrap_or_else(|| Arc::new(MemoryTokenStore::new())),
            step: self
                .step
                .unwrap_or_else(|| Arc::new(LoopbackRedirect::default())),
            registration: self.registration,
            offline_access: self.offline_access,
            refresh_skew: self.refresh_skew,
            flow: self.flow,
            signer: self.signer,
            scope: self.scope,
            session: Mutex::new(Session::default()),
        })
    }
}

#[cfg(feature = "reqwest")]
fn default_http(policy: &UrlPolicy) -> Result<Arc<dyn HttpClient>, ClientError> {
    crate::ReqwestHttpClient::with_policy(policy.clone())
        .map(|c| Arc::new(c) as Arc<dyn HttpClient>)
        .map_err(ClientError::Setup)
}

#[cfg(not(feature = "reqwest"))]
fn default_http(_policy: &UrlPolicy) -> Result<Arc<dyn HttpClient>, ClientError> {
    Err(ClientError::Setup(crate::TransportError::InvalidRequest(
        "no HTTP client configured and the reqwest feature is off".to_owned(),
    )))
}

/// What this client knows right now: the last discovery and the grant in use.
#[derive(Debug, Default)]
struct Session {
    discovery: Option<Discovery>,
    grant: Option<(GrantKey, StoredGrant)>,
}

/// An MCP client's authorization: sends requests to one MCP server with a Bearer token, and gets,
/// refreshes and steps up that token as the server demands.
///
/// ```no_run
/// # async fn run() -> Result<(), mcp_authz_client::ClientError> {
/// use mcp_authz_client::{HttpRequest, OAuthClient};
/// let client = OAuthClient::builder("https://mcp.example.com/mcp")?.build()?;
/// let url = client.resource().url().clone();
/// let response = client.send(HttpRequest::post(url, br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#.to_vec())).await?;
/// # let _ = response; Ok(()) }
/// ```
pub struct OAuthClient {
    resource: ResourceUri,
    fetcher: Fetcher,
    store: Arc<dyn TokenStore>,
    step: Arc<dyn AuthorizationStep>,
    registration: RegistrationSettings,
    offline_access: bool,
    refresh_skew: Duration,
    flow: Flow,
    signer: Option<Arc<dyn ClientAssertionSigner>>,
    scope: Option<Scope>,
    session: Mutex<Session>,
}

impl std::fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClient")
            .field("resource", &self.resource)
            .finish_non_exhaustive()
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// How a request carries its token: `Authorization: Bearer`, never the query (CL-11).
fn bearer(token: &AccessToken) -> Option<HeaderValue> {
    let mut value = HeaderValue::try_from(format!("Bearer {}", token.secret())).ok()?;
    value.set_sensitive(true);
    Some(value)
}

fn challenge_of(response: &HttpResponse) -> Option<BearerChallenge> {
    BearerChallenge::from_header_values(response.headers.get_all(WWW_AUTHENTICATE))
        .ok()
        .flatten()
}

impl OAuthClient {
    /// A builder for the MCP server at `server_url` (its canonical URI is the `resource` of every
    /// request).
    pub fn builder(server_url: &str) -> Result<OAuthClientBuilder, ClientError> {
        Ok(OAuthClientBuilder {
            resource: ResourceUri::parse(server_url)?,
            http: None,
            policy: UrlPolicy::default(),
            store: None,
            step: None,
            registration: RegistrationSettings {
                pre_registered: Vec::new(),
                client_id_metadata_document: None,
                client_name: "mcp-authz-client".to_owned(),
                application_type: ApplicationType::Native,
                verify_stored: false,
            },
            offline_access: true,
            refresh_skew: Duration::from_secs(60),
            flow: Flow::AuthorizationCode,
            signer: None,
            scope: None,
        })
    }

    /// The MCP server's canonical URI.
    pub fn resource(&self) -> &ResourceUri {
        &self.resource
    }

    /// The grant in use, if any.
    pub async fn current_grant(&self) -> Option<StoredGrant> {
        self.session
            .lock()
            .await
            .grant
            .as_ref()
            .map(|(_, g)| g.clone())
    }

    /// Sends `request` with the current access token (refreshed first when it is about to expire).
    /// On `401` it re-discovers, then reuses a stored grant, refreshes, or authorizes; on `403
    /// insufficient_scope` it authorizes again with the union of the granted and challenged scopes.
    /// At most [`MAX_AUTHORIZATIONS_PER_OPERATION`] authorizations per call; the refresh token is
    /// used at most once per call (before the request when the token is expiring, or after a `401`,
    /// never both). Any other response is returned as is.
    pub async fn send(&self, request: HttpRequest) -> Result<HttpResponse, ClientError> {
        let mut authorizations = 0u32;
        let mut refresh_tried = false;
        loop {
            let token = self.token_for_request(&mut refresh_tried).await?;
            let mut attempt = request.clone();
            attempt.headers.remove(AUTHORIZATION);
            if let Some(value) = token.as_ref().and_then(bearer) {
                attempt.headers.insert(AUTHORIZATION, value);
            }
            let response = self.fetcher.send(attempt).await?;
            let challenge = challenge_of(&response);
            let status = response.status;
            let step_up = status == StatusCode::FORBIDDEN
                && challenge
                    .as_ref()
                    .is_some_and(|c| c.error == Some(BearerError::InsufficientScope));
            if status == StatusCode::UNAUTHORIZED {
                let mut session = self.session.lock().await;
                let current = session.grant.as_ref().map(|(_, g)| g.access_token.clone());
                if current.is_some() && current != token {
                    continue; // another task renewed the token meanwhile
                }
                let discovery =
                    discover(&self.fetcher, &self.resource, challenge.as_ref(), self.flow).await?;
                session.discovery = Some(discovery.clone());
                if self
                    .renew(&mut session, &discovery, token.as_ref(), &mut refresh_tried)
                    .await?
                {
                    continue;
                }
                if authorizations >= MAX_AUTHORIZATIONS_PER_OPERATION {
                    return Err(ClientError::AttemptsExhausted {
                        attempts: authorizations,
                        status: status.as_u16(),
                    });
                }
                authorizations += 1;
                let scope = self.select_scope(&discovery, challenge.as_ref(), None);
                self.authorize_into(&mut session, discovery, scope).await?;
            } else if step_up {
                if authorizations >= MAX_AUTHORIZATIONS_PER_OPERATION {
                    return Err(ClientError::AttemptsExhausted {
                        attempts: authorizations,
                        status: status.as_u16(),
                    });
                }
                authorizations += 1;
                let mut session = self.session.lock().await;
                let discovery =
                    discover(&self.fetcher, &self.resource, challenge.as_ref(), self.flow).await?;
                let granted = session
                    .grant
                    .as_ref()
                    .filter(|(key, _)| key.issuer == *discovery.issuer())
                    .and_then(|(_, g)| g.scope.clone())
                    .unwrap_or_default();
                let wanted = challenge
                    .as_ref()
                    .and_then(|c| c.scope.clone())
                    .unwrap_or_default();
                let union = granted.union(&wanted);
                let scope = self.select_scope(&discovery, challenge.as_ref(), Some(union));
                self.authorize_into(&mut session, discovery, scope).await?;
            } else {
                return Ok(response);
            }
        }
    }

    /// Runs the whole authorization now (discovery without a challenge, registration, the
    /// user-agent step and the code exchange) and returns the new grant.
    pub async fn authorize(&self) -> Result<StoredGrant, ClientError> {
        let discovery = self.discover().await?;
        self.authorize_with(discovery).await
    }

    /// Runs the authorization (registration, the user-agent step and the code exchange) for a
    /// discovery made earlier with [`discover`](Self::discover) or
    /// [`discover_from`](Self::discover_from), and returns the new grant.
    pub async fn authorize_with(&self, discovery: Discovery) -> Result<StoredGrant, ClientError> {
        let mut session = self.session.lock().await;
        let scope = self.select_scope(&discovery, None, None);
        self.authorize_into(&mut session, discovery, scope).await
    }

    /// Runs discovery now, without a challenge: the well-known protected resource metadata, then the
    /// authorization server metadata (for example to show the user where they will sign in, or to
    /// look up which issuer pre-registered credentials are for).
    pub async fn discover(&self) -> Result<Discovery, ClientError> {
        Ok(discover(&self.fetcher, &self.resource, None, self.flow).await?)
    }

    /// Runs discovery now from a challenge the MCP server sent: its `resource_metadata` URL when it
    /// has one (RFC 9728 §5.1), else the well-known URLs, then the authorization server metadata.
    pub async fn discover_from(
        &self,
        challenge: Option<&BearerChallenge>,
    ) -> Result<Discovery, ClientError> {
        Ok(discover(&self.fetcher, &self.resource, challenge, self.flow).await?)
    }

    /// Where this client's grant at the discovered issuer is stored: under the server URL this client
    /// was built for, never the (possibly parent) `resource` of the metadata, so that a grant obtained
    /// by logging in to one server is never sent to another one that names the same parent resource
    /// (REQUIREMENTS CL-2, SEC-7).
    pub fn grant_key(&self, discovery: &Discovery) -> GrantKey {
        GrantKey {
            resource: self.resource.clone(),
            issuer: discovery.issuer().clone(),
        }
    }

    /// The token to send: the session's, refreshed first when it expires within the skew, unless
    /// this call already refreshed once (then the token is sent as it is and the server decides).
    async fn token_for_request(
        &self,
        refresh_tried: &mut bool,
    ) -> Result<Option<AccessToken>, ClientError> {
        let mut session = self.session.lock().await;
        let Some((key, grant)) = session.grant.clone() else {
            return Ok(None);
        };
        let expiring = grant
            .expires_at
            .is_some_and(|at| at <= now().saturating_add(self.refresh_skew.as_secs()));
        if !expiring || grant.refresh_token.is_none() || *refresh_tried {
            return Ok(Some(grant.access_token));
        }
        let Some(discovery) = session.discovery.clone() else {
            return Ok(Some(grant.access_token));
        };
        *refresh_tried = true;
        match self.refresh(&discovery, &key, &grant).await? {
            Some(fresh) => {
                let token = fresh.access_token.clone();
                session.grant = Some((key, fresh));
                Ok(Some(token))
            }
            None => {
                session.grant = None;
                Ok(None)
            }
        }
    }

    /// After a 401: use a stored grant other than the rejected token, or refresh once. `true` when
    /// there is a new token to try.
    async fn renew(
        &self,
        session: &mut Session,
        discovery: &Discovery,
        rejected: Option<&AccessToken>,
        refresh_tried: &mut bool,
    ) -> Result<bool, ClientError> {
        let key = self.grant_key(discovery);
        let Some(grant) = self.store.load_grant(&key).await? else {
            session.grant = None;
            return Ok(false);
        };
        let fresh = grant
            .expires_at
            .is_none_or(|at| at > now().saturating_add(self.refresh_skew.as_secs()));
        if Some(&grant.access_token) != rejected && fresh {
            session.grant = Some((key, grant));
            return Ok(true);
        }
        if grant.refresh_token.is_none() || *refresh_tried {
            session.grant = None;
            return Ok(false);
        }
        *refresh_tried = true;
        match self.refresh(discovery, &key, &grant).await? {
            Some(fresh) => {
                session.grant = Some((key, fresh));
                Ok(true)
            }
            None => {
                session.grant = None;
                Ok(false)
            }
        }
    }

    /// Refreshes `grant` at its issuer with `resource` (CL-7, CL-12). The new grant (with the rotated
    /// refresh token, or the old one when the server did not rotate) is saved before it is returned.
    /// `invalid_grant` drops the stored grant and gives `None`.
    async fn refresh(
        &self,
        discovery: &Discovery,
        key: &GrantKey,
        grant: &StoredGrant,
    ) -> Result<Option<StoredGrant>, ClientError> {
        let Some(refresh_token) = grant.refresh_token.clone() else {
            return Ok(None);
        };
        let client = self.client_for(discovery).await?;
        let request = TokenRequest::RefreshToken(RefreshTokenGrant {
            refresh_token,
            scope: None,
            resources: vec![discovery.resource().clone()],
        });
        let endpoint = discovery.authorization_server.token_endpoint();
        let assertion = self.assertion(&client, discovery)?;
        match request_token(
            &self.fetcher,
            endpoint,
            &request,
            &client,
            assertion.as_deref(),
        )
        .await
        {
            Ok(response) => {
                let fresh = grant_from(response, grant.scope.clone(), grant.refresh_token.clone());
                self.store.save_grant(key, &fresh).await?;
                Ok(Some(fresh))
            }
            Err(error) if error.is_invalid_grant() => {
                tracing::info!("refresh token rejected (invalid_grant): dropping the grant");
                self.store.remove_grant(key).await?;
                Ok(None)
            }
            Err(error) if error.is_invalid_client() => {
                // The server no longer knows the client (removed, or its database was reset): the
                // grant is useless without it, and a registration of ours is forgotten so that the
                // next authorization registers again instead of failing the same way.
                tracing::info!("client rejected (invalid_client): dropping the grant");
                self.store.remove_grant(key).await?;
                self.forget_registration(&client).await?;
                Ok(None)
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Forgets the stored registration `client` came from (when the store holds that very client).
    async fn forget_registration(&self, client: &ClientCredentials) -> Result<(), ClientError> {
        let stored = self.store.load_client(&client.issuer).await?;
        if stored.is_some_and(|s| s.client_id == client.client_id) {
            self.store.remove_client(&client.issuer).await?;
        }
        Ok(())
    }

    /// Logs out of the discovered server: revokes the stored refresh token and access token at the
    /// authorization server's revocation endpoint (RFC 7009; the refresh token first, since revoking
    /// it ends the whole grant at servers that revoke families), then forgets the grant locally,
    /// whether or not the server could be reached. The client registration is kept.
    pub async fn logout(&self, discovery: &Discovery) -> Result<Logout, ClientError> {
        let mut session = self.session.lock().await;
        session.grant = None;
        let key = self.grant_key(discovery);
        let Some(grant) = self.store.load_grant(&key).await? else {
            return Ok(Logout::default());
        };
        let mut logout = Logout {
            forgot_grant: true,
            ..Logout::default()
        };
        if let Some(endpoint) = discovery.authorization_server.revocation_endpoint() {
            let mut requests = Vec::new();
            if let Some(refresh) = grant.refresh_token.clone() {
                let mut request = RevocationRequest::new(refresh);
                request.token_type_hint = Some(TokenTypeHint::RefreshToken);
                requests.push(request);
            }
            let mut request = RevocationRequest::new(grant.access_token.clone());
            request.token_type_hint = Some(TokenTypeHint::AccessToken);
            requests.push(request);
            match self.client_for(discovery).await {
                Ok(client) => {
                    let assertion = self.assertion(&client, discovery)?;
                    for request in &requests {
                        let sent = revoke_token(
                            &self.fetcher,
                            endpoint,
                            request,
                            &client,
                            assertion.as_deref(),
                        )
                        .await;
                        match sent {
                            Ok(()) => logout.revoked += 1,
                            Err(error) => {
                                logout.revocation_error = Some(error.into());
                                break;
                            }
                        }
                    }
                }
                Err(error) => logout.revocation_error = Some(error),
            }
        }
        self.store.remove_grant(&key).await?;
        Ok(logout)
    }

    async fn client_for(&self, discovery: &Discovery) -> Result<ClientCredentials, ClientError> {
        Ok(obtain_client(
            &self.fetcher,
            self.store.as_ref(),
            &self.registration,
            &discovery.authorization_server,
            self.step.registered_redirect_uris(),
        )
        .await?)
    }

    /// Scope selection (CL-6): an explicit scope (step-up), else the challenge's, else the PRM's
    /// `scopes_supported`, else none; `offline_access` added to a non-empty scope only when the
    /// server lists it, and removed when it does not.
    fn select_scope(
        &self,
        discovery: &Discovery,
        challenge: Option<&BearerChallenge>,
        explicit: Option<Scope>,
    ) -> Scope {
        let mut scope = explicit
            .filter(|s| !s.is_empty())
            .or_else(|| self.scope.clone())
            .or_else(|| challenge.and_then(|c| c.scope.clone()))
            .or_else(|| discovery.protected_resource.scopes_supported())
            .unwrap_or_default();
        if !discovery.authorization_server.supports_offline_access() {
            scope = scope.without_offline_access();
        } else if self.offline_access
            && !scope.is_empty()
            && let Ok(token) = ScopeToken::parse("offline_access")
        {
            scope.insert(token);
        }
        scope
    }

    /// The authorization code flow with PKCE (CL-5 .. CL-9), the grant saved before it is used.
    async fn authorize_into(
        &self,
        session: &mut Session,
        discovery: Discovery,
        scope: Scope,
    ) -> Result<StoredGrant, ClientError> {
        if self.flow == Flow::ClientCredentials {
            let client = self.client_for(&discovery).await?;
            return self
                .client_credentials_into(session, discovery, scope, &client)
                .await;
        }
        // The user-agent step may refuse (an application that only steps up stored grants): it is
        // asked before anything is registered, so a refusal leaves no registration behind.
        let redirect_uri = self
            .step
            .prepare()
            .await
            .map_err(AuthorizationError::from)?;
        let client = self.client_for(&discovery).await?;
        let metadata = &discovery.authorization_server;
        let issuer = metadata.issuer().clone();
        let verifier =
            CodeVerifier::generate().map_err(|_| AuthorizationError::RandomnessUnavailable)?;
        let state = State::generate().map_err(|_| AuthorizationError::RandomnessUnavailable)?;
        let request = AuthorizationRequest::new(client.client_id.clone(), verifier.challenge())
            .with_redirect_uri(redirect_uri.clone())
            .with_state(state.clone())
            .with_scope(scope.clone())
            .with_resource(discovery.resource().clone());
        let url = request.to_url(metadata.authorization_endpoint());
        let callback_url = self
            .step
            .authorize(&url, &redirect_uri)
            .await
            .map_err(AuthorizationError::from)?;
        let callback =
            AuthorizationCallback::from_url(&callback_url).map_err(AuthorizationError::from)?;
        // RFC 9207 and state, before the code or the error fields are looked at (CL-8).
        callback
            .verify(
                &issuer,
                metadata.supports_authorization_response_iss(),
                &state,
            )
            .map_err(AuthorizationError::from)?;
        let response = match callback {
            AuthorizationCallback::Success(response) => response,
            AuthorizationCallback::Error(error) => {
                return Err(AuthorizationError::Denied {
                    error: error.error,
                    description: error.error_description,
                }
                .into());
            }
        };
        let grant_request = TokenRequest::AuthorizationCode(AuthorizationCodeGrant {
            code: response.code,
            redirect_uri: Some(redirect_uri),
            code_verifier: verifier,
            resources: vec![discovery.resource().clone()],
        });
        let assertion = self.assertion(&client, &discovery)?;
        let token = request_token(
            &self.fetcher,
            metadata.token_endpoint(),
            &grant_request,
            &client,
            assertion.as_deref(),
        )
        .await?;
        self.keep(session, discovery, token, scope).await
    }

    /// The client credentials grant (SEP-1046): scope and `resource`, client authentication by
    /// secret or assertion; no user agent.
    async fn client_credentials_into(
        &self,
        session: &mut Session,
        discovery: Discovery,
        scope: Scope,
        client: &ClientCredentials,
    ) -> Result<StoredGrant, ClientError> {
        let request = TokenRequest::ClientCredentials(ClientCredentialsGrant {
            scope: (!scope.is_empty()).then(|| scope.clone()),
            resources: vec![discovery.resource().clone()],
        });
        let assertion = self.assertion(client, &discovery)?;
        let token = request_token(
            &self.fetcher,
            discovery.authorization_server.token_endpoint(),
            &request,
            client,
            assertion.as_deref(),
        )
        .await?;
        self.keep(session, discovery, token, scope).await
    }

    /// Saves the grant of a token response, then makes it the session's.
    async fn keep(
        &self,
        session: &mut Session,
        discovery: Discovery,
        token: TokenResponse,
        requested: Scope,
    ) -> Result<StoredGrant, ClientError> {
        let requested = (!requested.is_empty()).then_some(requested);
        let grant = grant_from(token, requested, None);
        let key = self.grant_key(&discovery);
        self.store.save_grant(&key, &grant).await?;
        session.grant = Some((key, grant.clone()));
        session.discovery = Some(discovery);
        Ok(grant)
    }

    /// A fresh client assertion for `client` at the discovered issuer, when a signer is configured.
    fn assertion(
        &self,
        client: &ClientCredentials,
        discovery: &Discovery,
    ) -> Result<Option<String>, ClientError> {
        let Some(signer) = &self.signer else {
            return Ok(None);
        };
        let jti = State::generate().map_err(|_| AuthorizationError::RandomnessUnavailable)?;
        let iat = now();
        let claims = ClientAssertionClaims {
            iss: client.client_id.as_str().to_owned(),
            sub: client.client_id.as_str().to_owned(),
            aud: discovery.issuer().as_str().to_owned(),
            iat,
            exp: iat.saturating_add(300),
            jti: jti.as_str().to_owned(),
        };
        signer
            .sign(&claims)
            .map(Some)
            .map_err(|e| ClientError::Token(TokenError::Assertion(e.to_string())))
    }
}

/// The grant a token response gives: a rotated refresh token replaces the old one; the scope is the
/// granted one, or the requested one when the response does not say (RFC 6749 §5.1).
fn grant_from(
    response: TokenResponse,
    requested: Option<Scope>,
    previous_refresh: Option<mcp_authz_token::RefreshToken>,
) -> StoredGrant {
    StoredGrant {
        access_token: response.access_token,
        refresh_token: response.refresh_token.or(previous_refresh),
        expires_at: response.expires_in.map(|s| now().saturating_add(s)),
        scope: response.scope.filter(|s| !s.is_empty()).or(requested),
    }
}
