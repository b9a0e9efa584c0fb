//! Load harness over real HTTP on 127.0.0.1: the server and the load generator share this machine.
//!
//! ```text
//! cargo bench -p mcp-authz-server --bench load            # 3 s per scenario
//! LOAD_SECS=5 LOAD_CONCURRENCY=32 cargo bench -p mcp-authz-server --bench load
//! ```
//!
//! Scenarios: metadata GET; JWKS GET; client_credentials token (ES256 JWT, and EdDSA JWT); refresh-token
//! rotation on SQLite;
//! full authorize (session + remembered consent) -> token flows on memory and on SQLite. Each
//! scenario is bounded in time and in count.
//!
//! **The server runs in a child process**, a fresh one per scenario: this binary re-executes itself
//! with `LOAD_SERVE=memory|sqlite`, the child prints its address, serves until its stdin closes, and
//! the parent (the load generator) reads the child's peak resident set size (`VmHWM` in
//! `/proc/<pid>/status`) before closing it. So the memory figure is the server's alone, and the two
//! processes compete for the two cores as a real server and its clients would.
//!
//! Every result is also printed as a machine-readable line
//! `PERF|<section>|<name>|<figure>|<target>|<command>`, which `cargo xtask bench` collects into
//! `docs/performance.md`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

#[path = "load/peers.rs"]
mod peers;
#[path = "load/soak.rs"]
mod soak;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use mcp_authz_metadata::{ClientId, RedirectUri, ResourceUri, Scope};
use mcp_authz_pkce::CodeVerifier;
use mcp_authz_server::{AuthorizationServer, RateLimit, ServerConfig, SigningAlgorithm};
use mcp_authz_store::{MemoryStore, RandomIds, Store, SystemClock};
use mcp_authz_token::{AuthorizationCallback, AuthorizationRequest};

const RESOURCE: &str = "http://127.0.0.1:9/mcp";
const REDIRECT: &str = "http://127.0.0.1:7777/callback";
const MAX_REQUESTS: u64 = 2_000_000;
const SECTION: &str = "server";
const COMMAND: &str = "cargo bench -p mcp-authz-server --bench load";

/// An in-process server (for the in-process measurements).
struct Target {
    base: String,
    addr: SocketAddr,
    server: AuthorizationServer,
}

/// Starts a server on 127.0.0.1 over `store`, with the user `bench` / `bench-password`. Its keys
/// are ES256, or EdDSA when `LOAD_SIGNING_ALG=EdDSA` (set by [`ChildServer::spawn_with`]).
async fn start(store: Arc<dyn Store>) -> Target {
    let algorithm = std::env::var("LOAD_SIGNING_ALG")
        .map(|name| SigningAlgorithm::parse(&name).unwrap())
        .unwrap_or_default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let config = ServerConfig::builder_from_str(&base.clone())
        .unwrap()
        .allow_http_loopback()
        .resource(
            ResourceUri::parse(RESOURCE).unwrap(),
            Scope::parse("tools:read").unwrap(),
        )
        .token_rate_limit(RateLimit::unlimited())
        .authorize_rate_limit(RateLimit::unlimited())
        .register_rate_limit(RateLimit::unlimited())
        .clock(Arc::new(SystemClock))
        .ids(Arc::new(RandomIds))
        .signing_algorithm(algorithm)
        .build()
        .unwrap();
    add_machine(store.as_ref()).await;
    let server = AuthorizationServer::new(config, store).unwrap();
    server
        .local_users()
        .create_user(
            &RandomIds,
            "bench",
            "bench-password",
            mcp_authz_store::Clock::now(&SystemClock),
        )
        .await
        .unwrap();
    let app = server
        .router()
        .into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Target { base, addr, server }
}

/// The child side: serves `store` (`memory` or `sqlite`) until stdin closes.
fn serve_child(store: &str) {
    // As `mcp-authz serve` does: a multi-threaded runtime with one worker per core.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = match store {
            "memory" => Arc::new(MemoryStore::new()),
            "sqlite" => Arc::new(
                mcp_authz_store_sqlite::SqliteStore::open(dir.path().join("bench.db"))
                    .await
                    .unwrap(),
            ),
            other => panic!("LOAD_SERVE={other}: expected memory or sqlite"),
        };
        let target = start(store).await;
        println!("LISTENING {}", target.addr);
        std::io::stdout().flush().unwrap();
        // Serve until the parent closes our stdin.
        tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
        })
        .await
        .unwrap();
        drop(target);
        drop(dir);
    });
}

