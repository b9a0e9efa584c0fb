//! An [`HttpClient`] that records every exchange (method, URL, status, headers, bodies) with every
//! token, code and secret redacted, for printing when an interop step fails.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use http::{HeaderMap, Method};
use mcp_authz_client::{HttpClient, HttpRequest, HttpResponse, TransportError};
use url::Url;

/// Members of JSON documents, forms and query strings whose values are never shown.
const SECRET_FIELDS: &[&str] = &[
    "access_token",
    "refresh_token",
    "id_token",
    "code",
    "code_verifier",
    "client_secret",
    "client_assertion",
    "token",
    "password",
    "registration_access_token",
];
/// Headers whose values are never shown.
const SECRET_HEADERS: &[&str] = &["authorization", "cookie", "set-cookie", "dpop"];
/// Longest body shown, in characters.
const MAX_BODY: usize = 2000;

/// One recorded exchange, for the checks of the steps.
#[derive(Debug, Clone)]
pub(crate) struct Exchange {
    /// The request method.
    pub(crate) method: Method,
    /// The request URL.
    pub(crate) url: Url,
    /// The response status (0 when the transport failed).
    pub(crate) status: u16,
    /// The response's `WWW-Authenticate` header, if any.
    pub(crate) challenge: Option<String>,
}

/// The recording client: wraps another [`HttpClient`].
pub(crate) struct Transcript {
    inner: Arc<dyn HttpClient>,
    lines: Mutex<Vec<String>>,
    exchanges: Mutex<Vec<Exchange>>,
}

impl Transcript {
    /// Records the exchanges of `inner`.
    pub(crate) fn new(inner: Arc<dyn HttpClient>) -> Self {
        Self {
            inner,
            lines: Mutex::new(Vec::new()),
            exchanges: Mutex::new(Vec::new()),
        }
    }

    /// A comment line.
    pub(crate) fn note(&self, text: &str) {
        lock(&self.lines).push(format!("# {text}"));
    }

    /// Every exchange so far.
    pub(crate) fn exchanges(&self) -> Vec<Exchange> {
        lock(&self.exchanges).clone()
    }

    /// Writes the transcript to standard error.
    pub(crate) fn print(&self, title: &str) {
        eprintln!("---- HTTP transcript: {title} (tokens redacted) ----");
        for line in lock(&self.lines).iter() {
            eprintln!("{line}");
        }
        eprintln!("---- end of transcript ----");
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[async_trait::async_trait]
impl HttpClient for Transcript {
    async fn execute(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let mut lines = vec![format!("> {} {}", request.method, redact_url(&request.url))];
        lines.extend(headers(&request.headers).map(|h| format!(">   {h}")));
        if !request.body.is_empty() {
            lines.push(format!(
                ">   body: {}",
                body(&request.body, content_type(&request.headers))
            ));
        }
        let (method, url) = (request.method.clone(), request.url.clone());
        let result = self.inner.execute(request).await;
        let challenge = result.as_ref().ok().and_then(|response| {
            response
                .headers
                .get(http::header::WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        });
        let status = match &result {
            Ok(response) => {
                lines.push(format!("< {}", response.status));
                lines.extend(headers(&response.headers).map(|h| format!("<   {h}")));
                if !response.body.is_empty() {
                    lines.push(format!(
                        "<   body: {}",
                        body(&response.body, content_type(&response.headers))
                    ));
                }
                response.status.as_u16()
            }
            Err(error) => {
                lines.push(format!("< transport error: {error}"));
                0
            }
        };
        lock(&self.lines).extend(lines);
        lock(&self.exchanges).push(Exchange {
            method,
            url,
            status,
            challenge,
        });
        result
    }
}

fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .unwrap_or("")
        .trim()
}

fn headers(map: &HeaderMap) -> impl Iterator<Item = String> + '_ {
    map.iter().map(|(name, value)| {
        let text = value.to_str().unwrap_or("<non-ASCII>");
        if SECRET_HEADERS.contains(&name.as_str()) {
            let scheme = text.split(' ').next().filter(|_| name == "authorization");
            format!(
                "{name}: {}<redacted>",
                scheme.map_or(String::new(), |s| format!("{s} "))
            )
        } else if name == http::header::LOCATION {
            let shown = Url::parse(text).map_or_else(|_| text.to_owned(), |u| redact_url(&u));
            format!("{name}: {shown}")
        } else {
            format!("{name}: {text}")
        }
    })
}

/// The URL with the values of secret query parameters replaced.
pub(crate) fn redact_url(url: &Url) -> String {
    let mut shown = url.clone();
    if let Some(query) = url.query() {
        shown.set_query(Some(&redact_form(query.as_bytes())));
    }
    shown.to_string()
}

fn redact_form(text: &[u8]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (key, value) in form_urlencoded::parse(text) {
        let secret = SECRET_FIELDS.contains(&key.as_ref());
        out.append_pair(&key, if secret { "<redacted>" } else { &value });
    }
    out.finish()
}

fn redact_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(members) => {
            for (key, member) in members.iter_mut() {
                if SECRET_FIELDS.contains(&key.as_str()) {
                    *member = serde_json::Value::String("<redacted>".into());
                } else {
                    redact_json(member);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_json),
        _ => {}
    }
}

fn json(text: &str) -> Option<String> {
    let mut value = serde_json::from_str::<serde_json::Value>(text).ok()?;
    redact_json(&mut value);
    Some(value.to_string())
}

/// The body as shown: JSON, forms and SSE `data:` lines redacted; anything else by length.
fn body(bytes: &[u8], media_type: &str) -> String {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return format!("<{} bytes, not UTF-8>", bytes.len());
    };
    let shown = match media_type {
        "application/x-www-form-urlencoded" => redact_form(bytes),
        "text/event-stream" => text
            .lines()
            .map(|line| match line.strip_prefix("data:") {
                Some(data) => json(data).map_or_else(|| line.to_owned(), |d| format!("data: {d}")),
                None => line.to_owned(),
            })
            .collect::<Vec<_>>()
            .join(" | "),
        _ => json(text).unwrap_or_else(|| format!("<{} bytes of {media_type}>", bytes.len())),
    };
    if shown.chars().count() > MAX_BODY {
        format!("{}…", shown.chars().take(MAX_BODY).collect::<String>())
    } else {
        shown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted() {
        let url = Url::parse("http://127.0.0.1/cb?code=S3CR3T&state=s").unwrap();
        assert_eq!(
            redact_url(&url),
            "http://127.0.0.1/cb?code=%3Credacted%3E&state=s"
        );
        let form = body(
            b"grant_type=refresh_token&refresh_token=S3CR3T",
            "application/x-www-form-urlencoded",
        );
        assert!(!form.contains("S3CR3T") && form.contains("grant_type=refresh_token"));
        let token = body(
            br#"{"access_token":"S3CR3T","scope":"mcp:tools"}"#,
            "application/json",
        );
        assert!(!token.contains("S3CR3T") && token.contains("mcp:tools"));
        let mut map = HeaderMap::new();
        map.insert("authorization", "Bearer S3CR3T".parse().unwrap());
        let shown: Vec<String> = headers(&map).collect();
        assert_eq!(shown, ["authorization: Bearer <redacted>"]);
    }
}
