//! [`Columns`]: reading a result row's columns by index, whichever SQLite library produced the row
//! (`sqlx` on the reading pool, `rusqlite` on the writer thread), so that each record has one decoder.

use mcp_authz_store::{Entity, StoreError};
use sqlx::Row as _;
use sqlx::sqlite::SqliteRow;

use crate::error::{db, sqlite};

/// Typed access to the columns of one result row; a missing or mistyped column is
/// [`StoreError::Corrupt`] about `entity`.
pub(crate) trait Columns {
    /// A `TEXT` column.
    fn text(&self, index: usize, entity: Entity) -> Result<&str, StoreError>;
    /// A nullable `TEXT` column.
    fn opt_text(&self, index: usize, entity: Entity) -> Result<Option<&str>, StoreError>;
    /// A `BLOB` column.
    fn blob(&self, index: usize, entity: Entity) -> Result<&[u8], StoreError>;
    /// An `INTEGER` column.
    fn int(&self, index: usize, entity: Entity) -> Result<i64, StoreError>;
    /// A nullable `INTEGER` column.
    fn opt_int(&self, index: usize, entity: Entity) -> Result<Option<i64>, StoreError>;
    /// A boolean, stored as an `INTEGER` (`0` is false).
    fn flag(&self, index: usize, entity: Entity) -> Result<bool, StoreError> {
        Ok(self.int(index, entity)? != 0)
    }
}

impl Columns for SqliteRow {
    fn text(&self, index: usize, entity: Entity) -> Result<&str, StoreError> {
        self.try_get(index).map_err(db(entity))
    }

    fn opt_text(&self, index: usize, entity: Entity) -> Result<Option<&str>, StoreError> {
        self.try_get(index).map_err(db(entity))
    }

    fn blob(&self, index: usize, entity: Entity) -> Result<&[u8], StoreError> {
        self.try_get(index).map_err(db(entity))
    }

    fn int(&self, index: usize, entity: Entity) -> Result<i64, StoreError> {
        self.try_get(index).map_err(db(entity))
    }

    fn opt_int(&self, index: usize, entity: Entity) -> Result<Option<i64>, StoreError> {
        self.try_get(index).map_err(db(entity))
    }
}

impl Columns for rusqlite::Row<'_> {
    fn text(&self, index: usize, entity: Entity) -> Result<&str, StoreError> {
        let value = self.get_ref(index).map_err(sqlite(entity))?;
        value
            .as_str()
            .map_err(|error| mistyped(entity, index, error))
    }

    fn opt_text(&self, index: usize, entity: Entity) -> Result<Option<&str>, StoreError> {
        let value = self.get_ref(index).map_err(sqlite(entity))?;
        value
            .as_str_or_null()
            .map_err(|error| mistyped(entity, index, error))
    }

    fn blob(&self, index: usize, entity: Entity) -> Result<&[u8], StoreError> {
        let value = self.get_ref(index).map_err(sqlite(entity))?;
        value
            .as_blob()
            .map_err(|error| mistyped(entity, index, error))
    }

    fn int(&self, index: usize, entity: Entity) -> Result<i64, StoreError> {
        let value = self.get_ref(index).map_err(sqlite(entity))?;
        value
            .as_i64()
            .map_err(|error| mistyped(entity, index, error))
    }

    fn opt_int(&self, index: usize, entity: Entity) -> Result<Option<i64>, StoreError> {
        let value = self.get_ref(index).map_err(sqlite(entity))?;
        value
            .as_i64_or_null()
            .map_err(|error| mistyped(entity, index, error))
    }
}

/// A column whose stored type is not the one its record needs.
fn mistyped(entity: Entity, index: usize, error: rusqlite::types::FromSqlError) -> StoreError {
    StoreError::corrupt(entity, format_args!("column {index}: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rusqlite_rows_read_typed_and_refuse_mistyped_columns() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.query_row("SELECT 'text', NULL, x'0102', 7, NULL, 0", [], |row| {
            let e = Entity::Grant;
            assert_eq!(row.text(0, e).unwrap(), "text");
            assert_eq!(row.opt_text(1, e).unwrap(), None);
            assert_eq!(row.blob(2, e).unwrap(), [1, 2]);
            assert_eq!(row.int(3, e).unwrap(), 7);
            assert_eq!(row.opt_int(4, e).unwrap(), None);
            assert!(!row.flag(5, e).unwrap());
            assert!(matches!(row.int(0, e), Err(StoreError::Corrupt { .. })));
            assert!(matches!(row.text(3, e), Err(StoreError::Corrupt { .. })));
            assert!(matches!(row.blob(9, e), Err(StoreError::Corrupt { .. })));
            Ok(())
        })
        .unwrap();
    }
}
