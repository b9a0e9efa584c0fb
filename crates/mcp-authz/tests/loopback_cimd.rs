//! `serve --dangerous-allow-loopback-cimd`: refused off loopback and with a file that holds no
//! certificate, before anything is created. (The option's working path, a Client ID Metadata Document
//! on https://127.0.0.1, is exercised by `cargo xtask interop` with the TypeScript SDK's client.)
#![allow(clippy::unwrap_used)] // the helper outside #[test] functions

use std::process::{Command, Stdio};

fn run_to_end(args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_mcp-authz"))
        .args(args)
        .env("XDG_CONFIG_HOME", "/nonexistent-mcp-authz-test")
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
fn loopback_cimd_off_loopback_is_refused_before_anything_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let pem = dir.path().join("roots.pem");
    std::fs::write(&pem, b"").unwrap();
    let (ok, out, err) = run_to_end(&[
        "serve",
        "--bind",
        "0.0.0.0:0",
        "--data-dir",
        data.to_str().unwrap(),
        "--dangerous-allow-loopback-cimd",
        pem.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("--dangerous-allow-loopback-cimd")
            && err.contains("only allowed on a loopback address, not 0.0.0.0:0"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!data.exists());
}

#[test]
fn loopback_cimd_without_a_certificate_is_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let pem = dir.path().join("roots.pem");
    std::fs::write(&pem, b"not a certificate\n").unwrap();
    let (ok, out, err) = run_to_end(&[
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--data-dir",
        data.to_str().unwrap(),
        "--dangerous-allow-loopback-cimd",
        pem.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("no PEM certificate in"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!data.exists());
}
