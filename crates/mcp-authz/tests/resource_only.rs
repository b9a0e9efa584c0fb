//! `serve --authorization-server`: a resource-server-only `serve` protecting the demo MCP server
//! with tokens of another `serve` acting as the authorization server.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod operator_support;

use operator_support::{Server, command, machine_token, mcp_initialize, run, secret_of};

#[tokio::test(flavor = "multi_thread")]
async fn a_resource_server_only_serve_accepts_tokens_for_itself_only() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    // The resource server's address is needed before the authorization server starts: it must
    // know the resource to issue tokens for it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let rs_resource = format!("http://127.0.0.1:{port}/mcp");
    let data = home.join("as-data");
    let mut as_command = command(home);
    as_command
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .arg("--resource")
        .arg(format!("{rs_resource}=mcp:tools,notes:read,notes:write"));
    let authorization_server = Server::start(as_command, &home.join("as.log"));
    let issuer = authorization_server.base.clone();

    let rs_home = home.join("rs-home");
    std::fs::create_dir_all(&rs_home).unwrap();
    let mut rs_command = command(&rs_home);
    rs_command
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .args(["--authorization-server", &issuer]);
    let resource_server = Server::start(rs_command, &home.join("rs.log"));
    assert_eq!(resource_server.base, format!("http://127.0.0.1:{port}"));

    // RFC 9728 metadata names the external authorization server.
    let prm: serde_json::Value = reqwest::get(format!(
        "{}/.well-known/oauth-protected-resource/mcp",
        resource_server.base
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(prm["resource"], rs_resource.as_str());
    assert_eq!(prm["authorization_servers"][0], issuer.as_str());

    let mut add = command(home);
    add.args([
        "clients",
        "add",
        "robot",
        "--client-credentials",
        "--data-dir",
    ])
    .arg(&data);
    let (ok, out, err) = run(add, "");
    assert!(ok, "{err}");
    let secret = secret_of(&out);
    let http = reqwest::Client::new();

    // A token for the resource server is accepted.
    let response = machine_token(&issuer, "robot", &secret, &rs_resource).await;
    assert_eq!(response.status(), 200);
    let token: serde_json::Value = response.json().await.unwrap();
    let for_rs = token["access_token"].as_str().unwrap();
    let accepted = mcp_initialize(&http, &rs_resource, for_rs).await;
    assert_eq!(accepted.status(), 200, "{}", resource_server.stderr());

    // A token for the authorization server's own demo server (another audience) is refused.
    let response = machine_token(&issuer, "robot", &secret, &format!("{issuer}/mcp")).await;
    assert_eq!(response.status(), 200);
    let token: serde_json::Value = response.json().await.unwrap();
    let for_other = token["access_token"].as_str().unwrap();
    let refused = mcp_initialize(&http, &rs_resource, for_other).await;
    assert_eq!(refused.status(), 401);
    let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("invalid_token"), "{challenge}");
    // No token: the challenge points at the resource server's own metadata.
    let anonymous = http
        .post(&rs_resource)
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);

    // The resource server created no state: no data directory under its home.
    assert!(!rs_home.join("data").exists());
    // And it serves no authorization server endpoints.
    let token_endpoint = http
        .post(format!("{}/token", resource_server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(token_endpoint.status(), 404);
}

/// The two can start in any order: a resource server whose authorization server does not answer
/// yet starts anyway, answers `/mcp` 503 with `Retry-After` (never 500, never a pass), and accepts
/// tokens once the authorization server is up, without a restart.
#[tokio::test(flavor = "multi_thread")]
async fn a_resource_server_starts_before_its_authorization_server() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let free_port = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (rs_port, as_port) = (free_port(), free_port());
    let rs_resource = format!("http://127.0.0.1:{rs_port}/mcp");
    let issuer = format!("http://127.0.0.1:{as_port}");

    let rs_home = home.join("rs-home");
    std::fs::create_dir_all(&rs_home).unwrap();
    let mut rs_command = command(&rs_home);
    rs_command
        .args(["serve", "--bind", &format!("127.0.0.1:{rs_port}")])
        .args(["--authorization-server", &issuer]);
    let resource_server = Server::start(rs_command, &home.join("rs.log"));
    assert!(
        resource_server.stderr().contains("does not answer yet"),
        "{}",
        resource_server.stderr()
    );
    let http = reqwest::Client::new();
    let health = http
        .get(format!("{}/healthz", resource_server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    // A well-formed token whose keys cannot be fetched yet: 503, not 401 (the token may be fine).
    let b64 = |json: &str| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    };
    let waiting_token = format!(
        "{}.{}.{}",
        b64(r#"{"alg":"ES256","typ":"at+jwt","kid":"k1"}"#),
        b64(&format!(
            r#"{{"iss":"{issuer}","aud":"{rs_resource}","sub":"s","client_id":"c","exp":4102444800,"iat":1700000000,"jti":"j"}}"#
        )),
        b64(&"x".repeat(64))
    );
    let waiting = mcp_initialize(&http, &rs_resource, &waiting_token).await;
    assert_eq!(waiting.status(), 503, "{}", resource_server.stderr());
    assert!(waiting.headers().contains_key("retry-after"));

    // The authorization server comes up on its address; tokens are accepted without a restart.
    let data = home.join("as-data");
    let mut as_command = command(home);
    as_command
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{as_port}"),
            "--data-dir",
        ])
        .arg(&data)
        .arg("--resource")
        .arg(format!("{rs_resource}=mcp:tools,notes:read,notes:write"));
    let authorization_server = Server::start(as_command, &home.join("as.log"));
    assert_eq!(authorization_server.base, issuer);
    let mut add = command(home);
    add.args([
        "clients",
        "add",
        "robot",
        "--client-credentials",
        "--data-dir",
    ])
    .arg(&data);
    let (ok, out, err) = run(add, "");
    assert!(ok, "{err}");
    let secret = secret_of(&out);
    let response = machine_token(&issuer, "robot", &secret, &rs_resource).await;
    assert_eq!(response.status(), 200);
    let token: serde_json::Value = response.json().await.unwrap();
    let mut status = 0;
    // After a failed fetch the verifier tries again within 2 s (`FAILED_REFETCH_INTERVAL`).
    for _ in 0..40 {
        status = mcp_initialize(&http, &rs_resource, token["access_token"].as_str().unwrap())
            .await
            .status()
            .as_u16();
        if status != 503 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert_eq!(status, 200, "{}", resource_server.stderr());
}

/// An authorization server that answers with metadata for another issuer is a configuration error:
/// one line at start.
#[test]
fn a_misconfigured_authorization_server_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let other = std::process::Command::new(env!("CARGO_BIN_EXE_mcp-authz"));
    drop(other);
    let mut authorization_server_command = command(dir.path());
    authorization_server_command
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("as-data"))
        .args(["--issuer", "http://localhost:1"]);
    let authorization_server =
        Server::start(authorization_server_command, &dir.path().join("as.log"));
    let mut rs = command(dir.path());
    rs.args([
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--authorization-server",
        &authorization_server.base,
    ]);
    let (ok, out, err) = run(rs, "");
    assert!(!ok);
    assert!(out.is_empty(), "{out}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "mcp-authz: cannot discover the authorization server {}",
            authorization_server.base
        )),
        "{err}"
    );
}
