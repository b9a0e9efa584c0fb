//! The rmcp adapter (feature `rmcp`): an rmcp [`StreamableHttpClient`] whose every request goes
//! through [`OAuthClient::send`], so an rmcp client gets discovery, registration, authorization,
//! refresh and step-up without seeing a token.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use futures::stream::{self, BoxStream, StreamExt as _};
use http::header::{ACCEPT, CONTENT_TYPE, HeaderName, HeaderValue};
use http::{Method, StatusCode};
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::{
    SseError, StreamableHttpClient, StreamableHttpClientTransportConfig, StreamableHttpError,
    StreamableHttpPostResponse,
};
use sse_stream::Sse;
use url::Url;

use crate::mcp::sse_data;
use crate::{ClientError, HttpRequest, OAuthClient};

const SESSION_ID: HeaderName = HeaderName::from_static("mcp-session-id");
/// The largest MCP response body read: 4 MiB.
const MAX_RESPONSE: usize = 4 * 1024 * 1024;

/// An rmcp streamable-HTTP client authorized by an [`OAuthClient`].
///
/// rmcp's own `auth_header` is ignored: the `OAuthClient` adds the Bearer token and answers `401` and
/// `403` itself. Responses are read whole (an SSE response to a POST ends with its reply), so the
/// standalone `GET` stream is reported as unsupported and rmcp goes on without it.
#[derive(Debug, Clone)]
pub struct AuthorizedRmcpClient {
    oauth: Arc<OAuthClient>,
}

impl AuthorizedRmcpClient {
    /// An rmcp client over `oauth`.
    pub fn new(oauth: Arc<OAuthClient>) -> Self {
        Self { oauth }
    }

    /// An rmcp transport for the MCP server `oauth` is for.
    pub fn transport(oauth: Arc<OAuthClient>) -> StreamableHttpClientTransport<Self> {
        let uri = oauth.resource().url().to_string();
        StreamableHttpClientTransport::with_client(
            Self::new(oauth),
            StreamableHttpClientTransportConfig::with_uri(uri),
        )
    }

    fn request(
        method: Method,
        uri: &str,
        body: Vec<u8>,
        session_id: Option<&str>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<HttpRequest, StreamableHttpError<ClientError>> {
        let url = Url::parse(uri).map_err(|e| {
            StreamableHttpError::UnexpectedServerResponse(Cow::Owned(format!("bad URI: {e}")))
        })?;
        let mut request = HttpRequest::post(url, body);
        request.method = method;
        request.max_response_bytes = MAX_RESPONSE;
        request.headers.extend(custom_headers);
        request.headers.insert(
            ACCEPT,
            HeaderValue::from_static("application/json, text/event-stream"),
        );
        if let Some(id) = session_id.and_then(|id| HeaderValue::try_from(id).ok()) {
            request.headers.insert(SESSION_ID, id);
        }
        Ok(request)
    }
}

fn unexpected(text: String) -> StreamableHttpError<ClientError> {
    StreamableHttpError::UnexpectedServerResponse(Cow::Owned(text))
}

impl StreamableHttpClient for AuthorizedRmcpClient {
    type Error = ClientError;

    async fn post_message(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        _auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<StreamableHttpPostResponse, StreamableHttpError<ClientError>> {
        let body = serde_json::to_vec(&message)?;
        let mut request = Self::request(
            Method::POST,
            &uri,
            body,
            session_id.as_deref(),
            custom_headers,
        )?;
        request
            .headers
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let response = self
            .oauth
            .send(request)
            .await
            .map_err(StreamableHttpError::Client)?;
        let status = response.status;
        if status == StatusCode::ACCEPTED || status == StatusCode::NO_CONTENT {
            return Ok(StreamableHttpPostResponse::Accepted);
        }
        if status == StatusCode::NOT_FOUND && session_id.is_some() {
            return Err(StreamableHttpError::SessionExpired);
        }
        let session = response
            .headers
            .get(SESSION_ID)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let media_type = response.media_type();
        if media_type == "text/event-stream" && status.is_success() {
            let text = String::from_utf8_lossy(&response.body);
            let events: Vec<Result<Sse, SseError>> = sse_data(&text)
                .into_iter()
                .map(|data| Ok(Sse::default().event("message").data(data)))
                .collect();
            let stream: BoxStream<'static, Result<Sse, SseError>> = stream::iter(events).boxed();
            return Ok(StreamableHttpPostResponse::Sse(stream, session));
        }
        if media_type == "application/json"
            && let Ok(message) = serde_json::from_slice::<ServerJsonRpcMessage>(&response.body)
        {
            return Ok(StreamableHttpPostResponse::Json(message, session));
        }
        if status.is_success() && response.body.is_empty() {
            return Ok(StreamableHttpPostResponse::Accepted);
        }
        Err(unexpected(format!(
            "HTTP {status} with content type {media_type:?}"
        )))
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        _auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<(), StreamableHttpError<ClientError>> {
        let request = Self::request(
            Method::DELETE,
            &uri,
            Vec::new(),
            Some(&session_id),
            custom_headers,
        )?;
        let response = self
            .oauth
            .send(request)
            .await
            .map_err(StreamableHttpError::Client)?;
        match response.status {
            s if s.is_success() => Ok(()),
            StatusCode::METHOD_NOT_ALLOWED => {
                Err(StreamableHttpError::ServerDoesNotSupportDeleteSession)
            }
            s => Err(unexpected(format!("HTTP {s} to DELETE"))),
        }
    }

    async fn get_stream(
        &self,
        _uri: Arc<str>,
        _session_id: Option<Arc<str>>,
        _last_event_id: Option<String>,
        _auth_header: Option<String>,
        _custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<BoxStream<'static, Result<Sse, SseError>>, StreamableHttpError<ClientError>> {
        Err(StreamableHttpError::ServerDoesNotSupportSse)
    }
}
