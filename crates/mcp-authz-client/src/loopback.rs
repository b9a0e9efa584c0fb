//! The RFC 8252 loopback redirect (REQUIREMENTS CL-9): a listener on `127.0.0.1` with an ephemeral
//! port, open until one valid callback request (or the deadline), then closed; the browser is
//! opened, or the URL printed.

use std::collections::HashMap;
use std::time::Duration;

use mcp_authz_metadata::RedirectUri;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tokio::sync::Mutex;
use url::Url;

use crate::{AuthorizationStep, AuthorizationStepError};

/// Longest request head the listener reads.
const MAX_REQUEST_HEAD: usize = 16 * 1024;

/// How long one connection to the listener may take to send its request head.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Most connections served at once; more are closed unread.
const MAX_CONNECTIONS: usize = 16;

/// How the loopback step shows the authorization URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BrowserLaunch {
    /// Try the system browser (`xdg-open`, `open`, `start`), and print the URL too.
    Open,
    /// Only print the URL on standard error (no browser available).
    Print,
}

/// The loopback redirect [`AuthorizationStep`] of a native client (RFC 8252 §7.3).
///
/// Registers `http://127.0.0.1/callback` (RFC 8252 §7.3 lets the port vary); each attempt binds a
/// fresh listener on `127.0.0.1:0`, answers `400` to anything but a `GET /callback` with `code` or
/// `error` (a silent connection is dropped after 10 s), and closes once the callback arrived.
#[derive(Debug)]
pub struct LoopbackRedirect {
    path: String,
    launch: BrowserLaunch,
    timeout: Duration,
    pending: Mutex<HashMap<u16, TcpListener>>,
}

impl Default for LoopbackRedirect {
    fn default() -> Self {
        Self::new(BrowserLaunch::Open)
    }
}

impl LoopbackRedirect {
    /// A loopback step at path `/callback` that waits up to 5 minutes.
    pub fn new(launch: BrowserLaunch) -> Self {
        Self {
            path: "/callback".to_owned(),
            launch,
            timeout: Duration::from_secs(300),
            pending: Mutex::new(HashMap::new()),
        }
    }

    /// How long to wait for the browser. Default: 5 minutes.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn uri(&self, port: Option<u16>) -> Result<RedirectUri, AuthorizationStepError> {
        let text = match port {
            Some(port) => format!("http://127.0.0.1:{port}{}", self.path),
            None => format!("http://127.0.0.1{}", self.path),
        };
        RedirectUri::parse(&text).map_err(|e| AuthorizationStepError::Io(e.to_string()))
    }

    fn show(&self, url: &Url) {
        let opened = self.launch == BrowserLaunch::Open && open_browser(url.as_str());
        // Printed even when a browser was launched: the launcher may succeed without a display.
        if opened {
            eprintln!(
                "Opening the browser to authorize the client; if it did not open, visit:\n{url}"
            );
        } else {
            eprintln!("Open this URL in a browser to authorize the client:\n{url}");
        }
    }
}

fn open_browser(url: &str) -> bool {
    let mut command = if cfg!(target_os = "macos") {
        std::process::Command::new("open")
    } else if cfg!(windows) {
        let mut c = std::process::Command::new("cmd");
        c.args(["/C", "start", ""]);
        c
    } else {
        std::process::Command::new("xdg-open")
    };
    command
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .is_ok()
}

#[async_trait::async_trait]
impl AuthorizationStep for LoopbackRedirect {
    fn registered_redirect_uris(&self) -> Vec<RedirectUri> {
        self.uri(None).into_iter().collect()
    }

    async fn prepare(&self) -> Result<RedirectUri, AuthorizationStepError> {
        let io = |e: std::io::Error| AuthorizationStepError::Io(e.to_string());
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.map_err(io)?;
        let port = listener.local_addr().map_err(io)?.port();
        self.pending.lock().await.insert(port, listener);
        self.uri(Some(port))
    }

    async fn authorize(
        &self,
        authorization_url: &Url,
        redirect_uri: &RedirectUri,
    ) -> Result<Url, AuthorizationStepError> {
        let port = redirect_uri
            .url()
            .port()
            .ok_or(AuthorizationStepError::NotPrepared)?;
        let listener = self
            .pending
            .lock()
            .await
            .remove(&port)
            .ok_or(AuthorizationStepError::NotPrepared)?;
        self.show(authorization_url);
        let target = tokio::time::timeout(self.timeout, wait_for_callback(listener, &self.path))
            .await
            .map_err(|_| AuthorizationStepError::Timeout)??;
        // The listener was moved into `wait_for_callback` and is closed now.
        let callback = redirect_uri
            .url()
            .join(&target)
            .map_err(|e| AuthorizationStepError::InvalidCallback(e.to_string()))?;
        if callback.path() != self.path {
            return Err(AuthorizationStepError::InvalidCallback(format!(
                "unexpected path {}",
                callback.path()
            )));
        }
        Ok(callback)
    }
}

/// Accepts connections until one is a valid callback request: a `GET` of `path` with a `code` or
/// `error` parameter. Each connection is served on its own task with a read deadline
/// ([`READ_TIMEOUT`]), so a local process that connects first and sends nothing (or sends garbage)
/// cannot take the listener: it gets a `400` or is dropped, and the wait goes on (bounded by the
/// caller's deadline). Returns the request target; the listener closes when this returns.
async fn wait_for_callback(
    listener: TcpListener,
    path: &str,
) -> Result<String, AuthorizationStepError> {
    let io = |e: std::io::Error| AuthorizationStepError::Io(e.to_string());
    let (found, mut callbacks) = tokio::sync::mpsc::channel::<String>(1);
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = accepted.map_err(io)?;
                if connections.len() >= MAX_CONNECTIONS {
                    continue; // dropped: too many open at once
                }
                let (found, path) = (found.clone(), path.to_owned());
                connections.spawn(async move {
                    if let Ok(Some(target)) =
                        tokio::time::timeout(READ_TIMEOUT, serve_one(stream, &path)).await
                    {
                        let _ = found.send(target).await;
                    }
                });
            }
            Some(target) = callbacks.recv() => return Ok(target),
            Some(_) = connections.join_next() => {}
        }
    }
}

/// Reads one request head; answers a short page and returns the target when it is a callback
/// request, else answers `400` and returns `None`.
async fn serve_one(mut stream: tokio::net::TcpStream, path: &str) -> Option<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(buf.get(..n).unwrap_or_default());
        if head.len() > MAX_REQUEST_HEAD {
            break;
        }
    }
    let text = String::from_utf8_lossy(&head);
    let mut parts = text.lines().next().unwrap_or_default().split(' ');
    let target = match (parts.next(), parts.next()) {
        (Some("GET"), Some(target)) if is_callback(target, path) => Some(target.to_owned()),
        _ => None,
    };
    let (status, body) = if target.is_some() {
        (
            "200 OK",
            "Authorization received. You can close this window.",
        )
    } else {
        ("400 Bad Request", "Not an authorization response.")
    };
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\n\
         cache-control: no-store\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
    target
}

/// `true` when `target` is `path` with a `code` or `error` query parameter.
fn is_callback(target: &str, path: &str) -> bool {
    if !target.starts_with('/') {
        return false;
    }
    let Ok(url) = Url::parse("http://127.0.0.1").and_then(|base| base.join(target)) else {
        return false;
    };
    url.path() == path && url.query_pairs().any(|(k, _)| k == "code" || k == "error")
}
