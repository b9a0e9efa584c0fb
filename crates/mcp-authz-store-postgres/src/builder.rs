//! Connection settings, pool sizing and timeouts: [`PostgresStoreBuilder`].

use std::fmt;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::{ConnectError, PostgresStore};

/// Builds a [`PostgresStore`]: connection URL, optional schema, pool size and timeouts.
///
/// | setting | default | why |
/// |---|---|---|
/// | [`max_connections`](Self::max_connections) | 10 | a few per core of a small server; each PostgreSQL connection is a process |
/// | [`min_connections`](Self::min_connections) | 0 | connections open on demand |
/// | [`acquire_timeout`](Self::acquire_timeout) | 5 s | waiting for a pooled connection (or a new one) longer than this yields [`StoreError::Unavailable`](mcp_authz_store::StoreError::Unavailable) (503), not a hung request |
/// | [`statement_timeout`](Self::statement_timeout) | 5 s | PostgreSQL's `statement_timeout` on every pooled connection: a statement stuck on a lock or a slow server is cancelled and reported as `Unavailable` |
/// | [`operation_timeout`](Self::operation_timeout) | 10 s | the most one operation takes, waiting for a connection included, even when the network drops packets (where `statement_timeout`, enforced by the server, never fires); then [`StoreError::Unavailable`](mcp_authz_store::StoreError::Unavailable) |
/// | [`migration_timeout`](Self::migration_timeout) | 60 s | `statement_timeout` of the one connection that waits for the migration lock and applies migrations |
/// | [`test_before_acquire`](Self::test_before_acquire) | `false` | no extra round trip per operation; a connection the server dropped fails one operation with `Unavailable` and is replaced |
/// | [`schema`](Self::schema) | none (the server's `search_path`) | several deployments, or tests, in one database |
///
/// ```no_run
/// use std::time::Duration;
/// use mcp_authz_store_postgres::PostgresStoreBuilder;
/// # async fn demo() -> Result<(), mcp_authz_store_postgres::ConnectError> {
/// let store = PostgresStoreBuilder::new("postgres://authz@db.internal/authz")?
///     .max_connections(20)
///     .statement_timeout(Duration::from_secs(2))
///     .connect()
///     .await?;
/// # let _ = store; Ok(()) }
/// ```
#[derive(Clone)]
#[must_use]
pub struct PostgresStoreBuilder {
    options: PgConnectOptions,
    schema: Option<String>,
    max_connections: u32,
    min_connections: u32,
    acquire_timeout: Duration,
    statement_timeout: Duration,
    operation_timeout: Duration,
    migration_timeout: Duration,
    test_before_acquire: bool,
}

impl PostgresStoreBuilder {
    /// Default [`max_connections`](Self::max_connections).
    pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;
    /// Default [`acquire_timeout`](Self::acquire_timeout).
    pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
    /// Default [`statement_timeout`](Self::statement_timeout).
    pub const DEFAULT_STATEMENT_TIMEOUT: Duration = Duration::from_secs(5);
    /// Default [`operation_timeout`](Self::operation_timeout).
    pub const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(10);
    /// Default [`migration_timeout`](Self::migration_timeout).
    pub const DEFAULT_MIGRATION_TIMEOUT: Duration = Duration::from_secs(60);

