//! [`ReqwestHttpClient`]: the one [`HttpClient`] implementation, over `reqwest` with rustls.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::{AddressGuard, HttpClient, HttpRequest, HttpResponse, TransportError};

/// The connect time limit when none is configured: 10 s.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// [`HttpClient`] over `reqwest` (rustls). Redirects are never followed; proxies named by the
/// environment (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`) are not used unless
/// [`ReqwestHttpClientBuilder::env_proxy`] says so; bodies are read chunk by chunk and refused once
/// they pass the request's cap; every exchange ends at the request's `timeout`.
#[derive(Debug, Clone)]
pub struct ReqwestHttpClient {
    client: reqwest::Client,
}

/// Configures a [`ReqwestHttpClient`]. Redirects stay off whatever is configured.
#[derive(Default)]
#[must_use]
pub struct ReqwestHttpClientBuilder {
    guard: Option<Arc<dyn AddressGuard>>,
    timeout: Option<Duration>,
    root_certificates: Vec<Vec<u8>>,
    user_agent: Option<String>,
    env_proxy: bool,
}

impl std::fmt::Debug for ReqwestHttpClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReqwestHttpClientBuilder")
            .field("guarded", &self.guard.is_some())
            .field("timeout", &self.timeout)
            .field("root_certificates", &self.root_certificates.len())
            .field("user_agent", &self.user_agent)
            .field("env_proxy", &self.env_proxy)
            .finish()
    }
}

impl ReqwestHttpClientBuilder {
    /// Every address a host name resolves to passes `guard` at connection time (DNS rebinding cannot
    /// reach a refused address). Default: none (the caller checks addresses itself).
    pub fn guard(mut self, guard: impl AddressGuard) -> Self {
        self.guard = Some(Arc::new(guard));
        self
    }

    /// A time limit of every exchange, connection included, on top of each request's own
    /// `timeout`. Default: none (the connection alone is limited to 10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Trusts a further root certificate (DER), for example a private test CA.
    pub fn root_certificate_der(mut self, der: Vec<u8>) -> Self {
        self.root_certificates.push(der);
        self
    }

    /// The `User-Agent` of every request. Default: none.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Uses the proxies the environment names (`HTTPS_PROXY`, ...). Default: `false`, since a proxy
    /// makes the connection itself and so bypasses the connect-time [`AddressGuard`].
    pub fn env_proxy(mut self, use_env_proxy: bool) -> Self {
        self.env_proxy = use_env_proxy;
        self
    }

    /// The client.
    pub fn build(self) -> Result<ReqwestHttpClient, TransportError> {
        let mut builder = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
        if !self.env_proxy {
            builder = builder.no_proxy();
        }
        builder = match self.timeout {
            Some(timeout) => builder.timeout(timeout).connect_timeout(timeout),
            None => builder.connect_timeout(DEFAULT_CONNECT_TIMEOUT),
        };
        for der in &self.root_certificates {
            let certificate = reqwest::Certificate::from_der(der)
                .map_err(|e| TransportError::InvalidRequest(e.to_string()))?;
            builder = builder.add_root_certificate(certificate);
        }
        if let Some(user_agent) = self.user_agent {
            builder = builder.user_agent(user_agent);
        }
        if let Some(guard) = self.guard {
            builder = builder.dns_resolver(Arc::new(GuardedResolve { guard }));
        }
        let client = builder
            .build()
            .map_err(|e| TransportError::InvalidRequest(e.to_string()))?;
        Ok(ReqwestHttpClient { client })
    }
}

impl ReqwestHttpClient {
    /// A builder; see [`ReqwestHttpClientBuilder`].
    pub fn builder() -> ReqwestHttpClientBuilder {
        ReqwestHttpClientBuilder::default()
    }

    /// A client with redirects disabled, no proxies and a 10 s connect timeout. Addresses are
    /// checked only by the caller; prefer [`ReqwestHttpClient::with_policy`].
    pub fn new() -> Result<Self, TransportError> {
        Self::builder().build()
    }

    /// Like [`ReqwestHttpClient::new`], and every address a host name resolves to is checked against
    /// `policy` at connection time, so a DNS answer that changes between the policy check and the
    /// connection (DNS rebinding) cannot reach a refused address.
    pub fn with_policy(policy: impl AddressGuard) -> Result<Self, TransportError> {
        Self::builder().guard(policy).build()
    }

    /// Like [`ReqwestHttpClient::new`], and every exchange (connection included) gives up after
    /// `timeout`.
    pub fn with_timeout(timeout: Duration) -> Result<Self, TransportError> {
        Self::builder().timeout(timeout).build()
    }

    /// A client over a `reqwest::Client` you configured (keep redirects off and a timeout on).
    pub fn from_client(client: reqwest::Client) -> Self {
        Self { client }
    }
}

/// Resolves with the system resolver and connects only to what the guard admits.
struct GuardedResolve {
    guard: Arc<dyn AddressGuard>,
}

impl Resolve for GuardedResolve {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = Arc::clone(&self.guard);
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let admitted = guard.admit(&host, resolved)?;
            let addrs: Addrs = Box::new(admitted.into_iter());
            Ok(addrs)
        })
    }
}

#[async_trait::async_trait]
impl HttpClient for ReqwestHttpClient {
    async fn execute(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let limit = request.max_response_bytes;
        let send = async {
            let mut response = self
                .client
                .request(request.method, request.url)
                .headers(request.headers)
                .body(request.body)
                .send()
                .await
                .map_err(map_error)?;
            if let Some(length) = response.content_length()
                && usize::try_from(length).map_or(true, |l| l > limit)
            {
                return Err(TransportError::TooLarge { limit });
            }
            let status = response.status();
            let headers = std::mem::take(response.headers_mut());
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(map_error)? {
                if body.len().saturating_add(chunk.len()) > limit {
                    return Err(TransportError::TooLarge { limit });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(HttpResponse {
                status,
                headers,
                body,
            })
        };
        tokio::time::timeout(request.timeout, send)
            .await
            .map_err(|_| TransportError::Timeout)?
    }
}

fn map_error(error: reqwest::Error) -> TransportError {
    if error.is_timeout() {
        TransportError::Timeout
    } else if error.is_builder() {
        TransportError::InvalidRequest(error.to_string())
    } else {
        TransportError::Connect(error.to_string())
    }
}
