//! Helpers of the operator-side tests: run the built binary, start `serve` and stop it.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../common/mod.rs"]
pub(crate) mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The binary under test, with no `MCP_AUTHZ_*` variable inherited from the developer's shell and
/// no default configuration file (HOME and XDG_CONFIG_HOME point into `home`).
pub(crate) fn command(home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mcp-authz"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("MCP_AUTHZ_") {
            command.env_remove(name);
        }
    }
    command
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"));
    command
}

/// Runs to the end with `stdin` as standard input: (success, stdout, stderr).
pub(crate) fn run(mut command: Command, stdin: &str) -> (bool, String, String) {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A command that fails before reading its input may have exited already: a broken pipe here is
    // the race, not an error of the command.
    if let Err(e) = child.stdin.take().unwrap().write_all(stdin.as_bytes()) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    let output = child.wait_with_output().unwrap();
    (
        output.status.success(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// A running `mcp-authz serve`; killed when dropped.
pub(crate) struct Server {
    child: Child,
    /// `http(s)://<bound address>` from the `listening on` line.
    pub(crate) base: String,
    stderr: PathBuf,
}

impl Server {
    /// Starts `command` (a `serve` invocation) and waits for its `listening on` line.
    pub(crate) fn start(mut command: Command, log: &Path) -> Self {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap();
        let base = common::listening_base(&mut child, log);
        Self {
            child,
            base,
            stderr: log.to_owned(),
        }
    }

    /// What the server logged so far.
    pub(crate) fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `client_credentials` token from `base`'s token endpoint for `resource`.
pub(crate) async fn machine_token(
    base: &str,
    id: &str,
    secret: &str,
    resource: &str,
) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials"), ("resource", resource)])
        .send()
        .await
        .unwrap()
}

/// An MCP `initialize` POST to `url` with the bearer token: the status tells whether the token was
/// accepted.
pub(crate) async fn mcp_initialize(
    client: &reqwest::Client,
    url: &str,
    token: &str,
) -> reqwest::Response {
    client
        .post(url)
        .bearer_auth(token)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(
            r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"1"}}}"#,
        )
        .send()
        .await
        .unwrap()
}

/// Parses `client_id: …` / `client_secret: …` lines of `clients add`.
pub(crate) fn secret_of(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("client_secret: "))
        .unwrap()
        .to_owned()
}
