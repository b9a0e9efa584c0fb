//! Attacks by malicious MCP servers and authorization servers on the client (CL-2 / SEC-7 token
//! passthrough, SEC-12 embedded IPv4, refresh loops). Each test plays the malicious server over real
//! HTTP on 127.0.0.1 and fails when its defence is removed.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::expect_used
)]

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use mcp_authz_client::{
    AuthorizationStep, AuthorizationStepError, ClientError, DiscoveryError, FetchError, HttpClient,
    HttpRequest, MemoryTokenStore, OAuthClient, OAuthClientBuilder, PolicyError, RedirectCapture,
    ReqwestHttpClient, TokenStore, UrlPolicy,
};
use mcp_authz_metadata::RedirectUri;
use mcp_authz_token::BearerChallenge;
use serde_json::{Value, json};
use url::Url;

const REDIRECT: &str = "http://127.0.0.1:9/callback";

/// One origin playing MCP servers, protected resource metadata and an authorization server that
/// approves at once. Documents and challenges are set per path by each test.
struct Host {
    base: String,
    /// GET path -> JSON document.
    documents: Mutex<HashMap<String, Value>>,
    /// MCP path -> `WWW-Authenticate` of its 401.
    challenges: Mutex<HashMap<String, String>>,
    /// `(path, Authorization)` of every MCP request.
    mcp: Mutex<Vec<(String, Option<String>)>>,
    /// Token responses: `grant_type` of each token request.
    token_requests: Mutex<Vec<String>>,
    /// Whether MCP requests are always refused (401), whatever the token.
    always_unauthorized: Mutex<bool>,
    /// `expires_in` of issued tokens.
    expires_in: Mutex<u64>,
    issued: AtomicUsize,
}

impl Host {
    async fn start() -> Arc<Host> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let host = Arc::new(Host {
            base: base.clone(),
            documents: Mutex::new(HashMap::new()),
            challenges: Mutex::new(HashMap::new()),
            mcp: Mutex::new(Vec::new()),
            token_requests: Mutex::new(Vec::new()),
            always_unauthorized: Mutex::new(false),
            expires_in: Mutex::new(3600),
            issued: AtomicUsize::new(0),
        });
        host.document(
            "/.well-known/oauth-authorization-server",
            host.as_metadata(json!({})),
        );
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(host.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        host
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn document(&self, path: &str, value: Value) {
        self.documents
            .lock()
            .unwrap()
            .insert(path.to_owned(), value);
    }

    fn challenge(&self, mcp_path: &str, value: String) {
        self.challenges
            .lock()
            .unwrap()
            .insert(mcp_path.to_owned(), value);
    }

    /// Authorization server metadata of this origin, with `overrides` merged in.
    fn as_metadata(&self, overrides: Value) -> Value {
        let mut doc = json!({
            "issuer": self.base,
            "authorization_endpoint": self.url("/authorize"),
            "token_endpoint": self.url("/token"),
            "registration_endpoint": self.url("/register"),
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_methods_supported": ["none"],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": true,
        });
        for (k, v) in overrides.as_object().unwrap() {
            doc[k] = v.clone();
        }
        doc
    }

    /// Protected resource metadata naming `resource` and this origin's authorization server.
    fn prm(&self, resource: &str) -> Value {
        json!({"resource": resource, "authorization_servers": [self.base]})
    }

    /// The `Authorization` headers `path` received.
    fn auth_at(&self, path: &str) -> Vec<Option<String>> {
        self.mcp
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == path)
            .map(|(_, a)| a.clone())
            .collect()
    }

    fn refreshes(&self) -> usize {
        self.token_requests
            .lock()
            .unwrap()
            .iter()
            .filter(|g| *g == "refresh_token")
            .count()
    }

    /// A dev-policy client for `base + path` with the headless redirect step.
    fn client(&self, path: &str) -> OAuthClientBuilder {
        let policy = UrlPolicy::default().allow_loopback(true);
        let http: Arc<dyn HttpClient> =
            Arc::new(ReqwestHttpClient::with_policy(policy.clone()).unwrap());
        let step = RedirectCapture::new(
            http.clone(),
            policy.clone(),
            RedirectUri::parse(REDIRECT).unwrap(),
        );
        OAuthClient::builder(&self.url(path))
            .unwrap()
            .http_client(http)
            .url_policy(policy)
            .authorization_step(Arc::new(step))
    }
}

