//! Opaque access tokens checked through token introspection ([RFC 7662]), authenticated with the resource
//! server's client credentials, answers cached for at most the token's remaining life.
//!
//! [RFC 7662]: https://www.rfc-editor.org/rfc/rfc7662

use std::sync::Arc;
use std::time::Duration;

use mcp_authz_metadata::{ClientId, ClientSecret, Issuer, ResourceUri, Url};
use mcp_authz_token::{
    AccessToken, BasicCredentials, BodyClientCredentials, ClaimsError, DEFAULT_LEEWAY,
    IntrospectionRequest, IntrospectionResponse, TokenTypeHint,
};
use tokio::sync::OnceCell;

use super::discovery::{acceptable_endpoint, discover, invalid, is_acceptable_endpoint};
use super::misconfiguration::{ErrorLog, SourceError};
use super::{
    CheckError, DEFAULT_CACHE_CAPACITY, DEFAULT_MAX_DOCUMENT_SIZE, InvalidToken, Misconfiguration,
    VerifyError,
};
use crate::cache::{TokenCache, token_key};
use crate::{Clock, FetchError, HttpClient, SystemClock, TransportError, VerifiedClaims};

/// Default longest time an introspection answer is cached: 60 seconds (never past the token's `exp`).
pub const DEFAULT_MAX_CACHE_TTL: Duration = Duration::from_secs(60);
/// Default `Retry-After` when the introspection endpoint is unreachable: 5 seconds.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(5);

/// Verifies opaque tokens with the authorization server's introspection endpoint (RFC 7662), using
/// `client_secret_basic` authentication. An active answer must name this resource in `aud`
/// (REQUIREMENTS RS-4), `iss` when present must be the issuer, and `exp` / `nbf` when present must hold.
/// Active answers are cached by the token's SHA-256 until `exp` or the configured maximum, whichever
/// comes first. Cheap to clone.
#[derive(Clone)]
pub struct IntrospectionVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    issuer: Issuer,
    audience: ResourceUri,
    endpoint: OnceCell<Url>,
    credentials: BasicCredentials,
    http: Arc<dyn HttpClient>,
    clock: Arc<dyn Clock>,
    leeway: Duration,
    max_ttl: Duration,
    retry_after: Duration,
    max_size: usize,
    require_audience: bool,
    cache: TokenCache<VerifiedClaims>,
    errors: ErrorLog,
}

impl std::fmt::Debug for IntrospectionVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntrospectionVerifier")
            .field("issuer", &self.inner.issuer)
            .field("audience", &self.inner.audience)
            .field("endpoint", &self.inner.endpoint.get())
            .finish_non_exhaustive()
    }
}

/// Builds an [`IntrospectionVerifier`]; every setter documents its default.
#[must_use]
#[derive(Debug)]
pub struct IntrospectionVerifierBuilder {
    issuer: Issuer,
    audience: ResourceUri,
    endpoint: Option<Url>,
    credentials: BasicCredentials,
    http: Option<crate::fetch::ConfiguredClient>,
    clock: Arc<dyn Clock>,
    leeway: Duration,
    max_ttl: Duration,
    retry_after: Duration,
    cache_capacity: usize,
    max_size: usize,
    pub(crate) require_audience: bool,
}

impl IntrospectionVerifier {
    /// A builder for tokens of `issuer` meant for `audience`, introspected with the resource server's
    /// own client credentials.
    pub fn builder(
        issuer: Issuer,
        audience: ResourceUri,
        client_id: ClientId,
        client_secret: ClientSecret,
    ) -> IntrospectionVerifierBuilder {
        IntrospectionVerifierBuilder {
            issuer,
            audience,
            endpoint: None,
            credentials: BasicCredentials {
                client_id,
                client_secret,
            },
            http: None,
            clock: Arc::new(SystemClock),
            leeway: DEFAULT_LEEWAY,
            max_ttl: DEFAULT_MAX_CACHE_TTL,
            retry_after: DEFAULT_RETRY_AFTER,
            cache_capacity: DEFAULT_CACHE_CAPACITY,
            max_size: DEFAULT_MAX_DOCUMENT_SIZE,
            require_audience: true,
        }
    }

