//! Opening, durability settings, schema versions, and the typed `Unavailable` / `Corrupt` errors of a
//! file database; secrets stored only as hashes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::{Duration, Instant};

use mcp_authz_metadata::{ClientId, RedirectUri, Scope};
use mcp_authz_store::{
    AuthorizationCode, CodeConsumption, CodeExchange, CodeStore, Entity, FamilyId, GrantStore,
    NewRefreshToken, NumericDate, SecretHash, StoreError, Subject,
};
use mcp_authz_store_sqlite::{OpenError, SqliteOptions, SqliteStore, Synchronous};
use sqlx::{Connection, SqliteConnection};

const NOW: NumericDate = NumericDate::from_secs(1_700_000_000);

fn code(seed: &str, family: &str) -> AuthorizationCode {
    AuthorizationCode {
        hash: SecretHash::of(seed),
        client_id: ClientId::parse("client").unwrap(),
        redirect_uri: RedirectUri::parse("http://127.0.0.1/callback").unwrap(),
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
            .parse()
            .unwrap(),
        resources: vec![],
        scope: Scope::parse("files:read").unwrap(),
        subject: Subject::parse("alice").unwrap(),
        family_id: FamilyId::parse(family).unwrap(),
        issued_at: NOW,
        expires_at: NOW.saturating_add(Duration::from_secs(60)),
        consumed_at: None,
    }
}

fn exchange(refresh_seed: &str) -> CodeExchange {
    CodeExchange {
        grant_expires_at: NOW.saturating_add(Duration::from_secs(86_400)),
        refresh_token: Some(NewRefreshToken {
            hash: SecretHash::of(refresh_seed),
            expires_at: NOW.saturating_add(Duration::from_secs(3_600)),
        }),
    }
}

/// A raw connection to the file, bypassing the store (for locks, tampering and inspection).
async fn raw(path: &Path) -> SqliteConnection {
    SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap()
}

#[tokio::test]
async fn data_survives_reopen_and_the_file_is_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let store = SqliteStore::open_with(SqliteOptions::new(&path).synchronous(Synchronous::Full))
        .await
        .unwrap();
    store.insert_code(code("c1", "fam-1")).await.unwrap();
    store.close().await;

    let store = SqliteStore::open(&path).await.unwrap();
    assert_eq!(
        store.find_code(&SecretHash::of("c1")).await.unwrap(),
        Some(code("c1", "fam-1"))
    );
    let mut conn = raw(&path).await;
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let versions: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    // Every embedded migration, each applied once.
    let every: Vec<i64> = (1..=SqliteStore::supported_schema_version()).collect();
    assert_eq!(versions, every);
}

#[tokio::test]
async fn a_newer_schema_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    SqliteStore::open(&path).await.unwrap().close().await;
    let supported = SqliteStore::supported_schema_version();
    let future = supported + 1;
    let mut conn = raw(&path).await;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (?1, 'from a newer release', TRUE, X'00', 0)",
    )
    .bind(future)
    .execute(&mut conn)
    .await
    .unwrap();

    let refused = SqliteStore::open(&path).await.unwrap_err();
    assert_eq!(
        refused,
        OpenError::SchemaTooNew {
            found: future,
            supported
        }
    );
    let max: i64 = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(max, future);
}

#[tokio::test]
async fn a_write_locked_database_is_unavailable_after_the_busy_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let busy = Duration::from_millis(200);
    let store = SqliteStore::open_with(SqliteOptions::new(&path).busy_timeout(busy))
        .await
        .unwrap();
    store.insert_code(code("c1", "fam-1")).await.unwrap();

    // Another process (here: connection) holds the write lock.
    let mut other = raw(&path).await;
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();

    let started = Instant::now();
    let err = store
        .consume_code(&SecretHash::of("c1"), exchange("r1"), NOW)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Unavailable { .. }), "got {err:?}");
    assert!(started.elapsed() >= busy, "waited {:?}", started.elapsed());
    let err = store.insert_code(code("c2", "fam-2")).await.unwrap_err();
    assert!(err.is_unavailable(), "got {err:?}");
    // WAL: readers are not blocked by the writer.
    let unspent = store
        .find_code(&SecretHash::of("c1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unspent.consumed_at, None);

    sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
    let outcome = store
        .consume_code(&SecretHash::of("c1"), exchange("r1"), NOW)
        .await
        .unwrap();
    assert!(
        matches!(outcome, CodeConsumption::Consumed { .. }),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_closed_store_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("store.db"))
        .await
        .unwrap();
    store.close().await;
    let write = store.insert_code(code("c1", "fam-1")).await.unwrap_err();
    assert!(write.is_unavailable(), "got {write:?}");
    let read = store.find_code(&SecretHash::of("c1")).await.unwrap_err();
    assert!(read.is_unavailable(), "got {read:?}");
}

#[tokio::test]
async fn opening_what_cannot_be_opened_is_typed() {
    let dir = tempfile::tempdir().unwrap();
    let missing_dir = dir.path().join("no-such-dir").join("store.db");
    let err = SqliteStore::open(&missing_dir).await.unwrap_err();
    assert!(err.is_unavailable(), "got {err:?}");

    let absent = dir.path().join("absent.db");
    let err = SqliteStore::open_with(SqliteOptions::new(&absent).create_if_missing(false))
        .await
        .unwrap_err();
    assert!(err.is_unavailable(), "got {err:?}");
    assert!(!absent.exists());

    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![0x5a; 8192]).unwrap();
    let err = SqliteStore::open(&garbage).await.unwrap_err();
    assert!(matches!(err, OpenError::Corrupt { .. }), "got {err:?}");

    let err =
        SqliteStore::open_with(SqliteOptions::new(dir.path().join("x.db")).max_connections(0))
            .await
            .unwrap_err();
    assert!(
        matches!(err, OpenError::InvalidOptions { .. }),
        "got {err:?}"
    );
}

