//! A minimal MCP caller over streamable HTTP whose every request goes through [`OAuthClient::send`]:
//! `initialize` (stateful protocol versions) or `server/discover` (stateless), `tools/list` and
//! `tools/call`, with JSON and SSE responses.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use http::header::{ACCEPT, CONTENT_TYPE, HeaderName, HeaderValue};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use tokio::sync::Mutex;
use url::Url;

use crate::{ClientError, HttpRequest, HttpResponse, OAuthClient};

/// The largest MCP response body read: 4 MiB.
const MAX_MCP_RESPONSE: usize = 4 * 1024 * 1024;
/// The first protocol version without the `initialize` handshake (per-request `_meta` instead).
const FIRST_STATELESS_VERSION: &str = "2026-07-28";

const PROTOCOL_VERSION_HEADER: HeaderName = HeaderName::from_static("mcp-protocol-version");
const SESSION_ID_HEADER: HeaderName = HeaderName::from_static("mcp-session-id");

/// Why an MCP call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum McpError {
    /// Authorization or transport failed.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// The server answered with an HTTP error.
    #[error("the MCP server answered HTTP {status}")]
    Http {
        /// The status.
        status: u16,
    },
    /// The server answered with a JSON-RPC error.
    #[error("JSON-RPC error {code}: {message}")]
    JsonRpc {
        /// The error code.
        code: i64,
        /// The error message.
        message: String,
    },
    /// The response is not a JSON-RPC response to the request.
    #[error("malformed MCP response: {0}")]
    Malformed(String),
}

/// A tool as `tools/list` describes it (the members this caller reads).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct ToolInfo {
    /// The tool's name.
    pub name: String,
    /// Its description, if any.
    #[serde(default)]
    pub description: Option<String>,
}

/// One content item of a tool result (the members this caller reads).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct ContentItem {
    /// The content type (`text`, `image`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// The text, for `text` items.
    #[serde(default)]
    pub text: Option<String>,
}

/// The result of `tools/call`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct CallToolResult {
    /// The content items.
    #[serde(default)]
    pub content: Vec<ContentItem>,
    /// `true` when the tool reported an error.
    #[serde(default, rename = "isError")]
    pub is_error: bool,
}

#[derive(serde::Deserialize)]
struct ToolList {
    tools: Vec<ToolInfo>,
}

/// An MCP client session over streamable HTTP, authorized by an [`OAuthClient`].
#[derive(Debug)]
pub struct McpClient {
    oauth: Arc<OAuthClient>,
    endpoint: Url,
    protocol_version: String,
    session_id: Mutex<Option<HeaderValue>>,
    negotiated: Mutex<bool>,
    next_id: AtomicU64,
    timeout: Duration,
}

impl McpClient {
    /// A caller of the MCP server `oauth` is for, speaking `protocol_version` (`2025-11-25` and
    /// earlier: `initialize` handshake; `2026-07-28` and later: stateless with per-request `_meta`).
    pub fn new(oauth: Arc<OAuthClient>, protocol_version: impl Into<String>) -> Self {
        Self {
            endpoint: oauth.resource().url().clone(),
            oauth,
            protocol_version: protocol_version.into(),
            session_id: Mutex::new(None),
            negotiated: Mutex::new(false),
            next_id: AtomicU64::new(1),
            timeout: Duration::from_secs(120),
        }
    }

