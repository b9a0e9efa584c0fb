//! Why a Client ID Metadata Document was not fetched or was refused: shared by the fetch (`cimd`) and
//! the fetch budget (`fetch_budget`), which caches recent failures, so neither imports the other.

use mcp_authz_token::fetch::{FetchError, TransportError};

/// Why a metadata document was refused: the CIMD rules, around the shared [`FetchError`] of the
/// fetch itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CimdError {
    /// The client id is not an https URL with a path.
    #[error("the client id is not a metadata document URL")]
    NotADocumentUrl,
    /// The fetch failed: an IP-literal host the guard refuses (SEC-6), no connection to a public
    /// address, a timeout, a status other than 200 (redirects included: they are not followed), or
    /// a body larger than the limit.
    #[error("fetch failed: {0}")]
    Fetch(#[from] FetchError),
    /// Not a valid document for this client id.
    #[error("invalid document: {0}")]
    Invalid(String),
    /// Not fetched: a fetch budget (per peer, per host, or fetches in flight) is spent, or the host
    /// failed repeatedly just now (SEC-12).
    #[error("not fetched: too many metadata document fetches")]
    Throttled,
    /// Not fetched: this URL failed just now; the failure is answered from the cache (SEC-12).
    #[error("not fetched: the document failed recently ({0})")]
    RecentlyFailed(Box<CimdError>),
}

impl CimdError {
    /// `true` when the host itself failed (refused by the address guard, unreachable, too slow), which
    /// counts towards the per-host failure budget; a bad answer (status, size, document) does not.
    pub(crate) fn is_host_failure(&self) -> bool {
        match self {
            Self::Fetch(FetchError::Policy(_)) => true,
            Self::Fetch(FetchError::Transport(transport)) => {
                !matches!(transport, TransportError::TooLarge { .. })
            }
            _ => false,
        }
    }
}
