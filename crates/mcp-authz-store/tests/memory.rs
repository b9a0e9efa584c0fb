//! Memory-store behaviour that does not need the kit, and the store as the server holds it
//! (`Arc<dyn Store>`, upcast to the parts).
#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use mcp_authz_metadata::{ClientId, RedirectUri, Scope};
use mcp_authz_store::{
    AuthorizationCode, Clock, CodeConsumption, CodeExchange, CodeStore, CounterIds, FamilyId,
    GrantStore, IdGenerator, ManualClock, MemoryStore, NewRefreshToken, NumericDate, RefreshStatus,
    Rotation, SecretHash, Store, Subject,
};

fn code(seed: &str, family_id: FamilyId, now: NumericDate) -> AuthorizationCode {
    AuthorizationCode {
        hash: SecretHash::of(seed),
        client_id: ClientId::parse("client").unwrap(),
        redirect_uri: RedirectUri::parse("https://app.example.com/cb").unwrap(),
        code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
            .parse()
            .unwrap(),
        resources: vec![],
        scope: Scope::parse("a b").unwrap(),
        subject: Subject::parse("alice").unwrap(),
        family_id,
        issued_at: now,
        expires_at: now.saturating_add(Duration::from_secs(60)),
        consumed_at: None,
    }
}

#[tokio::test]
async fn server_flow_through_dyn_store_with_injected_clock_and_ids() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let codes: Arc<dyn CodeStore> = store.clone();
    let grants: Arc<dyn GrantStore> = store.clone();
    let clock = ManualClock::new(NumericDate::from_secs(1_000));
    let ids = CounterIds::new("fam");

    let family_id = ids.family_id().unwrap();
    assert_eq!(family_id.as_str(), "fam-1");
    codes
        .insert_code(code("the-code", family_id.clone(), clock.now()))
        .await
        .unwrap();

    clock.advance(Duration::from_secs(2));
    let exchange = CodeExchange {
        grant_expires_at: clock.now().saturating_add(Duration::from_secs(3_600)),
        refresh_token: Some(NewRefreshToken {
            hash: SecretHash::of("rt-1"),
            expires_at: clock.now().saturating_add(Duration::from_secs(600)),
        }),
    };
    let outcome = codes
        .consume_code(&SecretHash::of("the-code"), exchange, clock.now())
        .await
        .unwrap();
    let CodeConsumption::Consumed { grant, .. } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(grant.id, family_id);

    clock.advance(Duration::from_secs(600));
    let next = NewRefreshToken {
        hash: SecretHash::of("rt-2"),
        expires_at: clock.now(),
    };
    let presented = SecretHash::of("rt-1");
    let expired = grants
        .rotate_refresh_token(&presented, next, grant.scope, clock.now())
        .await;
    assert_eq!(expired.unwrap(), Rotation::Expired);
    let lookup = grants
        .find_refresh_token(&SecretHash::of("rt-1"), clock.now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lookup.status, RefreshStatus::Expired);
}

#[tokio::test]
async fn memory_store_never_reports_unavailable_for_missing_records() {
    let store = MemoryStore::new();
    let missing = store.find_code(&SecretHash::of("nothing")).await;
    assert_eq!(missing, Ok(None));
}
