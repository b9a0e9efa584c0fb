//! Audit events: the [`SqliteStore`] implementation of [`AuditStore`].

use std::net::IpAddr;

use async_trait::async_trait;
use mcp_authz_metadata::{ClientId, ResourceUri};
use mcp_authz_store::{
    AuditEvent, AuditKind, AuditOutcome, AuditQuery, AuditReason, AuditStore, Entity, NumericDate,
    StoreError, Subject, Username,
};
use rusqlite::params;
use sqlx::sqlite::SqliteRow;

use crate::SqliteStore;
use crate::codec::{col, list, parse_list, parsed, scope, time};
use crate::error::db;
use crate::statement::execute;

const E: Entity = Entity::AuditEvent;

/// An optional column parsed with `parse`.
fn opt<T, Err: std::fmt::Display>(
    column: &str,
    text: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, Err>,
) -> Result<Option<T>, StoreError> {
    text.map(|text| parsed(E, column, parse(text))).transpose()
}

/// An event from `at, kind, outcome, reason, client_id, subject, username, scope, resources, peer`.
fn event(row: &SqliteRow) -> Result<AuditEvent, StoreError> {
    Ok(AuditEvent {
        at: time(E, "at", col(row, 0, E)?)?,
        kind: parsed(E, "kind", col::<&str>(row, 1, E)?.parse::<AuditKind>())?,
        outcome: parsed(
            E,
            "outcome",
            col::<&str>(row, 2, E)?.parse::<AuditOutcome>(),
        )?,
        reason: opt("reason", col(row, 3, E)?, AuditReason::parse)?,
        client_id: opt("client_id", col(row, 4, E)?, ClientId::parse)?,
        subject: opt("subject", col(row, 5, E)?, Subject::parse)?,
        username: opt("username", col(row, 6, E)?, Username::parse)?,
        scope: scope(E, "scope", col(row, 7, E)?)?,
        resources: parse_list(E, "resources", col(row, 8, E)?, ResourceUri::parse)?,
        peer: opt("peer", col(row, 9, E)?, str::parse::<IpAddr>)?,
    })
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn append_audit_event(&self, event: AuditEvent) -> Result<(), StoreError> {
        let resources = list(E, event.resources.iter().map(|r| r.as_str()))?;
        self.write(move |conn| {
            execute(
                conn,
                E,
                "INSERT INTO audit_events (at, kind, outcome, reason, client_id, subject, \
                 username, scope, resources, peer) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    event.at.as_i64(),
                    event.kind.as_str(),
                    event.outcome.as_str(),
                    event.reason.as_ref().map(AuditReason::as_str),
                    event.client_id.as_ref().map(ClientId::as_str),
                    event.subject.as_ref().map(Subject::as_str),
                    event.username.as_ref().map(Username::as_str),
                    event.scope.to_string(),
                    resources,
                    event.peer.map(|peer| peer.to_string()),
                ],
            )
            .map(drop)
        })
        .await
    }

    async fn audit_events(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, kind, outcome, reason, client_id, subject, username, scope, resources, \
             peer FROM audit_events \
             WHERE (?1 IS NULL OR client_id = ?1) \
             AND ((?2 IS NULL AND ?3 IS NULL) OR subject = ?2 OR username = ?3) \
             AND (?4 IS NULL OR at >= ?4) \
             ORDER BY id DESC LIMIT ?5",
        )
        .bind(query.client_id.as_ref().map(ClientId::as_str))
        .bind(query.subject.as_ref().map(Subject::as_str))
        .bind(query.username.as_ref().map(Username::as_str))
        .bind(query.since.map(NumericDate::as_i64))
        .bind(i64::from(query.limit))
        .fetch_all(self.reader())
        .await
        .map_err(db(E))?;
        let mut events = rows.iter().map(event).collect::<Result<Vec<_>, _>>()?;
        events.reverse();
        Ok(events)
    }

    async fn purge_audit_events(&self, before: NumericDate) -> Result<u64, StoreError> {
        let before = before.as_i64();
        self.write(move |conn| execute(conn, E, "DELETE FROM audit_events WHERE at < ?1", [before]))
            .await
    }
}
