//! SEC-14: a database file the store creates, and its `-wal` and `-shm` files, are mode 0600 (owner
//! only) under the usual umask 022, which would otherwise leave them 0644: readable by every local
//! user, with the server's private signing keys inside.
//!
//! The umask belongs to the whole process, so the check runs in a child: this test binary runs
//! itself again through `sh -c 'umask 022; exec ...'`, selecting only the child test.
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::Command;

use mcp_authz_store::{NumericDate, RevokedTokenStore, TokenId};
use mcp_authz_store_sqlite::SqliteStore;

/// Set in the child: the directory to create the database in.
const CHILD_DIR: &str = "MCP_AUTHZ_TEST_FILE_MODE_DIR";

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_new_database_and_its_wal_and_shm_are_private_under_umask_022() {
    let dir = tempfile::tempdir().unwrap();
    let status = Command::new("sh")
        .arg("-c")
        .arg(r#"umask 022 && exec "$0" --exact child_opens_a_database --include-ignored --test-threads 1"#)
        .arg(std::env::current_exe().unwrap())
        .env(CHILD_DIR, dir.path())
        .status()
        .unwrap();
    assert!(status.success(), "the child test failed");
    let db = dir.path().join("store.db");
    assert_eq!(mode(&db), 0o600, "database file");
    for companion in ["store.db-wal", "store.db-shm"] {
        let path = dir.path().join(companion);
        assert!(
            path.exists(),
            "{companion} should exist while the child held it open"
        );
        assert_eq!(mode(&path), 0o600, "{companion}");
    }
}

/// Runs only as the child of the test above.
#[tokio::test]
#[ignore = "run by a_new_database_and_its_wal_and_shm_are_private_under_umask_022"]
async fn child_opens_a_database() {
    let dir = std::env::var_os(CHILD_DIR).expect("run by the parent test");
    let db = Path::new(&dir).join("store.db");
    // A control: a file created the ordinary way is 0644 under this umask.
    let control = Path::new(&dir).join("control");
    std::fs::write(&control, b"").unwrap();
    assert_eq!(
        mode(&control),
        0o644,
        "the child should run under umask 022"
    );
    let store = SqliteStore::open(&db).await.unwrap();
    // A write, so the write-ahead log and the shared-memory index exist.
    let jti = TokenId::parse("jti-1").unwrap();
    store
        .revoke_access_token(&jti, NumericDate::from_secs(2_000))
        .await
        .unwrap();
    // Kept open (not closed) so the -wal and -shm files remain for the parent to inspect.
    std::mem::forget(store);
}
