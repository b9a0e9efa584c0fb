//! Group commit keeps operations independent: operations that share one transaction (queued while
//! the writer waits for the file's write lock) get the same results as if each ran alone, and one
//! that fails is rolled back alone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use mcp_authz_metadata::{ClientId, RedirectUri, Scope};
use mcp_authz_store::{
    AuthorizationCode, CodeConsumption, CodeExchange, CodeStore, Entity, FamilyId, GrantStore,
    NewRefreshToken, NumericDate, RefreshStatus, RevokedTokenStore, Rotation, SecretHash,
    StoreError, Subject, TokenId,
};
use mcp_authz_store_sqlite::SqliteStore;
use sqlx::{Connection, SqliteConnection};
use tokio::task::JoinHandle;

const NOW: NumericDate = NumericDate::from_secs(1_700_000_000);
/// Families whose refresh token is rotated inside the shared transaction.
const FAMILIES: usize = 8;
/// The family whose rotation presents a successor hash that already exists.
const DUPLICATE: usize = 6;
/// The family whose already-rotated token is presented again (reuse).
const REUSED: usize = FAMILIES;

fn family(k: usize) -> FamilyId {
    FamilyId::parse(&format!("fam-{k}")).unwrap()
}

fn token(k: usize, n: u32) -> SecretHash {
    SecretHash::of(format!("refresh-{k}-{n}"))
}

fn new_token(hash: SecretHash) -> NewRefreshToken {
    NewRefreshToken {
        hash,
        expires_at: NOW.saturating_add(Duration::from_secs(86_400)),
    }
}

fn scope() -> Scope {
    Scope::parse("files:read").unwrap()
}

fn code(seed: &str, family: FamilyId) -> AuthorizationCode {
    AuthorizationCode {
        hash: SecretHash::of(seed),
        client_id: ClientId::parse("client").unwrap(),
        redirect_uri: RedirectUri::parse("http://127.0.0.1/callback").unwrap(),
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
            .parse()
            .unwrap(),
        resources: vec![],
        scope: scope(),
        subject: Subject::parse("alice").unwrap(),
        family_id: family,
        issued_at: NOW,
        expires_at: NOW.saturating_add(Duration::from_secs(60)),
        consumed_at: None,
    }
}

fn exchange(refresh: SecretHash) -> CodeExchange {
    CodeExchange {
        grant_expires_at: NOW.saturating_add(Duration::from_secs(30 * 86_400)),
        refresh_token: Some(new_token(refresh)),
    }
}

/// A raw connection holding the file's write lock until [`release`].
async fn hold_write_lock(path: &Path) -> SqliteConnection {
    let mut conn = SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut conn)
        .await
        .unwrap();
    conn
}

async fn release(mut conn: SqliteConnection) {
    sqlx::query("ROLLBACK").execute(&mut conn).await.unwrap();
}

