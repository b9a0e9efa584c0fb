//! Errors: [`OpenError`] for opening a database, and the one mapping from `sqlx` errors to
//! [`StoreError`] that every operation uses.

use mcp_authz_store::{Entity, StoreError};

/// Why [`SqliteStore::open`](crate::SqliteStore::open) could not open a database.
///
/// Kept apart from [`StoreError`] because opening happens once, at start-up, where the right reaction
/// is to stop (or retry later for [`Unavailable`](Self::Unavailable)), not to answer a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The file could not be opened or locked in time: a missing directory, a permission problem, a
    /// full disk, another process holding the write lock beyond the busy timeout.
    #[error("SQLite database unavailable: {description}")]
    Unavailable {
        /// What failed, for logs.
        description: String,
    },
    /// The database was migrated by a newer release: its schema version is beyond every migration
    /// this binary embeds. Nothing was changed; run the newer release (downgrades are not supported).
    #[error(
        "SQLite database schema version {found} is newer than this build supports (up to {supported})"
    )]
    SchemaTooNew {
        /// The highest migration version recorded in the database.
        found: i64,
        /// The highest migration version this build embeds.
        supported: i64,
    },
    /// Applying the embedded migrations failed, or the recorded migrations do not match the embedded
    /// ones (a migration edited after release, or one left half-applied).
    #[error("SQLite schema migration failed: {description}")]
    Migration {
        /// What failed, for logs.
        description: String,
    },
    /// The file is not a SQLite database, or is damaged.
    #[error("not a usable SQLite database: {description}")]
    Corrupt {
        /// What failed, for logs.
        description: String,
    },
    /// The options were refused (for example a pool of zero connections).
    #[error("invalid SQLite store options: {description}")]
    InvalidOptions {
        /// Which option, and why.
        description: String,
    },
}

impl OpenError {
    /// `true` for [`Unavailable`](Self::Unavailable): opening may succeed if retried later.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }
}

impl From<sqlx::Error> for OpenError {
    fn from(error: sqlx::Error) -> Self {
        match classify(&error) {
            Class::Corrupt => Self::Corrupt {
                description: error.to_string(),
            },
            Class::Unavailable | Class::Unique | Class::NotFound => Self::Unavailable {
                description: error.to_string(),
            },
        }
    }
}

impl From<rusqlite::Error> for OpenError {
    fn from(error: rusqlite::Error) -> Self {
        let description = sqlite_description(&error);
        match classify_rusqlite(&error) {
            Class::Corrupt => Self::Corrupt { description },
            Class::Unavailable | Class::Unique | Class::NotFound => {
                Self::Unavailable { description }
            }
        }
    }
}

/// How an `sqlx` or `rusqlite` error is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// A uniqueness rule: [`StoreError::Conflict`].
    Unique,
    /// The backend cannot answer now: [`StoreError::Unavailable`].
    Unavailable,
    /// A stored value or the schema is not what this build expects: [`StoreError::Corrupt`].
    Corrupt,
    /// `fetch_one` found nothing: [`StoreError::NotFound`].
    NotFound,
}

// Primary SQLite result codes (https://www.sqlite.org/rescode.html); the extended code's low byte.
const SQLITE_ERROR: i64 = 1;
const SQLITE_CORRUPT: i64 = 11;
const SQLITE_SCHEMA: i64 = 17;
const SQLITE_CONSTRAINT: i64 = 19;
const SQLITE_MISMATCH: i64 = 20;
const SQLITE_FORMAT: i64 = 24;
const SQLITE_RANGE: i64 = 25;
const SQLITE_NOTADB: i64 = 26;
// Extended result codes of a uniqueness violation.
const SQLITE_CONSTRAINT_PRIMARYKEY: i64 = 1555;
const SQLITE_CONSTRAINT_UNIQUE: i64 = 2067;

/// Sorts a SQLite (extended) result code into one of the reports.
fn classify_code(extended: Option<i64>) -> Class {
    match extended {
        Some(SQLITE_CONSTRAINT_PRIMARYKEY | SQLITE_CONSTRAINT_UNIQUE) => Class::Unique,
        // Schema or integrity mismatches: retrying will not help, the database needs a look.
        Some(code)
            if matches!(
                code & 0xff,
                SQLITE_ERROR
                    | SQLITE_CORRUPT
                    | SQLITE_SCHEMA
                    | SQLITE_CONSTRAINT
                    | SQLITE_MISMATCH
                    | SQLITE_FORMAT
                    | SQLITE_RANGE
                    | SQLITE_NOTADB
            ) =>
        {
            Class::Corrupt
        }
        // SQLITE_BUSY (locked beyond the busy timeout), SQLITE_LOCKED, SQLITE_IOERR,
        // SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_READONLY, SQLITE_NOMEM, SQLITE_INTERRUPT, ...
        _ => Class::Unavailable,
    }
}