    /// The time limit of one MCP request (tool calls can be slow). Default: 120 s.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn stateless(&self) -> bool {
        self.protocol_version.as_str() >= FIRST_STATELESS_VERSION
    }

    /// Opens the session: `initialize` plus `notifications/initialized`, or `server/discover` for
    /// stateless versions.
    pub async fn connect(&self) -> Result<(), McpError> {
        if self.stateless() {
            let _: Value = self.request("server/discover", json!({})).await?;
        } else {
            let _: Value = self
                .request(
                    "initialize",
                    json!({
                        "protocolVersion": self.protocol_version,
                        "capabilities": {},
                        "clientInfo": {"name": "mcp-authz-client", "version": env!("CARGO_PKG_VERSION")},
                    }),
                )
                .await?;
            *self.negotiated.lock().await = true;
            self.notify("notifications/initialized", json!({})).await?;
        }
        Ok(())
    }

    /// `tools/list`.
    pub async fn list_tools(&self) -> Result<Vec<ToolInfo>, McpError> {
        let list: ToolList = self.request("tools/list", json!({})).await?;
        Ok(list.tools)
    }

    /// `tools/call` of `name` with `arguments` (any value that serialises to a JSON object).
    pub async fn call_tool(
        &self,
        name: &str,
        arguments: &impl Serialize,
    ) -> Result<CallToolResult, McpError> {
        let arguments =
            serde_json::to_value(arguments).map_err(|e| McpError::Malformed(e.to_string()))?;
        self.request("tools/call", json!({"name": name, "arguments": arguments}))
            .await
    }

    /// Sends a request and reads its result as `R`.
    pub async fn request<P: Serialize, R: DeserializeOwned>(
        &self,
        method: &str,
        params: P,
    ) -> Result<R, McpError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let message = json!({
            "jsonrpc": "2.0",
            "id": id,
            "method": method,
            "params": self.params(params)?,
        });
        let response = self.post(&message).await?;
        let reply = find_response(&response, id)?;
        if let Some(error) = reply.get("error") {
            return Err(McpError::JsonRpc {
                code: error
                    .get("code")
                    .and_then(Value::as_i64)
                    .unwrap_or_default(),
                message: error
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            });
        }
        let result = reply
            .get("result")
            .cloned()
            .ok_or_else(|| McpError::Malformed("no result".to_owned()))?;
        serde_json::from_value(result).map_err(|e| McpError::Malformed(e.to_string()))
    }

    /// Sends a notification.
    pub async fn notify<P: Serialize>(&self, method: &str, params: P) -> Result<(), McpError> {
        let message = json!({"jsonrpc": "2.0", "method": method, "params": self.params(params)?});
        self.post(&message).await.map(drop)
    }

    /// The params object, with the stateless `_meta` when the version needs it.
    fn params<P: Serialize>(&self, params: P) -> Result<Value, McpError> {
        let mut params = match serde_json::to_value(params) {
            Ok(Value::Object(map)) => map,
            Ok(Value::Null) => Map::new(),
            Ok(_) => return Err(McpError::Malformed("params must be an object".to_owned())),
            Err(e) => return Err(McpError::Malformed(e.to_string())),
        };
        if self.stateless() {
            params.insert(
                "_meta".to_owned(),
                json!({
                    "io.modelcontextprotocol/protocolVersion": self.protocol_version,
                    "io.modelcontextprotocol/clientCapabilities": {},
                    "io.modelcontextprotocol/clientInfo": {"name": "mcp-authz-client", "version": env!("CARGO_PKG_VERSION")},
                }),
            );
        }
        Ok(Value::Object(params))
    }

    async fn post(&self, message: &Value) -> Result<HttpResponse, McpError> {
        let body = serde_json::to_vec(message).map_err(|e| McpError::Malformed(e.to_string()))?;
        let mut request = HttpRequest::post(self.endpoint.clone(), body);
        request.max_response_bytes = MAX_MCP_RESPONSE;
        request.timeout = self.timeout;
        let headers = &mut request.headers;
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(
            ACCEPT,
            HeaderValue::from_static("application/json, text/event-stream"),
        );
        if (self.stateless() || *self.negotiated.lock().await)
            && let Ok(version) = HeaderValue::try_from(self.protocol_version.as_str())
        {
            headers.insert(PROTOCOL_VERSION_HEADER, version);
        }
        if let Some(id) = self.session_id.lock().await.clone() {
            headers.insert(SESSION_ID_HEADER, id);
        }
        let response = self.oauth.send(request).await?;
        if !response.status.is_success() {
            return Err(McpError::Http {
                status: response.status.as_u16(),
            });
        }
        if let Some(id) = response.headers.get(SESSION_ID_HEADER) {
            *self.session_id.lock().await = Some(id.clone());
        }
        Ok(response)
    }
}

/// The JSON-RPC response with `id` in a JSON body or an SSE stream.
fn find_response(response: &HttpResponse, id: u64) -> Result<Value, McpError> {
    let matches = |v: &Value| v.get("id").and_then(Value::as_u64) == Some(id);
    if response.media_type() == "text/event-stream" {
        let text = String::from_utf8_lossy(&response.body);
        for event in sse_data(&text) {
            if let Ok(value) = serde_json::from_str::<Value>(&event)
                && matches(&value)
            {
                return Ok(value);
            }
        }
        return Err(McpError::Malformed(
            "the event stream has no response to the request".to_owned(),
        ));
    }
    let value: Value =
        serde_json::from_slice(&response.body).map_err(|e| McpError::Malformed(e.to_string()))?;
    let found = match value {
        Value::Array(batch) => batch.into_iter().find(matches),
        single if matches(&single) => Some(single),
        _ => None,
    };
    found.ok_or_else(|| McpError::Malformed("no response with the request's id".to_owned()))
}

/// The `data` of each event of a `text/event-stream` body (multi-line data joined with `\n`).
pub fn sse_data(text: &str) -> Vec<String> {
    let mut events = Vec::new();
    let mut data: Vec<&str> = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            if !data.is_empty() {
                events.push(data.join("\n"));
                data.clear();
            }
        } else if let Some(rest) = line.strip_prefix("data:") {
            data.push(rest.strip_prefix(' ').unwrap_or(rest));
        }
    }
    if !data.is_empty() {
        events.push(data.join("\n"));
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_events_are_split_and_joined() {
        let text = "event: message\ndata: {\"a\":1}\n\n: comment\ndata: line1\ndata: line2\n\n";
        assert_eq!(
            sse_data(text),
            vec!["{\"a\":1}".to_owned(), "line1\nline2".to_owned()]
        );
    }

    #[test]
    fn response_is_found_in_an_event_stream() {
        let mut headers = http::HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        let response = HttpResponse {
            status: http::StatusCode::OK,
            headers,
            body: b"event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{}}\n\n"
                .to_vec(),
        };
        assert!(find_response(&response, 7).is_ok());
        assert!(find_response(&response, 8).is_err());
    }
}
