//! [`AuditStore`]: one statement per operation; events ordered by their `BIGSERIAL` id.

use std::fmt::Display;
use std::net::IpAddr;

use async_trait::async_trait;
use mcp_authz_metadata::{ClientId, ResourceUri};
use mcp_authz_store::{
    AuditEvent, AuditKind, AuditOutcome, AuditQuery, AuditReason, AuditStore, Entity, NumericDate,
    StoreError, Subject, Username,
};
use sqlx::postgres::PgRow;

use crate::PostgresStore;
use crate::decode::{column, parsed, resources_of, scope_of, time};
use crate::error::store_error;

const E: Entity = Entity::AuditEvent;

/// A nullable text column parsed with `parse`.
fn opt<T, Err: Display>(
    row: &PgRow,
    index: usize,
    what: &str,
    parse: impl FnOnce(&str) -> Result<T, Err>,
) -> Result<Option<T>, StoreError> {
    column::<Option<&str>>(row, index, E)?
        .map(|text| parsed(text, parse, E, what))
        .transpose()
}

/// An event from `at, kind, outcome, reason, client_id, subject, username, scope, resources, peer`.
fn event(row: &PgRow) -> Result<AuditEvent, StoreError> {
    Ok(AuditEvent {
        at: time(row, 0, E)?,
        kind: parsed(column(row, 1, E)?, str::parse::<AuditKind>, E, "kind")?,
        outcome: parsed(column(row, 2, E)?, str::parse::<AuditOutcome>, E, "outcome")?,
        reason: opt(row, 3, "reason", AuditReason::parse)?,
        client_id: opt(row, 4, "client_id", ClientId::parse)?,
        subject: opt(row, 5, "subject", Subject::parse)?,
        username: opt(row, 6, "username", Username::parse)?,
        scope: scope_of(column(row, 7, E)?, E)?,
        resources: resources_of(&column::<Vec<String>>(row, 8, E)?, E)?,
        peer: opt(row, 9, "peer", str::parse::<IpAddr>)?,
    })
}

#[async_trait]
impl AuditStore for PostgresStore {
    async fn append_audit_event(&self, event: AuditEvent) -> Result<(), StoreError> {
        let resources: Vec<&str> = event.resources.iter().map(ResourceUri::as_str).collect();
        sqlx::query(
            "INSERT INTO audit_events (at, kind, outcome, reason, client_id, subject, username, \
             scope, resources, peer) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(event.at.as_i64())
        .bind(event.kind.as_str())
        .bind(event.outcome.as_str())
        .bind(event.reason.as_ref().map(AuditReason::as_str))
        .bind(event.client_id.as_ref().map(ClientId::as_str))
        .bind(event.subject.as_ref().map(Subject::as_str))
        .bind(event.username.as_ref().map(Username::as_str))
        .bind(event.scope.to_string())
        .bind(resources)
        .bind(event.peer.map(|peer| peer.to_string()))
        .execute(self.pool())
        .await
        .map_err(|err| store_error(&err, E))?;
        Ok(())
    }

    async fn audit_events(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT at, kind, outcome, reason, client_id, subject, username, scope, resources, \
             peer FROM audit_events \
             WHERE ($1::TEXT IS NULL OR client_id = $1) \
             AND (($2::TEXT IS NULL AND $3::TEXT IS NULL) OR subject = $2 OR username = $3) \
             AND ($4::BIGINT IS NULL OR at >= $4) \
             ORDER BY id DESC LIMIT $5",
        )
        .bind(query.client_id.as_ref().map(ClientId::as_str))
        .bind(query.subject.as_ref().map(Subject::as_str))
        .bind(query.username.as_ref().map(Username::as_str))
        .bind(query.since.map(NumericDate::as_i64))
        .bind(i64::from(query.limit))
        .fetch_all(self.pool())
        .await
        .map_err(|err| store_error(&err, E))?;
        let mut events = rows.iter().map(event).collect::<Result<Vec<_>, _>>()?;
        events.reverse();
        Ok(events)
    }

    async fn purge_audit_events(&self, before: NumericDate) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM audit_events WHERE at < $1")
            .bind(before.as_i64())
            .execute(self.pool())
            .await
            .map_err(|err| store_error(&err, E))?;
        Ok(done.rows_affected())
    }
}
