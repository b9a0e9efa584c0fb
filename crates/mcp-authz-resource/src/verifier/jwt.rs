//! JWT access tokens ([RFC 9068]) verified against the authorization server's JWKS.
//!
//! [RFC 9068]: https://www.rfc-editor.org/rfc/rfc9068

use std::sync::Arc;
use std::time::Duration;

use mcp_authz_metadata::{Issuer, ResourceUri, Url};
use mcp_authz_token::{
    AccessToken, ClaimsExpectations, CompactJws, DEFAULT_LEEWAY, JwsAlgorithm, JwsError,
    JwtAccessTokenClaims, is_at_jwt_typ,
};

use super::jwks::{Freshness, Jwks, JwksSource, Lookup, Unavailable};
use super::{
    CheckError, DEFAULT_CACHE_CAPACITY, DEFAULT_MAX_DOCUMENT_SIZE, InvalidToken, Misconfiguration,
    VerifyError,
};
use crate::cache::{TokenCache, token_key};
use crate::{Clock, HttpClient, SystemClock, VerifiedClaims};

/// Default minimum time between two JWKS fetches: 30 seconds.
pub const DEFAULT_REFETCH_INTERVAL: Duration = Duration::from_secs(30);

/// Default lifetime of a fetched JWKS whose response has no `Cache-Control: max-age`: 5 minutes.
/// After it, the set is fetched again before use, so a key the authorization server retired stops
/// verifying (REQUIREMENTS SEC-15).
pub const DEFAULT_JWKS_MAX_AGE: Duration = Duration::from_secs(5 * 60);

/// Default time an expired JWKS is still used while refetching it fails: 10 minutes. After it,
/// tokens get 503 (the verifier cannot decide), never 401.
pub const DEFAULT_JWKS_STALE_GRACE: Duration = Duration::from_secs(10 * 60);

/// The asymmetric JWS algorithms a [`JwtVerifier`] can accept: the token crate's [`JwsAlgorithm`]
/// under its former name here. `none` and the HMAC algorithms are not representable: a public key
/// from a JWKS can never be used as an HMAC secret.
pub type SigningAlgorithm = JwsAlgorithm;

/// Verifies RFC 9068 JWT access tokens: `typ` `at+jwt`, an allowed asymmetric `alg`, a signature by a
/// key of the authorization server's JWKS (discovered through `jwks_uri` of its RFC 8414 metadata,
/// cached, refetched on an unknown `kid` at most once per interval), then `iss`, `aud` (this resource),
/// `exp`, `nbf` and `iat` with the token crate's [`JwtAccessTokenClaims::validate`]. Verified tokens are
/// cached by their SHA-256 until they expire. Cheap to clone.
///
/// The key set lives for the `Cache-Control: max-age` of the JWKS response (30 s ..= 1 day), else
/// [`jwks_max_age`](JwtVerifierBuilder::jwks_max_age), and is fetched again before use when older:
/// keys no longer published stop verifying, cached verifications included. While refetching fails,
/// the old set serves for [`jwks_stale_grace`](JwtVerifierBuilder::jwks_stale_grace); then tokens
/// get 503.
///
/// ```no_run
/// use mcp_authz_metadata::{Issuer, ResourceUri};
/// use mcp_authz_resource::JwtVerifier;
/// let verifier = JwtVerifier::builder(
///     Issuer::parse("https://auth.example.com")?,
///     ResourceUri::parse("https://mcp.example.com/mcp")?,
/// )
/// .build()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct JwtVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    expectations: ClaimsExpectations,
    algorithms: Vec<JwsAlgorithm>,
    require_at_jwt: bool,
    clock: Arc<dyn Clock>,
    jwks: Jwks,
    /// Verified claims with the generation of the key set that verified them.
    cache: TokenCache<(VerifiedClaims, u64)>,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("expectations", &self.inner.expectations)
            .field("algorithms", &self.inner.algorithms)
            .finish_non_exhaustive()
    }
}

/// Builds a [`JwtVerifier`]; every setter documents its default.
#[must_use]
#[derive(Debug)]
pub struct JwtVerifierBuilder {
    issuer: Issuer,
    audience: ResourceUri,
    jwks_uri: Option<Url>,
    algorithms: Vec<SigningAlgorithm>,
    leeway: Duration,
    refetch_interval: Duration,
    jwks_max_age: Duration,
    jwks_stale_grace: Duration,
    cache_capacity: usize,
    max_jwks_size: usize,
    http: Option<crate::fetch::ConfiguredClient>,
    clock: Arc<dyn Clock>,
    pub(crate) require_at_jwt: bool,
}