/// Sorts an `sqlx` error into one of the four reports.
fn classify(error: &sqlx::Error) -> Class {
    match error {
        sqlx::Error::Database(db) => {
            if db.is_unique_violation() {
                return Class::Unique;
            }
            classify_code(db.code().and_then(|code| code.parse::<i64>().ok()))
        }
        sqlx::Error::RowNotFound => Class::NotFound,
        sqlx::Error::TypeNotFound { .. }
        | sqlx::Error::ColumnIndexOutOfBounds { .. }
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_) => Class::Corrupt,
        // PoolTimedOut, PoolClosed, Io, WorkerCrashed, Protocol, Configuration, ...
        _ => Class::Unavailable,
    }
}

/// Sorts a `rusqlite` error (the writer thread's) into one of the four reports.
fn classify_rusqlite(error: &rusqlite::Error) -> Class {
    match error {
        rusqlite::Error::SqliteFailure(failure, _) => {
            classify_code(Some(i64::from(failure.extended_code)))
        }
        rusqlite::Error::QueryReturnedNoRows => Class::NotFound,
        rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::IntegralValueOutOfRange(..)
        | rusqlite::Error::InvalidColumnIndex(_)
        | rusqlite::Error::InvalidColumnName(_)
        | rusqlite::Error::InvalidColumnType(..)
        | rusqlite::Error::Utf8Error(_) => Class::Corrupt,
        // SqliteSingleThreadedMode, InvalidPath, ExecuteReturnedResults, ...
        _ => Class::Unavailable,
    }
}

/// The record kind and rule a unique violation breaks, from SQLite's message (`UNIQUE constraint
/// failed: clients.client_id`): the words the PostgreSQL backend uses, never SQL text, since a
/// conflict reaches users of the API (a client id registered twice).
fn conflict_of(message: &str, fallback: Entity) -> (Entity, &'static str) {
    let columns = message
        .strip_prefix("UNIQUE constraint failed: ")
        .unwrap_or_default();
    match columns {
        "codes.hash" => (Entity::AuthorizationCode, "duplicate code hash"),
        "grants.id" => (Entity::Grant, "duplicate family id"),
        "refresh_tokens.hash" => (Entity::RefreshToken, "duplicate refresh token hash"),
        "revoked_access_tokens.jti" => (Entity::AccessToken, "duplicate token id"),
        "clients.client_id" => (Entity::Client, "duplicate client id"),
        "consents.subject, consents.client_id" => (Entity::Consent, "duplicate consent"),
        "users.id" => (Entity::User, "duplicate user id"),
        "users.username" => (Entity::User, "duplicate username"),
        "signing_keys.kid" => (Entity::SigningKey, "duplicate kid"),
        "signing_keys.state" => (Entity::SigningKey, "another key is active"),
        _ => (fallback, "unique constraint violated"),
    }
}

/// The store's error for `class`.
fn report(class: Class, entity: Entity, description: String) -> StoreError {
    match class {
        Class::Unique => {
            let (entity, rule) = conflict_of(&description, entity);
            StoreError::conflict(entity, rule)
        }
        Class::Unavailable => StoreError::Unavailable { description },
        Class::Corrupt => StoreError::Corrupt {
            entity,
            description,
        },
        Class::NotFound => StoreError::NotFound { entity },
    }
}

/// Maps an `sqlx` error about `entity` to the store's error.
///
/// A unique violation is [`StoreError::Conflict`]; a pool timeout, a closed pool, an I/O error, or
/// `SQLITE_BUSY` after the busy timeout is [`StoreError::Unavailable`]; a value or column that does not
/// decode, or a schema mismatch, is [`StoreError::Corrupt`]. Descriptions are SQLite's messages, which
/// name tables and columns but never bound values, so they carry no secret.
pub(crate) fn store_error(entity: Entity, error: sqlx::Error) -> StoreError {
    let description = match &error {
        sqlx::Error::Database(db) => db.message().to_owned(),
        other => other.to_string(),
    };
    report(classify(&error), entity, description)
}