#[tokio::test]
async fn a_row_that_does_not_parse_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let store = SqliteStore::open(&path).await.unwrap();
    store.insert_code(code("c1", "fam-1")).await.unwrap();
    let outcome = store
        .consume_code(&SecretHash::of("c1"), exchange("r1"), NOW)
        .await
        .unwrap();
    assert!(matches!(outcome, CodeConsumption::Consumed { .. }));

    let mut conn = raw(&path).await;
    sqlx::query("UPDATE grants SET scope = 'a  b' WHERE id = 'fam-1'")
        .execute(&mut conn)
        .await
        .unwrap();
    let err = store
        .get_grant(&FamilyId::parse("fam-1").unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Corrupt {
                entity: Entity::Grant,
                ..
            }
        ),
        "got {err:?}"
    );
    let err = store
        .find_refresh_token(&SecretHash::of("r1"), NOW)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "got {err:?}");
}

#[tokio::test]
async fn codes_and_refresh_tokens_are_stored_only_as_sha256_digests() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let (code_secret, refresh_secret) = ("code-plaintext-5f1c2e", "refresh-plaintext-9a7b3d");
    store.insert_code(code(code_secret, "fam-1")).await.unwrap();
    let outcome = store
        .consume_code(&SecretHash::of(code_secret), exchange(refresh_secret), NOW)
        .await
        .unwrap();
    assert!(matches!(outcome, CodeConsumption::Consumed { .. }));

    let mut conn = raw(&path).await;
    let code_hash: Vec<u8> = sqlx::query_scalar("SELECT hash FROM codes")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(code_hash, SecretHash::of(code_secret).as_bytes());
    let token_hash: Vec<u8> = sqlx::query_scalar("SELECT hash FROM refresh_tokens")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(token_hash, SecretHash::of(refresh_secret).as_bytes());
    // Close (not drop) the raw connection, so it does not remove the -wal/-shm files in the background
    // while they are being read below.
    sqlx::Connection::close(conn).await.unwrap();
    store.close().await;

    // Neither secret appears anywhere in the database, its log or its shared memory.
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = match std::fs::read(entry.unwrap().path()) {
            Ok(bytes) => bytes,
            // SQLite may delete its -wal/-shm files on the last close; a file that is gone holds nothing.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => panic!("reading a database file: {e}"),
        };
        for secret in [code_secret, refresh_secret] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} found in clear"
            );
        }
    }
}

/// A consent written under schema version 1 (no resources) reads back after the upgrade with no
/// resources, so it covers no request and the user is asked again (REQUIREMENTS SEC-13).
#[tokio::test]
async fn consents_from_schema_1_get_no_resources_and_cover_nothing() {
    use mcp_authz_store::ConsentStore as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let first = dir.path().join("schema-1");
    std::fs::create_dir(&first).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/0001_initial.sql"),
        first.join("0001_initial.sql"),
    )
    .unwrap();
    let mut conn = SqliteConnection::connect(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
    sqlx::migrate::Migrator::new(first.as_path())
        .await
        .unwrap()
        .run(&mut conn)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO consents (subject, client_id, scope, granted_at) \
         VALUES ('alice', 'client', 'files:read', ?1)",
    )
    .bind(NOW.as_i64())
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();

    let store = SqliteStore::open(&path).await.unwrap();
    let consent = store
        .get_consent(
            &Subject::parse("alice").unwrap(),
            &ClientId::parse("client").unwrap(),
        )
        .await
        .unwrap()
        .unwrap();
    assert!(consent.resources.is_empty());
    assert_eq!(consent.scope, Scope::parse("files:read").unwrap());
    let resource = mcp_authz_metadata::ResourceUri::parse("https://mcp.example.com/mcp").unwrap();
    assert!(!consent.covers(&[resource], &consent.scope));
}
