//! A real server on 127.0.0.1 and a browser-like client that drives the HTML forms.
#![allow(dead_code, unreachable_pub)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::sync::Arc;

use base64::Engine as _;
use mcp_authz_metadata::{ClientId, Issuer, ResourceUri, Scope};
use mcp_authz_pkce::CodeVerifier;
use mcp_authz_server::{AuthorizationServer, ServerConfig, ServerConfigBuilder};
use mcp_authz_store::{ManualClock, MemoryStore, NumericDate, Store};
use mcp_authz_token::{AuthorizationCallback, AuthorizationRequest, State};
use serde_json::Value;

pub const RESOURCE: &str = "http://127.0.0.1:9/mcp";
pub const OTHER_RESOURCE: &str = "http://127.0.0.1:10/other";
pub const REDIRECT: &str = "http://127.0.0.1:7777/callback";
pub const USER: &str = "alice";
pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestServer {
    pub base: String,
    pub server: AuthorizationServer,
    pub store: Arc<dyn Store>,
    pub clock: Arc<ManualClock>,
    pub http: reqwest::Client,
    /// Keeps the SQLite backend's directory alive as long as the server.
    _dir: Option<tempfile::TempDir>,
}

/// The storage backend of a test, chosen by `MCP_AUTHZ_TEST_STORE`: `memory` (default), `sqlite` (a
/// file in a fresh temporary directory) or `postgres` (a fresh schema on
/// `MCP_AUTHZ_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`).
pub struct TestStore {
    pub store: Arc<dyn Store>,
    dir: Option<tempfile::TempDir>,
}

/// Every PostgreSQL test schema starts with this prefix, then `<pid>_<counter>`.
const PG_PREFIX: &str = "mcp_authz_server_test_";

/// A fresh store of the backend chosen by `MCP_AUTHZ_TEST_STORE`.
pub async fn test_store() -> TestStore {
    let kind = std::env::var("MCP_AUTHZ_TEST_STORE").unwrap_or_default();
    match kind.as_str() {
        "" | "memory" => TestStore {
            store: Arc::new(MemoryStore::new()),
            dir: None,
        },
        "sqlite" => {
            let dir = tempfile::tempdir().unwrap();
            let store = mcp_authz_store_sqlite::SqliteStore::open(dir.path().join("authz.db"))
                .await
                .unwrap();
            TestStore {
                store: Arc::new(store),
                dir: Some(dir),
            }
        }
        "postgres" => postgres_store().await,
        other => panic!("MCP_AUTHZ_TEST_STORE={other}: expected memory, sqlite or postgres"),
    }
}

/// A migrated PostgreSQL store in a fresh schema. An unreachable database fails with `CI=true`;
/// otherwise a loud notice is printed and the test runs on the memory store.
async fn postgres_store() -> TestStore {
    use sqlx::Executor as _;
    use std::io::Write as _;
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let url = std::env::var("MCP_AUTHZ_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let schema = format!(
        "{PG_PREFIX}{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let store = mcp_authz_store_postgres::PostgresStore::builder(&url)
        .unwrap()
        .schema(&schema)
        .acquire_timeout(std::time::Duration::from_secs(10))
        .connect_lazy()
        .unwrap();
    if let Err(err) = store.pool().acquire().await {
        if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
            panic!("CI=true but the test PostgreSQL at {url} is unreachable ({err})");
        }
        let _ = writeln!(
            std::io::stderr(),
            "\n*** PostgreSQL at {url} is unreachable ({err}): running on the memory store.\n\
             *** Set MCP_AUTHZ_TEST_POSTGRES_URL or start PostgreSQL; with CI=true this fails.\n"
        );
        return TestStore {
            store: Arc::new(MemoryStore::new()),
            dir: None,
        };
    }
    // Schemas of earlier test processes that are gone, dropped best effort.
    let stale: Vec<(String,)> = sqlx::query_as(
        "SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname::text, $1)",
    )
    .bind(PG_PREFIX)
    .fetch_all(store.pool())
    .await
    .unwrap_or_default();
    for (name,) in stale {
        let pid = name[PG_PREFIX.len()..]
            .split('_')
            .next()
            .unwrap_or_default();
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = store
                .pool()
                .execute(format!("DROP SCHEMA IF EXISTS {name} CASCADE").as_str())
                .await;
        }
    }
    store
        .pool()
        .execute(format!("CREATE SCHEMA {schema}").as_str())
        .await
        .unwrap();
    store.migrate().await.unwrap();
    TestStore {
        store: Arc::new(store),
        dir: None,
    }
}

