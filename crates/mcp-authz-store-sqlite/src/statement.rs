//! Running statements on the writer thread's connection (`rusqlite`): each is prepared once and
//! kept in the connection's statement cache, and its errors become [`StoreError`]s about an entity.

use mcp_authz_store::{Entity, StoreError};
use rusqlite::{Connection, Params, Row};

use crate::error::sqlite;

/// Runs `sql` with `params`; the number of rows it changed.
pub(crate) fn execute(
    conn: &Connection,
    entity: Entity,
    sql: &str,
    params: impl Params,
) -> Result<u64, StoreError> {
    let changed = conn
        .prepare_cached(sql)
        .and_then(|mut statement| statement.execute(params))
        .map_err(sqlite(entity))?;
    Ok(u64::try_from(changed).unwrap_or(u64::MAX))
}

/// Runs `sql` with `params` and decodes its first row, if any, with `decode` (the other rows, if any,
/// are not read; a data-changing statement with `RETURNING` has made all its changes by then).
pub(crate) fn first_row<T>(
    conn: &Connection,
    entity: Entity,
    sql: &str,
    params: impl Params,
    decode: impl FnOnce(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    let mut statement = conn.prepare_cached(sql).map_err(sqlite(entity))?;
    let mut rows = statement.query(params).map_err(sqlite(entity))?;
    match rows.next().map_err(sqlite(entity))? {
        Some(row) => decode(row).map(Some),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::columns::Columns;

    #[test]
    fn statements_count_changes_and_decode_the_first_row() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER)")
            .unwrap();
        let insert = "INSERT INTO t VALUES (?1, ?2)";
        assert_eq!(execute(&conn, Entity::Grant, insert, ("a", 1)).unwrap(), 1);
        assert_eq!(execute(&conn, Entity::Grant, insert, ("b", 2)).unwrap(), 1);
        assert!(matches!(
            execute(&conn, Entity::Grant, insert, ("a", 3)),
            Err(StoreError::Conflict { .. })
        ));
        let bump = "UPDATE t SET n = n + 10 WHERE k = ?1 RETURNING n";
        let read = |row: &Row<'_>| row.int(0, Entity::Grant);
        assert_eq!(
            first_row(&conn, Entity::Grant, bump, ["a"], read).unwrap(),
            Some(11)
        );
        assert_eq!(
            first_row(&conn, Entity::Grant, bump, ["z"], read).unwrap(),
            None
        );
        let all = "UPDATE t SET n = 0 RETURNING n";
        assert_eq!(
            first_row(&conn, Entity::Grant, all, [], read).unwrap(),
            Some(0)
        );
        let total: i64 = conn
            .query_row("SELECT sum(n) FROM t", [], |row| row.get(0))
            .unwrap();
        assert_eq!(total, 0, "every row changed though only the first was read");
    }
}