    async fn endpoint(&self) -> Result<&Url, SourceError> {
        let inner = &self.inner;
        inner
            .endpoint
            .get_or_try_init(|| async {
                let doc = discover(inner.http.as_ref(), &inner.issuer, inner.max_size).await?;
                let url = doc.introspection_endpoint.ok_or_else(|| {
                    Misconfiguration::NoIntrospectionEndpoint {
                        issuer: inner.issuer.as_str().to_owned(),
                    }
                })?;
                Ok(acceptable_endpoint(url)?)
            })
            .await
    }

    /// Discovers the endpoint and posts `token` to it: the parsed answer, or why there is none
    /// (logging a configuration error once).
    async fn post(&self, token: &AccessToken) -> Result<IntrospectionResponse, SourceError> {
        let outcome = self.post_unlogged(token).await;
        self.inner.errors.record(match &outcome {
            Err(e) => e.misconfiguration(),
            Ok(_) => None,
        });
        outcome
    }

    async fn post_unlogged(
        &self,
        token: &AccessToken,
    ) -> Result<IntrospectionResponse, SourceError> {
        let inner = &self.inner;
        let endpoint = self.endpoint().await?;
        let mut request = IntrospectionRequest::new(token.clone());
        request.token_type_hint = Some(TokenTypeHint::AccessToken);
        let form = request.to_form(&BodyClientCredentials::default());
        let body = crate::fetch::post_form(
            inner.http.as_ref(),
            endpoint,
            form,
            Some(inner.credentials.to_header_value()),
            inner.max_size,
        )
        .await
        .map_err(|e| match e {
            // The endpoint refuses the resource server itself: no retry helps (RFC 7662 §2.3).
            FetchError::Status { status: 401, .. } => {
                SourceError::from(Misconfiguration::CredentialsRejected {
                    url: endpoint.to_string(),
                })
            }
            e => SourceError::from(e),
        })?
        .body;
        serde_json::from_slice(&body)
            .map_err(|e| SourceError::from(invalid(endpoint, &e.to_string())))
    }

    async fn introspect(&self, token: &AccessToken) -> Result<VerifiedClaims, VerifyError> {
        let inner = &self.inner;
        let response = self
            .post(token)
            .await
            .map_err(|e| VerifyError::from_source(e, inner.retry_after))?;
        let IntrospectionResponse::Active(active) = response else {
            return Err(InvalidToken::Inactive.into());
        };
        let now = inner.clock.now();
        if let Some(iss) = &active.iss
            && iss.as_str() != inner.issuer.as_str()
        {
            return Err(InvalidToken::Claims(ClaimsError::IssuerMismatch {
                expected: inner.issuer.as_str().to_owned(),
                found: iss.as_str().to_owned(),
            })
            .into());
        }
        match &active.aud {
            Some(aud) if aud.contains_resource(&inner.audience) => {}
            None if !inner.require_audience => {}
            None => return Err(InvalidToken::MissingAudience.into()),
            Some(_) => {
                return Err(InvalidToken::Claims(ClaimsError::AudienceMismatch {
                    expected: inner.audience.as_str().to_owned(),
                })
                .into());
            }
        }
        if let Some(exp) = active.exp
            && now >= exp.saturating_add(inner.leeway)
        {
            return Err(InvalidToken::Claims(ClaimsError::Expired { exp, now }).into());
        }
        if let Some(nbf) = active.nbf
            && now < nbf.saturating_sub(inner.leeway)
        {
            return Err(InvalidToken::Claims(ClaimsError::NotYetValid { nbf, now }).into());
        }
        Ok(VerifiedClaims::from(*active))
    }
}