pub fn resource() -> ResourceUri {
    ResourceUri::parse(RESOURCE).unwrap()
}

pub fn scope(s: &str) -> Scope {
    Scope::parse(s).unwrap()
}

/// The default configuration of the tests: two resources, a manual clock.
pub fn default_config(builder: ServerConfigBuilder) -> ServerConfigBuilder {
    builder
        .resource_with_default(
            resource(),
            scope("tools:read tools:write"),
            scope("tools:read"),
        )
        .resource(
            ResourceUri::parse(OTHER_RESOURCE).unwrap(),
            scope("other:read"),
        )
        .register_rate_limit(mcp_authz_server::RateLimit::per_second(100, 100))
}

impl TestServer {
    /// A server with the default configuration on the backend of `MCP_AUTHZ_TEST_STORE`.
    pub async fn start() -> Self {
        Self::start_configured(default_config).await
    }

    /// A server configured by `configure` on the backend of `MCP_AUTHZ_TEST_STORE`.
    pub async fn start_configured(
        configure: impl FnOnce(ServerConfigBuilder) -> ServerConfigBuilder,
    ) -> Self {
        Self::start_on(configure, test_store().await).await
    }

    /// A server on a given store (tests that need a special one).
    pub async fn start_with(
        configure: impl FnOnce(ServerConfigBuilder) -> ServerConfigBuilder,
        store: Arc<dyn Store>,
    ) -> Self {
        Self::start_on(configure, TestStore { store, dir: None }).await
    }

    pub async fn start_on(
        configure: impl FnOnce(ServerConfigBuilder) -> ServerConfigBuilder,
        backend: TestStore,
    ) -> Self {
        let TestStore { store, dir } = backend;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let base = format!("http://127.0.0.1:{port}");
        let clock = Arc::new(ManualClock::new(NumericDate::from_secs(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
        )));
        let builder = ServerConfig::builder_from_str(&base.clone())
            .unwrap()
            .allow_http_loopback()
            .clock(clock.clone());
        let config = configure(builder).build().unwrap();
        let server = AuthorizationServer::new(config, store.clone()).unwrap();
        let app = server
            .router()
            .into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            base,
            server,
            store,
            clock,
            http,
            _dir: dir,
        }
    }

    pub fn issuer(&self) -> Issuer {
        Issuer::parse(&self.base).unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A browser: cookies kept, redirects not followed.
    pub fn browser(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .cookie_store(true)
            .build()
            .unwrap()
    }

    pub async fn create_user(&self, name: &str, password: &str) -> String {
        let ids = mcp_authz_store::RandomIds;
        let user = self
            .server
            .local_users()
            .create_user(&ids, name, password, self.clock.now_time())
            .await
            .unwrap();
        user.id.as_str().to_owned()
    }

    pub async fn register(&self, body: Value) -> reqwest::Response {
        self.http
            .post(self.url("/register"))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Registers a public native client with `REDIRECT`.
    pub async fn public_client(&self) -> ClientId {
        let response = self
            .register(serde_json::json!({
                "redirect_uris": [REDIRECT],
                "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code", "refresh_token"],
                "client_name": "Test <Client>",
                "application_type": "native",
            }))
            .await;
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        ClientId::parse(body["client_id"].as_str().unwrap()).unwrap()
    }

    /// Registers a confidential client; returns (id, secret).
    pub async fn confidential_client(&self, grant_types: &[&str]) -> (String, String) {
        let response = self
            .register(serde_json::json!({
                "redirect_uris": ["https://app.example.com/cb"],
                "token_endpoint_auth_method": "client_secret_basic",
                "grant_types": grant_types,
                "client_name": "Machine",
                "application_type": "web",
            }))
            .await;
        assert_eq!(response.status(), 201);
        let body: Value = response.json().await.unwrap();
        (
            body["client_id"].as_str().unwrap().to_owned(),
            body["client_secret"].as_str().unwrap().to_owned(),
        )
    }

    pub async fn token(
        &self,
        form: &[(&str, &str)],
    ) -> (reqwest::StatusCode, reqwest::header::HeaderMap, Value) {
        let response = self
            .http
            .post(self.url("/token"))
            .form(form)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, headers, body)
    }
}

