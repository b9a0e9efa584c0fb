//! The built binary, run as a user would: one-line errors, non-zero exits, real reports.
#![allow(clippy::unwrap_used)] // helpers outside #[test] functions

use std::io::Write as _;
use std::process::{Command, Stdio};

fn mcp_authz(args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mcp-authz"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    // A command that fails before reading its input may have exited already: a broken pipe here is
    // the race, not an error of the command.
    if let Err(e) = input.write_all(stdin.unwrap_or("").as_bytes()) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    drop(input);
    let output = child.wait_with_output().unwrap();
    (
        output.status.success(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn pkce_prints_a_verifier_and_its_challenge() {
    let (ok, out, _) = mcp_authz(&["pkce"], None);
    assert!(ok);
    let value = |key: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap()
            .to_owned()
    };
    let verifier = mcp_authz_pkce::CodeVerifier::parse(&value("code_verifier")).unwrap();
    assert_eq!(verifier.challenge().to_string(), value("code_challenge"));
    assert_eq!(value("code_challenge_method"), "S256");
}

#[test]
fn challenge_is_explained() {
    let (ok, out, _) = mcp_authz(
        &[
            "challenge",
            r#"Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource", scope="files:read""#,
        ],
        None,
    );
    assert!(ok);
    assert!(out.contains(
        "resource_metadata: https://mcp.example.com/.well-known/oauth-protected-resource"
    ));
    assert!(out.contains("scope: files:read"));
    assert!(out.contains("error: none"));
}

#[test]
fn malformed_challenge_is_a_one_line_error() {
    let (ok, out, err) = mcp_authz(&["challenge", r#"Bearer scope="unterminated"#], None);
    assert!(!ok);
    assert!(out.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("mcp-authz: invalid WWW-Authenticate value"));
}

#[test]
fn as_metadata_with_the_wrong_issuer_fails() {
    let doc = r#"{"issuer":"https://honest.example","authorization_endpoint":"https://honest.example/a",
        "token_endpoint":"https://honest.example/t","response_types_supported":["code"],
        "code_challenge_methods_supported":["S256"]}"#;
    let (ok, out, _) = mcp_authz(
        &[
            "check-as-metadata",
            "-",
            "--issuer",
            "https://honest.example",
        ],
        Some(doc),
    );
    assert!(ok, "{out}");
    assert!(out.starts_with("ok: issuer https://honest.example"));
    let (ok, _, err) = mcp_authz(
        &[
            "check-as-metadata",
            "-",
            "--issuer",
            "https://attacker.example",
        ],
        Some(doc),
    );
    assert!(!ok);
    assert!(err.contains("fails MCP's rules"), "{err}");
}

#[test]
fn as_metadata_without_s256_fails() {
    let doc = r#"{"issuer":"https://as.example","authorization_endpoint":"https://as.example/a",
        "token_endpoint":"https://as.example/t","response_types_supported":["code"]}"#;
    let (ok, _, err) = mcp_authz(
        &["check-as-metadata", "-", "--issuer", "https://as.example"],
        Some(doc),
    );
    assert!(!ok);
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn resource_metadata_must_name_the_server() {
    let doc = r#"{"resource":"https://mcp.example.com/mcp","authorization_servers":["https://as.example"],"scopes_supported":["tools:call","offline_access"]}"#;
    let (ok, out, _) = mcp_authz(
        &[
            "check-resource-metadata",
            "-",
            "--resource",
            "HTTPS://MCP.example.com/mcp",
        ],
        Some(doc),
    );
    assert!(ok, "{out}");
    assert!(out.contains("authorization server: https://as.example"));
    let (ok, _, err) = mcp_authz(
        &[
            "check-resource-metadata",
            "-",
            "--resource",
            "https://mcp.example.com/other",
        ],
        Some(doc),
    );
    assert!(!ok);
    assert!(err.contains("fails MCP's rules"), "{err}");
}

#[test]
fn canonical_lists_discovery_urls_in_order() {
    let (ok, out, _) = mcp_authz(&["canonical", "HTTPS://Example.com/public/mcp"], None);
    assert!(ok);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "canonical: https://example.com/public/mcp");
    assert_eq!(
        lines[1],
        "protected resource metadata candidate: https://example.com/.well-known/oauth-protected-resource/public/mcp"
    );
    assert_eq!(
        lines[2],
        "protected resource metadata candidate: https://example.com/.well-known/oauth-protected-resource"
    );
}

#[test]
fn bad_input_is_one_line_and_non_zero() {
    for args in [
        vec!["canonical", "mcp.example.com"],
        vec![
            "check-as-metadata",
            "/nonexistent/file.json",
            "--issuer",
            "https://as.example",
        ],
        vec![
            "check-as-metadata",
            "-",
            "--issuer",
            "http://not-loopback.example",
        ],
    ] {
        let (ok, _, err) = mcp_authz(&args, Some("{}"));
        assert!(!ok, "{args:?}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("mcp-authz: "), "{err}");
    }
    let (ok, _, err) = mcp_authz(&["no-such-command"], None);
    assert!(!ok);
    assert!(!err.contains("panicked"));
}

#[test]
fn inspect_explains_a_requirement_id_and_refuses_an_unknown_one() {
    let (ok, out, err) = mcp_authz(&["inspect", "--explain", "sec-10"], None);
    assert!(ok, "{err}");
    assert!(out.starts_with("SEC-10 — no token without a user"), "{out}");
    assert!(out.contains("client_credentials"), "{out}");
    let (ok, _, err) = mcp_authz(&["inspect", "--explain", "XX-1"], None);
    assert!(!ok);
    assert!(err.contains("no requirement \"XX-1\""), "{err}");
}

#[test]
fn help_lists_every_command_by_task_and_completions_are_printed() {
    let (ok, out, _) = mcp_authz(&["--help"], None);
    assert!(ok);
    for command in [
        "serve",
        "login",
        "tools",
        "call",
        "status",
        "logout",
        "inspect",
        "completions",
    ] {
        assert!(
            out.contains(&format!("  {command}")),
            "{command} missing:\n{out}"
        );
    }
    assert!(out.contains("Use an MCP server:"), "{out}");
    for shell in ["bash", "zsh", "fish"] {
        let (ok, script, err) = mcp_authz(&["completions", shell], None);
        assert!(ok, "{err}");
        assert!(
            script.contains("mcp-authz") && script.contains("logout"),
            "{shell}"
        );
    }
}
