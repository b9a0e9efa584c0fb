//! Load harness over real HTTP on 127.0.0.1: the server and the load generator share this machine.
//!
//! ```text
//! cargo bench -p mcp-authz-server --bench load            # 3 s per scenario
//! LOAD_SECS=5 LOAD_CONCURRENCY=32 cargo bench -p mcp-authz-server --bench load
//! ```
//!
//! Scenarios: metadata GET; client_credentials token (ES256 JWT); refresh-token rotation on SQLite;
//! full authorize (session + remembered consent) -> token flows on memory and on SQLite. Each
//! scenario is bounded in time and in count.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use mcp_authz_metadata::{ClientId, RedirectUri, ResourceUri, Scope};
use mcp_authz_pkce::CodeVerifier;
use mcp_authz_server::{AuthorizationServer, RateLimit, ServerConfig};
use mcp_authz_store::{MemoryStore, RandomIds, Store, SystemClock};
use mcp_authz_token::{AuthorizationCallback, AuthorizationRequest};

const RESOURCE: &str = "http://127.0.0.1:9/mcp";
const REDIRECT: &str = "http://127.0.0.1:7777/callback";
const MAX_REQUESTS: u64 = 2_000_000;

struct Target {
    base: String,
    addr: SocketAddr,
    server: AuthorizationServer,
}

async fn start(store: Arc<dyn Store>) -> Target {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = format!("http://{addr}");
    let config = ServerConfig::builder(base.clone())
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
        .build()
        .unwrap();
    let server = AuthorizationServer::new(config, store).unwrap();
    let app = server
        .router()
        .into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Target { base, addr, server }
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
    addr: SocketAddr,
    concurrency: usize,
    secs: u64,
    states: Vec<S>,
    op: F,
) -> f64
where
    S: Send + 'static,
    F: Fn(SendRequest<Full<Bytes>>, S) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = (SendRequest<Full<Bytes>>, S)> + Send,
{
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
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
    println!("{name:<52} {total:>9} in {elapsed:>5.2} s = {rate:>9.0} /s");
    rate
}

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

async fn register_public(target: &Target) -> ClientId {
    let body = serde_json::json!({
        "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"], "application_type": "native",
        "client_name": "bench",
    });
    let response: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/register", target.base))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    ClientId::parse(response["client_id"].as_str().unwrap()).unwrap()
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

fn authorize_path(client: &ClientId, verifier: &CodeVerifier) -> String {
    let request = AuthorizationRequest::new(client.clone(), verifier.challenge())
        .with_redirect_uri(RedirectUri::parse(REDIRECT).unwrap())
        .with_resource(ResourceUri::parse(RESOURCE).unwrap());
    format!("/authorize?{}", request.to_query())
}

