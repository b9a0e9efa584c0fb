//! Two server instances — two independent `PostgresStore` pools on one schema — racing on one code and
//! one refresh token: exactly one wins across instances (AS-7, AS-8).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use mcp_authz_metadata::{ClientId, RedirectUri, ResourceUri, Scope};
use mcp_authz_store::{
    AuthorizationCode, CodeConsumption, CodeExchange, CodeStore, FamilyId, GrantStore,
    NewRefreshToken, NumericDate, RevocationReason, Rotation, SecretHash, Subject,
};
use mcp_authz_store_postgres::PostgresStore;
use tokio::sync::Barrier;

const NOW: NumericDate = NumericDate::from_secs(1_700_000_000);
const RACERS: usize = 64;

fn code(seed: &str, family: &str) -> AuthorizationCode {
    AuthorizationCode {
        hash: SecretHash::of(seed),
        client_id: ClientId::parse("client-a").unwrap(),
        redirect_uri: RedirectUri::parse("http://127.0.0.1/callback").unwrap(),
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
            .parse()
            .unwrap(),
        resources: vec![ResourceUri::parse("https://mcp.example.com/mcp").unwrap()],
        scope: Scope::parse("files:read").unwrap(),
        subject: Subject::parse("alice").unwrap(),
        family_id: FamilyId::parse(family).unwrap(),
        issued_at: NOW,
        expires_at: NOW.saturating_add(Duration::from_secs(60)),
        consumed_at: None,
    }
}

fn refresh(seed: &str) -> NewRefreshToken {
    NewRefreshToken {
        hash: SecretHash::of(seed),
        expires_at: NOW.saturating_add(Duration::from_secs(86_400)),
    }
}

fn exchange(refresh_seed: &str) -> CodeExchange {
    CodeExchange {
        grant_expires_at: NOW.saturating_add(Duration::from_secs(30 * 86_400)),
        refresh_token: Some(refresh(refresh_seed)),
    }
}

