//! The verifiers' HTTP fetches (authorization server metadata, JWKS, introspection) over the shared
//! [`HttpClient`] (`mcp_authz_token::fetch`): size- and time-limited, 2xx only, redirects not
//! followed.

use std::time::Duration;

use http::HeaderValue;
use http::header::{ACCEPT, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE};
use mcp_authz_token::fetch::{
    FetchError, HttpClient, HttpRequest, ReqwestHttpClient, TransportError,
};
use url::Url;

/// Default time limit of one fetch: 5 seconds.
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// The [`HttpClient`] the verifiers use unless configured otherwise: [`ReqwestHttpClient`] giving up
/// after [`DEFAULT_FETCH_TIMEOUT`], with the environment's proxies.
pub(crate) fn default_client() -> Result<ReqwestHttpClient, TransportError> {
    ReqwestHttpClient::builder()
        .timeout(DEFAULT_FETCH_TIMEOUT)
        .env_proxy(true)
        .build()
}

/// A 2xx response body with how long it may be reused.
pub(crate) struct Fetched {
    /// The body.
    pub(crate) body: Vec<u8>,
    /// The freshness lifetime of its `Cache-Control` header; `None` when it named none.
    pub(crate) max_age: Option<Duration>,
}

/// A `GET` of a JSON document of at most `max_body` bytes.
pub(crate) async fn get(
    http: &dyn HttpClient,
    url: &Url,
    max_body: usize,
) -> Result<Fetched, FetchError> {
    send(http, HttpRequest::get(url.clone()), max_body).await
}

/// A form `POST` (introspection) with an optional `Authorization` header, marked sensitive.
pub(crate) async fn post_form(
    http: &dyn HttpClient,
    url: &Url,
    form: String,
    authorization: Option<HeaderValue>,
    max_body: usize,
) -> Result<Fetched, FetchError> {
    let mut request = HttpRequest::post(url.clone(), form.into_bytes());
    request.headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    if let Some(mut authorization) = authorization {
        authorization.set_sensitive(true);
        request.headers.insert(AUTHORIZATION, authorization);
    }
    send(http, request, max_body).await
}

async fn send(
    http: &dyn HttpClient,
    mut request: HttpRequest,
    max_body: usize,
) -> Result<Fetched, FetchError> {
    request
        .headers
        .insert(ACCEPT, HeaderValue::from_static("application/json"));
    request.max_response_bytes = max_body;
    let url = request.url.as_str().to_owned();
    let response = http.execute(request).await?;
    if !response.status.is_success() {
        return Err(FetchError::Status {
            url,
            status: response.status.as_u16(),
        });
    }
    Ok(Fetched {
        max_age: max_age(&response.headers),
        body: response.body,
    })
}

/// The freshness lifetime of the `Cache-Control` field lines; a line that is not text makes the
/// response stale (zero).
fn max_age(headers: &http::HeaderMap) -> Option<Duration> {
    let mut lines = Vec::new();
    for value in headers.get_all(CACHE_CONTROL) {
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

/// A configured [`HttpClient`] in a builder, shown by `Debug` as its name only.
#[derive(Clone)]
pub(crate) struct ConfiguredClient(pub(crate) std::sync::Arc<dyn HttpClient>);

impl std::fmt::Debug for ConfiguredClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HttpClient")
    }
}
