//! `mcp-authz login`, `call` and their failures, end to end: the built binary against `mcp-authz
//! serve` (without `--dev`: real login and consent forms, submitted by a cookie-keeping browser),
//! each on an ephemeral loopback port with its own data and configuration directories.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{ADMIN, Browser, Serve, only_grant, run, run_with_browser, token_file};

/// The tokens in a grant of the token file (to check they never reach an output).
fn secrets(grant: &serde_json::Value) -> Vec<String> {
    ["access_token", "refresh_token"]
        .iter()
        .filter_map(|k| grant[k].as_str().map(str::to_owned))
        .collect()
}

fn assert_no_secret(text: &str, grant: &serde_json::Value) {
    for secret in secrets(grant) {
        assert!(!text.contains(&secret), "a token was printed: {text}");
    }
}

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Login, a call with refresh (the access token lives 5 s, less than the client's 60 s refresh
/// margin, so every new process refreshes first and the rotated refresh token is stored), step-up in
/// the browser, then revocation of the refresh token: the next call asks to log in again.
#[tokio::test(flavor = "multi_thread")]
async fn login_call_refresh_step_up_and_revocation() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let serve = Serve::start(&dir.path().join("data"), &["--access-token-ttl", "5"]);
    let password = serve.admin_password();
    let mcp = serve.mcp_url();
    let browser = Browser::new();

    // Login with only the base scope; the narration names the three phases.
    let (login, consent) = run_with_browser(
        &config,
        &["login", &mcp, "--no-browser", "--scope", "mcp:tools"],
        &serve.base,
        &browser,
        ADMIN,
        &password,
    )
    .await;
    assert!(login.success, "{}", login.stderr);
    assert!(consent.contains("mcp:tools"), "{consent}");
    for expected in [
        "[1/3] discovery",
        &format!(
            "answered 401 with a Bearer challenge: resource_metadata {}/.well-known/oauth-protected-resource/mcp",
            serve.base
        ),
        "PKCE S256 supported",
        "[2/3] authorization",
        "client: registered dynamically (RFC 7591)",
        "authorization request: PKCE S256 challenge, fresh state",
        "scope \"mcp:tools\"",
        "[3/3] access",
        "iss and state verified; code exchanged",
        "a refresh token",
        "first authenticated request: initialize and tools/list answered, 3 tool(s): ",
    ] {
        assert!(
            login.stderr.contains(expected),
            "{expected:?} missing in:\n{}",
            login.stderr
        );
    }
    assert!(!login.stderr.contains('✗'), "{}", login.stderr);
    assert_eq!(
        login.stdout,
        format!(
            "logged in to {mcp} (authorization server {}); tokens stored in {}\n",
            serve.base,
            config.join("tokens.json").display()
        )
    );
    #[cfg(unix)]
    assert_eq!(mode(&config.join("tokens.json")), 0o600);
    let first = only_grant(&config);
    assert_eq!(first["scope"], "mcp:tools");
    assert_no_secret(&login.stderr, &first);
    assert_no_secret(&login.stdout, &first);
    let client_id = token_file(&config)["clients"][&serve.base]["client_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // A call: the expiring token is refreshed, the rotated refresh token saved.
    let whoami = run(&config, &["call", &mcp, "whoami"]);
    assert!(whoami.success, "{}", whoami.stderr);
    // The subject is the admin user's stable id, not its name.
    let subject = whoami
        .stdout
        .strip_prefix("subject=")
        .and_then(|rest| rest.split_once(' '))
        .map(|(subject, _)| subject.to_owned())
        .unwrap_or_else(|| panic!("{}", whoami.stdout));
    assert!(!subject.is_empty() && subject != "-", "{}", whoami.stdout);
    assert_eq!(
        whoami.stdout,
        format!("subject={subject} client={client_id} scope=mcp:tools\n")
    );
    assert_eq!(whoami.stderr, "");
    let refreshed = only_grant(&config);
    assert_ne!(refreshed["refresh_token"], first["refresh_token"]);
    assert_ne!(refreshed["access_token"], first["access_token"]);
    #[cfg(unix)]
    assert_eq!(mode(&config.join("tokens.json")), 0o600);

    // Bad arguments: one line, nothing sent.
    let bad = run(&config, &["call", &mcp, "add_note", "--args", "[1]"]);
    assert!(!bad.success);
    assert_eq!(
        bad.stderr,
        "mcp-authz: invalid --args: expected a JSON object such as {\"text\":\"hello\"}, got an array\n"
    );

    // Step-up: add_note needs notes:write; the browser is asked again, consent names the new scope.
    let (added, consent) = run_with_browser(
        &config,
        &[
            "call",
            &mcp,
            "add_note",
            "--args",
            r#"{"text":"hello"}"#,
            "--no-browser",
        ],
        &serve.base,
        &browser,
        ADMIN,
        &password,
    )
    .await;
    assert!(added.success, "{}", added.stderr);
    assert_eq!(added.stdout, format!("{subject}: hello\n"));
    assert!(
        added.stderr.contains("the server asks for more scope"),
        "{}",
        added.stderr
    );
    assert!(consent.contains("notes:write"), "{consent}");
    let stepped = only_grant(&config);
    let scope = stepped["scope"].as_str().unwrap();
    assert!(
        scope.contains("notes:write") && scope.contains("mcp:tools"),
        "{scope}"
    );
    assert_no_secret(&added.stderr, &stepped);

    // notes:write implies notes:read: no browser this time.
    let notes = run(&config, &["call", &mcp, "read_notes"]);
    assert!(notes.success, "{}", notes.stderr);
    assert_eq!(notes.stdout, format!("{subject}: hello\n"));

    // Revoke the stored refresh token at the revocation endpoint (RFC 7009) as the client.
    let grant = only_grant(&config);
    let metadata: serde_json::Value = reqwest::get(format!(
        "{}/.well-known/oauth-authorization-server",
        serve.base
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let revoked = reqwest::Client::new()
        .post(metadata["revocation_endpoint"].as_str().unwrap())
        .form(&[
            ("token", grant["refresh_token"].as_str().unwrap()),
            ("token_type_hint", "refresh_token"),
            ("client_id", client_id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);

    // The access token is due for refresh, the refresh is refused: log in again, in one line that
    // names the cause.
    let refused = run(&config, &["call", &mcp, "whoami"]);
    assert!(!refused.success);
    assert!(refused.stdout.is_empty(), "{}", refused.stdout);
    assert_eq!(
        refused.stderr,
        format!(
            "mcp-authz: the authorization server no longer accepts the stored grant (it was \
             revoked or has expired) and it was forgotten; run `mcp-authz login {mcp}`\n"
        )
    );
    // The dropped grant is gone from the file; the client registration stays for the next login.
    assert!(
        token_file(&config)["grants"]
            .as_object()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        token_file(&config)["clients"][&serve.base]["client_id"],
        client_id.as_str()
    );

    let log = serve.log();
    for secret in secrets(&grant).iter().chain(secrets(&first).iter()) {
        assert!(
            !log.contains(secret.as_str()),
            "a token reached the server log"
        );
    }
}

/// The stored tokens and the server's signing key survive a restart of `serve` on the same data
/// directory and address; a second login reuses the registered client.
#[tokio::test(flavor = "multi_thread")]
async fn stored_tokens_work_after_a_restart_and_login_reuses_the_client() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let data = dir.path().join("data");
    let serve = Serve::start(&data, &[]);
    let password = serve.admin_password();
    let mcp = serve.mcp_url();
    let browser = Browser::new();
    let all = "mcp:tools notes:read notes:write";
    let (login, _) = run_with_browser(
        &config,
        &["login", &mcp, "--no-browser", "--scope", all],
        &serve.base,
        &browser,
        ADMIN,
        &password,
    )
    .await;
    assert!(login.success, "{}", login.stderr);
    let before = only_grant(&config);
    assert_eq!(before["scope"], all);

    let addr = serve.addr();
    assert!(serve.stop());
    let again = Serve::start_on(&data, &addr, &[]);
    assert_eq!(again.mcp_url(), mcp);

    // The access token (valid for 10 minutes) is used as stored: signed by the persisted key.
    let added = run(
        &config,
        &[
            "call",
            &mcp,
            "add_note",
            "--args",
            r#"{"text":"after restart"}"#,
        ],
    );
    assert!(added.success, "{}", added.stderr);
    assert!(
        added.stdout.ends_with(": after restart\n"),
        "{}",
        added.stdout
    );
    assert_eq!(only_grant(&config), before, "no refresh was needed");

    // A second login reuses the client registered by the first.
    let client_id = token_file(&config)["clients"][&again.base]["client_id"].clone();
    let (second, _) = run_with_browser(
        &config,
        &["login", &mcp, "--no-browser"],
        &again.base,
        &Browser::new(),
        ADMIN,
        &password,
    )
    .await;
    assert!(second.success, "{}", second.stderr);
    assert!(
        second.stderr.contains(&format!(
            "client: reusing client_id {} registered earlier",
            client_id.as_str().unwrap()
        )),
        "{}",
        second.stderr
    );
    assert_eq!(
        token_file(&config)["clients"][&again.base]["client_id"],
        client_id
    );
    assert_ne!(only_grant(&config)["access_token"], before["access_token"]);
}

/// A client pre-registered with `mcp-authz clients add` is used instead of registering (CL-5), and
/// kept in the token file so that `call` refreshes with the same `client_id`.
#[tokio::test(flavor = "multi_thread")]
async fn login_with_a_pre_registered_client() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let data = dir.path().join("data");
    let serve = Serve::start(&data, &["--access-token-ttl", "5"]);
    let password = serve.admin_password();
    let mcp = serve.mcp_url();
    let added = run(
        &config,
        &[
            "clients",
            "add",
            "cli-desktop",
            "--name",
            "Desktop CLI",
            "--redirect-uri",
            "http://127.0.0.1/callback",
            "--data-dir",
            data.to_str().unwrap(),
        ],
    );
    assert!(added.success, "{}", added.stderr);
    assert_eq!(added.stdout, "client_id: cli-desktop\n");

    let (login, consent) = run_with_browser(
        &config,
        &["login", &mcp, "--no-browser", "--client-id", "cli-desktop"],
        &serve.base,
        &Browser::new(),
        ADMIN,
        &password,
    )
    .await;
    assert!(login.success, "{}", login.stderr);
    assert!(consent.contains("Desktop CLI"), "{consent}");
    assert!(
        login
            .stderr
            .contains("  ✓ client: pre-registered client_id cli-desktop\n"),
        "{}",
        login.stderr
    );
    assert!(
        !login.stderr.contains("registered dynamically"),
        "{}",
        login.stderr
    );
    assert_eq!(
        token_file(&config)["clients"][&serve.base]["client_id"],
        "cli-desktop"
    );

    // The short-lived token is refreshed with the same client.
    let before = only_grant(&config);
    let whoami = run(&config, &["call", &mcp, "whoami"]);
    assert!(whoami.success, "{}", whoami.stderr);
    assert!(
        whoami.stdout.contains(" client=cli-desktop "),
        "{}",
        whoami.stdout
    );
    assert_ne!(
        only_grant(&config)["refresh_token"],
        before["refresh_token"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn call_without_login_or_with_a_corrupt_token_file_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let serve = Serve::start(&dir.path().join("data"), &[]);
    let mcp = serve.mcp_url();

    let missing = run(&config, &["call", &mcp, "whoami"]);
    assert!(!missing.success);
    assert_eq!(
        missing.stderr,
        format!("mcp-authz: not logged in to {mcp}: run `mcp-authz login {mcp}`\n")
    );
    // Nothing was registered or stored on the way.
    assert!(!config.join("tokens.json").exists());

    std::fs::write(config.join("tokens.json"), b"{not json").unwrap();
    let corrupt = run(&config, &["call", &mcp, "whoami"]);
    assert!(!corrupt.success);
    assert_eq!(corrupt.stderr.lines().count(), 1, "{}", corrupt.stderr);
    assert!(
        corrupt.stderr.starts_with(&format!(
            "mcp-authz: the token file {} is corrupt (",
            config.join("tokens.json").display()
        )),
        "{}",
        corrupt.stderr
    );
}

#[test]
fn unreachable_and_malformed_urls_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    // Port 9 (discard) on loopback: nothing listens, the connection is refused.
    for args in [
        ["login", "http://127.0.0.1:9/mcp", "--no-browser"].as_slice(),
        ["call", "http://127.0.0.1:9/mcp", "whoami"].as_slice(),
        ["inspect", "http://127.0.0.1:9/mcp"].as_slice(),
    ] {
        let out = run(&config, args);
        assert!(!out.success, "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
        let last = out.stderr.lines().last().unwrap();
        assert!(
            last.starts_with("mcp-authz: cannot reach the MCP server at http://127.0.0.1:9/mcp: "),
            "{args:?}: {}",
            out.stderr
        );
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    }
    for args in [
        ["login", "not a url"].as_slice(),
        ["call", "mcp.example.com/mcp", "whoami"].as_slice(),
        ["inspect", "https://mcp.example.com/mcp#fragment"].as_slice(),
    ] {
        let out = run(&config, args);
        assert!(!out.success, "{args:?}");
        assert_eq!(out.stderr.lines().count(), 1, "{args:?}: {}", out.stderr);
        assert!(
            out.stderr
                .starts_with("mcp-authz: invalid MCP server URL: "),
            "{args:?}: {}",
            out.stderr
        );
    }
    let out = run(
        &config,
        &[
            "login",
            "https://mcp.example.com/mcp",
            "--client-metadata-url",
            "http://app.example/client.json",
        ],
    );
    assert!(!out.success);
    assert_eq!(
        out.stderr,
        "mcp-authz: invalid --client-metadata-url: \"http://app.example/client.json\" is not a client ID \
         metadata document URL (https, a path, no fragment, no user information, normalised)\n"
    );
    // A public http URL is refused by the URL policy before anything is sent.
    let out = run(&config, &["inspect", "http://mcp.example.com/mcp"]);
    assert!(!out.success);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr
            .starts_with("mcp-authz: cannot reach the MCP server"),
        "{}",
        out.stderr
    );
}

/// A malicious MCP server, protected resource and authorization server on one loopback origin:
/// every text it controls (JSON-RPC error messages, tool errors, OAuth `error` and
/// `error_description`) carries terminal escape sequences.
mod hostile {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::extract::{Request, State};
    use axum::http::{StatusCode, header};
    use axum::response::{IntoResponse, Response};
    use serde_json::{Value, json};

    /// `ESC ] 0 ; … BEL` retitles the terminal, `ESC [ 2 J` clears it, CSI 0x9b too.
    pub(crate) const ESCAPES: &str = "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m";

    /// What the MCP endpoint answers to an authorized request.
    #[derive(Clone, Copy)]
    pub(crate) enum Mode {
        /// `initialize` fails with a JSON-RPC error.
        RpcError,
        /// `tools/call` reports a tool error.
        ToolError,
        /// `tools/call` succeeds with text containing escapes (printed on standard output).
        ToolText,
        /// `/mcp/evil` names, in its challenge, a path-inserted document claiming `resource
        /// <base>/mcp` (its parent).
        EvilPathInserted,
        /// `/mcp/evil` names the origin's root document, which claims `resource <base>`.
        EvilRoot,
    }

    pub(crate) struct Hostile {
        pub(crate) base: String,
        mode: Mode,
        pub(crate) requests: AtomicUsize,
        /// The `Authorization` header of every request to `/mcp/evil`.
        pub(crate) evil_auth: std::sync::Mutex<Vec<Option<String>>>,
    }

    impl Hostile {
        pub(crate) async fn start(mode: Mode) -> Arc<Hostile> {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
            let host = Arc::new(Hostile {
                base,
                mode,
                requests: AtomicUsize::new(0),
                evil_auth: std::sync::Mutex::new(Vec::new()),
            });
            let app = axum::Router::new()
                .fallback(handle)
                .with_state(host.clone());
            tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
            host
        }

        pub(crate) fn mcp_url(&self) -> String {
            format!("{}/mcp", self.base)
        }

        /// A token file holding a grant for this server (as a login would have left it).
        pub(crate) fn logged_in(&self, config: &std::path::Path) {
            std::fs::create_dir_all(config).unwrap();
            let key = format!("{} {}", self.mcp_url(), self.base);
            // Also where a login to `/mcp` left its grant when grants were keyed by the metadata's
            // (parent) `resource` instead of the URL logged in to.
            let parent = format!("{} {}", self.base, self.base);
            let grant = json!({"access_token": "evil-token"});
            let file = json!({"grants": {key: grant, parent: grant}});
            std::fs::write(config.join("tokens.json"), file.to_string()).unwrap();
        }
    }

    fn reply(status: StatusCode, value: Value) -> Response {
        (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            value.to_string(),
        )
            .into_response()
    }

    async fn handle(State(host): State<Arc<Hostile>>, request: Request) -> Response {
        host.requests.fetch_add(1, Ordering::SeqCst);
        let base = host.base.clone();
        let path = request.uri().path().to_owned();
        let auth = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let authorized = auth.as_deref() == Some("Bearer evil-token");
        let body = axum::body::to_bytes(request.into_body(), 1 << 20)
            .await
            .unwrap_or_default();
        match path.as_str() {
            "/.well-known/oauth-protected-resource/mcp/evil" => reply(
                StatusCode::OK,
                json!({"resource": format!("{base}/mcp"), "authorization_servers": [base]}),
            ),
            "/.well-known/oauth-protected-resource" => reply(
                StatusCode::OK,
                json!({"resource": base, "authorization_servers": [base]}),
            ),
            "/mcp/evil" => {
                host.evil_auth.lock().unwrap().push(auth);
                if authorized {
                    return reply(StatusCode::OK, json!({"jsonrpc": "2.0", "id": 0, "result": {}}));
                }
                let prm = match host.mode {
                    Mode::EvilPathInserted => "/.well-known/oauth-protected-resource/mcp/evil",
                    _ => "/.well-known/oauth-protected-resource",
                };
                (
                    StatusCode::UNAUTHORIZED,
                    [(
                        header::WWW_AUTHENTICATE,
                        format!("Bearer resource_metadata=\"{base}{prm}\""),
                    )],
                )
                    .into_response()
            }
            "/.well-known/oauth-protected-resource/mcp" => reply(
                StatusCode::OK,
                json!({"resource": format!("{base}/mcp"), "authorization_servers": [base]}),
            ),
            "/.well-known/oauth-authorization-server" => reply(
                StatusCode::OK,
                json!({
                    "issuer": base,
                    "authorization_endpoint": format!("{base}/authorize"),
                    "token_endpoint": format!("{base}/token"),
                    "registration_endpoint": format!("{base}/register"),
                    "response_types_supported": ["code"],
                    "grant_types_supported": ["authorization_code", "refresh_token"],
                    "token_endpoint_auth_methods_supported": ["none"],
                    "code_challenge_methods_supported": ["S256"],
                    "authorization_response_iss_parameter_supported": true,
                }),
            ),
            "/register" => reply(
                StatusCode::CREATED,
                json!({"client_id": "c1", "redirect_uris": ["http://127.0.0.1/callback"], "token_endpoint_auth_method": "none"}),
            ),
            "/token" => reply(
                StatusCode::BAD_REQUEST,
                json!({"error": format!("evil{ESCAPES}"), "error_description": format!("desc{ESCAPES}")}),
            ),
            "/mcp" if authorized => {
                let message: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let Some(id) = message.get("id").cloned() else {
                    return StatusCode::ACCEPTED.into_response();
                };
                let method = message["method"].as_str().unwrap_or_default();
                let text = format!("tool{ESCAPES}\nline two");
                let answer = match (host.mode, method) {
                    (Mode::RpcError, _) => {
                        json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32000, "message": format!("rpc{ESCAPES}")}})
                    }
                    (_, "initialize") => json!({"jsonrpc": "2.0", "id": id, "result": {
                        "protocolVersion": "2025-11-25", "capabilities": {},
                        "serverInfo": {"name": format!("n{ESCAPES}"), "version": "0"}}}),
                    (Mode::ToolError, _) => json!({"jsonrpc": "2.0", "id": id, "result": {
                        "content": [{"type": "text", "text": text}], "isError": true}}),
                    (_, _) => json!({"jsonrpc": "2.0", "id": id, "result": {
                        "content": [{"type": "text", "text": text}]}}),
                };
                reply(StatusCode::OK, answer)
            }
            "/mcp" => (
                StatusCode::UNAUTHORIZED,
                [(
                    header::WWW_AUTHENTICATE,
                    format!(
                        "Bearer resource_metadata=\"{base}/.well-known/oauth-protected-resource/mcp\""
                    ),
                )],
            )
                .into_response(),
            _ => StatusCode::NOT_FOUND.into_response(),
        }
    }
}

fn assert_no_terminal_control(what: &str, text: &str) {
    for bad in ['\u{1b}', '\u{7}', '\u{9b}'] {
        assert!(
            !text.contains(bad),
            "{what} carries the control character {bad:?}: {text:?}"
        );
    }
}

/// Terminal escape injection: a hostile server's JSON-RPC error message, tool error and tool text
/// reach the user as visible `?`, never as raw ESC/BEL/CSI bytes.
#[tokio::test(flavor = "multi_thread")]
async fn call_prints_no_terminal_escapes_from_a_hostile_server() {
    for mode in [
        hostile::Mode::RpcError,
        hostile::Mode::ToolError,
        hostile::Mode::ToolText,
    ] {
        let server = hostile::Hostile::start(mode).await;
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        server.logged_in(&config);
        let mcp = server.mcp_url();
        let out = tokio::task::block_in_place(|| run(&config, &["call", &mcp, "t"]));
        assert!(
            out.stderr.contains("pwned") || out.stdout.contains("pwned"),
            "{out:?}"
        );
        assert!(
            out.stderr.contains("?]0;pwned??[2J") || out.stdout.contains("?]0;pwned??[2J"),
            "the escapes are replaced visibly: {out:?}"
        );
        assert_no_terminal_control("stderr", &out.stderr);
        assert_no_terminal_control("stdout", &out.stdout);
        if matches!(mode, hostile::Mode::ToolText) {
            assert!(out.success, "{out:?}");
            assert!(out.stdout.contains("\nline two"), "{out:?}");
        } else {
            assert!(!out.success, "{out:?}");
        }
    }
}

/// Terminal escape injection at login: an authorization server whose token error carries escapes
/// in `error` (an unknown code) and `error_description`.
#[tokio::test(flavor = "multi_thread")]
async fn login_prints_no_terminal_escapes_from_a_hostile_authorization_server() {
    let server = hostile::Hostile::start(hostile::Mode::ToolText).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let mcp = server.mcp_url();
    let mut running = common::spawn(&config, &["login", &mcp, "--no-browser"]);
    let prefix = format!("{}/authorize?", server.base);
    let url = tokio::task::block_in_place(|| running.line_starting_with(&prefix));
    let url = url::Url::parse(&url).unwrap();
    let query: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    let mut callback = url::Url::parse(&query["redirect_uri"]).unwrap();
    callback
        .query_pairs_mut()
        .append_pair("code", "c")
        .append_pair("state", &query["state"])
        .append_pair("iss", &server.base);
    let _ = reqwest::get(callback).await;
    let out = tokio::task::block_in_place(|| running.finish());
    assert!(!out.success, "{out:?}");
    assert!(out.stderr.contains("pwned"), "{out:?}");
    assert_no_terminal_control("stderr", &out.stderr);
    assert_no_terminal_control("stdout", &out.stdout);
}

/// The client's HTTP stack ignores `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY`: a proxy would make
/// the connections and bypass the connect-time address check of the URL policy (SEC-12). A counting
/// listener named as the proxy sees no connection; the server sees the requests directly.
#[tokio::test(flavor = "multi_thread")]
async fn proxies_from_the_environment_are_never_used() {
    let server = hostile::Hostile::start(hostile::Mode::ToolText).await;
    let proxy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = connections.clone();
    std::thread::spawn(move || {
        for stream in proxy.incoming() {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(stream);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    server.logged_in(&config);
    let mcp = server.mcp_url();
    let output = tokio::task::block_in_place(|| {
        common::command(&config, &["call", &mcp, "t"])
            .env("HTTP_PROXY", &proxy_url)
            .env("http_proxy", &proxy_url)
            .env("HTTPS_PROXY", &proxy_url)
            .env("ALL_PROXY", &proxy_url)
            .env_remove("NO_PROXY")
            .env_remove("no_proxy")
            .output()
            .unwrap()
    });
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        connections.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the proxy was used: {stderr}"
    );
    assert!(output.status.success(), "{stderr}");
    assert!(
        server.requests.load(std::sync::atomic::Ordering::SeqCst) >= 3,
        "{stderr}"
    );
}

/// A configuration directory that already exists with mode 0755 (group and others may list the
/// token file's name and metadata) is tightened to 0700 by the client.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn an_existing_open_configuration_directory_is_tightened_to_0700() {
    use std::os::unix::fs::PermissionsExt as _;
    let server = hostile::Hostile::start(hostile::Mode::ToolText).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    server.logged_in(&config);
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(mode(&config), 0o755);
    let mcp = server.mcp_url();
    let out = tokio::task::block_in_place(|| run(&config, &["call", &mcp, "t"]));
    assert!(out.success, "{out:?}");
    assert_eq!(mode(&config), 0o700);
}

/// CL-2 / SEC-7, end to end: after a login to `<base>/mcp`, `call <base>/mcp/evil` never sends the
/// `/mcp` token to `/mcp/evil` (no prompt, no token): neither when `/mcp/evil` names a document
/// claiming its parent `/mcp` (refused: only the origin's root document may name a parent), nor
/// when the origin's root document names the origin (the grant is stored under the URL logged in
/// to, so `/mcp/evil` asks for its own login).
#[tokio::test(flavor = "multi_thread")]
async fn call_never_passes_a_token_to_a_same_origin_sub_path() {
    for mode in [hostile::Mode::EvilPathInserted, hostile::Mode::EvilRoot] {
        let server = hostile::Hostile::start(mode).await;
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        server.logged_in(&config);
        let evil = format!("{}/mcp/evil", server.base);
        let out = tokio::task::block_in_place(|| run(&config, &["call", &evil, "t"]));
        assert!(!out.success, "{out:?}");
        let seen = server.evil_auth.lock().unwrap().clone();
        assert!(
            seen.iter().all(Option::is_none),
            "a token reached /mcp/evil: {seen:?}\n{out:?}"
        );
        if matches!(mode, hostile::Mode::EvilRoot) {
            assert_eq!(
                out.stderr,
                format!("mcp-authz: not logged in to {evil}: run `mcp-authz login {evil}`\n")
            );
        } else {
            assert!(out.stderr.contains("is not usable"), "{}", out.stderr);
        }
        // The legitimate server still works with its grant.
        let mcp = server.mcp_url();
        let ok = tokio::task::block_in_place(|| run(&config, &["call", &mcp, "t"]));
        assert!(ok.success, "{ok:?}");
    }
}
