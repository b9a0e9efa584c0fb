//! Memory-store costs of the two hot atomic operations: spending a code (with grant and first refresh
//! token creation) and rotating a refresh token. Only the store operation is timed; records and hashes
//! are prepared outside the measurement.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use mcp_authz_metadata::{ClientId, RedirectUri, ResourceUri, Scope};
use mcp_authz_store::{
    AuthorizationCode, CodeConsumption, CodeExchange, CodeStore, FamilyId, GrantStore, MemoryStore,
    NewRefreshToken, NumericDate, Rotation, SecretHash, Subject,
};

const NOW: NumericDate = NumericDate::from_secs(1_700_000_000);

fn code(n: u64) -> AuthorizationCode {
    AuthorizationCode {
        hash: SecretHash::of(format!("code-{n}")),
        client_id: ClientId::parse("bench-client").unwrap(),
        redirect_uri: RedirectUri::parse("http://127.0.0.1/callback").unwrap(),
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
            .parse()
            .unwrap(),
        resources: vec![ResourceUri::parse("https://mcp.example.com").unwrap()],
        scope: Scope::parse("files:read tools:call").unwrap(),
        subject: Subject::parse("alice").unwrap(),
        family_id: FamilyId::parse(&format!("fam-{n}")).unwrap(),
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

fn memory(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();

    let mut round = 0u64;
    c.bench_function("memory/consume_code", |b| {
        b.iter_custom(|iters| {
            round += 1;
            let store = MemoryStore::new();
            let mut hashes = Vec::with_capacity(iters as usize);
            let mut exchanges = Vec::with_capacity(iters as usize);
            for i in 0..iters {
                let n = round * 1_000_000_000 + i;
                let issued = code(n);
                hashes.push(issued.hash);
                rt.block_on(store.insert_code(issued)).unwrap();
                exchanges.push(CodeExchange {
                    grant_expires_at: NOW.saturating_add(Duration::from_secs(86_400)),
                    refresh_token: Some(refresh(&format!("r-{n}"))),
                });
            }
            let start = Instant::now();
            for (hash, exchange) in hashes.iter().zip(exchanges) {
                let outcome = rt
                    .block_on(store.consume_code(hash, exchange, NOW))
                    .unwrap();
                assert!(matches!(outcome, CodeConsumption::Consumed { .. }));
            }
            start.elapsed()
        })
    });

    c.bench_function("memory/rotate_refresh_token", |b| {
        b.iter_custom(|iters| {
            let store = MemoryStore::new();
            rt.block_on(store.insert_code(code(0))).unwrap();
            let first = CodeExchange {
                grant_expires_at: NOW.saturating_add(Duration::from_secs(86_400)),
                refresh_token: Some(refresh("t-0")),
            };
            let consumed = rt
                .block_on(store.consume_code(&code(0).hash, first, NOW))
                .unwrap();
            let CodeConsumption::Consumed { grant, .. } = consumed else {
                panic!("setup")
            };
            let next: Vec<NewRefreshToken> =
                (1..=iters).map(|i| refresh(&format!("t-{i}"))).collect();
            let mut presented = SecretHash::of("t-0");
            let start = Instant::now();
            for token in next {
                let hash = token.hash;
                let outcome = rt
                    .block_on(store.rotate_refresh_token(
                        &presented,
                        token,
                        grant.scope.clone(),
                        NOW,
                    ))
                    .unwrap();
                assert!(matches!(outcome, Rotation::Rotated { .. }));
                presented = hash;
            }
            start.elapsed()
        })
    });
}

criterion_group!(benches, memory);
criterion_main!(benches);
