//! A test authorization server and MCP resource server on 127.0.0.1, in one axum app, dispatching by
//! path so that each test can reshape it (and make it hostile) through `Cfg`.
#![allow(dead_code, unreachable_pub)]
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use mcp_authz_client::{
    HttpClient, OAuthClient, OAuthClientBuilder, RedirectCapture, ReqwestHttpClient, UrlPolicy,
};
use mcp_authz_metadata::RedirectUri;
use serde_json::{Value, json};
use sha2::Digest as _;

pub const REDIRECT: &str = "http://127.0.0.1:9/callback";

/// How the authorization endpoint sets `iss`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Iss {
    Correct,
    Missing,
    Wrong,
}

/// Where the protected resource metadata is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prm {
    /// `/.well-known/oauth-protected-resource/mcp`
    PathBased,
    /// `/.well-known/oauth-protected-resource`
    Root,
    /// A custom path, reachable only through the challenge.
    Custom(String),
}

/// One authorization server, at `prefix` (its issuer is `base + prefix`).
#[derive(Debug, Clone)]
pub struct AsCfg {
    pub prefix: String,
    pub issuer_override: Option<String>,
    /// Which metadata paths answer (full paths).
    pub metadata_paths: Vec<String>,
    pub iss_supported: bool,
    pub iss: Iss,
    pub pkce_methods: Option<Vec<String>>,
    pub scopes_supported: Option<Vec<String>>,
    pub cimd: bool,
    pub registration: bool,
    pub auth_methods: Vec<String>,
    pub expires_in: u64,
    pub refresh: bool,
    pub reject_refresh: bool,
    pub wrong_state: bool,
    pub grant_types: Vec<String>,
}

impl AsCfg {
    pub fn new(prefix: &str) -> Self {
        let metadata_paths = if prefix.is_empty() {
            vec!["/.well-known/oauth-authorization-server".to_owned()]
        } else {
            vec![format!("/.well-known/oauth-authorization-server{prefix}")]
        };
        Self {
            prefix: prefix.to_owned(),
            issuer_override: None,
            metadata_paths,
            iss_supported: true,
            iss: Iss::Correct,
            pkce_methods: Some(vec!["S256".into()]),
            scopes_supported: None,
            cimd: false,
            registration: true,
            auth_methods: vec!["none".into()],
            expires_in: 3600,
            refresh: true,
            reject_refresh: false,
            wrong_state: false,
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
        }
    }
}

#[derive(Debug, Clone)]
pub struct Cfg {
    pub prm: Prm,
    pub advertise: bool,
    pub prm_resource: Option<String>,
    pub prm_scopes: Option<Vec<String>>,
    pub challenge_scope: Option<String>,
    /// Issuers (prefixes of `ases`) the PRM lists; tokens of other issuers are refused.
    pub current_as: usize,
    pub ases: Vec<AsCfg>,
    pub tool_call_scope: Option<String>,
    pub always_forbid: bool,
    pub prm_oversized: bool,
    pub prm_redirect: Option<String>,
    pub resource_metadata_override: Option<String>,
    pub sse: bool,
}

impl Default for Cfg {
    fn default() -> Self {
        Self {
            prm: Prm::PathBased,
            advertise: true,
            prm_resource: None,
            prm_scopes: None,
            challenge_scope: None,
            current_as: 0,
            ases: vec![AsCfg::new("")],
            tool_call_scope: None,
            always_forbid: false,
            prm_oversized: false,
            prm_redirect: None,
            resource_metadata_override: None,
            sse: false,
        }
    }
}

/// Everything the servers saw.
#[derive(Debug, Default, Clone)]
pub struct Log {
    /// `METHOD path?query` of every request, in order.
    pub requests: Vec<String>,
    /// `Authorization` header of each `/mcp` request.
    pub mcp_auth: Vec<Option<String>>,
    /// Query of each authorization request, with the AS prefix.
    pub authorize: Vec<(String, BTreeMap<String, String>)>,
    /// Form (plus `basic` = decoded Basic credentials) of each token request, with the AS prefix.
    pub token: Vec<(String, BTreeMap<String, String>)>,
    /// Body of each registration request, with the AS prefix.
    pub register: Vec<(String, Value)>,
}

#[derive(Debug, Default)]
struct Grants {
    counter: u64,
    /// code -> (prefix, challenge, scope)
    codes: HashMap<String, (String, String, String)>,
    /// access token -> (prefix, scope)
    access: HashMap<String, (String, String)>,
    /// refresh token -> (prefix, scope)
    refresh: HashMap<String, (String, String)>,
}

