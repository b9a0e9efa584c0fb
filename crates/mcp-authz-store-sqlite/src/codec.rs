//! Column codecs shared by every table: times, digests, scopes, JSON lists, and the rule that a value
//! which does not parse back is [`StoreError::Corrupt`].

use std::fmt;

use mcp_authz_metadata::Scope;
use mcp_authz_store::{Entity, NumericDate, SecretHash, StoreError};
use sqlx::sqlite::SqliteRow;
use sqlx::{Decode, Row, Sqlite, Type};

use crate::error::db;

/// Column `index` of `row`, decoded as `T`; a missing or mistyped column is `Corrupt`.
pub(crate) fn col<'r, T>(row: &'r SqliteRow, index: usize, entity: Entity) -> Result<T, StoreError>
where
    T: Decode<'r, Sqlite> + Type<Sqlite>,
{
    row.try_get(index).map_err(db(entity))
}

/// A parse result of column `column`; a refused value is `Corrupt`, naming the column.
pub(crate) fn parsed<T, E: fmt::Display>(
    entity: Entity,
    column: &str,
    result: Result<T, E>,
) -> Result<T, StoreError> {
    result.map_err(|error| StoreError::corrupt(entity, format_args!("column {column}: {error}")))
}

/// A time column: non-negative seconds.
pub(crate) fn time(entity: Entity, column: &str, secs: i64) -> Result<NumericDate, StoreError> {
    NumericDate::from_i64(secs)
        .ok_or_else(|| StoreError::corrupt(entity, format_args!("column {column}: negative time")))
}

/// A nullable time column.
pub(crate) fn opt_time(
    entity: Entity,
    column: &str,
    secs: Option<i64>,
) -> Result<Option<NumericDate>, StoreError> {
    secs.map(|secs| time(entity, column, secs)).transpose()
}

/// A SHA-256 digest column: exactly 32 bytes.
pub(crate) fn digest(entity: Entity, bytes: &[u8]) -> Result<SecretHash, StoreError> {
    let digest: [u8; 32] = bytes
        .try_into()
        .map_err(|_| StoreError::corrupt(entity, "column hash: not a 32-byte digest"))?;
    Ok(SecretHash::from_bytes(digest))
}

/// A scope column: the wire form, `''` for the empty scope (which [`Scope::parse`] refuses).
pub(crate) fn scope(entity: Entity, column: &str, text: &str) -> Result<Scope, StoreError> {
    if text.is_empty() {
        Ok(Scope::new())
    } else {
        parsed(entity, column, Scope::parse(text))
    }
}

/// A list as a JSON array of strings.
pub(crate) fn list<'a>(
    entity: Entity,
    items: impl IntoIterator<Item = &'a str>,
) -> Result<String, StoreError> {
    let items: Vec<&str> = items.into_iter().collect();
    serde_json::to_string(&items).map_err(|error| StoreError::corrupt(entity, error))
}

/// A JSON array of strings, each parsed with `parse`.
pub(crate) fn parse_list<T, E: fmt::Display>(
    entity: Entity,
    column: &str,
    text: &str,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<Vec<T>, StoreError> {
    let items: Vec<String> = parsed(entity, column, serde_json::from_str(text))?;
    items
        .iter()
        .map(|item| parsed(entity, column, parse(item)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_including_empty() {
        for text in ["", "files:read tools:call"] {
            let parsed = scope(Entity::Grant, "scope", text).unwrap();
            assert_eq!(parsed.to_string(), text);
        }
        assert!(matches!(
            scope(Entity::Grant, "scope", "a  b"),
            Err(StoreError::Corrupt { .. })
        ));
    }

    #[test]
    fn lists_round_trip_and_refuse_garbage() {
        let text = list(Entity::Client, ["a b", "c\"d"]).unwrap();
        let back = parse_list(Entity::Client, "x", &text, |s| {
            Ok::<_, std::convert::Infallible>(s.to_owned())
        })
        .unwrap();
        assert_eq!(back, ["a b", "c\"d"]);
        let bad = parse_list(Entity::Client, "x", "{", |s| {
            Ok::<_, std::convert::Infallible>(s.to_owned())
        });
        assert!(matches!(bad, Err(StoreError::Corrupt { .. })));
    }

    #[test]
    fn times_and_digests_are_checked() {
        assert!(time(Entity::Grant, "t", -1).is_err());
        assert_eq!(
            opt_time(Entity::Grant, "t", Some(5)).unwrap(),
            Some(NumericDate::from_secs(5))
        );
        assert!(digest(Entity::AuthorizationCode, &[0; 31]).is_err());
        let hash = SecretHash::of("x");
        assert_eq!(
            digest(Entity::AuthorizationCode, hash.as_bytes()).unwrap(),
            hash
        );
    }
}
