//! The authorization server's signing keys ([RFC 7517] JWK Set): parsed leniently (keys this crate cannot
//! use are skipped, so any standards-compliant JWKS works), cached, and refetched on an unknown `kid` at
//! most once per interval (REQUIREMENTS RS-10). A fetched set lives for its `Cache-Control: max-age`
//! (bounded to 30 s ..= 1 day; a default without one) and is then fetched again before use, so a key
//! the authorization server retired stops verifying within that bound; if the refetch fails, the old
//! set serves for a stale grace, then tokens get 503 (REQUIREMENTS SEC-15).
//!
//! [RFC 7517]: https://www.rfc-editor.org/rfc/rfc7517

use std::sync::{Arc, RwLock};
use std::time::Duration;

use mcp_authz_metadata::{Issuer, Url};
use mcp_authz_token::{JwkSet, JwsAlgorithm, NumericDate, VerifyingKey};

use super::discovery::{acceptable_endpoint, discover, invalid};
use super::misconfiguration::{ErrorLog, Misconfiguration, SourceError};
use crate::{Clock, HttpClient};

/// The usable keys of one JWKS, each parsed once when the set is loaded (not per token).
#[derive(Default)]
pub(crate) struct KeySet {
    keys: Vec<VerifyingKey>,
}

impl KeySet {
    /// Reads a JWK Set, keeping the asymmetric signature keys and skipping everything else (symmetric
    /// keys, encryption keys, unknown key types, malformed members; RFC 7517 §5). A set that
    /// publishes a private key is refused.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, String> {
        let set = JwkSet::from_json(bytes).map_err(|e| e.to_string())?;
        let keys = set
            .keys()
            .iter()
            .filter_map(|jwk| VerifyingKey::from_jwk(jwk).ok())
            .collect();
        Ok(Self { keys })
    }

    /// The keys that may verify a token with this `kid` and `alg`: the key with that `kid`, or every
    /// compatible key when the token names none. A key verifies only the algorithms its type fits,
    /// and only its JWK's `alg` when it names one (no algorithm confusion).
    pub(crate) fn candidates<'a>(
        &'a self,
        kid: Option<&'a str>,
        alg: JwsAlgorithm,
    ) -> impl Iterator<Item = &'a VerifyingKey> + 'a {
        self.keys
            .iter()
            .filter(move |k| k.fits(alg))
            .filter(move |k| kid.is_none_or(|kid| k.kid() == Some(kid)))
    }
}

/// Where the JWKS is.
#[derive(Debug, Clone)]
pub(crate) enum JwksSource {
    /// `jwks_uri` of the issuer's RFC 8414 metadata.
    Discover(Issuer),
    /// A configured URL.
    Uri(Url),
}

struct RefreshState {
    /// Bumped on every successful fetch.
    generation: u64,
    last_attempt: Option<NumericDate>,
    /// Why the last attempt failed, `None` after a success.
    last_error: Option<SourceError>,
    jwks_uri: Option<Url>,
}

/// How long a fetched key set is trusted (REQUIREMENTS SEC-15).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Freshness {
    /// The lifetime of a set whose response named none in `Cache-Control`.
    pub(crate) default_max_age: Duration,
    /// How long past its lifetime a set is still used while refetching it fails.
    pub(crate) stale_grace: Duration,
}

/// The smallest `Cache-Control: max-age` honoured: 30 seconds (a smaller one, or `no-cache`, would
/// make every request a fetch).
/// The least time between two JWKS (or discovery) attempts after one failed: 2 seconds.
pub(crate) const FAILED_REFETCH_INTERVAL: Duration = Duration::from_secs(2);

pub(crate) const MIN_MAX_AGE: Duration = Duration::from_secs(30);
/// The largest `Cache-Control: max-age` honoured: one day (a retired key must not live for longer).
pub(crate) const MAX_MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);

/// The key set in use, with its generation and lifetime.
#[derive(Clone)]
pub(crate) struct Snapshot {
    /// Bumped on every successful fetch: a verification made with an older generation is redone.
    pub(crate) generation: u64,
    pub(crate) keys: Arc<KeySet>,
    /// When the set must be fetched again before use; `None` before the first fetch.
    expires: Option<NumericDate>,
}

/// What a key lookup found.
pub(crate) enum Lookup {
    /// Keys to try.
    Keys(Snapshot),
    /// No key matches and the JWKS is current: the token is invalid.
    NoKey,
    /// No key matches and the JWKS could not be fetched: undecidable.
    Unavailable {
        retry_after: Duration,
        source: SourceError,
    },
}