fn rotate(
    store: &Arc<SqliteStore>,
    presented: SecretHash,
    next: SecretHash,
) -> JoinHandle<Result<Rotation, StoreError>> {
    let store = Arc::clone(store);
    tokio::spawn(async move {
        store
            .rotate_refresh_token(&presented, new_token(next), scope(), NOW)
            .await
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_operation_does_not_affect_the_others_of_its_batch() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let store = Arc::new(SqliteStore::open(&path).await.unwrap());

    // Families 0..=FAMILIES, each with its first refresh token; family REUSED rotated once.
    for k in 0..=FAMILIES {
        let seed = format!("code-{k}");
        store.insert_code(code(&seed, family(k))).await.unwrap();
        let consumed = store
            .consume_code(&SecretHash::of(&seed), exchange(token(k, 0)), NOW)
            .await
            .unwrap();
        assert!(matches!(consumed, CodeConsumption::Consumed { .. }));
    }
    let first = store
        .rotate_refresh_token(&token(REUSED, 0), new_token(token(REUSED, 1)), scope(), NOW)
        .await
        .unwrap();
    assert!(matches!(first, Rotation::Rotated { .. }));
    store
        .insert_code(code("code-dup-family", family(0)))
        .await
        .unwrap();

    // The writer takes a first operation alone and waits for the lock held here; everything below
    // queues meanwhile and runs as the next batch, in one transaction.
    let lock = hold_write_lock(&path).await;
    let blocker = {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            let jti = TokenId::parse("jti-blocker").unwrap();
            store
                .revoke_access_token(&jti, NOW.saturating_add(Duration::from_secs(60)))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;

    let mut rotations = Vec::new();
    for k in 0..FAMILIES {
        // The duplicate's successor hash is family 0's first token, which exists.
        let next = if k == DUPLICATE {
            token(0, 0)
        } else {
            token(k, 1)
        };
        rotations.push(rotate(&store, token(k, 0), next));
    }
    let reuse = rotate(&store, token(REUSED, 0), token(REUSED, 2));
    let duplicate_grant = {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            store
                .consume_code(
                    &SecretHash::of("code-dup-family"),
                    exchange(token(99, 0)),
                    NOW,
                )
                .await
        })
    };
    let duplicate_code = {
        let store = Arc::clone(&store);
        tokio::spawn(async move { store.insert_code(code("code-1", family(42))).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    release(lock).await;

    blocker.await.unwrap().unwrap();
    for (k, rotation) in rotations.into_iter().enumerate() {
        let outcome = rotation.await.unwrap();
        if k == DUPLICATE {
            assert!(
                matches!(
                    outcome,
                    Err(StoreError::Conflict {
                        entity: Entity::RefreshToken,
                        ..
                    })
                ),
                "family {k}: {outcome:?}"
            );
        } else {
            assert!(
                matches!(outcome, Ok(Rotation::Rotated { ref grant, .. }) if grant.id == family(k)),
                "family {k}: {outcome:?}"
            );
        }
    }
    assert_eq!(
        reuse.await.unwrap(),
        Ok(Rotation::Reused {
            family_id: family(REUSED)
        })
    );
    let outcome = duplicate_grant.await.unwrap();
    assert!(
        matches!(
            outcome,
            Err(StoreError::Conflict {
                entity: Entity::Grant,
                ..
            })
        ),
        "{outcome:?}"
    );
    let outcome = duplicate_code.await.unwrap();
    assert!(
        matches!(
            outcome,
            Err(StoreError::Conflict {
                entity: Entity::AuthorizationCode,
                ..
            })
        ),
        "{outcome:?}"
    );

    // What committed: every successful operation; nothing of the failed ones.
    for k in 0..FAMILIES {
        let presented = store.find_refresh_token(&token(k, 0), NOW).await.unwrap();
        let presented = presented.unwrap();
        let successor = store.find_refresh_token(&token(k, 1), NOW).await.unwrap();
        if k == DUPLICATE {
            assert_eq!(presented.status, RefreshStatus::Active, "family {k}");
            assert_eq!(successor, None, "family {k}");
        } else {
            assert_eq!(presented.status, RefreshStatus::Rotated, "family {k}");
            assert_eq!(successor.unwrap().status, RefreshStatus::Active);
        }
        assert_eq!(
            store.get_grant(&family(k)).await.unwrap().unwrap().revoked,
            None
        );
    }
    let reused = store.get_grant(&family(REUSED)).await.unwrap().unwrap();
    assert!(reused.revoked.is_some(), "reuse revokes the family");
    let unspent = store
        .find_code(&SecretHash::of("code-dup-family"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unspent.consumed_at, None, "the failed spend is rolled back");
    assert_eq!(
        store.find_refresh_token(&token(99, 0), NOW).await.unwrap(),
        None
    );
    assert_eq!(
        store.get_grant(&family(42)).await.unwrap(),
        None,
        "no grant"
    );
    assert!(
        store
            .is_access_token_revoked(&TokenId::parse("jti-blocker").unwrap(), NOW)
            .await
            .unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_that_cannot_begin_fails_every_operation_as_unavailable_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let store = Arc::new(
        SqliteStore::open_with(
            mcp_authz_store_sqlite::SqliteOptions::new(&path)
                .busy_timeout(Duration::from_millis(300)),
        )
        .await
        .unwrap(),
    );
    for k in 0..4 {
        let seed = format!("code-{k}");
        store.insert_code(code(&seed, family(k))).await.unwrap();
    }
    let lock = hold_write_lock(&path).await;
    let spends: Vec<_> = (0..4)
        .map(|k| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .consume_code(
                        &SecretHash::of(format!("code-{k}")),
                        exchange(token(k, 0)),
                        NOW,
                    )
                    .await
            })
        })
        .collect();
    for spend in spends {
        let outcome = spend.await.unwrap();
        assert!(
            matches!(outcome, Err(StoreError::Unavailable { .. })),
            "{outcome:?}"
        );
    }
    release(lock).await;
    for k in 0..4 {
        let code = store
            .find_code(&SecretHash::of(format!("code-{k}")))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(code.consumed_at, None);
    }
    // The writer recovers once the lock is free.
    let outcome = store
        .consume_code(&SecretHash::of("code-0"), exchange(token(0, 0)), NOW)
        .await
        .unwrap();
    assert!(matches!(outcome, CodeConsumption::Consumed { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_lets_queued_writes_finish_and_every_acknowledged_one_is_committed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let store = Arc::new(SqliteStore::open(&path).await.unwrap());
    for k in 0..FAMILIES {
        let seed = format!("code-{k}");
        store.insert_code(code(&seed, family(k))).await.unwrap();
        let consumed = store
            .consume_code(&SecretHash::of(&seed), exchange(token(k, 0)), NOW)
            .await
            .unwrap();
        assert!(matches!(consumed, CodeConsumption::Consumed { .. }));
    }
    let rotations: Vec<_> = (0..FAMILIES)
        .map(|k| rotate(&store, token(k, 0), token(k, 1)))
        .collect();
    store.close().await;
    let mut outcomes = Vec::new();
    for rotation in rotations {
        outcomes.push(rotation.await.unwrap());
    }
    let late = store
        .rotate_refresh_token(&token(0, 0), new_token(token(0, 9)), scope(), NOW)
        .await;
    assert!(
        matches!(late, Err(StoreError::Unavailable { .. })),
        "{late:?}"
    );

    let reopened = SqliteStore::open(&path).await.unwrap();
    for (k, outcome) in outcomes.into_iter().enumerate() {
        let presented = reopened
            .find_refresh_token(&token(k, 0), NOW)
            .await
            .unwrap()
            .unwrap();
        match outcome {
            Ok(Rotation::Rotated { .. }) => {
                assert_eq!(presented.status, RefreshStatus::Rotated, "family {k}");
            }
            Err(StoreError::Unavailable { .. }) => {
                assert_eq!(presented.status, RefreshStatus::Active, "family {k}");
            }
            other => panic!("family {k}: {other:?}"),
        }
    }
    assert_eq!(
        reopened
            .find_refresh_token(&token(0, 9), NOW)
            .await
            .unwrap(),
        None
    );
}

/// An operation that has already written when it fails (a rotation whose grant no longer decodes,
/// after its UPDATE and INSERT ran) is rolled back to its own savepoint: its writes are undone, it
/// keeps its own error, and the others of its batch commit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operation_failing_after_it_wrote_is_rolled_back_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    let store = Arc::new(SqliteStore::open(&path).await.unwrap());
    for k in 0..3 {
        let seed = format!("code-{k}");
        store.insert_code(code(&seed, family(k))).await.unwrap();
        let consumed = store
            .consume_code(&SecretHash::of(&seed), exchange(token(k, 0)), NOW)
            .await
            .unwrap();
        assert!(matches!(consumed, CodeConsumption::Consumed { .. }));
    }
    // Family 0's grant no longer decodes: its rotation writes, then fails as `Corrupt`.
    let mut raw = SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::query("UPDATE grants SET resources = 'not json' WHERE id = 'fam-0'")
        .execute(&mut raw)
        .await
        .unwrap();
    raw.close().await.unwrap();

    let lock = hold_write_lock(&path).await;
    let blocker = {
        let store = Arc::clone(&store);
        tokio::spawn(async move {
            let jti = TokenId::parse("jti-blocker").unwrap();
            store
                .revoke_access_token(&jti, NOW.saturating_add(Duration::from_secs(60)))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    let rotations: Vec<_> = (0..3)
        .map(|k| rotate(&store, token(k, 0), token(k, 1)))
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    release(lock).await;
    blocker.await.unwrap().unwrap();

    for (k, rotation) in rotations.into_iter().enumerate() {
        let outcome = rotation.await.unwrap();
        if k == 0 {
            assert!(
                matches!(outcome, Err(StoreError::Corrupt { .. })),
                "family {k}: {outcome:?}"
            );
        } else {
            assert!(
                matches!(outcome, Ok(Rotation::Rotated { ref grant, .. }) if grant.id == family(k)),
                "family {k}: {outcome:?}"
            );
        }
    }
    // Family 0's token is neither rotated nor succeeded; the others' are.
    let mut raw = SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let tokens: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT family_id, count(rotated_at), count(*) FROM refresh_tokens \
         GROUP BY family_id ORDER BY family_id",
    )
    .fetch_all(&mut raw)
    .await
    .unwrap();
    raw.close().await.unwrap();
    assert_eq!(
        tokens,
        [
            ("fam-0".to_owned(), 0, 1),
            ("fam-1".to_owned(), 1, 2),
            ("fam-2".to_owned(), 1, 2)
        ]
    );
}
