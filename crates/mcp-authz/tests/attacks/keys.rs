//! Attacks: keys (REQUIREMENTS SEC-14, SEC-15). `serve` runs as the built binary.

use std::io::{BufRead as _, BufReader};
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::common::listening_base;

/// The SQLite file's name inside the data directory.
const DATABASE_FILE: &str = "mcp-authz.sqlite3";

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// `serve --bind 127.0.0.1:0 --data-dir <data> <extra>` under umask 022 (the usual one, which leaves
/// new files readable by everyone unless the server says otherwise); standard error goes to `log`.
fn spawn_serve(data: &Path, extra: &[&str], log: &Path) -> Child {
    let parent = data.parent().unwrap();
    Command::new("sh")
        .arg("-c")
        .arg(r#"umask 022 && exec "$0" "$@""#)
        .arg(env!("CARGO_BIN_EXE_mcp-authz"))
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .args(extra)
        .env("XDG_CONFIG_HOME", parent.join("serve-config"))
        .env_remove("MCP_AUTHZ_DANGEROUS_ALLOW_SHARED_DATA_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap()
}

/// Runs `serve` and returns its standard error; it must have exited without listening (a server
/// that listens is killed and the test fails, rather than waiting for it).
fn serve_refused(data: &Path, log: &Path) -> String {
    let mut child = spawn_serve(data, &[], log);
    let mut first_line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first_line)
        .unwrap();
    if !first_line.is_empty() {
        stop(child);
        panic!("serve started: {first_line}");
    }
    let status = child.wait().unwrap();
    assert!(!status.success());
    std::fs::read_to_string(log).unwrap()
}

fn stop(mut child: Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

// ---------------------------------------------------------------------------------------------
// SEC-14: private signing keys readable by every local user.
// ---------------------------------------------------------------------------------------------

/// A fresh data directory is created 0700 and the database, its write-ahead log and shared-memory
/// file 0600, although the server runs under umask 022: no other local user can read the signing
/// keys.
#[test]
fn a_fresh_data_dir_is_0700_and_its_files_0600() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let log = tmp.path().join("serve.log");
    let mut child = spawn_serve(&data, &[], &log);
    listening_base(&mut child, &log);
    assert_eq!(mode(&data), 0o700, "data directory");
    for file in ["", "-wal", "-shm"] {
        let path = data.join(format!("{DATABASE_FILE}{file}"));
        assert!(path.exists(), "{} missing", path.display());
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }
    stop(child);
}

/// An existing data directory other users can read (0755) is refused at start, with a message
/// naming it; `--dangerous-allow-shared-data-dir` lets the operator start anyway.
#[test]
fn serve_refuses_a_data_dir_other_users_can_read() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir(&data).unwrap();
    set_mode(&data, 0o755);
    let stderr = serve_refused(&data, &tmp.path().join("refused.log"));
    assert!(stderr.contains(&data.display().to_string()), "{stderr}");
    assert!(
        stderr.contains("--dangerous-allow-shared-data-dir"),
        "{stderr}"
    );
    // Nothing was created in it.
    assert_eq!(std::fs::read_dir(&data).unwrap().count(), 0);

    let log = tmp.path().join("allowed.log");
    let mut child = spawn_serve(&data, &["--dangerous-allow-shared-data-dir"], &log);
    listening_base(&mut child, &log);
    stop(child);
    assert!(
        std::fs::read_to_string(&log)
            .unwrap()
            .contains("signing keys")
    );
}

/// A database file someone made readable by others (0644), in a private directory, is refused too.
#[test]
fn serve_refuses_a_database_other_users_can_read() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let log = tmp.path().join("first.log");
    let mut child = spawn_serve(&data, &[], &log);
    listening_base(&mut child, &log);
    stop(child);
    let database = data.join(DATABASE_FILE);
    set_mode(&database, 0o644);
    let stderr = serve_refused(&data, &tmp.path().join("refused.log"));
    assert!(stderr.contains(&database.display().to_string()), "{stderr}");
}
