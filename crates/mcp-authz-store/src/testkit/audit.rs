//! Kit tests of the audit log: append, query by client, user and time, limit, retention purge.

use std::net::IpAddr;
use std::time::Duration;

use mcp_authz_metadata::{ResourceUri, Scope};

use super::fixtures::{T0, client_id, subject};
use crate::{AuditEvent, AuditKind, AuditOutcome, AuditQuery, AuditReason, Store, Username};

fn at(secs: u64) -> crate::NumericDate {
    T0.saturating_add(Duration::from_secs(secs))
}

/// Every field of an event round-trips; queries filter by client, user (subject or username) and time and
/// return the latest `limit` events oldest first (insertion order within a second); the purge
/// removes exactly the events older than the cutoff.
pub async fn audit_events_round_trip<S: Store>(store: S) {
    assert!(
        store
            .audit_events(&AuditQuery::default())
            .await
            .unwrap()
            .is_empty()
    );
    let full = AuditEvent {
        at: at(0),
        kind: AuditKind::TokensIssued,
        outcome: AuditOutcome::Success,
        reason: Some(AuditReason::parse("authorization_code").unwrap()),
        client_id: Some(client_id("client-a")),
        subject: Some(subject("user-1")),
        username: Some(Username::parse("alice").unwrap()),
        scope: Scope::parse("read write").unwrap(),
        resources: vec![
            ResourceUri::parse("https://mcp.example.com/mcp").unwrap(),
            ResourceUri::parse("https://mcp.example.com/other").unwrap(),
        ],
        peer: Some("2001:db8::1".parse::<IpAddr>().unwrap()),
    };
    let bare = AuditEvent::new(AuditKind::RateLimited, AuditOutcome::Failure, at(0));
    let mut failure = AuditEvent::new(AuditKind::SignIn, AuditOutcome::Failure, at(10));
    failure.username = Some(Username::parse("alice").unwrap());
    failure.client_id = Some(client_id("client-b"));
    failure.peer = Some("192.0.2.7".parse().unwrap());
    let mut later = AuditEvent::new(AuditKind::RefreshReused, AuditOutcome::Failure, at(20));
    later.client_id = Some(client_id("client-a"));
    later.subject = Some(subject("user-2"));
    for event in [&full, &bare, &failure, &later] {
        store.append_audit_event(event.clone()).await.unwrap();
    }

    let all = store.audit_events(&AuditQuery::default()).await.unwrap();
    assert_eq!(
        all,
        [full.clone(), bare.clone(), failure.clone(), later.clone()]
    );

    let query = |f: fn(&mut AuditQuery)| {
        let mut q = AuditQuery::default();
        f(&mut q);
        q
    };
    let by_client = query(|q| q.client_id = Some(client_id("client-a")));
    assert_eq!(
        store.audit_events(&by_client).await.unwrap(),
        [full.clone(), later.clone()]
    );
    let by_subject = query(|q| q.subject = Some(subject("user-1")));
    assert_eq!(
        store.audit_events(&by_subject).await.unwrap(),
        std::slice::from_ref(&full)
    );
    let by_username = query(|q| q.username = Some(Username::parse("alice").unwrap()));
    assert_eq!(
        store.audit_events(&by_username).await.unwrap(),
        [full.clone(), failure.clone()]
    );
    let either = query(|q| {
        q.subject = Some(subject("user-2"));
        q.username = Some(Username::parse("alice").unwrap());
    });
    assert_eq!(
        store.audit_events(&either).await.unwrap(),
        [full.clone(), failure.clone(), later.clone()]
    );
    let since = query(|q| q.since = Some(at(10)));
    assert_eq!(
        store.audit_events(&since).await.unwrap(),
        [failure.clone(), later.clone()]
    );
    let both = query(|q| {
        q.client_id = Some(client_id("client-a"));
        q.since = Some(at(5));
    });
    assert_eq!(
        store.audit_events(&both).await.unwrap(),
        std::slice::from_ref(&later)
    );
    let latest_two = query(|q| q.limit = 2);
    assert_eq!(
        store.audit_events(&latest_two).await.unwrap(),
        [failure.clone(), later.clone()]
    );

    assert_eq!(store.purge_audit_events(at(10)).await.unwrap(), 2);
    assert_eq!(
        store.audit_events(&AuditQuery::default()).await.unwrap(),
        [failure, later]
    );
    assert_eq!(store.purge_audit_events(at(10)).await.unwrap(), 0);
}
