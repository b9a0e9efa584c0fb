//! Why a Client ID Metadata Document was not fetched or was refused: shared by the fetch (`cimd`) and
//! the fetch budget (`fetch_budget`), which caches recent failures, so neither imports the other.

/// Why a metadata document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The client id is not an https URL with a path.
    #[error("the client id is not a metadata document URL")]
    NotADocumentUrl,
    /// The host is, or resolves only to, addresses the guard refuses (SEC-6).
    #[error("the document host resolves to no public address")]
    Blocked,
    /// Connection, TLS or timeout failure.
    #[error("fetch failed: {0}")]
    Network(String),
    /// A status other than 200 (redirects included: they are not followed).
    #[error("unexpected HTTP status {0}")]
    Status(u16),
    /// Larger than the configured limit.
    #[error("the document is larger than the limit")]
    TooLarge,
    /// Not a valid document for this client id.
    #[error("invalid document: {0}")]
    Invalid(String),
    /// Not fetched: a fetch budget (per peer, per host, or fetches in flight) is spent, or the host
    /// failed repeatedly just now (SEC-12).
    #[error("not fetched: too many metadata document fetches")]
    Throttled,
    /// Not fetched: this URL failed just now; the failure is answered from the cache (SEC-12).
    #[error("not fetched: the document failed recently ({0})")]
    RecentlyFailed(Box<FetchError>),
}
