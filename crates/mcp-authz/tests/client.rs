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

    // The access token is due for refresh, the refresh is refused: log in again, in one line.
    let refused = run(&config, &["call", &mcp, "whoami"]);
    assert!(!refused.success);
    assert!(refused.stdout.is_empty(), "{}", refused.stdout);
    assert_eq!(
        refused.stderr,
        format!("mcp-authz: not logged in to {mcp}: run `mcp-authz login {mcp}`\n")
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
    let (login, _) = run_with_browser(
        &config,
        &["login", &mcp, "--no-browser"],
        &serve.base,
        &browser,
        ADMIN,
        &password,
    )
    .await;
    assert!(login.success, "{}", login.stderr);
    let before = only_grant(&config);
    // Without --scope, every scope the resource lists is asked for.
    assert_eq!(before["scope"], "mcp:tools notes:read notes:write");

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
        corrupt
            .stderr
            .starts_with("mcp-authz: the token store holds malformed data: "),
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