impl JwtVerifier {
    /// A builder for tokens issued by `issuer` for `audience` (this server's canonical resource URI).
    pub fn builder(issuer: Issuer, audience: ResourceUri) -> JwtVerifierBuilder {
        JwtVerifierBuilder {
            issuer,
            audience,
            jwks_uri: None,
            algorithms: SigningAlgorithm::ALL.to_vec(),
            leeway: DEFAULT_LEEWAY,
            refetch_interval: DEFAULT_REFETCH_INTERVAL,
            jwks_max_age: DEFAULT_JWKS_MAX_AGE,
            jwks_stale_grace: DEFAULT_JWKS_STALE_GRACE,
            cache_capacity: DEFAULT_CACHE_CAPACITY,
            max_jwks_size: DEFAULT_MAX_DOCUMENT_SIZE,
            http: None,
            clock: Arc::new(SystemClock),
            require_at_jwt: true,
        }
    }

    /// Verifies `token` against the current key set; returns its claims and the set's generation.
    async fn verify_uncached(
        &self,
        token: &AccessToken,
    ) -> Result<(JwtAccessTokenClaims, u64), VerifyError> {
        let inner = &self.inner;
        let jwt = token.secret();
        let jws = CompactJws::parse(jwt).map_err(|_| InvalidToken::Malformed)?;
        let header = jws.header();
        if inner.require_at_jwt && !header.typ().is_some_and(is_at_jwt_typ) {
            return Err(InvalidToken::WrongType.into());
        }
        let alg = match header.alg() {
            Ok(alg) if inner.algorithms.contains(&alg) => alg,
            Ok(alg) => return Err(InvalidToken::AlgorithmNotAllowed(alg.to_string()).into()),
            Err(unsupported) => {
                return Err(
                    InvalidToken::AlgorithmNotAllowed(unsupported.name().to_owned()).into(),
                );
            }
        };
        let snapshot = match inner.jwks.lookup(header.kid(), alg).await {
            Lookup::Keys(snapshot) => snapshot,
            Lookup::NoKey => return Err(InvalidToken::UnknownKey.into()),
            Lookup::Unavailable {
                retry_after,
                source,
            } => return Err(VerifyError::from_source(source, retry_after)),
        };
        let mut outcome = Err(InvalidToken::UnknownKey);
        for key in snapshot.keys.candidates(header.kid(), alg) {
            match key.verify(&jws) {
                Ok(()) => {
                    // Signed by the authorization server: now the claims are read.
                    outcome = JwtAccessTokenClaims::from_json(jws.payload())
                        .map_err(|_| InvalidToken::Malformed);
                    break;
                }
                Err(e) => outcome = Err(map_jws_error(&e)),
            }
        }
        let claims = outcome?;
        claims
            .validate(&inner.expectations, inner.clock.now())
            .map_err(InvalidToken::Claims)?;
        Ok((claims, snapshot.generation))
    }
}

fn map_jws_error(e: &JwsError) -> InvalidToken {
    match e {
        JwsError::BadSignature => InvalidToken::BadSignature,
        JwsError::UnsupportedAlgorithm(unsupported) => {
            InvalidToken::AlgorithmNotAllowed(unsupported.name().to_owned())
        }
        JwsError::KeyMismatch(alg) => InvalidToken::AlgorithmNotAllowed(alg.to_string()),
        _ => InvalidToken::Malformed,
    }
}

impl super::TokenVerifier for JwtVerifier {
    async fn verify(&self, token: &AccessToken) -> Result<VerifiedClaims, VerifyError> {
        let key = token_key(token);
        let now = self.inner.clock.now();
        if let Some((claims, generation)) = self.inner.cache.get(&key, now) {
            // Only while the key set that verified it is still the current one: after a refetch
            // the token is verified again, so a retired key stops verifying cached tokens too.
            let current = self.inner.jwks.fresh().await.map_err(
                |Unavailable {
                     retry_after,
                     source,
                 }| VerifyError::from_source(source, retry_after),
            )?;
            if current.generation == generation {
                return Ok(claims);
            }
        }
        let (claims, generation) = self.verify_uncached(token).await?;
        let expires = claims.exp;
        let verified = VerifiedClaims::from(claims);
        self.inner
            .cache
            .insert(key, (verified.clone(), generation), expires, now);
        Ok(verified)
    }