pub struct World {
    pub base: String,
    pub cfg: Mutex<Cfg>,
    pub log: Mutex<Log>,
    grants: Mutex<Grants>,
}

impl World {
    pub async fn start(cfg: Cfg) -> Arc<World> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let world = Arc::new(World {
            base,
            cfg: Mutex::new(cfg),
            log: Mutex::new(Log::default()),
            grants: Mutex::new(Grants::default()),
        });
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(world.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        world
    }

    pub fn mcp_url(&self) -> String {
        format!("{}/mcp", self.base)
    }

    pub fn issuer(&self, index: usize) -> String {
        let cfg = self.cfg.lock().unwrap();
        format!("{}{}", self.base, cfg.ases[index].prefix)
    }

    pub fn log(&self) -> Log {
        self.log.lock().unwrap().clone()
    }

    pub fn set(&self, change: impl FnOnce(&mut Cfg)) {
        change(&mut self.cfg.lock().unwrap());
    }

    /// Forgets every issued access token (the resource server will answer `invalid_token`).
    pub fn revoke_access_tokens(&self) {
        self.grants.lock().unwrap().access.clear();
    }

    pub fn count(&self, prefix: &str) -> usize {
        self.log()
            .requests
            .iter()
            .filter(|r| r.starts_with(prefix))
            .count()
    }

