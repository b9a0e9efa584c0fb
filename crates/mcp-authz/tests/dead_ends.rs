//! The client commands' dead ends, end to end (the built binary against `mcp-authz serve` with real
//! login and consent forms): a removed client, a reset server, a corrupt token file, denied consent
//! and Ctrl-C each end in recovery or in one line naming the cause and the next command; the
//! walkthrough's step-up happens; `tools`, `status` and `logout` do what they say; and no message
//! shows Rust debug output.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{
    ADMIN, Browser, Finished, Serve, only_grant, run, run_with_browser, spawn, token_file,
};

/// No Rust debug formatting (`Some("…")`, `None`, `["…"]`) and no panic in what a command printed.
fn assert_readable(what: &str, finished: &Finished) {
    for text in [&finished.stdout, &finished.stderr] {
        for debug in ["Some(", "None", "[\"", "panicked", "Error {"] {
            assert!(!text.contains(debug), "{what}: {debug:?} in:\n{text}");
        }
    }
}

/// The last line of standard error.
fn last_line(finished: &Finished) -> &str {
    finished.stderr.lines().last().unwrap_or_default()
}

async fn login(config: &std::path::Path, serve: &Serve, password: &str) -> Finished {
    let (login, _) = run_with_browser(
        config,
        &["login", &serve.mcp_url(), "--no-browser"],
        &serve.base,
        &Browser::new(),
        ADMIN,
        password,
    )
    .await;
    assert_readable("login", &login);
    login
}

fn client_id(config: &std::path::Path, serve: &Serve) -> String {
    token_file(config)["clients"][&serve.base]["client_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The README walkthrough as written: `login` asks for the scope the server's challenge names
/// (`mcp:tools`), so `call … add_note` steps up in the browser for `notes:write`.
#[tokio::test(flavor = "multi_thread")]
async fn the_walkthrough_logs_in_with_the_challenged_scope_and_steps_up() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let serve = Serve::start(&dir.path().join("data"), &[]);
    let password = serve.admin_password();
    let mcp = serve.mcp_url();

    let login = login(&config, &serve, &password).await;
    assert!(login.success, "{}", login.stderr);
    assert!(
        login.stderr.contains("scope \"mcp:tools\""),
        "{}",
        login.stderr
    );
    assert_eq!(only_grant(&config)["scope"], "mcp:tools");

    // `tools` names each tool and the scope it needs.
    let tools = run(&config, &["tools", &mcp]);
    assert!(tools.success, "{}", tools.stderr);
    assert_readable("tools", &tools);
    let lines: Vec<&str> = tools.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", tools.stdout);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("add_note ") && l.ends_with("[scope: notes:write]")),
        "{}",
        tools.stdout
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("whoami ") && !l.contains("[scope:")),
        "{}",
        tools.stdout
    );

    // The step-up: the browser again, then the call succeeds with the wider grant.
    let (added, consent) = run_with_browser(
        &config,
        &[
            "call",
            &mcp,
            "add_note",
            "--args",
            r#"{"text":"stepped up"}"#,
        ],
        &serve.base,
        &Browser::new(),
        ADMIN,
        &password,
    )
    .await;
    assert!(added.success, "{}", added.stderr);
    assert_readable("call", &added);
    assert!(consent.contains("notes:write"), "{consent}");
    assert!(added.stdout.ends_with(": stepped up\n"), "{}", added.stdout);
    assert!(
        added.stderr.contains("the server asks for more scope"),
        "{}",
        added.stderr
    );
    let scope = only_grant(&config)["scope"].as_str().unwrap().to_owned();
    assert!(scope.contains("notes:write"), "{scope}");

    // `--json` prints the whole result; arguments come from a file or standard input.
    let args_file = dir.path().join("args.json");
    std::fs::write(&args_file, r#"{"text":"from a file"}"#).unwrap();
    let from_file = run(
        &config,
        &[
            "call",
            &mcp,
            "add_note",
            "--json",
            "--args",
            &format!("@{}", args_file.display()),
        ],
    );
    assert!(from_file.success, "{}", from_file.stderr);
    let result: serde_json::Value = serde_json::from_str(&from_file.stdout).unwrap();
    assert!(
        result["content"][0]["text"]
            .as_str()
            .unwrap()
            .ends_with(": from a file"),
        "{result}"
    );
    let mut piped = common::command(&config, &["call", &mcp, "add_note", "--args", "-"]);
    piped
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = piped.spawn().unwrap();
    std::io::Write::write_all(
        &mut child.stdin.take().unwrap(),
        br#"{"text":"from stdin"}"#,
    )
    .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        String::from_utf8(output.stdout)
            .unwrap()
            .ends_with(": from stdin\n")
    );

    // An unknown tool is named, with the server's tools.
    let unknown = run(&config, &["call", &mcp, "delete_everything"]);
    assert!(!unknown.success);
    assert_readable("unknown tool", &unknown);
    assert_eq!(
        last_line(&unknown),
        format!(
            "mcp-authz: the MCP server at {mcp} has no tool `delete_everything`; its tools: \
             add_note, read_notes, whoami"
        )
    );

    // `status` shows the grant without a secret.
    let status = run(&config, &["status"]);
    assert!(status.success, "{}", status.stderr);
    assert_readable("status", &status);
    let grant = only_grant(&config);
    for secret in ["access_token", "refresh_token"] {
        assert!(!status.stdout.contains(grant[secret].as_str().unwrap()));
    }
    assert!(status.stdout.contains(&mcp), "{}", status.stdout);
    assert!(
        status
            .stdout
            .contains(&format!("authorization server: {}", serve.base)),
        "{}",
        status.stdout
    );
    assert!(
        status.stdout.contains("refresh token: stored"),
        "{}",
        status.stdout
    );

    // `logout` revokes at the server and forgets locally: the old refresh token is dead there.
    let refresh_token = grant["refresh_token"].as_str().unwrap().to_owned();
    let client = client_id(&config, &serve);
    let logout = run(&config, &["logout", &mcp]);
    assert!(logout.success, "{}", logout.stderr);
    assert_readable("logout", &logout);
    assert_eq!(
        logout.stdout,
        format!(
            "logged out of {mcp}: 2 token(s) revoked at {} and forgotten locally\n",
            serve.base
        )
    );
    assert!(
        token_file(&config)["grants"]
            .as_object()
            .unwrap()
            .is_empty()
    );
    let refused = reqwest::Client::new()
        .post(format!("{}/token", serve.base))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.as_str()),
            ("client_id", client.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    let after = run(&config, &["call", &mcp, "whoami"]);
    assert_eq!(
        after.stderr,
        format!("mcp-authz: not logged in to {mcp}: run `mcp-authz login {mcp}`\n")
    );
}