fn json_response(status: StatusCode, value: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

async fn handle(State(host): State<Arc<Host>>, request: Request) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or_default().to_owned();
    let auth = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = to_bytes(request.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    if method == "GET" {
        if let Some(doc) = host.documents.lock().unwrap().get(&path) {
            return json_response(StatusCode::OK, doc.clone());
        }
        if path == "/authorize" {
            let q: HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect();
            let mut location = Url::parse(&q["redirect_uri"]).unwrap();
            location
                .query_pairs_mut()
                .append_pair("code", "the-code")
                .append_pair("state", &q["state"])
                .append_pair("iss", &host.base);
            return (
                StatusCode::FOUND,
                [(header::LOCATION, location.to_string())],
            )
                .into_response();
        }
        return StatusCode::NOT_FOUND.into_response();
    }
    match path.as_str() {
        "/register" => json_response(
            StatusCode::CREATED,
            json!({"client_id": "c1", "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"}),
        ),
        "/token" => {
            let form: HashMap<String, String> =
                form_urlencoded::parse(&body).into_owned().collect();
            host.token_requests
                .lock()
                .unwrap()
                .push(form.get("grant_type").cloned().unwrap_or_default());
            let n = host.issued.fetch_add(1, Ordering::SeqCst);
            json_response(
                StatusCode::OK,
                json!({
                    "access_token": format!("tok-{n}"),
                    "refresh_token": format!("rt-{n}"),
                    "token_type": "Bearer",
                    "expires_in": *host.expires_in.lock().unwrap(),
                }),
            )
        }
        _ => {
            host.mcp.lock().unwrap().push((path.clone(), auth.clone()));
            let authorized = auth.is_some_and(|a| a.starts_with("Bearer tok-"))
                && !*host.always_unauthorized.lock().unwrap();
            if authorized {
                let message: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                return json_response(
                    StatusCode::OK,
                    json!({"jsonrpc": "2.0", "id": message["id"], "result": {}}),
                );
            }
            let challenge = host
                .challenges
                .lock()
                .unwrap()
                .get(&path)
                .cloned()
                .unwrap_or_else(|| {
                    format!(
                        "Bearer resource_metadata=\"{}/.well-known/oauth-protected-resource{path}\"",
                        host.base
                    )
                });
            (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, challenge)],
            )
                .into_response()
        }
    }
}

fn rpc() -> Vec<u8> {
    json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}})
        .to_string()
        .into_bytes()
}

/// An authorization step that never signs in: a user who was not asked (no prompt shown).
struct NoSignIn(AtomicUsize);

#[async_trait::async_trait]
impl AuthorizationStep for NoSignIn {
    fn registered_redirect_uris(&self) -> Vec<RedirectUri> {
        vec![RedirectUri::parse(REDIRECT).unwrap()]
    }
    async fn prepare(&self) -> Result<RedirectUri, AuthorizationStepError> {
        Ok(RedirectUri::parse(REDIRECT).unwrap())
    }
    async fn authorize(
        &self,
        _url: &Url,
        _redirect_uri: &RedirectUri,
    ) -> Result<Url, AuthorizationStepError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Err(AuthorizationStepError::Timeout)
    }
}

async fn send(client: &OAuthClient, path_url: &str) -> Result<u16, ClientError> {
    let url: Url = path_url.parse().unwrap();
    Ok(client
        .send(HttpRequest::post(url, rpc()))
        .await?
        .status
        .as_u16())
}

fn invalid_prm(result: Result<impl std::fmt::Debug, ClientError>) {
    match result {
        Err(ClientError::Discovery(DiscoveryError::InvalidProtectedResourceMetadata {
            ..
        })) => {}
        other => panic!("expected the protected resource metadata to be refused, got {other:?}"),
    }
}

