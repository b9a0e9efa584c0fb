//! `mcp-authz serve`, run as the built binary: the authorization server and the demo MCP server on
//! one ephemeral port, a full headless OAuth flow with mcp-authz-client, and state that survives a
//! restart.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)] // helpers outside #[test] functions

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use mcp_authz_client::{McpClient, OAuthClient, RedirectCapture, ReqwestHttpClient, UrlPolicy};
use mcp_authz_metadata::RedirectUri;

/// A running `mcp-authz serve`; stopped with SIGTERM when dropped.
struct Server {
    child: Child,
    base: String,
    stderr: PathBuf,
}

impl Server {
    /// Starts `serve --bind 127.0.0.1:0 --data-dir <dir> --dev` and waits for its `listening on` line.
    fn start(data_dir: &Path, log: &str) -> Self {
        let stderr = data_dir.parent().unwrap().join(log);
        let mut child = Command::new(env!("CARGO_BIN_EXE_mcp-authz"))
            .args(["serve", "--bind", "127.0.0.1:0", "--dev", "--data-dir"])
            .arg(data_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let base = common::listening_base(&mut child, &stderr);
        Self {
            child,
            base,
            stderr,
        }
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap()
    }

    /// SIGTERM, then the exit status: graceful shutdown exits 0.
    fn stop(mut self) -> bool {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        self.child.wait().unwrap().success()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn get_json(url: &str) -> serde_json::Value {
    let response = reqwest::get(url).await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    response.json().await.unwrap()
}

async fn signing_kids(base: &str) -> Vec<String> {
    let jwks = get_json(&format!("{base}/jwks.json")).await;
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

fn text(result: &mcp_authz_client::CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.text.clone())
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_hosts_the_authorization_server_and_a_protected_mcp_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data, "first.log");
    let base = server.base.clone();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");

    // First run: the admin user is created and its password shown once; --dev warns loudly.
    let first_log = server.stderr();
    assert!(
        first_log.contains("created user `admin` with password: "),
        "{first_log}"
    );
    assert!(first_log.contains("WARNING: --dev"), "{first_log}");
    assert!(data.join("mcp-authz.sqlite3").exists());

    // Authorization server metadata (RFC 8414) at the root.
    let metadata = get_json(&format!("{base}/.well-known/oauth-authorization-server")).await;
    assert_eq!(metadata["issuer"], base.as_str());
    assert_eq!(metadata["token_endpoint"], format!("{base}/token"));
    assert_eq!(metadata["code_challenge_methods_supported"][0], "S256");

    // Protected resource metadata (RFC 9728) of the demo MCP server.
    let prm = get_json(&format!("{base}/.well-known/oauth-protected-resource/mcp")).await;
    assert_eq!(prm["resource"], format!("{base}/mcp"));
    assert_eq!(prm["authorization_servers"][0], base.as_str());

    // No token: 401 with the Bearer challenge pointing at the metadata.
    let response = reqwest::Client::new()
        .post(format!("{base}/mcp"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(
        challenge.contains(&format!(
            "resource_metadata=\"{base}/.well-known/oauth-protected-resource/mcp\""
        )),
        "{challenge}"
    );

    // The full flow, headless: discovery, dynamic registration, PKCE, auto-approved authorization,
    // token, then tools needing different scopes (add_note needs notes:write beyond mcp:tools).
    let policy = UrlPolicy::default().allow_loopback(true);
    let http = Arc::new(ReqwestHttpClient::with_policy(policy.clone()).unwrap());
    let step = RedirectCapture::new(
        http.clone(),
        policy.clone(),
        RedirectUri::parse("http://127.0.0.1:9/callback").unwrap(),
    );
    let oauth = OAuthClient::builder(&format!("{base}/mcp"))
        .unwrap()
        .http_client(http)
        .url_policy(policy)
        .authorization_step(Arc::new(step))
        .client_name("mcp-authz serve test")
        .build()
        .unwrap();
    let mcp = McpClient::new(Arc::new(oauth), "2025-11-25");
    mcp.connect().await.unwrap();
    let tools = mcp.list_tools().await.unwrap();
    let mut names: Vec<_> = tools.iter().map(|t| t.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["add_note", "read_notes", "whoami"]);
    let whoami = mcp
        .call_tool("whoami", &BTreeMap::<String, String>::new())
        .await
        .unwrap();
    assert!(
        text(&whoami).contains("subject=dev-user"),
        "{}",
        text(&whoami)
    );
    let added = mcp
        .call_tool("add_note", &BTreeMap::from([("text", "hello")]))
        .await
        .unwrap();
    assert!(!added.is_error);
    assert_eq!(text(&added), "dev-user: hello");
    let notes = mcp
        .call_tool("read_notes", &BTreeMap::<String, String>::new())
        .await
        .unwrap();
    assert_eq!(text(&notes), "dev-user: hello");

    // Tokens never reach the logs.
    let kids = signing_kids(&base).await;
    assert_eq!(kids.len(), 1);
    assert!(
        server.stop(),
        "SIGTERM must shut down gracefully with status 0"
    );
    let log = std::fs::read_to_string(dir.path().join("first.log")).unwrap();
    assert!(!log.contains("eyJ"), "a JWT appeared in the logs: {log}");
    assert!(log.contains("SIGTERM received"), "{log}");

    // Restart on the same data directory: same signing key, admin not recreated.
    let again = Server::start(&data, "second.log");
    assert_eq!(signing_kids(&again.base).await, kids);
    let second_log = again.stderr();
    assert!(!second_log.contains("password"), "{second_log}");
    assert!(again.stop());
}

fn run_to_end(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_mcp-authz"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn dev_mode_on_a_non_loopback_address_is_refused_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let (ok, out, err) = run_to_end(&["serve", "--bind", "0.0.0.0:0", "--dev", "--data-dir", data]);
    assert!(!ok);
    assert!(out.is_empty(), "{out}");
    assert_eq!(
        err,
        "mcp-authz: --dev is only allowed on a loopback address, not 0.0.0.0:0\n"
    );
    // Nothing was created.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn an_unusable_data_directory_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-directory");
    std::fs::write(&file, b"x").unwrap();
    let (ok, out, err) = run_to_end(&[
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--data-dir",
        file.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(out.is_empty(), "{out}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("mcp-authz: cannot use data directory "),
        "{err}"
    );
}

#[test]
fn an_unreachable_postgres_store_is_a_one_line_error() {
    // Port 9 (discard) on loopback: nothing listens there, so the connection is refused.
    let (ok, out, err) = run_to_end(&[
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--store",
        "postgres://mcp:mcp@127.0.0.1:9/mcp",
    ]);
    assert!(!ok);
    assert!(out.is_empty(), "{out}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("mcp-authz: cannot open the PostgreSQL store"),
        "{err}"
    );
}

#[test]
fn an_unknown_serve_flag_is_refused() {
    let (ok, out, err) = run_to_end(&["serve", "--no-such-flag"]);
    assert!(!ok);
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("--no-such-flag"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// Registers a public client at `base`; the status.
async fn register_status(http: &reqwest::Client, base: &str) -> u16 {
    http.post(format!("{base}/register"))
        .json(&serde_json::json!({
            "redirect_uris": ["http://127.0.0.1:9/callback"],
            "token_endpoint_auth_method": "none",
            "application_type": "native",
        }))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Operator-set rate limits (issue #21) reach the server: a tighter registration limit refuses the
/// third registration, `off` lets more through than the default burst of 10.
#[tokio::test]
async fn operator_set_rate_limits_apply() {
    let http = reqwest::Client::new();

    let dir = tempfile::tempdir().unwrap();
    let tight = common::Serve::start(
        &dir.path().join("data"),
        &["--register-rate-limit", "1/min:2"],
    );
    let statuses = [
        register_status(&http, &tight.base).await,
        register_status(&http, &tight.base).await,
        register_status(&http, &tight.base).await,
    ];
    assert_eq!(statuses, [201, 201, 429], "{}", tight.log());
    assert!(tight.stop());

    let dir = tempfile::tempdir().unwrap();
    let off = common::Serve::start(&dir.path().join("data"), &["--register-rate-limit", "off"]);
    for i in 0..15 {
        assert_eq!(
            register_status(&http, &off.base).await,
            201,
            "registration {i}"
        );
    }
    assert!(off.stop());
}