pub trait NowTime {
    fn now_time(&self) -> NumericDate;
}

impl NowTime for ManualClock {
    fn now_time(&self) -> NumericDate {
        mcp_authz_store::Clock::now(self)
    }
}

/// An authorization request URL.
pub struct Authorize {
    pub verifier: CodeVerifier,
    pub state: State,
    pub request: AuthorizationRequest,
}

impl Authorize {
    pub fn new(client_id: &ClientId) -> Self {
        let verifier = CodeVerifier::generate().unwrap();
        let state = State::generate().unwrap();
        let request = AuthorizationRequest::new(client_id.clone(), verifier.challenge())
            .with_redirect_uri(mcp_authz_metadata::RedirectUri::parse(REDIRECT).unwrap())
            .with_state(state.clone())
            .with_resource(resource());
        Self {
            verifier,
            state,
            request,
        }
    }

    pub fn url(&self, server: &TestServer) -> String {
        format!("{}?{}", server.url("/authorize"), self.request.to_query())
    }
}

/// The value of a hidden input `name` in an HTML page.
pub fn hidden_field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned()
}

pub fn callback(location: &str) -> AuthorizationCallback {
    let url = url::Url::parse(location).unwrap();
    AuthorizationCallback::from_url(&url).unwrap()
}

/// Logs in on the page at `response` (the login page) and returns the next page's response.
pub async fn login(
    server: &TestServer,
    browser: &reqwest::Client,
    page: &str,
    user: &str,
    password: &str,
) -> reqwest::Response {
    let response = browser
        .post(server.url("/authorize/login"))
        .form(&[
            ("request", hidden_field(page, "request").as_str()),
            ("csrf", hidden_field(page, "csrf").as_str()),
            ("username", user),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let next = location(&response);
    browser.get(server.url(&next)).send().await.unwrap()
}

/// The full browser flow: authorize -> login -> consent (approve) -> the callback location.
pub async fn browser_flow(
    server: &TestServer,
    browser: &reqwest::Client,
    authorize: &Authorize,
) -> String {
    let page = browser.get(authorize.url(server)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let next = if html.contains("name=\"password\"") {
        login(server, browser, &html, USER, PASSWORD).await
    } else {
        return approve(server, browser, &html).await;
    };
    if next.status() == 303 || next.status() == 302 {
        return location(&next);
    }
    let html = next.text().await.unwrap();
    approve(server, browser, &html).await
}

/// Submits the consent page with "approve"; returns the redirect location.
pub async fn approve(server: &TestServer, browser: &reqwest::Client, consent_page: &str) -> String {
    assert!(consent_page.contains("value=\"approve\""), "{consent_page}");
    let response = browser
        .post(server.url("/authorize/consent"))
        .form(&[
            ("request", hidden_field(consent_page, "request").as_str()),
            ("csrf", hidden_field(consent_page, "csrf").as_str()),
            ("decision", "approve"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    location(&response)
}

/// Runs the browser flow and exchanges the code; returns the token response.
pub async fn code_for_tokens(server: &TestServer, client: &ClientId) -> Value {
    let browser = server.browser();
    let authorize = Authorize::new(client);
    let location = browser_flow(server, &browser, &authorize).await;
    let AuthorizationCallback::Success(success) = callback(&location) else {
        panic!("{location}")
    };
    let (status, _, body) = server
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", success.code.secret()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", authorize.verifier.secret()),
            ("client_id", client.as_str()),
            ("resource", RESOURCE),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// The claims of a JWT, unverified (tests verify signatures separately).
pub fn jwt_parts(jwt: &str) -> (Value, Value) {
    let mut parts = jwt.split('.');
    let decode = |p: &str| -> Value {
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .unwrap(),
        )
        .unwrap()
    };
    let header = decode(parts.next().unwrap());
    let claims = decode(parts.next().unwrap());
    (header, claims)
}

pub fn basic(id: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

impl TestServer {
    /// An operator-registered confidential client (`client_secret_basic`) with `grant_types`, as
    /// `mcp-authz clients add --client-credentials` makes: only these may use `client_credentials`
    /// (SEC-10). Returns (id, secret).
    pub async fn operator_client(&self, grant_types: &[&str]) -> (String, String) {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let id = format!("operator-{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let client = grant_types
            .iter()
            .fold(
                mcp_authz_server::ConfidentialClient::builder(ClientId::parse(&id).unwrap())
                    .name("Operator machine")
                    .all_resources(),
                |b, g| b.grant_type(mcp_authz_metadata::GrantType::from(*g)),
            )
            .build()
            .unwrap();
        let secret = self.server.register_client(&client).await.unwrap();
        (id, secret.secret().to_owned())
    }

    /// A token request authenticated with `client_secret_basic`.
    pub async fn token_basic(
        &self,
        id: &str,
        secret: &str,
        form: &[(&str, &str)],
    ) -> (reqwest::StatusCode, reqwest::header::HeaderMap, Value) {
        let response = self
            .http
            .post(self.url("/token"))
            .header("authorization", basic(id, secret))
            .form(form)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, headers, body)
    }
}

/// A tiny HTTPS document host on 127.0.0.1 (certificate for `localhost`) answering fixed responses by
/// path (404 otherwise) and counting every request it reads: the outbound fetches a test caused.
pub struct DocumentHost {
    pub port: u16,
    pub root_der: Vec<u8>,
    pub hits: Arc<std::sync::atomic::AtomicUsize>,
}

impl DocumentHost {
    /// `https://localhost:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.port)
    }

    /// Requests read so far.
    pub fn hits(&self) -> usize {
        self.hits.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Metadata-document settings trusting this host's certificate; `allow_private` is the
    /// dangerous loopback allowance this host needs to be reachable at all.
    pub fn config(&self, allow_private: bool) -> mcp_authz_server::MetadataDocumentConfig {
        mcp_authz_server::MetadataDocumentConfig {
            allow_private_addresses: allow_private,
            extra_root_certificates: vec![self.root_der.clone()],
            ..mcp_authz_server::MetadataDocumentConfig::default()
        }
    }
}

/// A 200 JSON response for a [`DocumentHost`] route.
pub fn document_response(body: &str, cache: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncache-control: {cache}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Starts a [`DocumentHost`]; `routes` gets its base URL (`https://localhost:<port>`) and returns
/// the raw HTTP response of each path.
pub async fn start_document_host(
    routes: impl FnOnce(&str) -> std::collections::HashMap<String, String>,
) -> DocumentHost {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_rustls::rustls;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let routes = routes(&format!("https://localhost:{port}"));
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_der = certified.cert.der().to_vec();
    let key_der = certified.key_pair.serialize_der();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![rustls::pki_types::CertificateDer::from(cert_der.clone())],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key_der.into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let routes = routes.clone();
            let counter = counter.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let text = String::from_utf8_lossy(&request);
                let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let response = routes.get(&path).cloned().unwrap_or_else(|| {
                    "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                        .to_owned()
                });
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    DocumentHost {
        port,
        root_der: cert_der,
        hits,
    }
}

impl TestServer {
    /// The subject of the local user `name`.
    pub async fn find_subject(&self, name: &str) -> mcp_authz_store::Subject {
        self.server.find_user(name).await.unwrap().unwrap().id
    }
}