    /// A dev-policy client builder with the headless redirect step.
    pub fn client(&self) -> OAuthClientBuilder {
        let policy = UrlPolicy::default().allow_loopback(true);
        let http: Arc<dyn HttpClient> =
            Arc::new(ReqwestHttpClient::with_policy(policy.clone()).unwrap());
        let step = RedirectCapture::new(
            http.clone(),
            policy.clone(),
            RedirectUri::parse(REDIRECT).unwrap(),
        );
        OAuthClient::builder(&self.mcp_url())
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

fn query_map(query: &str) -> BTreeMap<String, String> {
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

async fn handle(State(world): State<Arc<World>>, request: Request) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or_default().to_owned();
    let headers = request.headers().clone();
    let body = to_bytes(request.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    world
        .log
        .lock()
        .unwrap()
        .requests
        .push(if query.is_empty() {
            format!("{method} {path}")
        } else {
            format!("{method} {path}?{query}")
        });
    let cfg = world.cfg.lock().unwrap().clone();

    if path == "/mcp" && method == Method::POST {
        return mcp(&world, &cfg, &headers, &body);
    }
    let prm_path = match &cfg.prm {
        Prm::PathBased => "/.well-known/oauth-protected-resource/mcp".to_owned(),
        Prm::Root => "/.well-known/oauth-protected-resource".to_owned(),
        Prm::Custom(p) => p.clone(),
    };
    if path == prm_path && method == Method::GET {
        if let Some(location) = &cfg.prm_redirect {
            return (StatusCode::FOUND, [(header::LOCATION, location.clone())]).into_response();
        }
        if cfg.prm_oversized {
            let padding = "x".repeat(70 * 1024);
            return json_response(
                StatusCode::OK,
                json!({"resource": world.mcp_url(), "pad": padding}),
            );
        }
        let current = &cfg.ases[cfg.current_as];
        let mut doc = json!({
            "resource": cfg.prm_resource.clone().unwrap_or_else(|| world.mcp_url()),
            "authorization_servers": [format!("{}{}", world.base, current.prefix)],
        });
        if let Some(scopes) = &cfg.prm_scopes {
            doc["scopes_supported"] = json!(scopes);
        }
        return json_response(StatusCode::OK, doc);
    }
    for a in &cfg.ases {
        if a.metadata_paths.contains(&path) && method == Method::GET {
            return as_metadata(&world, a);
        }
        let p = &a.prefix;
        if path == format!("{p}/register") && method == Method::POST {
            let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            world.log.lock().unwrap().register.push((p.clone(), value));
            let id = format!(
                "client{}-{}",
                if p.is_empty() { "-root" } else { p },
                rand_suffix(&world)
            );
            let method = a.auth_methods.first().cloned().unwrap_or("none".into());
            let mut reply = json!({"client_id": id, "redirect_uris": [REDIRECT], "token_endpoint_auth_method": method});
            if method != "none" {
                reply["client_secret"] = json!("s3cret");
                reply["client_secret_expires_at"] = json!(0);
            }
            return json_response(StatusCode::CREATED, reply);
        }
        if path == format!("{p}/authorize") && method == Method::GET {
            return authorize(&world, a, &query);
        }
        if path == format!("{p}/token") && method == Method::POST {
            return token(&world, a, &headers, &body);
        }
    }
    StatusCode::NOT_FOUND.into_response()
}

fn rand_suffix(world: &World) -> u64 {
    let mut g = world.grants.lock().unwrap();
    g.counter += 1;
    g.counter
}

fn as_metadata(world: &World, a: &AsCfg) -> Response {
    let issuer = format!("{}{}", world.base, a.prefix);
    let mut doc = json!({
        "issuer": a.issuer_override.clone().unwrap_or_else(|| issuer.clone()),
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "response_types_supported": ["code"],
        "grant_types_supported": a.grant_types,
        "token_endpoint_auth_methods_supported": a.auth_methods,
        "authorization_response_iss_parameter_supported": a.iss_supported,
        "client_id_metadata_document_supported": a.cimd,
    });
    if let Some(methods) = &a.pkce_methods {
        doc["code_challenge_methods_supported"] = json!(methods);
    }
    if let Some(scopes) = &a.scopes_supported {
        doc["scopes_supported"] = json!(scopes);
    }
    if a.registration {
        doc["registration_endpoint"] = json!(format!("{issuer}/register"));
    }
    json_response(StatusCode::OK, doc)
}

fn authorize(world: &World, a: &AsCfg, query: &str) -> Response {
    let q = query_map(query);
    world
        .log
        .lock()
        .unwrap()
        .authorize
        .push((a.prefix.clone(), q.clone()));
    let code = format!("code-{}", rand_suffix(world));
    world.grants.lock().unwrap().codes.insert(
        code.clone(),
        (
            a.prefix.clone(),
            q.get("code_challenge").cloned().unwrap_or_default(),
            // This server never grants `admin` (the scope `always_forbid` demands).
            q.get("scope")
                .map(|s| {
                    s.split(' ')
                        .filter(|t| *t != "admin")
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default(),
        ),
    );
    let mut location =
        url::Url::parse(q.get("redirect_uri").map_or(REDIRECT, String::as_str)).unwrap();
    {
        let mut pairs = location.query_pairs_mut();
        pairs.append_pair("code", &code);
        if let Some(state) = q.get("state") {
            pairs.append_pair("state", if a.wrong_state { "forged" } else { state });
        }
        match a.iss {
            Iss::Correct => {
                pairs.append_pair("iss", &format!("{}{}", world.base, a.prefix));
            }
            Iss::Wrong => {
                pairs.append_pair("iss", "https://attacker.example");
            }
            Iss::Missing => {}
        }
    }
    (
        StatusCode::FOUND,
        [(header::LOCATION, location.to_string())],
    )
        .into_response()
}

fn token(world: &World, a: &AsCfg, headers: &HeaderMap, body: &[u8]) -> Response {
    let mut form = query_map(&String::from_utf8_lossy(body));
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(basic)
            .unwrap_or_default();
        form.insert(
            "basic".into(),
            String::from_utf8_lossy(&decoded).into_owned(),
        );
    }
    world
        .log
        .lock()
        .unwrap()
        .token
        .push((a.prefix.clone(), form.clone()));
    let invalid_grant =
        || json_response(StatusCode::BAD_REQUEST, json!({"error": "invalid_grant"}));
    let mut g = world.grants.lock().unwrap();
    let scope = match form.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let Some((prefix, challenge, scope)) = form.get("code").and_then(|c| g.codes.remove(c))
            else {
                return invalid_grant();
            };
            let verifier = form.get("code_verifier").cloned().unwrap_or_default();
            let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(sha2::Sha256::digest(verifier.as_bytes()));
            if prefix != a.prefix || computed != challenge {
                return invalid_grant();
            }
            scope
        }
        Some("refresh_token") => {
            if a.reject_refresh {
                return invalid_grant();
            }
            // Rotation: the presented refresh token dies.
            let Some((prefix, scope)) = form.get("refresh_token").and_then(|r| g.refresh.remove(r))
            else {
                return invalid_grant();
            };
            if prefix != a.prefix {
                return invalid_grant();
            }
            scope
        }
        Some("client_credentials") => {
            let basic_ok = form.get("basic").map(String::as_str) == Some("cc-id:cc-secret");
            let assertion_ok = form.get("client_assertion_type").map(String::as_str)
                == Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
                && form.contains_key("client_assertion");
            if !(basic_ok || assertion_ok) {
                return json_response(StatusCode::UNAUTHORIZED, json!({"error": "invalid_client"}));
            }
            form.get("scope").cloned().unwrap_or_default()
        }
        _ => {
            return json_response(
                StatusCode::BAD_REQUEST,
                json!({"error": "unsupported_grant_type"}),
            );
        }
    };
    g.counter += 1;
    let n = g.counter;
    let access = format!("at{}-{n}", a.prefix.replace('/', "_"));
    g.access
        .insert(access.clone(), (a.prefix.clone(), scope.clone()));
    let mut reply =
        json!({"access_token": access, "token_type": "Bearer", "expires_in": a.expires_in});
    if !scope.is_empty() {
        reply["scope"] = json!(scope);
    }
    if a.refresh {
        let refresh = format!("rt{}-{n}", a.prefix.replace('/', "_"));
        g.refresh.insert(refresh.clone(), (a.prefix.clone(), scope));
        reply["refresh_token"] = json!(refresh);
    }
    let mut response = json_response(StatusCode::OK, reply);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, "no-store".parse().unwrap());
    response
}

fn challenge(world: &World, cfg: &Cfg, error: Option<&str>, scope: Option<&str>) -> String {
    let mut parts = Vec::new();
    if let Some(error) = error {
        parts.push(format!("error=\"{error}\""));
    }
    if let Some(scope) = scope {
        parts.push(format!("scope=\"{scope}\""));
    }
    if cfg.advertise {
        let url = cfg
            .resource_metadata_override
            .clone()
            .unwrap_or_else(|| match &cfg.prm {
                Prm::PathBased => {
                    format!("{}/.well-known/oauth-protected-resource/mcp", world.base)
                }
                Prm::Root => format!("{}/.well-known/oauth-protected-resource", world.base),
                Prm::Custom(p) => format!("{}{p}", world.base),
            });
        parts.push(format!("resource_metadata=\"{url}\""));
    }
    format!("Basic realm=\"legacy\", Bearer {}", parts.join(", "))
}

fn mcp(world: &World, cfg: &Cfg, headers: &HeaderMap, body: &[u8]) -> Response {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    world.log.lock().unwrap().mcp_auth.push(auth.clone());
    let message: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let rpc_method = message["method"].as_str().unwrap_or_default().to_owned();
    let unauthorized = |error: Option<&str>| {
        let value = challenge(world, cfg, error, cfg.challenge_scope.as_deref());
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, value)],
        )
            .into_response()
    };
    let Some(token) = auth.as_deref().and_then(|a| a.strip_prefix("Bearer ")) else {
        return unauthorized(None);
    };
    let current_prefix = cfg.ases[cfg.current_as].prefix.clone();
    let Some((prefix, scope)) = world.grants.lock().unwrap().access.get(token).cloned() else {
        return unauthorized(Some("invalid_token"));
    };
    if prefix != current_prefix {
        return unauthorized(Some("invalid_token"));
    }
    let needed = if cfg.always_forbid {
        Some("admin".to_owned())
    } else if rpc_method == "tools/call" {
        cfg.tool_call_scope.clone()
    } else {
        None
    };
    if let Some(needed) = needed
        && !scope.split(' ').any(|s| s == needed)
    {
        let value = challenge(world, cfg, Some("insufficient_scope"), Some(&needed));
        return (StatusCode::FORBIDDEN, [(header::WWW_AUTHENTICATE, value)]).into_response();
    }
    let Some(id) = message.get("id").cloned() else {
        return StatusCode::ACCEPTED.into_response();
    };
    let result = match rpc_method.as_str() {
        "initialize" => {
            json!({"protocolVersion": "2025-11-25", "capabilities": {}, "serverInfo": {"name": "t", "version": "0"}})
        }
        "tools/list" => {
            json!({"tools": [{"name": "test-tool", "inputSchema": {"type": "object"}}]})
        }
        "tools/call" => json!({"content": [{"type": "text", "text": "test"}]}),
        _ => json!({}),
    };
    let reply = json!({"jsonrpc": "2.0", "id": id, "result": result});
    if cfg.sse {
        let body = format!("event: message\ndata: {reply}\n\n");
        return (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/event-stream")],
            Body::from(body),
        )
            .into_response();
    }
    json_response(StatusCode::OK, reply)
}

/// A JSON-RPC `tools/list` request body.
pub fn rpc(method: &str) -> Vec<u8> {
    json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": {}})
        .to_string()
        .into_bytes()
}
