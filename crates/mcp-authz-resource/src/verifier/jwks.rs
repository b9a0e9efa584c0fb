//! The authorization server's signing keys ([RFC 7517] JWK Set): parsed leniently (keys this crate cannot
//! use are skipped, so any standards-compliant JWKS works), cached, and refetched on an unknown `kid` at
//! most once per interval (REQUIREMENTS RS-10).
//!
//! [RFC 7517]: https://www.rfc-editor.org/rfc/rfc7517

use std::str::FromStr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use mcp_authz_metadata::{Issuer, Url};
use mcp_authz_token::NumericDate;

use super::discovery::{discover, invalid, is_acceptable_endpoint};
use crate::{Clock, FetchError, FetchRequest, HttpFetcher};

/// The curve or key type of a verification key, which fixes the algorithms it may verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    P256,
    P384,
    Rsa,
    Ed25519,
}

impl KeyKind {
    fn verifies(self, alg: Algorithm) -> bool {
        matches!(
            (self, alg),
            (Self::P256, Algorithm::ES256)
                | (Self::P384, Algorithm::ES384)
                | (Self::Rsa, Algorithm::RS256 | Algorithm::PS256)
                | (Self::Ed25519, Algorithm::EdDSA)
        )
    }
}

/// One usable signature verification key.
struct KeyEntry {
    kid: Option<String>,
    kind: KeyKind,
    /// The JWK's `alg`, when it names one: the only algorithm the key may verify.
    alg: Option<Algorithm>,
    key: DecodingKey,
}

/// The usable keys of one JWKS.
#[derive(Default)]
pub(crate) struct KeySet {
    keys: Vec<KeyEntry>,
}

impl KeySet {
    /// Reads a JWK Set, keeping the asymmetric signature keys and skipping everything else (symmetric
    /// keys, encryption keys, unknown key types, malformed members).
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, String> {
        #[derive(serde::Deserialize)]
        struct RawSet {
            keys: Vec<serde_json::Value>,
        }
        let raw: RawSet = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        let keys = raw
            .keys
            .into_iter()
            .filter_map(|value| serde_json::from_value::<Jwk>(value).ok())
            .filter_map(|jwk| entry(&jwk))
            .collect();
        Ok(Self { keys })
    }

    /// The keys that may verify a token with this `kid` and `alg`: the key with that `kid`, or every
    /// compatible key when the token names none.
    pub(crate) fn candidates<'a>(
        &'a self,
        kid: Option<&'a str>,
        alg: Algorithm,
    ) -> impl Iterator<Item = &'a DecodingKey> + 'a {
        self.keys
            .iter()
            .filter(move |k| k.kind.verifies(alg) && k.alg.is_none_or(|a| a == alg))
            .filter(move |k| kid.is_none_or(|kid| k.kid.as_deref() == Some(kid)))
            .map(|k| &k.key)
    }
}

fn entry(jwk: &Jwk) -> Option<KeyEntry> {
    if matches!(
        jwk.common.public_key_use,
        Some(PublicKeyUse::Encryption | PublicKeyUse::Other(_))
    ) {
        return None;
    }
    let kind = match &jwk.algorithm {
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => KeyKind::P256,
            EllipticCurve::P384 => KeyKind::P384,
            _ => return None,
        },
        AlgorithmParameters::RSA(_) => KeyKind::Rsa,
        AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
            KeyKind::Ed25519
        }
        // Symmetric keys never verify tokens of a JWKS (no HMAC key confusion).
        _ => return None,
    };
    let alg = match jwk.common.key_algorithm {
        Some(alg) => Some(Algorithm::from_str(&alg.to_string()).ok()?),
        None => None,
    };
    let key = DecodingKey::from_jwk(jwk).ok()?;
    Some(KeyEntry {
        kid: jwk.common.key_id.clone(),
        kind,
        alg,
        key,
    })
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
    last_error: Option<FetchError>,
    jwks_uri: Option<Url>,
}

/// What a key lookup found.
pub(crate) enum Lookup {
    /// Keys to try.
    Keys(Arc<KeySet>),
    /// No key matches and the JWKS is current: the token is invalid.
    NoKey,
    /// No key matches and the JWKS could not be fetched: undecidable.
    Unavailable {
        retry_after: Duration,
        source: FetchError,
    },
}

