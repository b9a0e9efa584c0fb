//! The shared behavioural kit of `mcp-authz-store`, unchanged, against `SqliteStore`:
//! - `file::*`: one named test per kit test, each on a fresh database **file** in its own temporary
//!   directory (WAL, the default pools), as deployed;
//! - `in_memory_run_all`: every kit test in sequence against `SqliteStore::in_memory()`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cell::RefCell;

use mcp_authz_store_sqlite::SqliteStore;
use tempfile::TempDir;

thread_local! {
    /// The temporary directories of the stores created on this thread. A kit test runs its store on
    /// the test's own thread (`testkit::run` blocks on it), so the directory is removed when the test
    /// thread ends, after the test.
    static DIRS: RefCell<Vec<TempDir>> = const { RefCell::new(Vec::new()) };
}

/// A fresh store on a new database file in a new temporary directory.
async fn fresh_file_store() -> SqliteStore {
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let store = SqliteStore::open(dir.path().join("store.db"))
        .await
        .expect("open a fresh SQLite database file");
    DIRS.with(|dirs| dirs.borrow_mut().push(dir));
    store
}

mod file {
    mcp_authz_store::testkit_tests!(super::fresh_file_store());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn in_memory_run_all() {
    mcp_authz_store::testkit::run_all(|| async {
        SqliteStore::in_memory()
            .await
            .expect("open an in-memory database")
    })
    .await;
}