impl super::TokenVerifier for IntrospectionVerifier {
    async fn verify(&self, token: &AccessToken) -> Result<VerifiedClaims, VerifyError> {
        let key = token_key(token);
        let now = self.inner.clock.now();
        if let Some(claims) = self.inner.cache.get(&key, now) {
            return Ok(claims);
        }
        let claims = self.introspect(token).await?;
        let mut expires = now.saturating_add(self.inner.max_ttl);
        if let Some(exp) = claims.expires_at() {
            expires = expires.min(exp);
        }
        self.inner.cache.insert(key, claims.clone(), expires, now);
        Ok(claims)
    }

    /// Discovers the introspection endpoint (unless one is configured) and introspects a token
    /// that does not exist: checks that the metadata names the configured issuer and an acceptable
    /// endpoint, and that the endpoint accepts the resource server's client credentials.
    async fn check(&self) -> Result<(), CheckError> {
        // A literal of VSCHARs: parsing it cannot fail, but is not unwrapped.
        let probe = AccessToken::parse("mcp-authz-resource-startup-check").map_err(|e| {
            CheckError::Unreachable(FetchError::Transport(TransportError::InvalidRequest(
                e.to_string(),
            )))
        })?;
        self.post(&probe).await?;
        Ok(())
    }
}

impl IntrospectionVerifierBuilder {
    /// Uses this introspection endpoint instead of `introspection_endpoint` of the issuer's RFC 8414
    /// metadata. Default: discovery. Must be `https` (or `http` on a loopback host).
    pub fn endpoint(mut self, url: Url) -> Self {
        self.endpoint = Some(url);
        self
    }

    /// The HTTP client. Default: a [`ReqwestHttpClient`](crate::ReqwestHttpClient) giving up after
    /// [`DEFAULT_FETCH_TIMEOUT`](crate::DEFAULT_FETCH_TIMEOUT), with the environment's proxies.
    pub fn http_client(mut self, http: Arc<dyn HttpClient>) -> Self {
        self.http = Some(crate::fetch::ConfiguredClient(http));
        self
    }

    /// The time source. Default: [`SystemClock`].
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Clock skew tolerated on `exp` and `nbf`. Default: [`DEFAULT_LEEWAY`] (60 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Longest time an active answer is cached; never past the token's `exp`. Default:
    /// [`DEFAULT_MAX_CACHE_TTL`] (60 s). A revoked token is accepted for at most this long.
    pub fn max_cache_ttl(mut self, ttl: Duration) -> Self {
        self.max_ttl = ttl;
        self
    }

    /// Number of answers cached (0 disables the cache). Default: [`DEFAULT_CACHE_CAPACITY`].
    pub fn cache_capacity(mut self, capacity: usize) -> Self {
        self.cache_capacity = capacity;
        self
    }

    /// `Retry-After` when the endpoint is unreachable. Default: [`DEFAULT_RETRY_AFTER`] (5 s).
    pub fn retry_after(mut self, retry_after: Duration) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// Checks the configuration and builds the verifier.
    pub fn build(self) -> Result<IntrospectionVerifier, crate::ConfigError> {
        let endpoint = match self.endpoint {
            Some(url) if is_acceptable_endpoint(&url) => OnceCell::new_with(Some(url)),
            Some(url) => return Err(crate::ConfigError::InsecureEndpoint(url.to_string())),
            None => OnceCell::new(),
        };
        let http = match self.http {
            Some(http) => http.0,
            None => Arc::new(
                crate::fetch::default_client()
                    .map_err(|e| crate::ConfigError::HttpClient(e.to_string()))?,
            ),
        };
        Ok(IntrospectionVerifier {
            inner: Arc::new(Inner {
                issuer: self.issuer,
                audience: self.audience,
                endpoint,
                credentials: self.credentials,
                http,
                clock: self.clock,
                leeway: self.leeway,
                max_ttl: self.max_ttl,
                retry_after: self.retry_after,
                max_size: self.max_size,
                require_audience: self.require_audience,
                cache: TokenCache::new(self.cache_capacity),
                errors: ErrorLog::default(),
            }),
        })
    }
}
