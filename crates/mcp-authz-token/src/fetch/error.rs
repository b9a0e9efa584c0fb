//! Why an outbound request failed: the one error type of every fetch in the workspace.

use std::net::IpAddr;

/// Why an HTTP exchange failed below the HTTP layer (what an [`HttpClient`](super::HttpClient)
/// reports).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// No connection could be made, or it broke. A host whose every address the
    /// [`AddressGuard`](super::AddressGuard) refuses fails here, at connection time.
    #[error("connection failed: {0}")]
    Connect(String),
    /// The exchange took longer than the time limit.
    #[error("the request timed out")]
    Timeout,
    /// The response body is larger than the request's cap.
    #[error("the response body is larger than {limit} bytes")]
    TooLarge {
        /// The cap in bytes.
        limit: usize,
    },
    /// The request could not be built (invalid header, ...), or the client could not be configured.
    #[error("the request could not be built: {0}")]
    InvalidRequest(String),
}

/// Why an address policy refused a URL or an address: checked before any connection (the URL) and
/// at connection time (every resolved address).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// A scheme other than `https` (or `http` to a loopback host in development).
    #[error("scheme {0:?} is not allowed: https is required")]
    UnsupportedScheme(String),
    /// Plain `http` to a host that is not loopback.
    #[error("plain http to {0:?} is not allowed: https is required")]
    InsecureHttp(String),
    /// The URL has no host.
    #[error("the URL has no host")]
    NoHost,
    /// A loopback host while loopback is not allowed.
    #[error("{0:?} is a loopback address, which is allowed only in development")]
    LoopbackNotAllowed(String),
    /// The host is, or resolves to, a private, link-local, metadata-service or otherwise special address.
    #[error("{host:?} resolves to {address}, a private or special-purpose address")]
    ForbiddenAddress {
        /// The host of the URL.
        host: String,
        /// The refused address.
        address: IpAddr,
    },
    /// The host name could not be resolved, or resolved to no address the policy admits.
    #[error("{host:?} could not be resolved: {description}")]
    Resolve {
        /// The host of the URL.
        host: String,
        /// What the resolver reported.
        description: String,
    },
}

/// Why a fetch gave no usable response: the one fetch error of the client, the resource layer and
/// the server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The address policy refused the URL before any connection.
    #[error("refused by the URL policy: {0}")]
    Policy(#[from] PolicyError),
    /// The exchange failed.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The server answered with a redirect, which is never followed.
    #[error("{url} answered with a redirect ({status}), which is not followed")]
    Redirected {
        /// The URL requested.
        url: String,
        /// The 3xx status.
        status: u16,
    },
    /// The server answered with a status the caller does not accept (not 2xx, or not 200).
    #[error("{url} answered with HTTP status {status}")]
    Status {
        /// The URL requested.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The response arrived but is not the expected document.
    #[error("the response of {url} is not a usable document: {reason}")]
    InvalidDocument {
        /// The URL requested.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
}
