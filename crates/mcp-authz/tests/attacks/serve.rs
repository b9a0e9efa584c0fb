//! Attacks on `mcp-authz serve` as a whole (REQUIREMENTS SEC-16, SEC-18), each over real HTTP on
//! 127.0.0.1 against the built binary.

use std::io::Write as _;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use mcp_authz_pkce::CodeVerifier;
use serde_json::Value;

use crate::common::{Serve, command};

/// The demo's loopback redirect URI; nothing listens there (redirects are read, not followed).
const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";

/// A fresh data directory and `serve --dev <extra>` on it.
fn start(extra: &[&str]) -> (tempfile::TempDir, Serve) {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["--dev"];
    args.extend_from_slice(extra);
    let server = Serve::start(&dir.path().join("data"), &args);
    (dir, server)
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// What a legitimate client holds after signing in: its id, its tokens, and the code it used.
struct SignedIn {
    client_id: String,
    access: String,
    refresh: String,
    code: String,
    verifier: String,
}

/// Registers a public client, authorizes it (`--dev` approves at once) and exchanges the code.
async fn sign_in(server: &Serve) -> SignedIn {
    let http = http();
    let registered: Value = http
        .post(format!("{}/register", server.base))
        .json(&serde_json::json!({
            "redirect_uris": [REDIRECT_URI],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "client_name": "Victim app",
            "application_type": "native",
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client_id = registered["client_id"].as_str().unwrap().to_owned();
    let verifier = CodeVerifier::generate().unwrap();
    let mut url = reqwest::Url::parse(&format!("{}/authorize", server.base)).unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &client_id)
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("code_challenge", &verifier.challenge().to_string())
        .append_pair("code_challenge_method", "S256")
        .append_pair("state", "s")
        .append_pair("resource", &server.mcp_url())
        .append_pair("scope", "mcp:tools");
    let response = http.get(url).send().await.unwrap();
    assert!(response.status().is_redirection(), "{}", response.status());
    let location = reqwest::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no code in {location}"));
    let verifier = verifier.secret().to_owned();
    let response = exchange(server, &client_id, &code, &verifier).await;
    assert_eq!(response.status(), 200);
    let tokens: Value = response.json().await.unwrap();
    SignedIn {
        client_id,
        access: tokens["access_token"].as_str().unwrap().to_owned(),
        refresh: tokens["refresh_token"].as_str().unwrap().to_owned(),
        code,
        verifier,
    }
}

/// The authorization-code exchange at `/token`.
async fn exchange(
    server: &Serve,
    client_id: &str,
    code: &str,
    verifier: &str,
) -> reqwest::Response {
    http()
        .post(format!("{}/token", server.base))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("client_id", client_id),
            ("code_verifier", verifier),
            ("resource", &server.mcp_url()),
        ])
        .send()
        .await
        .unwrap()
}

/// The status of an MCP `initialize` at the demo server with `token`.
async fn mcp_status(server: &Serve, token: &str) -> u16 {
    http()
        .post(server.mcp_url())
        .bearer_auth(token)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(
            r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"1"}}}"#,
        )
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Runs an admin command against the running server's data directory, `stdin` on standard input.
fn admin(server: &Serve, home: &Path, args: &[&str], stdin: &str) {
    let mut child = command(home, args)
        .arg("--data-dir")
        .arg(&server.data_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

// ---------------------------------------------------------------------------------------------
// SEC-16: revocation reaches the access tokens the built-in /mcp accepts.
// ---------------------------------------------------------------------------------------------

/// The client revokes its refresh token at `/revoke` (RFC 7009: the whole grant goes); the access
/// token issued with it is refused at `/mcp` at once, not when it expires.
#[tokio::test(flavor = "multi_thread")]
async fn refresh_token_revocation_stops_the_access_token_at_mcp() {
    let (_dir, server) = start(&[]);
    let victim = sign_in(&server).await;
    assert_eq!(mcp_status(&server, &victim.access).await, 200);
    let response = http()
        .post(format!("{}/revoke", server.base))
        .form(&[
            ("token", victim.refresh.as_str()),
            ("token_type_hint", "refresh_token"),
            ("client_id", victim.client_id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(mcp_status(&server, &victim.access).await, 401);
}

/// An access token revoked at `/revoke` by its client is refused at `/mcp` at once.
#[tokio::test(flavor = "multi_thread")]
async fn access_token_revocation_is_effective_at_mcp_at_once() {
    let (_dir, server) = start(&[]);
    let victim = sign_in(&server).await;
    assert_eq!(mcp_status(&server, &victim.access).await, 200);
    let response = http()
        .post(format!("{}/revoke", server.base))
        .form(&[
            ("token", victim.access.as_str()),
            ("client_id", victim.client_id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(mcp_status(&server, &victim.access).await, 401);
}

/// `mcp-authz tokens revoke` (another process, same store) puts a leaked access token on the
/// deny-list; the running server's `/mcp` refuses it at once.
#[tokio::test(flavor = "multi_thread")]
async fn operator_token_revocation_is_effective_at_mcp_at_once() {
    let (dir, server) = start(&[]);
    let leaked = sign_in(&server).await;
    assert_eq!(mcp_status(&server, &leaked.access).await, 200);
    admin(
        &server,
        dir.path(),
        &["tokens", "revoke"],
        &format!("{}\n", leaked.access),
    );
    assert_eq!(mcp_status(&server, &leaked.access).await, 401);
}

/// `mcp-authz clients remove` revokes the client's grants; its access tokens are refused at `/mcp`
/// at once.
#[tokio::test(flavor = "multi_thread")]
async fn removed_client_access_token_is_refused_at_mcp_at_once() {
    let (dir, server) = start(&[]);
    let removed = sign_in(&server).await;
    assert_eq!(mcp_status(&server, &removed.access).await, 200);
    admin(
        &server,
        dir.path(),
        &["clients", "remove", &removed.client_id],
        "",
    );
    assert_eq!(mcp_status(&server, &removed.access).await, 401);
}

/// A replayed authorization code revokes its grant (RFC 9700 §4.5.3.1); the access token the first
/// exchange gave (possibly the attacker's) is refused at `/mcp` at once.
#[tokio::test(flavor = "multi_thread")]
async fn code_replay_stops_the_first_access_token_at_mcp() {
    let (_dir, server) = start(&[]);
    let first = sign_in(&server).await;
    assert_eq!(mcp_status(&server, &first.access).await, 200);
    let replay = exchange(&server, &first.client_id, &first.code, &first.verifier).await;
    assert_eq!(replay.status(), 400);
    assert_eq!(mcp_status(&server, &first.access).await, 401);
}

// ---------------------------------------------------------------------------------------------
// SEC-18: slow or stalled clients cannot hold the listener's resources.
// ---------------------------------------------------------------------------------------------

/// A hang guard for reads that the defence must end much sooner (not a speed assertion).
const PATIENCE: Duration = Duration::from_secs(15);

/// Opens a connection and sends `bytes` (an incomplete request).
async fn send_partial(server: &Serve, bytes: &str) -> TcpStream {
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    stream.write_all(bytes.as_bytes()).await.unwrap();
    stream
}

/// Reads until the server closes the connection; `None` if it is still open after `patience`.
async fn read_to_close(stream: &mut TcpStream, patience: Duration) -> Option<String> {
    let mut received = Vec::new();
    match tokio::time::timeout(patience, stream.read_to_end(&mut received)).await {
        Ok(_) => Some(String::from_utf8_lossy(&received).into_owned()),
        Err(_) => None,
    }
}

/// A complete request head for a cheap public document.
fn complete_request(server: &Serve) -> String {
    format!(
        "GET /jwks.json HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        server.addr()
    )
}

/// Slowloris: a request head that never completes. The connection is closed after the (short,
/// configured) header timeout instead of staying open for as long as the client likes.
#[tokio::test(flavor = "multi_thread")]
async fn incomplete_request_head_is_closed_after_the_header_timeout() {
    let (_dir, server) = start(&["--header-timeout", "1"]);
    let mut slow = send_partial(&server, "GET /jwks.json HTTP/1.1\r\nHost: x\r\n").await;
    let answer = read_to_close(&mut slow, PATIENCE).await;
    assert!(
        answer.is_some(),
        "the incomplete head still holds its connection"
    );
    // Nothing was served for it.
    assert!(!answer.unwrap().contains("200 OK"));
    // The same holds on an idle keep-alive connection that sends nothing at all.
    let mut idle = TcpStream::connect(server.addr()).await.unwrap();
    assert!(read_to_close(&mut idle, PATIENCE).await.is_some());
}

/// Connections beyond `--max-connections` are not served while slow clients hold every slot, so
/// they cannot exhaust the process's sockets and memory; once the slow ones go, a normal request is
/// served.
#[tokio::test(flavor = "multi_thread")]
async fn connections_beyond_the_cap_wait_until_slow_ones_go() {
    let (_dir, server) = start(&["--max-connections", "2", "--header-timeout", "60"]);
    let slow_1 = send_partial(&server, "GET / HTTP/1.1\r\n").await;
    let slow_2 = send_partial(&server, "GET / HTTP/1.1\r\n").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut third = send_partial(&server, &complete_request(&server)).await;
    let mut buffer = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_secs(2), third.read(&mut buffer)).await;
    assert!(
        early.is_err(),
        "a connection beyond the cap was served while the slow ones held every slot"
    );
    drop(slow_1);
    drop(slow_2);
    let answer = read_to_close(&mut third, PATIENCE).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// A request whose body stalls after its head gets 400 with a clear error once the (short,
/// configured) body timeout passes, rather than holding its handler and connection.
#[tokio::test(flavor = "multi_thread")]
async fn stalled_body_gets_400_after_the_body_timeout() {
    let (_dir, server) = start(&["--body-timeout", "1"]);
    let mut stalled = send_partial(
        &server,
        &format!(
            "POST /token HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: 100\r\n\r\ngrant_type=",
            server.addr()
        ),
    )
    .await;
    let answer = read_to_close(&mut stalled, PATIENCE)
        .await
        .expect("the stalled body still holds its connection");
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("invalid_request"), "{answer}");
    assert!(
        answer.contains("did not arrive within 1 seconds"),
        "{answer}"
    );
}

/// SIGTERM while a client stalls a request body: the server stops within the (short, configured)
/// shutdown timeout instead of waiting for the client.
#[tokio::test(flavor = "multi_thread")]
async fn shutdown_with_a_stalled_connection_ends_within_the_shutdown_timeout() {
    let (_dir, mut server) = start(&["--shutdown-timeout", "1", "--body-timeout", "600"]);
    let _stalled = send_partial(
        &server,
        &format!(
            "POST /token HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: 100\r\n\r\ngrant_type=",
            server.addr()
        ),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let exited = tokio::task::block_in_place(|| server.stop_within(PATIENCE));
    assert_eq!(exited, Some(true), "still running, or not a clean exit");
}

/// The same limits hold on the https listener: a client that opens a connection and never finishes
/// the TLS handshake is dropped after the header timeout.
#[tokio::test(flavor = "multi_thread")]
async fn stalled_tls_handshake_is_closed_after_the_header_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let cert = dir.path().join("cert.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.key_pair.serialize_pem()).unwrap();
    let server = Serve::start(
        &dir.path().join("data"),
        &[
            "--header-timeout",
            "1",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    let addr = server.base.trim_start_matches("https://");
    let mut silent = TcpStream::connect(addr).await.unwrap();
    assert!(
        read_to_close(&mut silent, PATIENCE).await.is_some(),
        "a stalled TLS handshake still holds its connection"
    );
    // A partial ClientHello record header, then nothing.
    let mut partial = TcpStream::connect(addr).await.unwrap();
    partial.write_all(&[0x16, 0x03, 0x01, 0x02]).await.unwrap();
    assert!(read_to_close(&mut partial, PATIENCE).await.is_some());
}