/// Whether per-run `PERF` lines are printed (not in the peers mode, which reports ratios).
static PER_RUN_PERF: AtomicBool = AtomicBool::new(true);

/// What one run measured.
#[derive(Debug, Clone, Copy)]
struct Measured {
    /// Requests per second.
    rate: f64,
    /// The server process's CPU time per request, in microseconds.
    cpu_us: f64,
}

/// A server in a child process.
struct ChildServer {
    child: Child,
    base: String,
    addr: SocketAddr,
}

impl ChildServer {
    fn spawn(store: &str) -> Self {
        Self::spawn_with(store, SigningAlgorithm::Es256)
    }

    /// A child server whose signing keys are of `algorithm`.
    fn spawn_with(store: &str, algorithm: SigningAlgorithm) -> Self {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .env("LOAD_SERVE", store)
            .env("LOAD_SIGNING_ALG", algorithm.as_str())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr: SocketAddr = line
            .trim()
            .strip_prefix("LISTENING ")
            .unwrap_or_else(|| panic!("unexpected child output {line:?}"))
            .parse()
            .unwrap();
        Self {
            child,
            base: format!("http://{addr}"),
            addr,
        }
    }

    /// A child that printed its address already (the peer, see `peers.rs`).
    fn from_child(child: Child, addr: SocketAddr) -> Self {
        Self {
            child,
            base: format!("http://{addr}"),
            addr,
        }
    }

    /// The child's process id.
    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the child (SIGKILL) and waits for it: for a child that does not stop when its standard
    /// input closes (`mcp-authz serve`).
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops the child without reporting anything.
    fn finish_quietly(mut self) {
        drop(self.child.stdin.take());
        self.child.wait().unwrap();
    }

    /// The child's peak resident set size so far, in KiB (`VmHWM`).
    fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    /// The child's CPU time so far (user + system), in seconds, from `/proc/<pid>/stat`.
    fn cpu_secs(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        // Fields after the command name (which may hold spaces) start at field 3; utime and stime
        // are fields 14 and 15, in clock ticks (100 per second on Linux).
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        ticks as f64 / 100.0
    }

    /// Stops the child and reports its peak RSS.
    fn finish(mut self, name: &str) -> f64 {
        let mib = self.peak_rss_kib() as f64 / 1024.0;
        drop(self.child.stdin.take());
        self.child.wait().unwrap();
        println!(
            "{:<52} {mib:>9.1} MiB peak RSS (VmHWM), server process only",
            ""
        );
        perf(
            &format!("server peak RSS: {name}"),
            &format!("{mib:.1} MiB"),
            "< 64 MiB",
        );
        mib
    }
}

/// One machine-readable result line for `cargo xtask bench`.
fn perf(name: &str, figure: &str, target: &str) {
    println!("PERF|{SECTION}|{name}|{figure}|{target}|{COMMAND}");
}

