//! Configuration errors a verifier finds when it talks to the authorization server: what it fetched
//! contradicts its configuration, so retrying cannot help until one side is fixed. They are told apart
//! from outages (a 503 with `Retry-After`), logged at ERROR once per change, and reported at startup by
//! [`TokenVerifier::check`](super::TokenVerifier::check).

use std::sync::Mutex;

use crate::FetchError;

/// A permanent configuration error: the authorization server answers, but not as the verifier is
/// configured to expect. Requests are refused with 500 (not a retryable 503) while it lasts; the
/// verifier keeps refetching at its usual pace, so fixing either side recovers without a restart.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Misconfiguration {
    /// The metadata names another issuer than the configured one (RFC 8414 §3.3 requires them to be
    /// identical; `http://localhost:8400` is not `http://127.0.0.1:8400`).
    #[error(
        "issuer {found} (named by the authorization server metadata at {metadata_url}) is not the expected issuer {expected}: configure the issuer exactly as the authorization server names itself"
    )]
    IssuerMismatch {
        /// The metadata document's URL.
        metadata_url: String,
        /// The configured issuer.
        expected: String,
        /// The issuer the document names.
        found: String,
    },
    /// The metadata has no `jwks_uri`: JWT access tokens cannot be verified.
    #[error("the authorization server metadata of {issuer} has no jwks_uri")]
    NoJwksUri {
        /// The configured issuer.
        issuer: String,
    },
    /// The metadata has no `introspection_endpoint`.
    #[error("the authorization server metadata of {issuer} has no introspection_endpoint")]
    NoIntrospectionEndpoint {
        /// The configured issuer.
        issuer: String,
    },
    /// An endpoint the metadata names is neither `https` nor `http` on a loopback host.
    #[error("the endpoint {url} is neither https nor http on a loopback host")]
    InsecureEndpoint {
        /// The endpoint.
        url: String,
    },
    /// The JWKS holds no key this verifier can use (only symmetric keys, or only algorithms not
    /// allowed): every token would be refused. Reported by the startup check only.
    #[error("the JWKS at {url} holds no signature key usable with the allowed algorithms")]
    NoUsableKeys {
        /// The JWKS URL.
        url: String,
    },
    /// The introspection endpoint refuses the resource server's client credentials (401).
    #[error("the introspection endpoint {url} refuses the resource server's client credentials")]
    CredentialsRejected {
        /// The introspection endpoint.
        url: String,
    },
}

/// Why [`TokenVerifier::check`](super::TokenVerifier::check) failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    /// The authorization server answers, but not as configured.
    #[error(transparent)]
    Misconfigured(#[from] Misconfiguration),
    /// The authorization server could not be reached or answered with an error (possibly transient).
    #[error("the authorization server could not be reached: {0}")]
    Unreachable(#[from] FetchError),
}

/// Why discovery or a key/introspection fetch failed, inside the verifiers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SourceError {
    /// An outage: 503 with `Retry-After`.
    #[error(transparent)]
    Fetch(FetchError),
    /// A configuration error: 500, logged once.
    #[error(transparent)]
    Misconfigured(Misconfiguration),
}

impl SourceError {
    /// The configuration error, if this is one.
    pub(crate) fn misconfiguration(&self) -> Option<&Misconfiguration> {
        match self {
            Self::Fetch(_) => None,
            Self::Misconfigured(e) => Some(e),
        }
    }
}

impl From<FetchError> for SourceError {
    fn from(e: FetchError) -> Self {
        Self::Fetch(e)
    }
}

impl From<Misconfiguration> for SourceError {
    fn from(e: Misconfiguration) -> Self {
        Self::Misconfigured(e)
    }
}

impl From<SourceError> for CheckError {
    fn from(e: SourceError) -> Self {
        match e {
            SourceError::Fetch(e) => Self::Unreachable(e),
            SourceError::Misconfigured(e) => Self::Misconfigured(e),
        }
    }
}

/// Logs a configuration error at ERROR when it differs from the last one logged, so a misconfigured
/// server logs it once (and again after it changes), not once per request.
#[derive(Debug, Default)]
pub(crate) struct ErrorLog {
    last: Mutex<Option<Misconfiguration>>,
}

impl ErrorLog {
    /// Records the outcome of a fetch: logs a new configuration error, forgets it after a success.
    pub(crate) fn record(&self, outcome: Option<&Misconfiguration>) {
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if last.as_ref() == outcome {
            return;
        }
        match outcome {
            Some(error) => tracing::error!(
                %error,
                "the token verifier is misconfigured: every token is refused with 500 until this is fixed"
            ),
            None if last.is_some() => {
                tracing::info!("the token verifier's configuration error is resolved");
            }
            None => {}
        }
        *last = outcome.cloned();
    }
}