/// `clients remove` at the server: `call` names the cause and the command, and the next `login`
/// notices the dead registration, registers again and works.
#[tokio::test(flavor = "multi_thread")]
async fn a_removed_client_is_registered_again() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let data = dir.path().join("data");
    let serve = Serve::start(&data, &["--access-token-ttl", "5"]);
    let password = serve.admin_password();
    let mcp = serve.mcp_url();
    assert!(login(&config, &serve, &password).await.success);
    let old = client_id(&config, &serve);

    let mut remove = common::command(&config, &["clients", "remove", &old, "--data-dir"]);
    let removed = remove.arg(&data).output().unwrap();
    assert!(
        removed.status.success(),
        "{}",
        String::from_utf8_lossy(&removed.stderr)
    );
    // While it runs, the server may keep answering from its 5-second cache of client records
    // (`clients.rs`); restarted, it reads the store, where the client is gone.
    let addr = serve.addr();
    assert!(serve.stop());
    let serve = Serve::start_on(&data, &addr, &["--access-token-ttl", "5"]);

    // The access token (5 s, under the 60 s refresh margin) is refreshed first: invalid_client.
    let call = run(&config, &["call", &mcp, "whoami"]);
    assert!(!call.success);
    assert_readable("call after removal", &call);
    assert_eq!(
        call.stderr,
        format!(
            "mcp-authz: the authorization server no longer knows this client (invalid_client): \
             the stale grant and registration were forgotten; run `mcp-authz login {mcp}`\n"
        )
    );

    let again = login(&config, &serve, &password).await;
    assert!(again.success, "{}", again.stderr);
    let new = client_id(&config, &serve);
    assert_ne!(new, old);
    assert!(
        again.stderr.contains("client: registered dynamically"),
        "{}",
        again.stderr
    );
    let whoami = run(&config, &["call", &mcp, "whoami"]);
    assert!(whoami.success, "{}", whoami.stderr);
    assert!(
        whoami.stdout.contains(&format!("client={new}")),
        "{}",
        whoami.stdout
    );
}