/// Logs in once and consents once; returns the session cookie whose consent is remembered.
async fn remembered_session(target: &Target, client: &ClientId) -> String {
    target
        .server
        .local_users()
        .create_user(
            &RandomIds,
            "bench",
            "bench-password",
            mcp_authz_store::Clock::now(&SystemClock),
        )
        .await
        .unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let verifier = CodeVerifier::generate().unwrap();
    let page = http
        .get(format!(
            "{}{}",
            target.base,
            authorize_path(client, &verifier)
        ))
        .send()
        .await
        .unwrap();
    let cookie = cookie_of(&page);
    let html = page.text().await.unwrap();
    let login = http
        .post(format!("{}/authorize/login", target.base))
        .header("cookie", &cookie)
        .form(&[
            ("request", hidden(&html, "request")),
            ("csrf", hidden(&html, "csrf")),
            ("username", "bench".into()),
            ("password", "bench-password".into()),
        ])
        .send()
        .await
        .unwrap();
    let cookie = cookie_of(&login);
    let resume = login.headers()["location"].to_str().unwrap().to_owned();
    let html = http
        .get(format!("{}{resume}", target.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let consent = http
        .post(format!("{}/authorize/consent", target.base))
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
    let verifier = CodeVerifier::generate().unwrap();
    let reply = send(
        sender,
        "GET",
        &authorize_path(client, &verifier),
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

fn main() {
    let secs: u64 = std::env::var("LOAD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let concurrency: usize = std::env::var("LOAD_CONCURRENCY")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(32);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        println!("load: {concurrency} connections, {secs} s per scenario, server and generator on this machine");
        let memory = start(Arc::new(MemoryStore::new())).await;

        // 1. Metadata.
        run("GET /.well-known/oauth-authorization-server", memory.addr, concurrency, secs, vec![(); concurrency], |mut s, ()| async move {
            let reply = send(&mut s, "GET", "/.well-known/oauth-authorization-server", &[], String::new()).await;
            assert_eq!(reply.status, 200);
            (s, ())
        })
        .await;

        // 2. client_credentials with an ES256 JWT.
        let machine: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/register", memory.base))
            .json(&serde_json::json!({
                "redirect_uris": ["https://machine.example/cb"], "application_type": "web",
                "grant_types": ["authorization_code", "client_credentials"],
            }))
            .send().await.unwrap().json().await.unwrap();
        let auth = format!(
            "Basic {}",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD,
                format!("{}:{}", machine["client_id"].as_str().unwrap(), machine["client_secret"].as_str().unwrap()))
        );
        // In-process cost of one client_credentials request (no HTTP), to separate transport costs.
        {
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
            println!("{:<52} {per:>9.1?} per request in process", "client_credentials via AuthorizationServer::handle");
        }
        let auth = Arc::new(auth);
        run("POST /token client_credentials (ES256 JWT)", memory.addr, concurrency, secs, vec![(); concurrency], move |mut s, ()| {
            let auth = auth.clone();
            async move {
                let reply = send(&mut s, "POST", "/token", &[("authorization", auth.as_str())], "grant_type=client_credentials".to_owned()).await;
                assert_eq!(reply.status, 200);
                (s, ())
            }
        })
        .await;

        // 3. Full flows on memory.
        let client = Arc::new(register_public(&memory).await);
        let cookie = Arc::new(remembered_session(&memory, &client).await);
        {
            let client = client.clone();
            let cookie = cookie.clone();
            run("authorize (remembered consent) -> token, memory", memory.addr, concurrency, secs, vec![(); concurrency], move |mut s, ()| {
                let client = client.clone();
                let cookie = cookie.clone();
                async move {
                    full_flow(&mut s, &client, &cookie).await;
                    (s, ())
                }
            })
            .await;
        }
        let _ = memory.server.metadata();

        // 4. SQLite: refresh rotation and full flows.
        let dir = tempfile::tempdir().unwrap();
        let sqlite = Arc::new(mcp_authz_store_sqlite::SqliteStore::open(dir.path().join("bench.db")).await.unwrap());
        let target = start(sqlite.clone()).await;
        let client = Arc::new(register_public(&target).await);
        let cookie = Arc::new(remembered_session(&target, &client).await);
        let mut chains = Vec::new();
        let mut setup = connect(target.addr).await;
        for _ in 0..concurrency {
            let tokens = full_flow(&mut setup, &client, &cookie).await;
            chains.push(tokens["refresh_token"].as_str().unwrap().to_owned());
        }
        {
            let client = client.clone();
            run("POST /token refresh_token rotation, SQLite", target.addr, concurrency, secs, chains, move |mut s, token: String| {
                let client = client.clone();
                async move {
                    let body = form(&[("grant_type", "refresh_token"), ("refresh_token", &token), ("client_id", client.as_str())]);
                    let reply = send(&mut s, "POST", "/token", &[], body).await;
                    assert_eq!(reply.status, 200, "{:?}", reply.body);
                    let json: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
                    (s, json["refresh_token"].as_str().unwrap().to_owned())
                }
            })
            .await;
        }
        // Store-level cost of one rotation on SQLite, sequential (what bounds the HTTP figure above).
        {
            let tokens = full_flow(&mut setup, &client, &cookie).await;
            let mut current = tokens["refresh_token"].as_str().unwrap().to_owned();
            let n = 500;
            let started = Instant::now();
            for _ in 0..n {
                let next = mcp_authz_token::RefreshToken::generate().unwrap();
                let now = mcp_authz_store::Clock::now(&SystemClock);
                let rotation = mcp_authz_store::GrantStore::rotate_refresh_token(
                    sqlite.as_ref(),
                    &mcp_authz_store::SecretHash::of(&current),
                    mcp_authz_store::NewRefreshToken {
                        hash: mcp_authz_store::SecretHash::of(next.secret()),
                        expires_at: now.saturating_add(Duration::from_secs(3600)),
                    },
                    Scope::parse("tools:read").unwrap(),
                    now,
                )
                .await
                .unwrap();
                assert!(matches!(rotation, mcp_authz_store::Rotation::Rotated { .. }));
                current = next.secret().to_owned();
            }
            let per = started.elapsed() / n;
            println!("{:<52} {per:>9.1?} per rotation, sequential", "SqliteStore::rotate_refresh_token (store only)");
        }
        run("authorize (remembered consent) -> token, SQLite", target.addr, concurrency, secs, vec![(); concurrency], move |mut s, ()| {
            let client = client.clone();
            let cookie = cookie.clone();
            async move {
                full_flow(&mut s, &client, &cookie).await;
                (s, ())
            }
        })
        .await;
    });
}