    /// Settings from a connection URL (`postgres://user:password@host:port/database?sslmode=…`, as
    /// libpq and `sqlx` read it), with the defaults above.
    pub fn new(url: &str) -> Result<Self, ConnectError> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(ConnectError::InvalidUrl {
                description: "the scheme must be postgres:// or postgresql://".to_owned(),
            });
        }
        let options = url
            .parse::<PgConnectOptions>()
            .map_err(|err| ConnectError::InvalidUrl {
                description: err.to_string(),
            })?;
        Ok(Self::from_options(options))
    }

    /// Settings from already-built `sqlx` connection options, with the defaults above.
    pub fn from_options(options: PgConnectOptions) -> Self {
        Self {
            options,
            schema: None,
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
            min_connections: 0,
            acquire_timeout: Self::DEFAULT_ACQUIRE_TIMEOUT,
            statement_timeout: Self::DEFAULT_STATEMENT_TIMEOUT,
            operation_timeout: Self::DEFAULT_OPERATION_TIMEOUT,
            migration_timeout: Self::DEFAULT_MIGRATION_TIMEOUT,
            test_before_acquire: false,
        }
    }

    /// Keeps every table in this schema (which must exist) by setting `search_path` on every
    /// connection. Default: none, the server's `search_path` (normally `"$user", public`).
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// The most connections the pool opens (default 10; at least 1).
    pub fn max_connections(mut self, max: u32) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// The connections the pool keeps open when idle (default 0).
    pub fn min_connections(mut self, min: u32) -> Self {
        self.min_connections = min;
        self
    }

    /// How long an operation waits for a connection before failing with `Unavailable` (default 5 s).
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// PostgreSQL's `statement_timeout` on every pooled connection (default 5 s); a cancelled statement
    /// is `Unavailable` and changes nothing. `Duration::ZERO` disables it (not recommended).
    pub fn statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = timeout;
        self
    }

    /// The most one storage operation may take, waiting for a connection included (default 10 s);
    /// past it the operation fails with `Unavailable`. Unlike `statement_timeout`, which the server
    /// enforces, this holds when the network silently drops packets. Keep it above
    /// [`acquire_timeout`](Self::acquire_timeout) plus
    /// [`statement_timeout`](Self::statement_timeout), so that those report first.
    pub fn operation_timeout(mut self, timeout: Duration) -> Self {
        self.operation_timeout = timeout;
        self
    }

    /// `statement_timeout` of the connection that takes the migration lock and migrates (default 60 s).
    pub fn migration_timeout(mut self, timeout: Duration) -> Self {
        self.migration_timeout = timeout;
        self
    }

    /// Pings every idle connection before handing it out (default `false`: one round trip less per
    /// operation).
    pub fn test_before_acquire(mut self, test: bool) -> Self {
        self.test_before_acquire = test;
        self
    }

    /// Connects, applies the embedded migrations (under PostgreSQL's advisory lock, so instances
    /// starting together do not race) and returns the store.
    ///
    /// Fails with [`ConnectError::Unavailable`] if the database cannot be reached within the acquire
    /// timeout, and with [`ConnectError::SchemaTooNew`] if a newer release already migrated it.
    pub async fn connect(self) -> Result<PostgresStore, ConnectError> {
        let store = self.connect_lazy()?;
        store.migrate().await?;
        Ok(store)
    }

    /// The store without connecting and **without migrating**: for a server that must start while the
    /// database is down. Operations fail with `Unavailable` until it is reachable; call
    /// [`PostgresStore::migrate`] once it is (or rely on another instance having migrated).
    pub fn connect_lazy(self) -> Result<PostgresStore, ConnectError> {
        let mut options = self.options;
        if let Some(schema) = &self.schema {
            if !valid_schema(schema) {
                return Err(ConnectError::InvalidSchema {
                    name: schema.clone(),
                });
            }
            options = options.options([("search_path", schema.as_str())]);
        }
        let pool_options = options.clone().options([(
            "statement_timeout",
            self.statement_timeout.as_millis().to_string(),
        )]);
        let migration_options = options.options([(
            "statement_timeout",
            self.migration_timeout.as_millis().to_string(),
        )]);
        let pool = PgPoolOptions::new()
            .max_connections(self.max_connections)
            .min_connections(self.min_connections)
            .acquire_timeout(self.acquire_timeout)
            .test_before_acquire(self.test_before_acquire)
            .connect_lazy_with(pool_options);
        Ok(PostgresStore::from_parts(
            pool,
            migration_options,
            self.acquire_timeout,
            self.operation_timeout,
        ))
    }
}

impl fmt::Debug for PostgresStoreBuilder {
    /// Shows where and how the store connects, never the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStoreBuilder")
            .field("host", &self.options.get_host())
            .field("port", &self.options.get_port())
            .field("database", &self.options.get_database())
            .field("username", &self.options.get_username())
            .field("schema", &self.schema)
            .field("max_connections", &self.max_connections)
            .field("min_connections", &self.min_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .field("operation_timeout", &self.operation_timeout)
            .field("migration_timeout", &self.migration_timeout)
            .field("test_before_acquire", &self.test_before_acquire)
            .finish()
    }
}

/// `[a-z_][a-z0-9_]*`, at most 63 bytes: a PostgreSQL identifier that needs no quoting.
fn valid_schema(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z' | b'_'))
        && name.len() <= 63
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_are_plain_identifiers() {
        assert!(valid_schema("authz"));
        assert!(valid_schema("_t_1"));
        assert!(!valid_schema(""));
        assert!(!valid_schema("1abc"));
        assert!(!valid_schema("a-b"));
        assert!(!valid_schema("A"));
        assert!(!valid_schema("a,public"));
        assert!(!valid_schema(&"a".repeat(64)));
    }

    #[test]
    fn bad_urls_and_schemas_are_refused() {
        let err = PostgresStoreBuilder::new("mysql://x").unwrap_err();
        assert!(matches!(err, ConnectError::InvalidUrl { .. }), "{err:?}");
        let err = PostgresStoreBuilder::new("postgres://u@127.0.0.1:notaport/db").unwrap_err();
        assert!(matches!(err, ConnectError::InvalidUrl { .. }), "{err:?}");
        let err = PostgresStoreBuilder::new("postgres://u@127.0.0.1/db")
            .unwrap()
            .schema("x; DROP")
            .connect_lazy()
            .unwrap_err();
        assert!(matches!(err, ConnectError::InvalidSchema { .. }), "{err:?}");
    }

    #[test]
    fn defaults_are_documented_values() {
        let builder = PostgresStoreBuilder::new("postgres://u@127.0.0.1/db").unwrap();
        assert_eq!(builder.max_connections, 10);
        assert_eq!(builder.min_connections, 0);
        assert_eq!(builder.acquire_timeout, Duration::from_secs(5));
        assert_eq!(builder.statement_timeout, Duration::from_secs(5));
        assert_eq!(builder.migration_timeout, Duration::from_secs(60));
        assert!(!builder.test_before_acquire);
        assert_eq!(builder.clone().max_connections(0).max_connections, 1);
        let secret = PostgresStoreBuilder::new("postgres://u:hunter2@127.0.0.1/db").unwrap();
        assert!(!format!("{secret:?}").contains("hunter2"));
    }
}