/// Thousands separators: 12345 -> "12,345".
fn thousands(n: f64) -> String {
    let digits = format!("{:.0}", n.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

async fn connect(addr: SocketAddr) -> SendRequest<Full<Bytes>> {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(conn);
    sender
}

struct Reply {
    status: u16,
    location: Option<String>,
    body: Bytes,
}

async fn send(
    sender: &mut SendRequest<Full<Bytes>>,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: String,
) -> Reply {
    let mut builder = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "127.0.0.1");
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    if !body.is_empty() {
        builder = builder.header("content-type", "application/x-www-form-urlencoded");
    }
    sender.ready().await.unwrap();
    let response = sender
        .send_request(builder.body(Full::new(Bytes::from(body))).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        location,
        body,
    }
}

/// Runs `concurrency` workers, each looping `op` over its own connection, for `secs`.
async fn run<S, F, Fut>(
    name: &str,
    target: &str,
    server: &ChildServer,
    concurrency: usize,
    secs: u64,
    states: Vec<S>,
    op: F,
) -> Measured
where
    S: Send + 'static,
    F: Fn(SendRequest<Full<Bytes>>, S) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = (SendRequest<Full<Bytes>>, S)> + Send,
{
    let addr = server.addr;
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let cpu = server.cpu_secs();
    let started = Instant::now();
    let mut handles = Vec::new();
    for state in states.into_iter().take(concurrency) {
        let stop = stop.clone();
        let count = count.clone();
        let op = op.clone();
        handles.push(tokio::spawn(async move {
            let mut sender = connect(addr).await;
            let mut state = state;
            while !stop.load(Ordering::Relaxed) && count.load(Ordering::Relaxed) < MAX_REQUESTS {
                (sender, state) = op(sender, state).await;
                count.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(secs)).await;
    stop.store(true, Ordering::Relaxed);
    for handle in handles {
        handle.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let total = count.load(Ordering::Relaxed);
    let rate = total as f64 / elapsed;
    let cpu_per = (server.cpu_secs() - cpu) / total.max(1) as f64 * 1e6;
    println!(
        "{name:<52} {total:>9} in {elapsed:>5.2} s = {rate:>9.0} /s; server CPU {cpu_per:.0} µs per request"
    );
    if PER_RUN_PERF.load(Ordering::Relaxed) {
        perf(
            name,
            &format!(
                "{} /s (server CPU {cpu_per:.0} µs per request)",
                thousands(rate)
            ),
            target,
        );
    }
    Measured {
        rate,
        cpu_us: cpu_per,
    }
}

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

async fn register_public(base: &str) -> ClientId {
    let body = serde_json::json!({
        "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"], "application_type": "native",
        "client_name": "bench",
    });
    let response: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/register"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    ClientId::parse(response["client_id"].as_str().unwrap()).unwrap()
}

/// The operator-registered machine client every bench server has (SEC-10: only operator clients
/// may use `client_credentials`).
const MACHINE_ID: &str = "bench-machine";
const MACHINE_SECRET: &str = "bench-machine-secret-with-enough-entropy-0123456789";

/// Stores the machine client [`MACHINE_ID`] as an operator would register it.
async fn add_machine(store: &dyn Store) {
    let record = mcp_authz_store::ClientRecord {
        client_id: ClientId::parse(MACHINE_ID).unwrap(),
        kind: mcp_authz_store::ClientKind::PreRegistered,
        secret_hash: Some(mcp_authz_server::hash_client_secret(MACHINE_SECRET).unwrap()),
        secret_expires_at: None,
        redirect_uris: Vec::new(),
        grant_types: vec![mcp_authz_metadata::GrantType::ClientCredentials],
        token_endpoint_auth_method: mcp_authz_metadata::TokenEndpointAuthMethod::ClientSecretBasic,
        application_type: mcp_authz_metadata::ApplicationType::Web,
        client_name: Some("bench machine".to_owned()),
        allowed_resources: None,
        allowed_scope: None,
        metadata_json: "{}".to_owned(),
        created_at: mcp_authz_store::Clock::now(&SystemClock),
    };
    store.insert_client(record).await.unwrap();
}

/// The `Authorization: Basic` header value of the machine client of the server at `_base`.
async fn register_machine(_base: &str) -> String {
    format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{MACHINE_ID}:{MACHINE_SECRET}")
        )
    )
}

fn cookie_of(response: &reqwest::Response) -> String {
    let set = response.headers()["set-cookie"].to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap() + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

fn authorize_path_for(client: &ClientId, verifier: &CodeVerifier, resource: &str) -> String {
    let request = AuthorizationRequest::new(client.clone(), verifier.challenge())
        .with_redirect_uri(RedirectUri::parse(REDIRECT).unwrap())
        .with_resource(ResourceUri::parse(resource).unwrap());
    format!("/authorize?{}", request.to_query())
}

/// Logs in (as the user `bench`, which every server here has) once and consents once; returns the
/// session cookie whose consent is remembered.
async fn remembered_session(base: &str, client: &ClientId) -> String {
    remembered_session_as(base, client, RESOURCE, "bench", "bench-password").await
}

/// [`remembered_session`] for `resource`, signing in as `user`.
async fn remembered_session_as(
    base: &str,
    client: &ClientId,
    resource: &str,
    user: &str,
    password: &str,
) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let verifier = CodeVerifier::generate().unwrap();
    let page = http
        .get(format!(
            "{base}{}",
            authorize_path_for(client, &verifier, resource)
        ))
        .send()
        .await
        .unwrap();
    let cookie = cookie_of(&page);
    let html = page.text().await.unwrap();
    let login = http
        .post(format!("{base}/authorize/login"))
        .header("cookie", &cookie)
        .form(&[
            ("request", hidden(&html, "request")),
            ("csrf", hidden(&html, "csrf")),
            ("username", user.to_owned()),
            ("password", password.to_owned()),
        ])
        .send()
        .await
        .unwrap();
    let cookie = cookie_of(&login);
    let resume = login.headers()["location"].to_str().unwrap().to_owned();
    let html = http
        .get(format!("{base}{resume}"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let consent = http
        .post(format!("{base}/authorize/consent"))
        .header("cookie", &cookie)
        .form(&[
            ("request", hidden(&html, "request")),
            ("csrf", hidden(&html, "csrf")),
            ("decision", "approve".into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(consent.status(), 303);
    cookie
}

/// One full flow: authorize (302 with code, consent remembered) then the code exchange.
async fn full_flow(
    sender: &mut SendRequest<Full<Bytes>>,
    client: &ClientId,
    cookie: &str,
) -> serde_json::Value {
    full_flow_for(sender, client, cookie, RESOURCE).await
}

/// [`full_flow`] for `resource`.
async fn full_flow_for(
    sender: &mut SendRequest<Full<Bytes>>,
    client: &ClientId,
    cookie: &str,
    resource: &str,
) -> serde_json::Value {
    let verifier = CodeVerifier::generate().unwrap();
    let reply = send(
        sender,
        "GET",
        &authorize_path_for(client, &verifier, resource),
        &[("cookie", cookie)],
        String::new(),
    )
    .await;
    assert_eq!(reply.status, 302, "{:?}", reply.body);
    let location = reply.location.unwrap();
    let AuthorizationCallback::Success(success) =
        AuthorizationCallback::from_url(&url::Url::parse(&location).unwrap()).unwrap()
    else {
        panic!("{location}")
    };
    let body = form(&[
        ("grant_type", "authorization_code"),
        ("code", success.code.secret()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier.secret()),
        ("client_id", client.as_str()),
    ]);
    let reply = send(sender, "POST", "/token", &[], body).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    serde_json::from_slice(&reply.body).unwrap()
}

/// The full-flow scenario against a fresh child server over `store`.
async fn flows(store: &str, name: &str, target: &str, concurrency: usize, secs: u64) {
    let server = ChildServer::spawn(store);
    let client = Arc::new(register_public(&server.base).await);
    let cookie = Arc::new(remembered_session(&server.base, &client).await);
    run(
        name,
        target,
        &server,
        concurrency,
        secs,
        vec![(); concurrency],
        move |mut s, ()| {
            let client = client.clone();
            let cookie = cookie.clone();
            async move {
                full_flow(&mut s, &client, &cookie).await;
                (s, ())
            }
        },
    )
    .await;
    server.finish(name);
}

/// Refresh rotation over HTTP against a fresh child server on SQLite: `concurrency` chains. With
/// `scope`, every request names the (whole) granted scope, which takes the handler's narrowing path:
/// a lookup of the token, then the rotation.
async fn refresh_rotation(
    name: &str,
    target: &str,
    scope: Option<&'static str>,
    concurrency: usize,
    secs: u64,
) {
    let server = ChildServer::spawn("sqlite");
    let client = Arc::new(register_public(&server.base).await);
    let cookie = remembered_session(&server.base, &client).await;
    let mut chains = Vec::new();
    let mut setup = connect(server.addr).await;
    for _ in 0..concurrency {
        let tokens = full_flow(&mut setup, &client, &cookie).await;
        chains.push(tokens["refresh_token"].as_str().unwrap().to_owned());
    }
    drop(setup);
    run(
        name,
        target,
        &server,
        concurrency,
        secs,
        chains,
        move |mut s, token: String| {
            let client = client.clone();
            async move {
                let mut pairs = vec![
                    ("grant_type", "refresh_token"),
                    ("refresh_token", token.as_str()),
                    ("client_id", client.as_str()),
                ];
                if let Some(scope) = scope {
                    pairs.push(("scope", scope));
                }
                let body = form(&pairs);
                let reply = send(&mut s, "POST", "/token", &[], body).await;
                assert_eq!(reply.status, 200, "{:?}", reply.body);
                let json: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
                (s, json["refresh_token"].as_str().unwrap().to_owned())
            }
        },
    )
    .await;
    server.finish(name);
}

/// In-process costs, no HTTP: one client_credentials request through `AuthorizationServer::handle`
/// (memory store), and one `SqliteStore::rotate_refresh_token` (store only, sequential).
async fn in_process() {
    let memory = start(Arc::new(MemoryStore::new())).await;
    let auth = register_machine(&memory.base).await;
    let n = 2000;
    let started = Instant::now();
    for _ in 0..n {
        let request = http::Request::builder()
            .method("POST")
            .uri("/token")
            .header("authorization", auth.as_str())
            .body(Bytes::from_static(b"grant_type=client_credentials"))
            .unwrap();
        let response = memory.server.handle(request).await;
        assert_eq!(response.status(), 200);
    }
    let per = started.elapsed() / n;
    let name = "client_credentials via AuthorizationServer::handle";
    println!("{name:<52} {per:>9.1?} per request in process");
    perf(
        name,
        &format!("{:.1} µs per request", per.as_secs_f64() * 1e6),
        "",
    );

    let dir = tempfile::tempdir().unwrap();
    let sqlite = Arc::new(
        mcp_authz_store_sqlite::SqliteStore::open(dir.path().join("bench.db"))
            .await
            .unwrap(),
    );
    let target = start(sqlite.clone()).await;
    let client = register_public(&target.base).await;
    let cookie = remembered_session(&target.base, &client).await;
    let mut setup = connect(target.addr).await;
    let tokens = full_flow(&mut setup, &client, &cookie).await;
    let mut current = tokens["refresh_token"].as_str().unwrap().to_owned();
    let n = 500;
    let started = Instant::now();
    for _ in 0..n {
        let next = mcp_authz_token::RefreshToken::generate().unwrap();
        let now = mcp_authz_store::Clock::now(&SystemClock);
        let rotation = mcp_authz_store::GrantStore::rotate_client_refresh_token(
            sqlite.as_ref(),
            &mcp_authz_store::SecretHash::of(&current),
            &client,
            mcp_authz_store::NewRefreshToken {
                hash: mcp_authz_store::SecretHash::of(next.secret()),
                expires_at: now.saturating_add(Duration::from_secs(3600)),
            },
            now,
        )
        .await
        .unwrap();
        assert!(matches!(
            rotation,
            mcp_authz_store::Rotation::Rotated { .. }
        ));
        current = next.secret().to_owned();
    }
    let per = started.elapsed() / n;
    let name = "SqliteStore::rotate_client_refresh_token, sequential";
    println!("{name:<52} {per:>9.1?} per rotation, store only");
    perf(
        name,
        &format!("{:.1} µs per rotation", per.as_secs_f64() * 1e6),
        "",
    );
}

fn main() {
    if let Ok(store) = std::env::var("LOAD_SERVE") {
        serve_child(&store);
        return;
    }
    let secs: u64 = std::env::var("LOAD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let concurrency: usize = std::env::var("LOAD_CONCURRENCY")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(32);
    // Optional: run only the scenarios whose name contains this text.
    let only = std::env::var("LOAD_ONLY").unwrap_or_default();
    let wanted = move |name: &str| only.is_empty() || name.contains(only.as_str());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    if let Ok(minutes) = std::env::var("LOAD_SOAK_MINUTES") {
        // Mixed traffic against the serve binary (see load/soak.rs).
        let minutes: f64 = minutes
            .parse()
            .expect("LOAD_SOAK_MINUTES: a number of minutes");
        let binary =
            std::env::var("LOAD_SOAK_SERVE").expect("LOAD_SOAK_SERVE: the mcp-authz binary");
        let concurrency = std::env::var("LOAD_CONCURRENCY")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(16);
        if let Err(failures) = runtime.block_on(soak::soak(binary.into(), minutes, concurrency)) {
            eprintln!("soak failed: {failures}");
            std::process::exit(1);
        }
        return;
    }
    if let Ok(dir) = std::env::var("LOAD_PEERS") {
        // Side by side with a peer: ratios only (see load/peers.rs).
        PER_RUN_PERF.store(false, Ordering::Relaxed);
        let rounds: usize = std::env::var("LOAD_PEER_ROUNDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(3);
        runtime.block_on(peers::compare(dir.into(), concurrency, secs, rounds));
        return;
    }
    runtime.block_on(async move {
        println!(
            "load: {concurrency} connections, {secs} s per scenario; each scenario's server is a child \
             process (peak RSS of the server alone), the generator is this process"
        );
        if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
            let load: Vec<&str> = load.split_whitespace().take(3).collect();
            println!("load average at start: {}", load.join(" "));
        }

        let name = "GET /.well-known/oauth-authorization-server";
        if wanted(name) {
            let server = ChildServer::spawn("memory");
            run(name, ">= 30,000 /s", &server, concurrency, secs, vec![(); concurrency], |mut s, ()| async move {
                let reply = send(&mut s, "GET", "/.well-known/oauth-authorization-server", &[], String::new()).await;
                assert_eq!(reply.status, 200);
                (s, ())
            })
            .await;
            server.finish(name);
        }

        let name = "GET /jwks.json";
        if wanted(name) {
            let server = ChildServer::spawn("memory");
            run(name, ">= 0.8x the metadata rate", &server, concurrency, secs, vec![(); concurrency], |mut s, ()| async move {
                let reply = send(&mut s, "GET", "/jwks.json", &[], String::new()).await;
                assert_eq!(reply.status, 200);
                (s, ())
            })
            .await;
            server.finish(name);
        }

        let name = "POST /token client_credentials (ES256 JWT)";
        if wanted(name) {
            let server = ChildServer::spawn("memory");
            let auth = Arc::new(register_machine(&server.base).await);
            run(name, ">= 10,000 /s", &server, concurrency, secs, vec![(); concurrency], move |mut s, ()| {
                let auth = auth.clone();
                async move {
                    let reply = send(&mut s, "POST", "/token", &[("authorization", auth.as_str())], "grant_type=client_credentials".to_owned()).await;
                    assert_eq!(reply.status, 200);
                    (s, ())
                }
            })
            .await;
            server.finish(name);
        }

        let name = "POST /token client_credentials (EdDSA JWT)";
        if wanted(name) {
            let server = ChildServer::spawn_with("memory", SigningAlgorithm::EdDsa);
            let auth = Arc::new(register_machine(&server.base).await);
            run(name, "", &server, concurrency, secs, vec![(); concurrency], move |mut s, ()| {
                let auth = auth.clone();
                async move {
                    let reply = send(&mut s, "POST", "/token", &[("authorization", auth.as_str())], "grant_type=client_credentials".to_owned()).await;
                    assert_eq!(reply.status, 200);
                    (s, ())
                }
            })
            .await;
            server.finish(name);
        }

        let name = "authorize (remembered consent) -> token, memory";
        if wanted(name) {
            flows("memory", name, ">= 2,000 /s", concurrency, secs).await;
        }
        let name = "POST /token refresh_token rotation, SQLite";
        if wanted(name) {
            refresh_rotation(name, ">= 5,000 /s", None, concurrency, secs).await;
        }
        let name = "POST /token refresh_token with scope (lookup + rotation), SQLite";
        if wanted(name) {
            refresh_rotation(name, "", Some("tools:read"), concurrency, secs).await;
        }
        let name = "authorize (remembered consent) -> token, SQLite";
        if wanted(name) {
            flows("sqlite", name, "", concurrency, secs).await;
        }
        if wanted("in process") {
            in_process().await;
        }
    });
}