/// The server's database is reset (same address, empty data directory): `login` finds the stored
/// registration dead, says so, and registers again instead of sending the browser to an error page.
#[tokio::test(flavor = "multi_thread")]
async fn a_reset_server_gets_a_new_registration() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let serve = Serve::start(&dir.path().join("data"), &[]);
    let password = serve.admin_password();
    let mcp = serve.mcp_url();
    assert!(login(&config, &serve, &password).await.success);
    let old = client_id(&config, &serve);
    let addr = serve.addr();
    assert!(serve.stop());

    let reset = Serve::start_on(&dir.path().join("fresh"), &addr, &[]);
    let password = reset.admin_password();
    // (`call` here would name the cause and forget the registration: see the removed-client test;
    // this one shows `login` finding out by itself.)
    let again = login(&config, &reset, &password).await;
    assert!(again.success, "{}", again.stderr);
    assert!(
        again.stderr.contains(&format!(
            "client: the client_id {old} registered earlier is no longer known to the server; \
             registered again"
        )),
        "{}",
        again.stderr
    );
    assert_ne!(client_id(&config, &reset), old);
    assert!(run(&config, &["call", &mcp, "whoami"]).success);
}

/// A corrupt token file: `call`, `tools`, `status` and `logout` name the file and the remedy;
/// `login` moves it aside and signs in afresh.
#[tokio::test(flavor = "multi_thread")]
async fn a_corrupt_token_file_is_named_and_login_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let serve = Serve::start(&dir.path().join("data"), &[]);
    let password = serve.admin_password();
    let mcp = serve.mcp_url();
    std::fs::create_dir_all(&config).unwrap();
    let file = config.join("tokens.json");
    std::fs::write(&file, b"{not json").unwrap();

    for args in [
        vec!["call", mcp.as_str(), "whoami"],
        vec!["tools", mcp.as_str()],
        vec!["status"],
        vec!["logout", mcp.as_str()],
    ] {
        let out = run(&config, &args);
        assert!(!out.success, "{args:?}");
        assert_readable("corrupt", &out);
        assert_eq!(out.stderr.lines().count(), 1, "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.starts_with(&format!(
                "mcp-authz: the token file {} is corrupt (",
                file.display()
            )) && out
                .stderr
                .ends_with("); run `mcp-authz login URL` to move it aside and sign in again\n"),
            "{args:?}: {}",
            out.stderr
        );
    }

    let login = login(&config, &serve, &password).await;
    assert!(login.success, "{}", login.stderr);
    assert!(
        login
            .stderr
            .contains(&format!("the token file {} was corrupt", file.display())),
        "{}",
        login.stderr
    );
    assert_eq!(
        std::fs::read(config.join("tokens.json.corrupt")).unwrap(),
        b"{not json"
    );
    assert!(run(&config, &["call", &mcp, "whoami"]).success);
}

/// The user denies consent: reported in the authorization phase, with the server's error, and
/// nothing stored.
#[tokio::test(flavor = "multi_thread")]
async fn denied_consent_is_reported_in_the_authorization_phase() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let serve = Serve::start(&dir.path().join("data"), &[]);
    let password = serve.admin_password();
    let mut running = spawn(&config, &["login", &serve.mcp_url(), "--no-browser"]);
    let prefix = format!("{}/authorize?", serve.base);
    let url = tokio::task::block_in_place(|| running.line_starting_with(&prefix));
    Browser::new().decide(&url, ADMIN, &password, "deny").await;
    let denied = tokio::task::block_in_place(|| running.finish());
    assert!(!denied.success);
    assert_readable("denied", &denied);
    assert!(!denied.stderr.contains("[3/3]"), "{}", denied.stderr);
    let phase = denied.stderr.find("[2/3] authorization").unwrap();
    let refused = denied
        .stderr
        .find("✗ the authorization was not granted in the browser")
        .unwrap();
    assert!(phase < refused, "{}", denied.stderr);
    assert!(
        last_line(&denied)
            .starts_with("mcp-authz: the authorization server refused: access_denied"),
        "{}",
        denied.stderr
    );
    assert!(
        token_file(&config)["grants"]
            .as_object()
            .unwrap()
            .is_empty()
    );
}

