//! What `login`, `call` and `inspect` share: the configuration directory and its token file, the URL
//! policy, the unauthenticated probe that yields the server's challenge, and progress lines.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use http::header::{ACCEPT, CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use mcp_authz_client::{
    FileTokenStore, HttpClient, HttpRequest, HttpResponse, LoopbackRedirect, ReqwestHttpClient,
    StoreError, UrlPolicy,
};
use mcp_authz_metadata::{ResourceUri, is_loopback_host};
use mcp_authz_token::{BearerChallenge, BearerChallengeError};

use crate::error::CliError;

mod step;
mod stored;

pub(super) use step::{BrowserStep, ClientContext};
pub(super) use stored::StoredSession;

/// The token file's name inside the configuration directory.
const TOKEN_FILE: &str = "tokens.json";

/// The MCP protocol version the commands speak.
pub(super) const PROTOCOL_VERSION: &str = "2025-11-25";

/// Options of the commands that hold tokens.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ClientOptions {
    /// Where tokens and client registrations are kept (`tokens.json`, mode 0600). Default:
    /// `$XDG_CONFIG_HOME/mcp-authz`, else `~/.config/mcp-authz`.
    #[arg(long, env = "MCP_AUTHZ_CONFIG_DIR", value_name = "DIR")]
    pub(crate) config_dir: Option<PathBuf>,
    /// Print the authorization URL instead of opening the browser.
    #[arg(long)]
    pub(crate) no_browser: bool,
    /// How long to wait for the browser step (sign-in and consent), in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub(crate) timeout: u64,
}

impl ClientOptions {
    /// The token store in the configuration directory, creating the directory (mode 0700) if needed
    /// and tightening an existing one to 0700.
    pub(super) fn token_store(&self) -> Result<Arc<FileTokenStore>, CliError> {
        let dir = match &self.config_dir {
            Some(dir) => dir.clone(),
            None => default_config_dir()?,
        };
        let error = |source| CliError::ConfigDir {
            path: dir.display().to_string(),
            source,
        };
        if !dir.is_dir() {
            std::fs::create_dir_all(&dir).map_err(error)?;
        }
        // Created 0700, and a directory that already exists with group or other permission bits
        // (e.g. 0755 from another tool) is tightened before any token is written into it.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&dir).map_err(error)?.permissions().mode();
            if mode & 0o777 != 0o700 {
                std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
                    .map_err(error)?;
            }
        }
        Ok(Arc::new(FileTokenStore::new(dir.join(TOKEN_FILE))))
    }

    /// The loopback redirect of the browser step: opens the browser (or prints the URL) and waits
    /// at most `--timeout` for the answer.
    pub(super) fn redirect(&self) -> LoopbackRedirect {
        let launch = if self.no_browser {
            mcp_authz_client::BrowserLaunch::Print
        } else {
            mcp_authz_client::BrowserLaunch::Open
        };
        LoopbackRedirect::new(launch).with_timeout(self.browser_timeout())
    }

    /// `--timeout`.
    pub(super) fn browser_timeout(&self) -> Duration {
        Duration::from_secs(self.timeout)
    }
}

/// `$XDG_CONFIG_HOME/mcp-authz`, else `$HOME/.config/mcp-authz`.
fn default_config_dir() -> Result<PathBuf, CliError> {
    let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(config) = non_empty("XDG_CONFIG_HOME") {
        return Ok(PathBuf::from(config).join("mcp-authz"));
    }
    non_empty("HOME")
        .map(|home| PathBuf::from(home).join(".config/mcp-authz"))
        .ok_or(CliError::NoConfigDir)
}

/// Parses the MCP server URL given on the command line into its canonical form; a URL without a
/// scheme gets a hint.
pub(super) fn parse_server_url(url: &str) -> Result<ResourceUri, CliError> {
    ResourceUri::parse(url).map_err(|e| {
        let hint = if url.contains("://") || url.contains(char::is_whitespace) {
            String::new()
        } else {
            format!(" (no scheme: did you mean https://{url} ?)")
        };
        CliError::InvalidArgument {
            what: "MCP server URL",
            reason: format!("{e}{hint}"),
        }
    })
}

/// The URL policy for talking to `resource`: https only, and plain http or loopback addresses only
/// when the MCP server itself is on a loopback host (local development). Private networks are never
/// allowed.
pub(super) fn policy_for(resource: &ResourceUri) -> UrlPolicy {
    let loopback = resource.url().host().is_some_and(|h| is_loopback_host(&h));
    UrlPolicy::default().allow_loopback(loopback)
}

/// The HTTP client for `policy`.
pub(super) fn http_client(policy: &UrlPolicy) -> Result<Arc<ReqwestHttpClient>, CliError> {
    ReqwestHttpClient::with_policy(policy.clone())
        .map(Arc::new)
        .map_err(|e| CliError::Client(mcp_authz_client::ClientError::Setup(e)))
}