/// CL-2 / SEC-7: `/mcp/evil` publishes, at its path-inserted well-known URL or at the URL its
/// challenge names, a document saying `resource: <origin>/mcp`. Only the origin's root document
/// may name a parent, so discovery fails and the user's `/mcp` token is never sent to `/mcp/evil`.
#[tokio::test]
async fn a_sub_path_claiming_its_parent_resource_is_refused() {
    let host = Host::start().await;
    let legit = host.url("/mcp");
    host.document(
        "/.well-known/oauth-protected-resource/mcp",
        host.prm(&legit),
    );
    host.document(
        "/.well-known/oauth-protected-resource/mcp/evil",
        host.prm(&legit),
    );
    host.document("/evil-prm", host.prm(&legit));

    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
    let good = host
        .client("/mcp")
        .token_store(store.clone())
        .build()
        .unwrap();
    assert_eq!(send(&good, &legit).await.unwrap(), 200);
    let legit_auth = host.auth_at("/mcp").last().cloned().flatten().unwrap();

    // The path-inserted document (no challenge parameter).
    let evil = host
        .client("/mcp/evil")
        .token_store(store.clone())
        .build()
        .unwrap();
    invalid_prm(evil.discover().await);
    invalid_prm(send(&evil, &host.url("/mcp/evil")).await);

    // A challenge's resource_metadata URL.
    host.challenge(
        "/mcp/evil",
        format!("Bearer resource_metadata=\"{}\"", host.url("/evil-prm")),
    );
    let challenge = BearerChallenge::from_header_values([&header::HeaderValue::from_str(
        &format!("Bearer resource_metadata=\"{}\"", host.url("/evil-prm")),
    )
    .unwrap()])
    .unwrap();
    invalid_prm(evil.discover_from(challenge.as_ref()).await);
    invalid_prm(send(&evil, &host.url("/mcp/evil")).await);

    assert!(
        !host
            .auth_at("/mcp/evil")
            .contains(&Some(legit_auth.clone())),
        "the /mcp token reached /mcp/evil"
    );
    assert!(host.auth_at("/mcp/evil").iter().all(Option::is_none));
}

/// CL-2 / SEC-7: even the origin's root document, which may name the origin as the resource, does
/// not let a grant obtained by logging in to `/mcp` be sent to `/mcp/evil`: grants are stored under
/// the exact server URL the user logged in to, so `/mcp/evil` needs its own sign-in.
#[tokio::test]
async fn a_parent_resource_grant_is_not_sent_to_a_server_the_user_did_not_log_in_to() {
    let host = Host::start().await;
    host.document(
        "/.well-known/oauth-protected-resource",
        host.prm(&host.base),
    );
    for path in ["/mcp", "/mcp/evil"] {
        host.challenge(
            path,
            format!(
                "Bearer resource_metadata=\"{}/.well-known/oauth-protected-resource\"",
                host.base
            ),
        );
    }
    let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
    let good = host
        .client("/mcp")
        .token_store(store.clone())
        .build()
        .unwrap();
    assert_eq!(send(&good, &host.url("/mcp")).await.unwrap(), 200);
    let legit_auth = host.auth_at("/mcp").last().cloned().flatten().unwrap();

    let prompts = Arc::new(NoSignIn(AtomicUsize::new(0)));
    let evil = host
        .client("/mcp/evil")
        .token_store(store.clone())
        .authorization_step(prompts.clone())
        .build()
        .unwrap();
    let outcome = send(&evil, &host.url("/mcp/evil")).await;
    assert!(outcome.is_err(), "{outcome:?}");
    assert_eq!(
        prompts.0.load(Ordering::SeqCst),
        1,
        "the user must be asked to sign in"
    );
    assert!(
        !host.auth_at("/mcp/evil").contains(&Some(legit_auth)),
        "the /mcp token reached /mcp/evil: {:?}",
        host.auth_at("/mcp/evil")
    );
    // The legitimate server keeps working with its grant.
    let again = host.client("/mcp").token_store(store).build().unwrap();
    assert_eq!(send(&again, &host.url("/mcp")).await.unwrap(), 200);
}

fn policy_refusal(result: Result<impl std::fmt::Debug, ClientError>, what: &str) {
    let text = format!("{result:?}");
    assert!(
        matches!(
            result,
            Err(ClientError::Discovery(DiscoveryError::Fetch {
                source: FetchError::Policy(PolicyError::ForbiddenAddress { .. }),
                ..
            })) | Err(ClientError::Token(_))
        ) && text.contains("ForbiddenAddress"),
        "{what}: expected a policy refusal (ForbiddenAddress), got {text}"
    );
}

/// IPv6 literals that embed a private, link-local or metadata-service IPv4 address.
const EMBEDDED: [&str; 4] = [
    "[::a9fe:a9fe]",
    "[::a00:1]",
    "[2002:a9fe:a9fe::1]",
    "[2001:0:a9fe:a9fe::5601:5601]",
];

/// SEC-12: a protected resource metadata document naming an authorization server on an IPv6 address
/// that embeds a special IPv4 address is refused before any connection.
#[tokio::test]
async fn an_issuer_on_an_embedded_ipv4_address_is_refused() {
    for address in EMBEDDED {
        let host = Host::start().await;
        host.document(
            "/.well-known/oauth-protected-resource/mcp",
            json!({"resource": host.url("/mcp"), "authorization_servers": [format!("https://{address}")]}),
        );
        let client = host.client("/mcp").build().unwrap();
        policy_refusal(client.discover().await, address);
    }
}

