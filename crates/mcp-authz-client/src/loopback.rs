//! The RFC 8252 loopback redirect (REQUIREMENTS CL-9): a listener on `127.0.0.1` with an ephemeral
//! port, one request, then closed; the browser is opened, or the URL printed.

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
/// fresh listener on `127.0.0.1:0`, accepts exactly one request and closes it.
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
        let target = tokio::time::timeout(self.timeout, accept_one(listener))
            .await
            .map_err(|_| AuthorizationStepError::Timeout)??;
        // The listener was moved into `accept_one` and is closed now.
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

/// Accepts one connection, reads its request line, answers a short page and closes.
async fn accept_one(listener: TcpListener) -> Result<String, AuthorizationStepError> {
    let io = |e: std::io::Error| AuthorizationStepError::Io(e.to_string());
    let (mut stream, _) = listener.accept().await.map_err(io)?;
    drop(listener);
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await.map_err(io)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(buf.get(..n).unwrap_or_default());
        if head.len() > MAX_REQUEST_HEAD {
            return Err(AuthorizationStepError::InvalidCallback(
                "request head too long".to_owned(),
            ));
        }
    }
    let text = String::from_utf8_lossy(&head);
    let mut parts = text.lines().next().unwrap_or_default().split(' ');
    let (method, target) = (parts.next(), parts.next());
    let body = "Authorization received. You can close this window.";
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\n\
         cache-control: no-store\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
    match (method, target) {
        (Some("GET"), Some(target)) if target.starts_with('/') => Ok(target.to_owned()),
        _ => Err(AuthorizationStepError::InvalidCallback(
            "not a GET request".to_owned(),
        )),
    }
}