/// The key set could not be made current and the stale one is past its grace: undecidable (503), or
/// a configuration error (500).
pub(crate) struct Unavailable {
    pub(crate) retry_after: Duration,
    pub(crate) source: SourceError,
}

/// The cached key set with its single-flight, rate-limited refresh.
pub(crate) struct Jwks {
    source: JwksSource,
    http: Arc<dyn HttpClient>,
    clock: Arc<dyn Clock>,
    refetch_interval: Duration,
    freshness: Freshness,
    max_size: usize,
    keys: RwLock<Snapshot>,
    refresh: tokio::sync::Mutex<RefreshState>,
    errors: ErrorLog,
}

impl Jwks {
    pub(crate) fn new(
        source: JwksSource,
        http: Arc<dyn HttpClient>,
        clock: Arc<dyn Clock>,
        refetch_interval: Duration,
        freshness: Freshness,
        max_size: usize,
    ) -> Self {
        let jwks_uri = match &source {
            JwksSource::Uri(url) => Some(url.clone()),
            JwksSource::Discover(_) => None,
        };
        Self {
            source,
            http,
            clock,
            refetch_interval,
            freshness,
            max_size,
            keys: RwLock::new(Snapshot {
                generation: 0,
                keys: Arc::new(KeySet::default()),
                expires: None,
            }),
            refresh: tokio::sync::Mutex::new(RefreshState {
                generation: 0,
                last_attempt: None,
                last_error: None,
                jwks_uri,
            }),
            errors: ErrorLog::default(),
        }
    }

    /// Fetches the key set now (metadata first when discovering), whatever its age and the refetch
    /// interval: the startup check.
    pub(crate) async fn check(&self) -> Result<(Snapshot, String), SourceError> {
        let generation = self.current().generation;
        match self.refresh(generation, Why::Check).await {
            Ok(()) => {}
            Err(RefreshError::Fetch { source, .. }) => return Err(source),
            // A check is never rate-limited; another task fetched meanwhile.
            Err(RefreshError::RateLimited { .. }) => {}
        }
        let url = self
            .refresh
            .lock()
            .await
            .jwks_uri
            .as_ref()
            .map(Url::to_string)
            .unwrap_or_default();
        Ok((self.current(), url))
    }