/// Two stores on one schema; `None` when the database is unreachable outside CI.
async fn two_instances() -> Option<(sqlx::PgPool, String, [Arc<PostgresStore>; 2])> {
    let admin = common::database().await?;
    let schema = common::fresh_schema(&admin).await;
    let (a, b) = tokio::join!(
        common::builder(&schema).connect(),
        common::builder(&schema).connect()
    );
    Some((admin, schema, [Arc::new(a.unwrap()), Arc::new(b.unwrap())]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_code_consumed_once_across_instances() {
    let Some((admin, schema, stores)) = two_instances().await else {
        return;
    };
    stores[0]
        .insert_code(code("shared", "fam-shared"))
        .await
        .unwrap();
    let barrier = Arc::new(Barrier::new(RACERS));
    let tasks: Vec<_> = (0..RACERS)
        .map(|i| {
            let store = Arc::clone(&stores[i % 2]);
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                let outcome = store
                    .consume_code(&SecretHash::of("shared"), exchange(&format!("r-{i}")), NOW)
                    .await;
                (i % 2, outcome)
            })
        })
        .collect();
    let mut winners = Vec::new();
    let mut replays = 0;
    for task in tasks {
        match task.await.unwrap() {
            (instance, Ok(CodeConsumption::Consumed { .. })) => winners.push(instance),
            (_, Ok(CodeConsumption::AlreadyConsumed { family_id, .. })) => {
                assert_eq!(family_id.as_str(), "fam-shared");
                replays += 1;
            }
            (_, other) => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!((winners.len(), replays), (1, RACERS - 1));
    // Both instances see the one grant, revoked by the replays.
    for store in &stores {
        let grant = store
            .get_grant(&FamilyId::parse("fam-shared").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            grant.revoked.map(|r| r.reason),
            Some(RevocationReason::CodeReplay)
        );
    }
    let tokens: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {schema}.refresh_tokens"))
        .fetch_one(&admin)
        .await
        .unwrap();
    assert_eq!(tokens, 1, "only the winner's first refresh token exists");
    common::drop_schema(&admin, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_refresh_token_rotated_once_across_instances() {
    let Some((admin, schema, stores)) = two_instances().await else {
        return;
    };
    stores[1].insert_code(code("c", "fam-r")).await.unwrap();
    let first = stores[1]
        .consume_code(&SecretHash::of("c"), exchange("A"), NOW)
        .await
        .unwrap();
    assert!(
        matches!(first, CodeConsumption::Consumed { .. }),
        "{first:?}"
    );
    let barrier = Arc::new(Barrier::new(RACERS));
    let tasks: Vec<_> = (0..RACERS)
        .map(|i| {
            let store = Arc::clone(&stores[i % 2]);
            let barrier = Arc::clone(&barrier);
            tokio::spawn(async move {
                barrier.wait().await;
                store
                    .rotate_refresh_token(
                        &SecretHash::of("A"),
                        refresh(&format!("next-{i}")),
                        Scope::parse("files:read").unwrap(),
                        NOW,
                    )
                    .await
            })
        })
        .collect();
    let mut winners = Vec::new();
    let mut reused = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(Rotation::Rotated { token, .. }) => winners.push(token.hash),
            Ok(Rotation::Reused { family_id }) => {
                assert_eq!(family_id.as_str(), "fam-r");
                reused += 1;
            }
            other => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!((winners.len(), reused), (1, RACERS - 1));
    let winner = winners.first().copied().unwrap();
    let after = stores[0]
        .rotate_refresh_token(
            &winner,
            refresh("after"),
            Scope::parse("files:read").unwrap(),
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(
        after,
        Rotation::Revoked {
            family_id: FamilyId::parse("fam-r").unwrap()
        },
        "reuse on one instance revoked the family for the other"
    );
    let tokens: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {schema}.refresh_tokens"))
        .fetch_one(&admin)
        .await
        .unwrap();
    assert_eq!(tokens, 2, "the first token and the winner's successor only");
    common::drop_schema(&admin, &schema).await;
}

/// A rotation on one instance racing a revocation on the other is linearizable: either the rotation
/// wins and returns a grant that was still active, or it sees the family revoked. Never a rotation of
/// a revoked family.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rotation_racing_revocation_is_linearizable() {
    let Some((admin, schema, stores)) = two_instances().await else {
        return;
    };
    let scope = Scope::parse("files:read").unwrap();
    for round in 0..24 {
        let family = format!("fam-{round}");
        let token = format!("tok-{round}");
        stores[0].insert_code(code(&family, &family)).await.unwrap();
        let consumed = stores[0]
            .consume_code(&SecretHash::of(&family), exchange(&token), NOW)
            .await
            .unwrap();
        assert!(matches!(consumed, CodeConsumption::Consumed { .. }));
        let barrier = Arc::new(Barrier::new(2));
        let rotating = {
            let (store, barrier, scope) =
                (Arc::clone(&stores[0]), Arc::clone(&barrier), scope.clone());
            let token = token.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                store
                    .rotate_refresh_token(
                        &SecretHash::of(&token),
                        refresh(&format!("{token}-next")),
                        scope,
                        NOW,
                    )
                    .await
            })
        };
        let revoking = {
            let (store, barrier) = (Arc::clone(&stores[1]), Arc::clone(&barrier));
            let family = FamilyId::parse(&family).unwrap();
            tokio::spawn(async move {
                barrier.wait().await;
                store
                    .revoke_grant(&family, RevocationReason::Requested, NOW)
                    .await
            })
        };
        let rotation = rotating.await.unwrap().unwrap();
        assert!(
            revoking.await.unwrap().unwrap(),
            "the revocation always takes effect"
        );
        match rotation {
            Rotation::Rotated { grant, .. } => assert_eq!(grant.revoked, None, "round {round}"),
            Rotation::Revoked { family_id } => assert_eq!(family_id.as_str(), family),
            other => panic!("round {round}: unexpected {other:?}"),
        }
    }
    common::drop_schema(&admin, &schema).await;
}

/// Revoking a client's grants on one instance while the other consumes one of its codes never leaves
/// a live grant behind: either the code was deleted first (the consume reports it unknown) or the
/// grant it created is revoked.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn client_revocation_racing_consume_leaves_no_live_grant() {
    let Some((admin, schema, stores)) = two_instances().await else {
        return;
    };
    let client = ClientId::parse("client-a").unwrap();
    for round in 0..24 {
        let family = format!("fam-{round}");
        stores[0].insert_code(code(&family, &family)).await.unwrap();
        let barrier = Arc::new(Barrier::new(2));
        let consuming = {
            let (store, barrier) = (Arc::clone(&stores[0]), Arc::clone(&barrier));
            let family = family.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                store
                    .consume_code(
                        &SecretHash::of(&family),
                        exchange(&format!("r-{family}")),
                        NOW,
                    )
                    .await
            })
        };
        let revoking = {
            let (store, barrier, client) =
                (Arc::clone(&stores[1]), Arc::clone(&barrier), client.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                store.revoke_client_grants(&client, NOW).await
            })
        };
        let consumed = consuming.await.unwrap().unwrap();
        let counts = revoking.await.unwrap().unwrap();
        let grant = stores[1]
            .get_grant(&FamilyId::parse(&family).unwrap())
            .await
            .unwrap();
        match consumed {
            CodeConsumption::Consumed { .. } => {
                let grant = grant.expect("the consumed code's grant exists");
                assert!(
                    grant.revoked.is_some(),
                    "round {round}: live grant left behind"
                );
                assert_eq!((counts.grants, counts.pending_codes), (1, 0));
            }
            CodeConsumption::Unknown => {
                assert_eq!(grant, None);
                assert_eq!((counts.grants, counts.pending_codes), (0, 1));
            }
            other => panic!("round {round}: unexpected {other:?}"),
        }
    }
    common::drop_schema(&admin, &schema).await;
}