    /// Fetches the issuer's metadata (unless a JWKS URL is configured) and the JWKS now, and
    /// checks that the metadata names the configured issuer, has an acceptable `jwks_uri`, and that
    /// the set holds a key usable with the allowed algorithms. The fetched set is kept for the
    /// tokens that follow.
    async fn check(&self) -> Result<(), CheckError> {
        let (snapshot, url) = self.inner.jwks.check().await?;
        let usable = self
            .inner
            .algorithms
            .iter()
            .any(|alg| snapshot.keys.candidates(None, *alg).next().is_some());
        if usable {
            Ok(())
        } else {
            Err(Misconfiguration::NoUsableKeys { url }.into())
        }
    }
}

impl JwtVerifierBuilder {
    /// Uses this JWKS URL instead of discovering `jwks_uri` from the issuer's RFC 8414 metadata.
    /// Default: discovery. Must be `https` (or `http` on a loopback host).
    pub fn jwks_uri(mut self, url: Url) -> Self {
        self.jwks_uri = Some(url);
        self
    }

    /// The accepted signing algorithms. Default: [`SigningAlgorithm::ALL`]; narrow it to what your
    /// authorization server uses. Never `none` or HMAC.
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = SigningAlgorithm>) -> Self {
        self.algorithms = algorithms.into_iter().collect();
        self
    }

    /// Clock skew tolerated on `exp`, `nbf` and `iat`. Default: [`DEFAULT_LEEWAY`] (60 s).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Minimum time between two JWKS fetches (an unknown `kid` triggers at most one per interval).
    /// After a failed fetch the next attempt may come after 2 s already (an outage's end is noticed
    /// within seconds). Default: [`DEFAULT_REFETCH_INTERVAL`] (30 s).
    pub fn refetch_interval(mut self, interval: Duration) -> Self {
        self.refetch_interval = interval;
        self
    }

    /// How long a fetched JWKS is used before it is fetched again, when its response has no
    /// `Cache-Control: max-age` (one in the response wins, bounded to 30 s ..= 1 day). Default:
    /// [`DEFAULT_JWKS_MAX_AGE`] (5 min). It bounds how long a key the authorization server retired
    /// keeps verifying tokens. At least 1 s.
    pub fn jwks_max_age(mut self, max_age: Duration) -> Self {
        self.jwks_max_age = max_age;
        self
    }

    /// How long past its lifetime a JWKS is still used while refetching it fails (an outage of the
    /// authorization server); after it, tokens get 503 until a fetch succeeds. Default:
    /// [`DEFAULT_JWKS_STALE_GRACE`] (10 min).
    pub fn jwks_stale_grace(mut self, grace: Duration) -> Self {
        self.jwks_stale_grace = grace;
        self
    }

    /// Number of verified tokens cached (0 disables the cache). Default: [`DEFAULT_CACHE_CAPACITY`].
    pub fn cache_capacity(mut self, capacity: usize) -> Self {
        self.cache_capacity = capacity;
        self
    }

    /// Largest JWKS and metadata document read. Default: [`DEFAULT_MAX_DOCUMENT_SIZE`] (64 KiB).
    pub fn max_jwks_size(mut self, bytes: usize) -> Self {
        self.max_jwks_size = bytes;
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

    /// Checks the configuration and builds the verifier.
    pub fn build(self) -> Result<JwtVerifier, crate::ConfigError> {
        if self.algorithms.is_empty() {
            return Err(crate::ConfigError::NoAlgorithms);
        }
        let source = match self.jwks_uri {
            Some(url) if super::discovery::is_acceptable_endpoint(&url) => JwksSource::Uri(url),
            Some(url) => return Err(crate::ConfigError::InsecureEndpoint(url.to_string())),
            None => JwksSource::Discover(self.issuer.clone()),
        };
        let http = match self.http {
            Some(http) => http.0,
            None => Arc::new(
                crate::fetch::default_client()
                    .map_err(|e| crate::ConfigError::HttpClient(e.to_string()))?,
            ),
        };
        Ok(JwtVerifier {
            inner: Arc::new(Inner {
                expectations: ClaimsExpectations::new(self.issuer, self.audience)
                    .with_leeway(self.leeway),
                algorithms: self.algorithms,
                require_at_jwt: self.require_at_jwt,
                jwks: Jwks::new(
                    source,
                    http,
                    Arc::clone(&self.clock),
                    self.refetch_interval,
                    Freshness {
                        default_max_age: self.jwks_max_age.max(Duration::from_secs(1)),
                        stale_grace: self.jwks_stale_grace,
                    },
                    self.max_jwks_size,
                ),
                clock: self.clock,
                cache: TokenCache::new(self.cache_capacity),
            }),
        })
    }
}
