//! The HTTP fetches of the verifiers (authorization server metadata, JWKS, introspection) behind a small
//! trait, size- and time-limited.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::HeaderValue;
use url::Url;

/// Default time limit of one fetch: 5 seconds.
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// One HTTP request of a verifier.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FetchRequest {
    /// The URL.
    pub url: Url,
    /// `None` for `GET`; the `application/x-www-form-urlencoded` body of a `POST` otherwise.
    pub form: Option<String>,
    /// The `Authorization` header to send (client authentication for introspection), marked sensitive.
    pub authorization: Option<HeaderValue>,
    /// The largest response body accepted, in bytes.
    pub max_body: usize,
}

impl FetchRequest {
    /// A `GET` of `url` accepting at most `max_body` bytes.
    pub fn get(url: Url, max_body: usize) -> Self {
        Self {
            url,
            form: None,
            authorization: None,
            max_body,
        }
    }

    /// A form `POST`.
    pub fn post_form(
        url: Url,
        form: String,
        authorization: Option<HeaderValue>,
        max_body: usize,
    ) -> Self {
        Self {
            url,
            form: Some(form),
            authorization,
            max_body,
        }
    }
}

/// Why a fetch gave no usable body. Every variant makes the verifier answer 503 when nothing cached can
/// decide, never 500 and never a pass.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The server did not answer in time.
    #[error("the request to {0} timed out")]
    Timeout(String),
    /// No connection, or the exchange failed.
    #[error("the request to {url} failed: {reason}")]
    Transport {
        /// The URL.
        url: String,
        /// What failed.
        reason: String,
    },
    /// A status other than 2xx.
    #[error("{url} answered with HTTP status {status}")]
    Status {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The body exceeds the limit.
    #[error("the response of {url} is larger than {limit} bytes")]
    TooLarge {
        /// The URL.
        url: String,
        /// The limit.
        limit: usize,
    },
}

/// The boxed future of [`HttpFetcher::fetch`].
pub type FetchFuture<'a> = Pin<Box<dyn Future<Output = Result<Bytes, FetchError>> + Send + 'a>>;

/// The boxed future of [`HttpFetcher::fetch_cacheable`].
pub type CacheableFetchFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Fetched, FetchError>> + Send + 'a>>;

/// A response body with how long it may be reused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Fetched {
    /// The body of the 2xx response.
    pub body: Bytes,
    /// The freshness lifetime of its `Cache-Control` header (see
    /// [`cache_control_max_age`](mcp_authz_metadata::cache_control_max_age)); `None` when it named
    /// none.
    pub max_age: Option<Duration>,
}

impl Fetched {
    /// A body with its freshness lifetime.
    pub fn new(body: Bytes, max_age: Option<Duration>) -> Self {
        Self { body, max_age }
    }
}

/// Performs the verifiers' HTTP requests: the body of a 2xx response, at most
/// [`FetchRequest::max_body`] bytes. [`ReqwestFetcher`] is the implementation to use; tests may use
/// their own.
pub trait HttpFetcher: Send + Sync + fmt::Debug + 'static {
    /// Sends the request.
    fn fetch(&self, request: FetchRequest) -> FetchFuture<'_>;

    /// Sends the request and also reports the response's `Cache-Control` freshness lifetime (the
    /// JWKS cache honours it). The default calls [`fetch`](Self::fetch) and reports none, so the
    /// verifier's configured default applies.
    fn fetch_cacheable(&self, request: FetchRequest) -> CacheableFetchFuture<'_> {
        Box::pin(async move {
            let body = self.fetch(request).await?;
            Ok(Fetched::new(body, None))
        })
    }
}

/// [`HttpFetcher`] over a `reqwest` client: follows no redirects, gives up after a time limit (default
/// [`DEFAULT_FETCH_TIMEOUT`]) and stops reading a body at the size limit.
#[derive(Debug, Clone)]
pub struct ReqwestFetcher {
    client: reqwest::Client,
}

impl ReqwestFetcher {
    /// A fetcher with the [`DEFAULT_FETCH_TIMEOUT`].
    pub fn new() -> Result<Self, FetchError> {
        Self::with_timeout(DEFAULT_FETCH_TIMEOUT)
    }

    /// A fetcher whose requests give up after `timeout` (connection and body together).
    pub fn with_timeout(timeout: Duration) -> Result<Self, FetchError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| FetchError::Transport {
                url: String::new(),
                reason: e.to_string(),
            })?;
        Ok(Self { client })
    }

    /// A fetcher over a client you configured (keep redirects off and a timeout on).
    pub fn from_client(client: reqwest::Client) -> Self {
        Self { client }
    }
}

fn transport(url: &Url, e: &reqwest::Error) -> FetchError {
    if e.is_timeout() {
        FetchError::Timeout(url.as_str().to_owned())
    } else {
        FetchError::Transport {
            url: url.as_str().to_owned(),
            reason: e.to_string(),
        }
    }
}

impl HttpFetcher for ReqwestFetcher {
    fn fetch(&self, request: FetchRequest) -> FetchFuture<'_> {
        Box::pin(async move { self.send(request).await.map(|fetched| fetched.body) })
    }

    fn fetch_cacheable(&self, request: FetchRequest) -> CacheableFetchFuture<'_> {
        Box::pin(self.send(request))
    }
}

impl ReqwestFetcher {
    async fn send(&self, request: FetchRequest) -> Result<Fetched, FetchError> {
        {
            let url = request.url;
            let mut builder = match request.form {
                None => self.client.get(url.clone()),
                Some(form) => self
                    .client
                    .post(url.clone())
                    .header(
                        http::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .body(form),
            };
            builder = builder.header(http::header::ACCEPT, "application/json");
            if let Some(auth) = request.authorization {
                builder = builder.header(http::header::AUTHORIZATION, auth);
            }
            let mut response = builder.send().await.map_err(|e| transport(&url, &e))?;
            let status = response.status();
            if !status.is_success() {
                return Err(FetchError::Status {
                    url: url.as_str().to_owned(),
                    status: status.as_u16(),
                });
            }
            let too_large = || FetchError::TooLarge {
                url: url.as_str().to_owned(),
                limit: request.max_body,
            };
            if response
                .content_length()
                .is_some_and(|len| len > request.max_body as u64)
            {
                return Err(too_large());
            }
            let max_age = max_age(response.headers());
            let mut body = BytesMut::new();
            while let Some(chunk) = response.chunk().await.map_err(|e| transport(&url, &e))? {
                if body.len().saturating_add(chunk.len()) > request.max_body {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Fetched::new(body.freeze(), max_age))
        }
    }
}

/// The freshness lifetime of the `Cache-Control` field lines; a line that is not text makes the
/// response stale (zero).
fn max_age(headers: &http::HeaderMap) -> Option<Duration> {
    let mut lines = Vec::new();
    for value in headers.get_all(http::header::CACHE_CONTROL) {
        match value.to_str() {
            Ok(line) => lines.push(line),
            Err(_) => return Some(Duration::ZERO),
        }
    }
    if lines.is_empty() {
        return None;
    }
    mcp_authz_metadata::cache_control_max_age(&lines.join(","))
}