/// The cached key set with its single-flight, rate-limited refresh.
pub(crate) struct Jwks {
    source: JwksSource,
    fetcher: Arc<dyn HttpFetcher>,
    clock: Arc<dyn Clock>,
    refetch_interval: Duration,
    max_size: usize,
    keys: RwLock<(u64, Arc<KeySet>)>,
    refresh: tokio::sync::Mutex<RefreshState>,
}

impl Jwks {
    pub(crate) fn new(
        source: JwksSource,
        fetcher: Arc<dyn HttpFetcher>,
        clock: Arc<dyn Clock>,
        refetch_interval: Duration,
        max_size: usize,
    ) -> Self {
        let jwks_uri = match &source {
            JwksSource::Uri(url) => Some(url.clone()),
            JwksSource::Discover(_) => None,
        };
        Self {
            source,
            fetcher,
            clock,
            refetch_interval,
            max_size,
            keys: RwLock::new((0, Arc::new(KeySet::default()))),
            refresh: tokio::sync::Mutex::new(RefreshState {
                generation: 0,
                last_attempt: None,
                last_error: None,
                jwks_uri,
            }),
        }
    }

    fn current(&self) -> (u64, Arc<KeySet>) {
        let guard = self
            .keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (guard.0, Arc::clone(&guard.1))
    }

    /// The key set to verify a token with `kid` and `alg`, refetching once when no key matches and
    /// the refetch interval allows.
    pub(crate) async fn lookup(&self, kid: Option<&str>, alg: Algorithm) -> Lookup {
        let (generation, keys) = self.current();
        if keys.candidates(kid, alg).next().is_some() {
            return Lookup::Keys(keys);
        }
        match self.refresh(generation).await {
            Ok(()) => {
                let (_, keys) = self.current();
                if keys.candidates(kid, alg).next().is_some() {
                    Lookup::Keys(keys)
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
    /// than the refetch interval ago.
    async fn refresh(&self, seen_generation: u64) -> Result<(), RefreshError> {
        let mut state = self.refresh.lock().await;
        if state.generation != seen_generation {
            return Ok(());
        }
        let now = self.clock.now();
        if let Some(last) = state.last_attempt {
            let next = last.saturating_add(self.refetch_interval);
            if now < next {
                return Err(RefreshError::RateLimited {
                    retry_after: Duration::from_secs(next.secs().saturating_sub(now.secs())),
                    last_error: state.last_error.clone(),
                });
            }
        }
        state.last_attempt = Some(now);
        let retry_after = self.refetch_interval.max(Duration::from_secs(1));
        match self.fetch(&mut state).await {
            Ok(keys) => {
                state.generation = state.generation.wrapping_add(1);
                state.last_error = None;
                let mut guard = self
                    .keys
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                *guard = (state.generation, Arc::new(keys));
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

    async fn fetch(&self, state: &mut RefreshState) -> Result<KeySet, FetchError> {
        let url = match (&state.jwks_uri, &self.source) {
            (Some(url), _) => url.clone(),
            (None, JwksSource::Uri(url)) => url.clone(),
            (None, JwksSource::Discover(issuer)) => {
                let doc = discover(self.fetcher.as_ref(), issuer, self.max_size).await?;
                let url = doc.jwks_uri.ok_or_else(|| {
                    invalid(
                        issuer.url(),
                        "the authorization server metadata has no jwks_uri",
                    )
                })?;
                if !is_acceptable_endpoint(&url) {
                    return Err(invalid(&url, "jwks_uri is not https"));
                }
                state.jwks_uri = Some(url.clone());
                url
            }
        };
        let body = self
            .fetcher
            .fetch(FetchRequest::get(url.clone(), self.max_size))
            .await?;
        KeySet::parse(&body).map_err(|reason| invalid(&url, &reason))
    }
}

enum RefreshError {
    RateLimited {
        retry_after: Duration,
        last_error: Option<FetchError>,
    },
    Fetch {
        retry_after: Duration,
        source: FetchError,
    },
}
