//! A fresh PostgreSQL database per test, on the server of `MCP_AUTHZ_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`): absent outside CI is a loud skip, in CI a failure.

use sqlx::Executor as _;

/// A database created for one test; dropped (with its connections) by [`FreshDatabase::drop_now`].
pub struct FreshDatabase {
    admin: sqlx::PgPool,
    /// The database's name.
    pub name: String,
    /// The URL of the test server (its path names the admin database).
    pub server: url::Url,
}

impl FreshDatabase {
    /// Creates `mcp_authz_<label>_<pid>`, or `None` (after a notice) without a server outside CI.
    pub async fn create(label: &str) -> Option<Self> {
        let server = url::Url::parse(
            &std::env::var("MCP_AUTHZ_TEST_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned()),
        )
        .unwrap();
        let admin = match sqlx::PgPool::connect(server.as_str()).await {
            Ok(pool) => pool,
            Err(err) if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") => {
                panic!("CI=true but the test PostgreSQL at {server} is unreachable ({err})")
            }
            Err(err) => {
                eprintln!("\n*** SKIPPED: PostgreSQL at {server} is unreachable ({err})\n");
                return None;
            }
        };
        let name = format!("mcp_authz_{label}_{}", std::process::id());
        admin
            .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
            .await
            .unwrap();
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap();
        Some(Self {
            admin,
            name,
            server,
        })
    }

    /// The database's URL, reached at `host:port` (a proxy) or the server's own address.
    pub fn url_via(&self, via: Option<std::net::SocketAddr>) -> url::Url {
        let mut url = self.server.clone();
        if let Some(via) = via {
            url.set_host(Some(&via.ip().to_string())).unwrap();
            url.set_port(Some(via.port())).unwrap();
        }
        url.set_path(&self.name);
        url
    }

    /// The server's address.
    pub fn server_addr(&self) -> std::net::SocketAddr {
        use std::net::ToSocketAddrs as _;
        (
            self.server.host_str().unwrap(),
            self.server.port().unwrap_or(5432),
        )
            .to_socket_addrs()
            .unwrap()
            .next()
            .unwrap()
    }

    /// Drops the database, ending its connections.
    pub async fn drop_now(self) {
        self.admin
            .execute(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name).as_str())
            .await
            .unwrap();
    }
}