/// SEC-12: a challenge whose `resource_metadata` is on such an address is refused before any
/// connection.
#[tokio::test]
async fn resource_metadata_on_an_embedded_ipv4_address_is_refused() {
    for address in EMBEDDED {
        let host = Host::start().await;
        host.challenge(
            "/mcp",
            format!("Bearer resource_metadata=\"https://{address}/.well-known/oauth-protected-resource\""),
        );
        let client = host.client("/mcp").build().unwrap();
        policy_refusal(send(&client, &host.url("/mcp")).await, address);
    }
}

/// SEC-12: authorization server metadata whose `token_endpoint` is on such an address: the code is
/// never sent there.
#[tokio::test]
async fn a_token_endpoint_on_an_embedded_ipv4_address_is_refused() {
    for address in EMBEDDED {
        let host = Host::start().await;
        host.document(
            "/.well-known/oauth-protected-resource/mcp",
            host.prm(&host.url("/mcp")),
        );
        host.document(
            "/.well-known/oauth-authorization-server",
            host.as_metadata(json!({"token_endpoint": format!("https://{address}/token")})),
        );
        let client = host.client("/mcp").build().unwrap();
        policy_refusal(send(&client, &host.url("/mcp")).await, address);
        assert!(host.token_requests.lock().unwrap().is_empty());
    }
}

/// A server that answers 401 to every token: one `send` refreshes at most once, even when the
/// authorization server issues tokens that are already "expiring".
#[tokio::test]
async fn a_server_that_always_answers_401_gets_at_most_one_refresh_per_call() {
    for expires_in in [3600, 0] {
        let host = Host::start().await;
        host.document(
            "/.well-known/oauth-protected-resource/mcp",
            host.prm(&host.url("/mcp")),
        );
        *host.expires_in.lock().unwrap() = expires_in;
        let store: Arc<dyn TokenStore> = Arc::new(MemoryTokenStore::new());
        let client = host
            .client("/mcp")
            .token_store(store.clone())
            .build()
            .unwrap();
        client.authorize().await.unwrap();
        *host.always_unauthorized.lock().unwrap() = true;
        let prompts = Arc::new(NoSignIn(AtomicUsize::new(0)));
        let client = host
            .client("/mcp")
            .token_store(store)
            .authorization_step(prompts)
            .build()
            .unwrap();
        let outcome = send(&client, &host.url("/mcp")).await;
        assert!(outcome.is_err(), "{outcome:?}");
        assert!(
            host.refreshes() <= 1,
            "expires_in {expires_in}: {} refresh requests in one call",
            host.refreshes()
        );
    }
}

/// Sends `request` to the loopback listener and returns the status line of the answer.
async fn raw_request(port: u16, request: &str) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// A local process connects to the loopback redirect listener first and sends nothing, another
/// sends garbage and a wrong path: none of them ends the wait, and the real callback still arrives
/// long before the deadline.
#[tokio::test]
async fn a_silent_local_connection_does_not_take_the_loopback_listener() {
    use mcp_authz_client::{BrowserLaunch, LoopbackRedirect};
    let step = Arc::new(
        LoopbackRedirect::new(BrowserLaunch::Print)
            .with_timeout(std::time::Duration::from_secs(60)),
    );
    let redirect = step.prepare().await.unwrap();
    let port = redirect.url().port().unwrap();
    let waiting = {
        let (step, redirect) = (step.clone(), redirect.clone());
        tokio::spawn(async move {
            let url = Url::parse("http://127.0.0.1:9/authorize").unwrap();
            step.authorize(&url, &redirect).await
        })
    };
    // Connected first, never sends a byte (held open for the whole test).
    let _silent = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(raw_request(port, "garbage\r\n\r\n").await.contains("400"));
    assert!(
        raw_request(port, "GET /favicon.ico HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .contains("400")
    );
    assert!(
        raw_request(port, "GET /callback HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .contains("400")
    );
    assert!(!waiting.is_finished(), "a bad request ended the wait");
    let status = raw_request(
        port,
        "GET /callback?code=the-code&state=s HTTP/1.1\r\nhost: x\r\n\r\n",
    )
    .await;
    assert!(status.contains("200"), "{status}");
    let callback = tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
        .await
        .expect("the real callback must end the wait at once")
        .unwrap()
        .unwrap();
    assert_eq!(callback.query(), Some("code=the-code&state=s"));
}
