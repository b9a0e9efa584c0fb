//! Errors: [`ConnectError`] for opening a store, and the total mapping of `sqlx` errors onto
//! [`StoreError`] for every operation.

use mcp_authz_store::{Entity, StoreError};
use sqlx::migrate::MigrateError;

/// Why [`PostgresStoreBuilder::connect`](crate::PostgresStoreBuilder::connect) (or
/// [`PostgresStore::migrate`](crate::PostgresStore::migrate)) failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The connection URL does not parse.
    #[error("invalid PostgreSQL connection URL: {description}")]
    InvalidUrl {
        /// What did not parse (never the URL itself, which may hold a password).
        description: String,
    },
    /// The schema name given to [`schema`](crate::PostgresStoreBuilder::schema) is not a plain
    /// identifier (`[a-z_][a-z0-9_]*`, at most 63 bytes).
    #[error("invalid schema name {name:?}: expected [a-z_][a-z0-9_]* of at most 63 bytes")]
    InvalidSchema {
        /// The refused name.
        name: String,
    },
    /// The database could not be reached in time (refused, down, timed out, too many connections).
    /// Retry later.
    #[error("PostgreSQL unavailable: {description}")]
    Unavailable {
        /// What failed, for logs.
        description: String,
    },
    /// The database was migrated by a newer release of this crate: its schema has a migration this
    /// build does not know. The store refuses to use it rather than misread it; upgrade the server.
    #[error(
        "database schema version {found} is newer than this build knows (latest {known}): upgrade the server"
    )]
    SchemaTooNew {
        /// The unknown migration version found in the database.
        found: i64,
        /// The latest migration version this build embeds.
        known: i64,
    },
    /// Applying the embedded migrations failed (a failed earlier migration left the schema dirty, an
    /// applied migration's checksum differs from the embedded one, a statement failed).
    #[error("database schema migration failed: {description}")]
    Migration {
        /// What failed, for logs.
        description: String,
    },
}

impl ConnectError {
    /// `true` for [`Unavailable`](Self::Unavailable): retrying later may succeed.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable { .. })
    }

    /// Maps an error of the migrator, given the latest embedded version.
    pub(crate) fn from_migrate(err: MigrateError, known: i64) -> Self {
        match err {
            MigrateError::VersionMissing(found) if found > known => {
                Self::SchemaTooNew { found, known }
            }
            MigrateError::Execute(inner) => Self::from_sqlx(inner),
            other => Self::Migration {
                description: other.to_string(),
            },
        }
    }

    /// Maps a `sqlx` error met while connecting or migrating.
    pub(crate) fn from_sqlx(err: sqlx::Error) -> Self {
        match classify(&err) {
            Class::Unavailable | Class::Transient => Self::Unavailable {
                description: describe(&err),
            },
            Class::Conflict | Class::Corrupt => Self::Migration {
                description: describe(&err),
            },
        }
    }
}

/// How an error of one statement is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// The backend cannot answer now.
    Unavailable,
    /// A serialization failure or deadlock: the statement may simply be run again.
    Transient,
    /// A unique violation.
    Conflict,
    /// A row or the schema does not match what this crate writes.
    Corrupt,
}

/// SQLSTATE classes and codes that mean "the database cannot serve this now".
fn unavailable_sqlstate(code: &str) -> bool {
    // 08: connection exception; 53: insufficient resources (too many connections, disk full, out of
    // memory); 57: operator intervention (statement timeout 57014, shutdown 57P01-57P03); 58: system error.
    // 55P03: lock not available; 25006: read-only transaction (a standby after fail-over).
    ["08", "53", "57", "58"]
        .iter()
        .any(|class| code.starts_with(class))
        || matches!(code, "55P03" | "25006")
}

fn classify(err: &sqlx::Error) -> Class {
    match err {
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("23505") => Class::Conflict,
            Some("40001" | "40P01") => Class::Transient,
            // 42: syntax error or undefined table/column — the schema is not the one this crate wrote.
            Some(code) if code.starts_with("42") => Class::Corrupt,
            Some(code) if unavailable_sqlstate(code) => Class::Unavailable,
            // Any other refusal (a CHECK or NOT NULL violation): the operation had no effect; report it
            // as the server-side failure it is.
            _ => Class::Unavailable,
        },
        sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::Decode(_)
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnIndexOutOfBounds { .. }
        | sqlx::Error::TypeNotFound { .. }
        | sqlx::Error::RowNotFound => Class::Corrupt,
        // Pool timed out or closed, I/O, TLS, protocol, worker crash, configuration, and anything new.
        _ => Class::Unavailable,
    }
}

/// A description for logs: SQLSTATE and message for database errors (never the `DETAIL`, which may
/// quote a key value), the error's display otherwise.
fn describe(err: &sqlx::Error) -> String {
    match err {
        sqlx::Error::Database(db) => match db.code() {
            Some(code) => format!("SQLSTATE {code}: {}", db.message()),
            None => db.message().to_owned(),
        },
        other => other.to_string(),
    }
}