/// Runs one client command's work on a fresh runtime until it ends or the user presses Ctrl-C; then
/// the work is dropped (the loopback listener closes) and `interrupted` says what was left undone.
pub(super) fn run_until_interrupted<T>(
    work: impl Future<Output = Result<T, CliError>>,
    interrupted: &str,
) -> Result<T, CliError> {
    runtime()?.block_on(async {
        tokio::select! {
            result = work => result,
            signal = tokio::signal::ctrl_c() => match signal {
                Ok(()) => Err(CliError::Interrupted(interrupted.to_owned())),
                Err(error) => Err(CliError::Serve(error)),
            },
        }
    })
}

/// A current-thread async runtime for one client command.
pub(super) fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Serve)
}

/// What an MCP server answers to an `initialize` request without a token.
pub(super) struct Probe {
    /// The HTTP status.
    pub(super) status: http::StatusCode,
    /// The response's `WWW-Authenticate` values, verbatim.
    pub(super) www_authenticate: Vec<String>,
    /// The first Bearer challenge: `Ok(None)` when there is none, `Err` when it is malformed.
    pub(super) challenge: Result<Option<BearerChallenge>, BearerChallengeError>,
}

impl Probe {
    /// The error for an MCP server URL that answers 404: nothing to authorize against there.
    pub(super) fn not_found(&self, resource: &ResourceUri) -> Option<CliError> {
        (self.status == http::StatusCode::NOT_FOUND).then(|| {
            CliError::Failed(format!(
                "{resource} answered 404 Not Found: there is no MCP server at this URL; check the \
                 path (MCP servers are often at /mcp)"
            ))
        })
    }
}

/// Sends `initialize` without a token to the MCP server (through the URL policy) and reads the
/// challenge.
pub(super) async fn probe(
    http: &dyn HttpClient,
    policy: &UrlPolicy,
    resource: &ResourceUri,
) -> Result<Probe, CliError> {
    let url = resource.url().clone();
    let refused = |reason: String| {
        CliError::Failed(format!(
            "cannot reach the MCP server at {resource}: {reason}"
        ))
    };
    policy
        .check(&url)
        .await
        .map_err(|e| refused(e.to_string()))?;
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "mcp-authz", "version": env!("CARGO_PKG_VERSION")},
        },
    });
    let mut request = HttpRequest::post(url, body.to_string().into_bytes());
    request.timeout = policy.timeout();
    request
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    request.headers.insert(
        ACCEPT,
        HeaderValue::from_static("application/json, text/event-stream"),
    );
    let response: HttpResponse = http
        .execute(request)
        .await
        .map_err(|e| refused(e.to_string()))?;
    let values = response.headers.get_all(WWW_AUTHENTICATE);
    Ok(Probe {
        status: response.status,
        www_authenticate: values
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect(),
        challenge: BearerChallenge::from_header_values(values),
    })
}

/// Checks that the token file parses. A corrupt file is an error that names it and the remedy; for
/// `login` (`recover`) it is moved aside to `<file>.corrupt` instead, so that signing in again
/// starts afresh and the old content stays for inspection.
pub(super) async fn check_token_file(
    store: &FileTokenStore,
    recover: bool,
    progress: &Progress,
) -> Result<(), CliError> {
    let reason = match store.contents().await {
        Ok(_) => return Ok(()),
        Err(StoreError::Corrupt(reason)) => reason,
        Err(error) => return Err(mcp_authz_client::ClientError::from(error).into()),
    };
    let path = store.path();
    if !recover {
        return Err(CliError::CorruptTokenFile {
            path: path.display().to_string(),
            reason,
        });
    }
    let mut aside = path.as_os_str().to_owned();
    aside.push(".corrupt");
    let aside = PathBuf::from(aside);
    std::fs::rename(path, &aside).map_err(|source| CliError::ConfigDir {
        path: path.display().to_string(),
        source,
    })?;
    progress.warn(format!(
        "the token file {} was corrupt ({reason}): moved to {}; signing in afresh",
        path.display(),
        aside.display()
    ));
    Ok(())
}

pub(super) use crate::error::printable;

/// Progress lines on standard error: a header per phase, `✓` for a step done, `✗` for the step that
/// failed. Never given a token.
#[derive(Debug, Default)]
pub(super) struct Progress;

impl Progress {
    /// Starts a phase.
    pub(super) fn phase(&self, number: u8, title: &str) {
        eprintln!("[{number}/3] {}", printable(title));
    }

    /// A step that succeeded.
    pub(super) fn done(&self, message: impl std::fmt::Display) {
        eprintln!("  ✓ {}", printable(&message.to_string()));
    }

    /// A step that is waiting for something.
    pub(super) fn waiting(&self, message: impl std::fmt::Display) {
        eprintln!("  … {}", printable(&message.to_string()));
    }

    /// Something the user should know that did not stop the command.
    pub(super) fn warn(&self, message: impl std::fmt::Display) {
        eprintln!("  ! {}", printable(&message.to_string()));
    }

    /// A step that failed; the error itself follows on the last line.
    pub(super) fn failed(&self, message: impl std::fmt::Display) {
        eprintln!("  ✗ {}", printable(&message.to_string()));
    }
}
