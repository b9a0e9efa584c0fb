//! Reading rows back into typed records. Every stored value goes through the same parser as untrusted
//! input; a value that does not parse is [`StoreError::Corrupt`], never a panic.

use std::fmt::Display;

use mcp_authz_metadata::{ClientId, ResourceUri, Scope};
use mcp_authz_store::{
    Entity, FamilyId, Grant, NumericDate, RefreshToken, Revocation, RevocationReason, SecretHash,
    StoreError,
};
use sqlx::postgres::PgRow;
use sqlx::{Decode, Postgres, Row, Type};

/// Column `index` of `row`, decoded as `T`.
pub(crate) fn column<'r, T>(row: &'r PgRow, index: usize, entity: Entity) -> Result<T, StoreError>
where
    T: Decode<'r, Postgres> + Type<Postgres>,
{
    row.try_get::<T, usize>(index)
        .map_err(|err| StoreError::corrupt(entity, format!("column {index}: {err}")))
}

/// Parses a stored text with the type's own parser.
pub(crate) fn parsed<T, E: Display>(
    text: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
    entity: Entity,
    what: &str,
) -> Result<T, StoreError> {
    parse(text).map_err(|err| StoreError::corrupt(entity, format!("{what}: {err}")))
}

/// A timestamp column.
pub(crate) fn time(row: &PgRow, index: usize, entity: Entity) -> Result<NumericDate, StoreError> {
    time_of(column::<i64>(row, index, entity)?, entity)
}

/// A nullable timestamp column.
pub(crate) fn opt_time(
    row: &PgRow,
    index: usize,
    entity: Entity,
) -> Result<Option<NumericDate>, StoreError> {
    column::<Option<i64>>(row, index, entity)?
        .map(|secs| time_of(secs, entity))
        .transpose()
}

/// A timestamp value; negative seconds are corrupt.
pub(crate) fn time_of(secs: i64, entity: Entity) -> Result<NumericDate, StoreError> {
    NumericDate::from_i64(secs).ok_or_else(|| StoreError::corrupt(entity, "negative timestamp"))
}

/// A SHA-256 digest column (BYTEA of exactly 32 bytes).
pub(crate) fn hash(row: &PgRow, index: usize, entity: Entity) -> Result<SecretHash, StoreError> {
    let bytes = column::<&[u8]>(row, index, entity)?;
    let digest: [u8; 32] = bytes
        .try_into()
        .map_err(|_| StoreError::corrupt(entity, "hash is not 32 bytes"))?;
    Ok(SecretHash::from_bytes(digest))
}

/// A scope as stored: its wire form, the empty string for the empty scope.
pub(crate) fn scope_of(text: &str, entity: Entity) -> Result<Scope, StoreError> {
    if text.is_empty() {
        Ok(Scope::new())
    } else {
        parsed(text, Scope::parse, entity, "scope")
    }
}

/// A list of resource URIs.
pub(crate) fn resources_of(
    texts: &[String],
    entity: Entity,
) -> Result<Vec<ResourceUri>, StoreError> {
    texts
        .iter()
        .map(|text| parsed(text, ResourceUri::parse, entity, "resource"))
        .collect()
}

/// The wire forms of a list of values, for a `TEXT[]` bind.
pub(crate) fn texts<T: AsRef<str>>(values: &[T]) -> Vec<&str> {
    values.iter().map(AsRef::as_ref).collect()
}

/// A grant from nine columns starting at `at`: `id, client_id, subject, scope, resources,
/// created_at, expires_at, revoked_at, revoked_reason`.
pub(crate) fn grant_at(row: &PgRow, at: usize) -> Result<Grant, StoreError> {
    const E: Entity = Entity::Grant;
    let revoked_at = opt_time(row, at + 7, E)?;
    let reason = column::<Option<&str>>(row, at + 8, E)?;
    let revoked = match (revoked_at, reason) {
        (None, None) => None,
        (Some(at), Some(reason)) => Some(Revocation {
            at,
            reason: RevocationReason::parse(reason)
                .ok_or_else(|| StoreError::corrupt(E, "unknown revocation reason"))?,
        }),
        _ => return Err(StoreError::corrupt(E, "revocation time without reason")),
    };
    Ok(Grant {
        id: parsed(column(row, at, E)?, FamilyId::parse, E, "family id")?,
        client_id: parsed(column(row, at + 1, E)?, ClientId::parse, E, "client id")?,
        subject: parsed(
            column(row, at + 2, E)?,
            mcp_authz_store::Subject::parse,
            E,
            "subject",
        )?,
        scope: scope_of(column(row, at + 3, E)?, E)?,
        resources: resources_of(&column::<Vec<String>>(row, at + 4, E)?, E)?,
        created_at: time(row, at + 5, E)?,
        expires_at: time(row, at + 6, E)?,
        revoked,
    })
}

/// A refresh token from five columns starting at `at`: `hash, family_id, issued_at, expires_at,
/// rotated_at`.
pub(crate) fn refresh_token_at(row: &PgRow, at: usize) -> Result<RefreshToken, StoreError> {
    const E: Entity = Entity::RefreshToken;
    Ok(RefreshToken {
        hash: hash(row, at, E)?,
        family_id: parsed(column(row, at + 1, E)?, FamilyId::parse, E, "family id")?,
        issued_at: time(row, at + 2, E)?,
        expires_at: time(row, at + 3, E)?,
        rotated_at: opt_time(row, at + 4, E)?,
    })
}