/// The record kind and rule a unique constraint protects, by constraint name.
fn conflict_of(constraint: Option<&str>, fallback: Entity) -> (Entity, &'static str) {
    match constraint {
        Some("codes_pkey") => (Entity::AuthorizationCode, "duplicate code hash"),
        Some("grants_pkey") => (Entity::Grant, "duplicate family id"),
        Some("refresh_tokens_pkey") => (Entity::RefreshToken, "duplicate refresh token hash"),
        Some("clients_pkey") => (Entity::Client, "duplicate client id"),
        Some("users_pkey") => (Entity::User, "duplicate user id"),
        Some("users_username_key") => (Entity::User, "duplicate username"),
        Some("signing_keys_pkey") => (Entity::SigningKey, "duplicate kid"),
        Some("signing_keys_one_active") => (Entity::SigningKey, "another key is active"),
        _ => (fallback, "unique constraint violated"),
    }
}

/// The failure of one attempt at an operation: a `sqlx` error (still classifiable, so that
/// deadlocks can be retried) or an already-mapped store error (a row that did not decode).
#[derive(Debug)]
pub(crate) enum Failure {
    /// The database refused or could not be reached.
    Sql(sqlx::Error),
    /// A typed error, final.
    Store(StoreError),
}

impl From<sqlx::Error> for Failure {
    fn from(err: sqlx::Error) -> Self {
        Self::Sql(err)
    }
}

impl From<StoreError> for Failure {
    fn from(err: StoreError) -> Self {
        Self::Store(err)
    }
}

impl Failure {
    /// `true` for a serialization failure or deadlock, after which the whole operation may be re-run.
    pub(crate) fn is_transient(&self) -> bool {
        matches!(self, Self::Sql(err) if classify(err) == Class::Transient)
    }

    /// The typed error, for an operation on `entity`.
    pub(crate) fn into_store(self, entity: Entity) -> StoreError {
        match self {
            Self::Store(err) => err,
            Self::Sql(err) => store_error(&err, entity),
        }
    }
}

/// Maps a `sqlx` error of an operation on `entity` to the store's error.
pub(crate) fn store_error(err: &sqlx::Error, entity: Entity) -> StoreError {
    match classify(err) {
        Class::Conflict => {
            let constraint = match err {
                sqlx::Error::Database(db) => db.constraint(),
                _ => None,
            };
            let (entity, rule) = conflict_of(constraint, entity);
            StoreError::conflict(entity, rule)
        }
        Class::Corrupt => StoreError::corrupt(entity, describe(err)),
        Class::Unavailable | Class::Transient => StoreError::unavailable(describe(err)),
    }
}

/// How many times an operation is attempted when it fails with a serialization failure or deadlock.
pub(crate) const MAX_ATTEMPTS: u32 = 3;

/// Runs `$attempt` (an expression evaluating to a future of `Result<T, Failure>`) until it succeeds,
/// fails for good, or has failed transiently [`MAX_ATTEMPTS`] times; maps the failure for `$entity`.
macro_rules! retrying {
    ($entity:expr, $attempt:expr) => {{
        let mut attempt = 1;
        loop {
            match $attempt.await {
                Err(failure) if failure.is_transient() && attempt < $crate::error::MAX_ATTEMPTS => {
                    attempt += 1;
                }
                other => break other.map_err(|failure| failure.into_store($entity)),
            }
        }
    }};
}
pub(crate) use retrying;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlstates_classify() {
        assert!(unavailable_sqlstate("08006"));
        assert!(unavailable_sqlstate("57014"));
        assert!(unavailable_sqlstate("53300"));
        assert!(!unavailable_sqlstate("23505"));
        assert!(!unavailable_sqlstate("42P01"));
    }

    #[test]
    fn transport_errors_are_unavailable_and_decode_errors_corrupt() {
        let timeout = store_error(&sqlx::Error::PoolTimedOut, Entity::Grant);
        assert!(timeout.is_unavailable(), "{timeout:?}");
        let refused = store_error(
            &sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
            Entity::Grant,
        );
        assert!(refused.is_unavailable(), "{refused:?}");
        let missing = store_error(&sqlx::Error::ColumnNotFound("x".into()), Entity::Client);
        assert!(
            matches!(
                missing,
                StoreError::Corrupt {
                    entity: Entity::Client,
                    ..
                }
            ),
            "{missing:?}"
        );
    }

    #[test]
    fn constraint_names_pick_the_entity() {
        assert_eq!(
            conflict_of(Some("users_username_key"), Entity::Client),
            (Entity::User, "duplicate username")
        );
        assert_eq!(
            conflict_of(Some("signing_keys_one_active"), Entity::Client).0,
            Entity::SigningKey
        );
        assert_eq!(conflict_of(None, Entity::Consent).0, Entity::Consent);
    }

    #[test]
    fn newer_schema_is_refused_by_version() {
        assert_eq!(
            ConnectError::from_migrate(MigrateError::VersionMissing(9), 1),
            ConnectError::SchemaTooNew { found: 9, known: 1 }
        );
        assert!(matches!(
            ConnectError::from_migrate(MigrateError::Dirty(1), 1),
            ConnectError::Migration { .. }
        ));
    }
}
