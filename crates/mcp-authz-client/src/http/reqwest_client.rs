//! The default [`HttpClient`]: reqwest with rustls, redirects disabled.

use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::{HttpClient, HttpRequest, HttpResponse, TransportError};
use crate::UrlPolicy;

/// [`HttpClient`] over `reqwest` (rustls). Redirects are never followed; proxies named by the
/// environment (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`) are never used; bodies are read chunk by
/// chunk and refused once they pass the request's cap.
#[derive(Debug, Clone)]
pub struct ReqwestHttpClient {
    client: reqwest::Client,
}

impl ReqwestHttpClient {
    /// A client with redirects disabled and a 10 s connect timeout. Addresses are checked only by
    /// the caller's [`UrlPolicy::check`]; prefer [`ReqwestHttpClient::with_policy`].
    pub fn new() -> Result<Self, TransportError> {
        Self::build(reqwest::Client::builder())
    }

    /// Like [`ReqwestHttpClient::new`], and every address a host name resolves to is checked against
    /// `policy` at connection time, so a DNS answer that changes between the policy check and the
    /// connection (DNS rebinding) cannot reach a refused address.
    pub fn with_policy(policy: UrlPolicy) -> Result<Self, TransportError> {
        Self::build(reqwest::Client::builder().dns_resolver(Arc::new(PolicyResolver { policy })))
    }

    fn build(builder: reqwest::ClientBuilder) -> Result<Self, TransportError> {
        // No proxy from the environment (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY): a proxy would make the
        // connection, bypassing the connect-time address check of the URL policy (SEC-6, SEC-12).
        let client = builder
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| TransportError::InvalidRequest(e.to_string()))?;
        Ok(Self { client })
    }
}

/// Resolves with the system resolver and drops every address the policy refuses.
struct PolicyResolver {
    policy: UrlPolicy,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut allowed = Vec::new();
            for address in resolved {
                policy.check_ip(&host, address.ip())?;
                allowed.push(address);
            }
            let addrs: Addrs = Box::new(allowed.into_iter());
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