/// Ctrl-C while the browser step waits: one line saying what was left undone, exit code 130, the
/// loopback listener closed, nothing stored.
#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_during_login_says_what_was_left_undone() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let serve = Serve::start(&dir.path().join("data"), &[]);
    let mut running = spawn(
        &config,
        &[
            "login",
            &serve.mcp_url(),
            "--no-browser",
            "--timeout",
            "120",
        ],
    );
    let waiting = tokio::task::block_in_place(|| running.line_starting_with("  … browser:"));
    assert!(waiting.contains("waiting up to 120 s"), "{waiting}");
    let url = tokio::task::block_in_place(|| {
        running.line_starting_with(&format!("{}/authorize?", serve.base))
    });
    let redirect = url::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let sent = std::process::Command::new("kill")
        .args(["-INT", &running.pid().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let interrupted = tokio::task::block_in_place(|| running.finish());
    assert_eq!(interrupted.code, Some(130), "{}", interrupted.stderr);
    assert_eq!(
        last_line(&interrupted),
        "mcp-authz: interrupted: the login did not finish; no new tokens were stored"
    );
    assert!(
        reqwest::get(&redirect).await.is_err(),
        "the loopback listener still answers"
    );
    let grants = std::fs::read_to_string(config.join("tokens.json"))
        .map(|t| serde_json::from_str::<serde_json::Value>(&t).unwrap()["grants"].clone())
        .unwrap_or_default();
    assert!(grants.as_object().is_none_or(|g| g.is_empty()), "{grants}");
}

/// A 404 is a failure with the cause, not a ✓ line; a URL without a scheme gets a hint; `--listen`
/// and `localhost:PORT` are accepted by `serve`.
#[tokio::test(flavor = "multi_thread")]
async fn wrong_urls_and_the_listen_alias() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    let serve = Serve::start(&dir.path().join("data"), &[]);
    let wrong = format!("{}/not-mcp", serve.base);
    let login = run(&config, &["login", &wrong, "--no-browser"]);
    assert!(!login.success);
    assert_readable("404", &login);
    assert!(!login.stderr.contains('✓'), "{}", login.stderr);
    assert_eq!(
        last_line(&login),
        format!(
            "mcp-authz: {wrong} answered 404 Not Found: there is no MCP server at this URL; check \
             the path (MCP servers are often at /mcp)"
        )
    );

    let bare = run(&config, &["login", "mcp.example.com/mcp"]);
    assert!(
        bare.stderr
            .contains("did you mean https://mcp.example.com/mcp ?"),
        "{}",
        bare.stderr
    );

    let listen = Serve::start_on(&dir.path().join("other"), "localhost:0", &[]);
    assert!(
        listen.base.starts_with("http://127.0.0.1:"),
        "{}",
        listen.base
    );
    let help = run(&config, &["serve", "--help"]);
    assert!(help.stdout.contains("[alias: --listen]"), "{}", help.stdout);
    // The help names no source path; the example it points at is printed by the command.
    assert!(!help.stdout.contains("crates/"), "{}", help.stdout);
    let example = run(&config, &["serve", "--example-config"]);
    assert!(
        example.success && example.stdout.contains("bind ="),
        "{}",
        example.stdout
    );
}

/// A database file `serve` cannot write is refused at start, naming the file, instead of a server
/// that starts and then fails every sign-in. As root (who may write any file) the server runs as
/// `nobody` through `setpriv`, so the permission bits count.
#[cfg(unix)]
#[test]
fn serve_refuses_a_read_only_database() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert!(Serve::start(&data, &[]).stop());
    let database = data.join("mcp-authz.sqlite3");
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .unwrap()
        .stdout
        == b"0\n";
    let mut command = if root {
        // `nobody` owns the data directory and must reach it through the temporary directory.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        for entry in [data.clone(), database.clone()] {
            std::os::unix::fs::chown(&entry, Some(65534), Some(65534)).unwrap();
        }
        let mut command = std::process::Command::new("setpriv");
        command.args(["--reuid=65534", "--regid=65534", "--clear-groups"]);
        command.arg(env!("CARGO_BIN_EXE_mcp-authz"));
        command
    } else {
        std::process::Command::new(env!("CARGO_BIN_EXE_mcp-authz"))
    };
    std::fs::set_permissions(&database, std::fs::Permissions::from_mode(0o400)).unwrap();
    let out = command
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .env("XDG_CONFIG_HOME", dir.path().join("serve-config"))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot write the database {}", database.display())),
        "{stderr}"
    );
}
