//! One request in, one response out, redirects never followed.

use std::fmt;
use std::time::Duration;

use http::{HeaderMap, Method, StatusCode};
use url::Url;

use super::TransportError;

/// One HTTP request, with the limits the implementation must enforce.
///
/// `Debug` shows the body's length only: token request bodies carry secrets.
#[derive(Clone)]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// The absolute URL.
    pub url: Url,
    /// Request headers.
    pub headers: HeaderMap,
    /// The body (empty for none).
    pub body: Vec<u8>,
    /// The whole exchange must finish within this time.
    pub timeout: Duration,
    /// Bodies longer than this are refused with [`TransportError::TooLarge`].
    pub max_response_bytes: usize,
}

impl HttpRequest {
    /// A `GET` of `url` with a 30 s time limit and a 64 KiB body cap.
    pub fn get(url: Url) -> Self {
        Self {
            method: Method::GET,
            url,
            headers: HeaderMap::new(),
            body: Vec::new(),
            timeout: Duration::from_secs(30),
            max_response_bytes: 64 * 1024,
        }
    }

    /// A `POST` of `body` to `url`, same limits as [`HttpRequest::get`].
    pub fn post(url: Url, body: Vec<u8>) -> Self {
        Self {
            method: Method::POST,
            body,
            ..Self::get(url)
        }
    }
}

/// One HTTP response, body fully read.
///
/// `Debug` shows the body's length only: token responses carry secrets.
#[derive(Clone)]
pub struct HttpResponse {
    /// The status.
    pub status: StatusCode,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body, at most the request's `max_response_bytes`.
    pub body: Vec<u8>,
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url.as_str())
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .field("timeout", &self.timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish()
    }
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl HttpResponse {
    /// The `Content-Type` without parameters, lower-cased; `""` when absent.
    ///
    /// ```
    /// use mcp_authz_token::fetch::{HttpRequest, HttpResponse};
    /// let mut response = HttpResponse { status: http::StatusCode::OK, headers: Default::default(), body: b"secret".to_vec() };
    /// response.headers.insert("content-type", "Text/Event-Stream; charset=utf-8".parse().unwrap());
    /// assert_eq!(response.media_type(), "text/event-stream");
    /// assert!(!format!("{response:?}").contains("secret"));
    /// let request = HttpRequest::post("https://as.example/token".parse().unwrap(), b"refresh_token=rt-S3CR3T".to_vec());
    /// assert!(!format!("{request:?}").contains("S3CR3T"));
    /// ```
    pub fn media_type(&self) -> String {
        self.headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .unwrap_or_default()
    }
}

/// An HTTP client: sends one request and reads the whole response.
///
/// Implementations must **not follow redirects** (a 3xx is returned as is), must stop reading a body
/// past `max_response_bytes` with [`TransportError::TooLarge`], and must honour `timeout`. Address
/// checks (SSRF) are done by the caller before `execute` (the client's `UrlPolicy`) and, in
/// `ReqwestHttpClient` (feature `reqwest`), at connection time by an
/// [`AddressGuard`](super::AddressGuard).
#[async_trait::async_trait]
pub trait HttpClient: Send + Sync {
    /// Sends the request and returns the response.
    async fn execute(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}