/// [`store_error`] for the writer thread's `rusqlite` errors, by the same rules.
pub(crate) fn sqlite_error(entity: Entity, error: rusqlite::Error) -> StoreError {
    report(
        classify_rusqlite(&error),
        entity,
        sqlite_description(&error),
    )
}

/// A `rusqlite` error for logs: SQLite's own message where there is one (it names tables and
/// columns, never bound values).
pub(crate) fn sqlite_description(error: &rusqlite::Error) -> String {
    match error {
        rusqlite::Error::SqliteFailure(_, Some(message)) => message.clone(),
        rusqlite::Error::SqliteFailure(failure, None) => failure.to_string(),
        other => other.to_string(),
    }
}

/// `map_err` adapter for `rusqlite`: `.map_err(sqlite(Entity::Grant))`.
pub(crate) fn sqlite(entity: Entity) -> impl Fn(rusqlite::Error) -> StoreError {
    move |error| sqlite_error(entity, error)
}

/// `map_err` adapter: `.map_err(db(Entity::Grant))`.
pub(crate) fn db(entity: Entity) -> impl Fn(sqlx::Error) -> StoreError {
    move |error| store_error(entity, error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_failures_are_unavailable() {
        for error in [
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
            sqlx::Error::Io(std::io::Error::other("disk gone")),
        ] {
            assert!(store_error(Entity::Grant, error).is_unavailable());
        }
    }

    #[test]
    fn decode_failures_are_corrupt() {
        let error = sqlx::Error::ColumnNotFound("scope".to_owned());
        assert!(matches!(
            store_error(Entity::Grant, error),
            StoreError::Corrupt {
                entity: Entity::Grant,
                ..
            }
        ));
        assert_eq!(
            store_error(Entity::User, sqlx::Error::RowNotFound),
            StoreError::NotFound {
                entity: Entity::User
            }
        );
    }

    #[test]
    fn open_errors_classify() {
        assert!(OpenError::from(sqlx::Error::PoolTimedOut).is_unavailable());
        let corrupt = OpenError::from(sqlx::Error::Decode("bad".into()));
        assert!(matches!(corrupt, OpenError::Corrupt { .. }));
    }

    #[test]
    fn conflicts_name_the_rule_not_the_sql() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE clients (client_id TEXT PRIMARY KEY); INSERT INTO clients VALUES ('a')",
        )
        .unwrap();
        let error = sqlite_error(
            Entity::Grant,
            conn.execute("INSERT INTO clients VALUES ('a')", [])
                .unwrap_err(),
        );
        assert_eq!(
            error,
            StoreError::conflict(Entity::Client, "duplicate client id")
        );
        assert_eq!(error.to_string(), "client conflict: duplicate client id");
    }

    #[test]
    fn rusqlite_errors_classify_like_sqlx_errors() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (k TEXT PRIMARY KEY, u TEXT UNIQUE, n TEXT NOT NULL)")
            .unwrap();
        conn.execute("INSERT INTO t VALUES ('a', 'x', 'n')", [])
            .unwrap();
        let unique = |sql: &str| sqlite_error(Entity::Grant, conn.execute(sql, []).unwrap_err());
        for sql in [
            "INSERT INTO t VALUES ('a', 'y', 'n')",
            "INSERT INTO t VALUES ('b', 'x', 'n')",
        ] {
            let error = unique(sql);
            assert!(
                matches!(&error, StoreError::Conflict { entity: Entity::Grant, description }
                    if description == "unique constraint violated"),
                "{sql}: {error:?}"
            );
        }
        let not_null = unique("INSERT INTO t VALUES ('c', 'z', NULL)");
        assert!(
            matches!(not_null, StoreError::Corrupt { .. }),
            "{not_null:?}"
        );
        let missing = sqlite_error(
            Entity::User,
            conn.query_row("SELECT k FROM t WHERE k = 'zz'", [], |_| Ok(()))
                .unwrap_err(),
        );
        assert_eq!(
            missing,
            StoreError::NotFound {
                entity: Entity::User
            }
        );
        let busy = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(5), // SQLITE_BUSY
            Some("database is locked".to_owned()),
        );
        assert!(sqlite_error(Entity::Grant, busy).is_unavailable());
    }
}