    fn current(&self) -> Snapshot {
        self.keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The key set, fetched again first when its lifetime is over (REQUIREMENTS SEC-15): keys the
    /// authorization server no longer publishes are dropped within that lifetime. When the refetch
    /// fails, the old set serves for the stale grace, then nothing does.
    pub(crate) async fn fresh(&self) -> Result<Snapshot, Unavailable> {
        let now = self.clock.now();
        let snapshot = self.current();
        if snapshot.expires.is_some_and(|expires| now < expires) {
            return Ok(snapshot);
        }
        let failure = match self.refresh(snapshot.generation, Why::Expired).await {
            Ok(())
            | Err(RefreshError::RateLimited {
                last_error: None, ..
            }) => {
                return Ok(self.current());
            }
            Err(RefreshError::RateLimited {
                retry_after,
                last_error: Some(source),
            })
            | Err(RefreshError::Fetch {
                retry_after,
                source,
            }) => Unavailable {
                retry_after,
                source,
            },
        };
        let snapshot = self.current();
        let grace_until = snapshot
            .expires
            .map(|expires| expires.saturating_add(self.freshness.stale_grace));
        if grace_until.is_some_and(|until| now < until) {
            tracing::warn!(
                error = %failure.source,
                "the JWKS could not be refetched; using the previous key set within its stale grace"
            );
            Ok(snapshot)
        } else {
            Err(failure)
        }
    }

    /// The key set to verify a token with `kid` and `alg`: the current set (see
    /// [`fresh`](Self::fresh)), refetched once more when no key matches and the refetch interval
    /// allows.
    pub(crate) async fn lookup(&self, kid: Option<&str>, alg: JwsAlgorithm) -> Lookup {
        let snapshot = match self.fresh().await {
            Ok(snapshot) => snapshot,
            Err(Unavailable {
                retry_after,
                source,
            }) => {
                return Lookup::Unavailable {
                    retry_after,
                    source,
                };
            }
        };
        if snapshot.keys.candidates(kid, alg).next().is_some() {
            return Lookup::Keys(snapshot);
        }
        match self.refresh(snapshot.generation, Why::UnknownKey).await {
            Ok(()) => {
                let snapshot = self.current();
                if snapshot.keys.candidates(kid, alg).next().is_some() {
                    Lookup::Keys(snapshot)
                } else {
                    Lookup::NoKey
                }
            }
            // The set is current (or the last fetch succeeded without a usable key): no such key.
            Err(RefreshError::RateLimited {
                last_error: None, ..
            }) => Lookup::NoKey,
            Err(RefreshError::RateLimited {
                retry_after,
                last_error: Some(source),
            })
            | Err(RefreshError::Fetch {
                retry_after,
                source,
            }) => Lookup::Unavailable {
                retry_after,
                source,
            },
        }
    }

    /// Fetches the JWKS unless another task did since `seen_generation` or the last attempt was less
    /// than the refetch interval ago (for an expired set: unless the last attempt failed that
    /// recently; a set that expired after a successful fetch is always fetched again).
    async fn refresh(&self, seen_generation: u64, why: Why) -> Result<(), RefreshError> {
        let mut state = self.refresh.lock().await;
        if state.generation != seen_generation {
            return Ok(());
        }
        let now = self.clock.now();
        let rate_limited = match why {
            Why::UnknownKey => true,
            Why::Expired => state.last_error.is_some(),
            Why::Check => false,
        };
        if let Some(last) = state.last_attempt.filter(|_| rate_limited) {
            // After a failed fetch (the authorization server was down or not started yet) the next
            // attempt comes sooner, so that the end of an outage is noticed within seconds; an
            // unknown `kid` still triggers at most one fetch per interval.
            let interval = if state.last_error.is_some() {
                self.refetch_interval.min(FAILED_REFETCH_INTERVAL)
            } else {
                self.refetch_interval
            };
            let next = last.saturating_add(interval);
            if now < next {
                return Err(RefreshError::RateLimited {
                    retry_after: Duration::from_secs(next.as_secs().saturating_sub(now.as_secs())),
                    last_error: state.last_error.clone(),
                });
            }
        }
        state.last_attempt = Some(now);
        let retry_after = self.refetch_interval.max(Duration::from_secs(1));
        let outcome = self.fetch(&mut state).await;
        self.errors.record(
            outcome
                .as_ref()
                .err()
                .and_then(SourceError::misconfiguration),
        );
        match outcome {
            Ok((keys, max_age)) => {
                state.generation = state.generation.wrapping_add(1);
                state.last_error = None;
                let max_age = max_age.map_or(self.freshness.default_max_age, |age| {
                    age.clamp(MIN_MAX_AGE, MAX_MAX_AGE)
                });
                let mut guard = self
                    .keys
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                // The new set replaces the old: keys no longer published are gone.
                *guard = Snapshot {
                    generation: state.generation,
                    keys: Arc::new(keys),
                    expires: Some(now.saturating_add(max_age)),
                };
                drop(guard);
                // Readers compare against the generation they saw before the refresh.
                Ok(())
            }
            Err(source) => {
                state.last_error = Some(source.clone());
                Err(RefreshError::Fetch {
                    retry_after,
                    source,
                })
            }
        }
    }

    async fn fetch(
        &self,
        state: &mut RefreshState,
    ) -> Result<(KeySet, Option<Duration>), SourceError> {
        let url = match (&state.jwks_uri, &self.source) {
            (Some(url), _) => url.clone(),
            (None, JwksSource::Uri(url)) => url.clone(),
            (None, JwksSource::Discover(issuer)) => {
                let doc = discover(self.http.as_ref(), issuer, self.max_size).await?;
                let url = doc.jwks_uri.ok_or_else(|| Misconfiguration::NoJwksUri {
                    issuer: issuer.as_str().to_owned(),
                })?;
                let url = acceptable_endpoint(url)?;
                state.jwks_uri = Some(url.clone());
                url
            }
        };
        let fetched = crate::fetch::get(self.http.as_ref(), &url, self.max_size).await?;
        let keys = KeySet::parse(&fetched.body).map_err(|reason| invalid(&url, &reason))?;
        Ok((keys, fetched.max_age))
    }
}

/// Why the key set is fetched again.
#[derive(Clone, Copy)]
enum Why {
    /// Its lifetime is over.
    Expired,
    /// A token names a key it does not have.
    UnknownKey,
    /// The startup check: never rate-limited.
    Check,
}

enum RefreshError {
    RateLimited {
        retry_after: Duration,
        last_error: Option<SourceError>,
    },
    Fetch {
        retry_after: Duration,
        source: SourceError,
    },
}
