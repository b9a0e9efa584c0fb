//! Attacks on the token, registration and client endpoints (REQUIREMENTS SEC-10, SEC-11, SEC-12,
//! SEC-20). Each test performs the attack over real HTTP on 127.0.0.1.

use mcp_authz_metadata::{
    ApplicationType, ClientId, GrantType, RedirectUri, TokenEndpointAuthMethod,
};
use mcp_authz_store::{ClientKind, ClientRecord};
use serde_json::{Value, json};

use crate::common::*;

// ---------------------------------------------------------------------------------------------
// SEC-10: no grant without a user for self-registered clients.
// ---------------------------------------------------------------------------------------------

/// Registering a client for `client_credentials` through DCR is refused (RFC 7591
/// `invalid_client_metadata`), with or without `authorization_code` beside it.
#[tokio::test]
async fn dcr_cannot_register_client_credentials() {
    let server = TestServer::start().await;
    for grants in [
        json!(["authorization_code", "client_credentials"]),
        json!(["client_credentials"]),
    ] {
        for method in ["client_secret_basic", "client_secret_post"] {
            let response = server
                .register(json!({
                    "redirect_uris": ["https://app.example.com/cb"],
                    "token_endpoint_auth_method": method,
                    "grant_types": grants,
                    "application_type": "web",
                }))
                .await;
            assert_eq!(response.status(), 400, "{grants} {method}");
            let body: Value = response.json().await.unwrap();
            assert_eq!(
                body["error"], "invalid_client_metadata",
                "{grants} {method}"
            );
        }
    }
}

/// A dynamically registered client whose stored record lists `client_credentials` (a record from
/// before the registration rule) still gets no user-less token: the token endpoint judges the stored
/// client kind.
#[tokio::test]
async fn legacy_dcr_record_with_client_credentials_gets_no_token() {
    let server = TestServer::start().await;
    let secret = "legacy-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
    let record = ClientRecord {
        client_id: ClientId::parse("legacy-dcr").unwrap(),
        kind: ClientKind::Dynamic,
        secret_hash: Some(mcp_authz_server::hash_client_secret(secret).unwrap()),
        secret_expires_at: None,
        redirect_uris: vec![RedirectUri::parse("https://app.example.com/cb").unwrap()],
        grant_types: vec![GrantType::AuthorizationCode, GrantType::ClientCredentials],
        token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretBasic,
        application_type: ApplicationType::Web,
        client_name: Some("Legacy".to_owned()),
        allowed_resources: None,
        allowed_scope: None,
        metadata_json: "{}".to_owned(),
        created_at: server.clock.now_time(),
    };
    server.store.insert_client(record.clone()).await.unwrap();
    let (status, _, body) = server
        .token_basic(
            "legacy-dcr",
            secret,
            &[("grant_type", "client_credentials"), ("resource", RESOURCE)],
        )
        .await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (400, Some("unauthorized_client")),
        "{body}"
    );

    // The same for a metadata-document record that lists client_credentials.
    let mut cimd = record;
    cimd.client_id = ClientId::parse("https://app.example.com/client.json").unwrap();
    let now = server.clock.now_time();
    cimd.kind = ClientKind::MetadataDocument {
        fetched_at: now,
        expires_at: now.saturating_add(std::time::Duration::from_secs(3600)),
    };
    cimd.token_endpoint_auth_method = TokenEndpointAuthMethod::ClientSecretPost;
    server.store.insert_client(cimd).await.unwrap();
    let (status, _, body) = server
        .token(&[
            ("grant_type", "client_credentials"),
            ("resource", RESOURCE),
            ("client_id", "https://app.example.com/client.json"),
            ("client_secret", secret),
        ])
        .await;
    assert_eq!(
        (status.as_u16(), body["error"].as_str()),
        (400, Some("unauthorized_client")),
        "{body}"
    );
}

/// The operator's machine client (`mcp-authz clients add --client-credentials`) keeps working.
#[tokio::test]
async fn operator_client_still_gets_client_credentials_tokens() {
    let server = TestServer::start().await;
    let (id, secret) = server.operator_client(&["client_credentials"]).await;
    let (status, _, body) = server
        .token_basic(
            &id,
            &secret,
            &[("grant_type", "client_credentials"), ("resource", RESOURCE)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, claims) = jwt_parts(body["access_token"].as_str().unwrap());
    assert_eq!(claims["sub"], id.as_str());
}

// ---------------------------------------------------------------------------------------------
// SEC-11: limits cannot be turned against legitimate clients.
// ---------------------------------------------------------------------------------------------

/// An HTTP client whose connections come from the loopback address `127.0.0.<n>` (another host
/// for the server's per-peer limits).
fn from_host(n: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, n]))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn post_token(
    http: &reqwest::Client,
    server: &TestServer,
    auth: Option<&str>,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let mut request = http.post(server.url("/token")).form(form);
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn small_token_limit(
    builder: mcp_authz_server::ServerConfigBuilder,
) -> mcp_authz_server::ServerConfigBuilder {
    default_config(builder).token_rate_limit(mcp_authz_server::RateLimit::per_second(1, 5))
}

/// An attacker floods /token naming a victim's public client id (bogus codes and refresh tokens,
/// and the id in Basic credentials); the attacker is limited, the victim's real exchange is not.
#[tokio::test]
async fn flooding_with_a_public_victims_client_id_does_not_limit_the_victim() {
    let server = TestServer::start_configured(small_token_limit).await;
    server.create_user(USER, PASSWORD).await;
    let victim = server.public_client().await;
    let browser = server.browser();
    let authorize = Authorize::new(&victim);
    let location = browser_flow(&server, &browser, &authorize).await;
    let mcp_authz_token::AuthorizationCallback::Success(success) = callback(&location) else {
        panic!("{location}")
    };

    let attacker = from_host(2);
    let mut statuses = Vec::new();
    for i in 0..30 {
        let bogus = format!("bogus-{i}");
        let form: Vec<(&str, &str)> = if i % 2 == 0 {
            vec![
                ("grant_type", "authorization_code"),
                ("code", &bogus),
                ("code_verifier", "x".repeat(43).leak()),
                ("client_id", victim.as_str()),
            ]
        } else {
            vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", &bogus),
                ("client_id", victim.as_str()),
            ]
        };
        statuses.push(post_token(&attacker, &server, None, &form).await.0);
    }
    for _ in 0..10 {
        let auth = basic(victim.as_str(), "guess");
        let form = [("grant_type", "refresh_token"), ("refresh_token", "x")];
        statuses.push(post_token(&attacker, &server, Some(&auth), &form).await.0);
    }
    assert!(
        statuses.contains(&429),
        "the flood itself is limited: {statuses:?}"
    );

    let (status, body) = post_token(
        &from_host(1),
        &server,
        None,
        &[
            ("grant_type", "authorization_code"),
            ("code", success.code.secret()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", authorize.verifier.secret()),
            ("client_id", victim.as_str()),
        ],
    )
    .await;
    assert_eq!(
        status, 200,
        "the victim is not limited by the flood: {body}"
    );
}

/// The same for a confidential client: wrong secrets in its name cost the sender, not the client.
#[tokio::test]
async fn flooding_with_wrong_secrets_does_not_limit_the_confidential_victim() {
    let server = TestServer::start_configured(small_token_limit).await;
    let (id, secret) = server.operator_client(&["client_credentials"]).await;
    let attacker = from_host(3);
    let mut statuses = Vec::new();
    for i in 0..20 {
        let auth = basic(&id, &format!("wrong-{i}"));
        let form = [("grant_type", "client_credentials")];
        statuses.push(post_token(&attacker, &server, Some(&auth), &form).await.0);
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    let auth = basic(&id, &secret);
    let (status, body) = post_token(
        &from_host(1),
        &server,
        Some(&auth),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

/// Spraying requests from many addresses fills the limiter's table; the attacker's own drained bucket
/// is not forgotten (the limiter evicts one full bucket at a time, never "starts over").
#[tokio::test]
async fn spraying_addresses_does_not_reset_a_drained_bucket() {
    let server = TestServer::start_configured(|b| {
        default_config(b)
            .token_rate_limit(mcp_authz_server::RateLimit::per_second(1, 3))
            .max_pending(4)
    })
    .await;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", "nobody"),
    ];
    let attacker = from_host(2);
    let mut drained = false;
    for _ in 0..10 {
        if post_token(&attacker, &server, None, &form).await.0 == 429 {
            drained = true;
            break;
        }
    }
    assert!(drained);
    for host in 10..30 {
        let (status, _) = post_token(&from_host(host), &server, None, &form).await;
        assert_eq!(status, 401);
    }
    let (status, _) = post_token(&attacker, &server, None, &form).await;
    assert_eq!(status, 429, "the drained bucket survived the spray");
}

// ---------------------------------------------------------------------------------------------
// SEC-12: outbound fetch amplification through Client ID Metadata Documents.
// ---------------------------------------------------------------------------------------------

/// A document host with one valid document at `/client.json`.
async fn document_host() -> DocumentHost {
    start_document_host(|base| {
        let mut routes = std::collections::HashMap::new();
        let document = json!({
            "client_id": format!("{base}/client.json"),
            "client_name": "CIMD App",
            "redirect_uris": [REDIRECT],
            "token_endpoint_auth_method": "none",
        });
        routes.insert(
            "/client.json".to_owned(),
            document_response(&document.to_string(), "max-age=600"),
        );
        routes
    })
    .await
}

async fn cimd_server(docs: &DocumentHost, allow_private: bool) -> TestServer {
    let config = docs.config(allow_private);
    TestServer::start_configured(move |b| {
        default_config(b)
            .metadata_documents(config)
            .authorize_rate_limit(mcp_authz_server::RateLimit::unlimited())
            .token_rate_limit(mcp_authz_server::RateLimit::unlimited())
    })
    .await
}

/// GET /authorize naming `client_id` from `http`; returns the status.
async fn authorize_as(http: &reqwest::Client, server: &TestServer, client_id: &str) -> u16 {
    let client = ClientId::parse(client_id).unwrap();
    http.get(Authorize::new(&client).url(server))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// 300 token requests naming 300 distinct document URLs (and the host's valid document, never seen
/// at /authorize) start no outbound request at all: the token endpoint only uses known clients.
#[tokio::test]
async fn token_endpoint_fetches_no_document_for_unseen_client_ids() {
    let docs = document_host().await;
    let server = cimd_server(&docs, true).await;
    let mut ids: Vec<String> = (0..300).map(|i| docs.url(&format!("/c{i}.json"))).collect();
    ids.push(docs.url("/client.json"));
    for (i, id) in ids.iter().enumerate() {
        let form: Vec<(&str, &str)> = if i % 2 == 0 {
            vec![
                ("grant_type", "authorization_code"),
                ("code", "bogus"),
                ("code_verifier", "v".repeat(43).leak()),
                ("client_id", id),
            ]
        } else {
            vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", "bogus"),
                ("client_id", id),
            ]
        };
        let (status, _, body) = server.token(&form).await;
        assert_eq!(
            (status.as_u16(), body["error"].as_str()),
            (401, Some("invalid_client")),
            "{id}"
        );
    }
    assert_eq!(docs.hits(), 0, "no request reached the document host");
    assert_eq!(server.server.metadata_document_fetches(), 0);
}

/// 113 authorization requests for one failing document fetch it once; 300 distinct URLs from one
/// peer fetch at most its budget; another peer still gets a valid document fetched.
#[tokio::test]
async fn authorize_fetches_are_cached_on_failure_and_capped_per_peer() {
    let docs = document_host().await;
    let server = cimd_server(&docs, true).await;
    let attacker = from_host(2);
    for _ in 0..113 {
        assert_eq!(
            authorize_as(&attacker, &server, &docs.url("/missing.json")).await,
            400
        );
    }
    assert_eq!(docs.hits(), 1, "the failure is cached");
    for i in 0..300 {
        let status = authorize_as(&attacker, &server, &docs.url(&format!("/spray{i}.json"))).await;
        assert_eq!(status, 400);
    }
    let hits = docs.hits();
    assert!(
        hits <= 16,
        "at most the peer's budget (10) and its refill: {hits}"
    );
    assert_eq!(server.server.metadata_document_fetches(), hits as u64);
    // The cap is the attacker's: a user elsewhere still gets the document fetched.
    assert_eq!(
        authorize_as(&from_host(1), &server, &docs.url("/client.json")).await,
        200
    );
    assert_eq!(docs.hits(), hits + 1);
}

/// A host that cannot be reached is given up after a few failures: naming further URLs on it starts
/// no connection until the failure window ends.
#[tokio::test]
async fn unreachable_hosts_are_not_retried_for_every_url() {
    let docs = document_host().await;
    let server = cimd_server(&docs, true).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    for i in 0..30u8 {
        let url = format!("https://127.0.0.1:{port}/doc{i}.json");
        assert_eq!(authorize_as(&from_host(10 + i), &server, &url).await, 400);
    }
    assert_eq!(
        server.server.metadata_document_fetches(),
        5,
        "HOST_FAILURE_LIMIT attempts"
    );
}

/// Document URLs whose host is an IPv6 literal embedding 127.0.0.1 (6to4, IPv4-compatible, NAT64,
/// Teredo) are refused without any fetch when private addresses are not allowed: the shared
/// classifier (`mcp_authz_metadata::classify_address`) judges them.
#[tokio::test]
async fn ipv6_embeddings_of_loopback_are_refused_without_a_fetch() {
    let docs = document_host().await;
    let server = cimd_server(&docs, false).await;
    for host in [
        "[2002:7f00:1::]",
        "[::7f00:1]",
        "[64:ff9b::7f00:1]",
        "[2001:0:7f00:1::80ff:fffe]",
    ] {
        let url = format!("https://{host}:{}/client.json", docs.port);
        assert_eq!(
            authorize_as(&server.http, &server, &url).await,
            400,
            "{url}"
        );
    }
    assert_eq!(
        server.server.metadata_document_fetches(),
        0,
        "no fetch was started"
    );
    assert_eq!(docs.hits(), 0);
}

/// What the token endpoint may still fetch: a client seen at /authorize whose cached record expired
/// and was purged refreshes normally (its refresh token is the evidence), refetching its document.
#[tokio::test]
async fn a_purged_document_client_still_refreshes() {
    let docs = document_host().await;
    let server = cimd_server(&docs, true).await;
    server.create_user(USER, PASSWORD).await;
    let client = ClientId::parse(&docs.url("/client.json")).unwrap();
    let tokens = code_for_tokens(&server, &client).await;
    assert_eq!(docs.hits(), 1);
    server.clock.advance(std::time::Duration::from_secs(601));
    assert!(server.store.delete_client(&client).await.unwrap(), "purged");
    let (status, _, body) = server
        .token(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
            ("client_id", client.as_str()),
        ])
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(docs.hits(), 2);
}

// ---------------------------------------------------------------------------------------------
// SEC-20: client authentication uses exactly the registered method.
// ---------------------------------------------------------------------------------------------

/// Registers a DCR client authenticating with `method`; returns (id, secret).
async fn dcr_client(server: &TestServer, method: &str) -> (String, String) {
    let response = server
        .register(json!({
            "redirect_uris": ["https://app.example.com/cb"],
            "token_endpoint_auth_method": method,
            "grant_types": ["authorization_code", "refresh_token"],
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

/// POSTs `form` to `path`, authenticated with Basic (`basic`) or in the body.
async fn authenticated_post(
    server: &TestServer,
    path: &str,
    basic_auth: bool,
    id: &str,
    secret: &str,
    form: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut form = form.to_vec();
    let mut request = server.http.post(server.url(path));
    if basic_auth {
        request = request.header("authorization", basic(id, secret));
    } else {
        form.push(("client_id", id));
        form.push(("client_secret", secret));
    }
    let response = request.form(&form).send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (
        status,
        headers,
        response.json().await.unwrap_or(Value::Null),
    )
}

fn assert_invalid_client(
    status: u16,
    headers: &reqwest::header::HeaderMap,
    body: &Value,
    what: &str,
) {
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client")),
        "{what}: {body}"
    );
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic"),
        "{what}"
    );
}

/// A basic client's secret in the body, and a post client's secret in Basic, are refused at the token
/// endpoint (the right secret, the wrong method); the registered method passes authentication.
#[tokio::test]
async fn token_endpoint_accepts_only_the_registered_auth_method() {
    let server = TestServer::start().await;
    let refresh = [
        ("grant_type", "refresh_token"),
        ("refresh_token", "unknown"),
    ];
    for (method, registered_basic) in [("client_secret_basic", true), ("client_secret_post", false)]
    {
        let (id, secret) = dcr_client(&server, method).await;
        let (status, headers, body) =
            authenticated_post(&server, "/token", !registered_basic, &id, &secret, &refresh).await;
        assert_invalid_client(status, &headers, &body, method);
        // The registered method authenticates: the (unknown) refresh token is what fails.
        let (status, _, body) =
            authenticated_post(&server, "/token", registered_basic, &id, &secret, &refresh).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant")),
            "{method}: {body}"
        );
    }
    // The operator's machine client is registered for client_secret_basic.
    let (id, secret) = server.operator_client(&["client_credentials"]).await;
    let form = [("grant_type", "client_credentials")];
    let (status, headers, body) =
        authenticated_post(&server, "/token", false, &id, &secret, &form).await;
    assert_invalid_client(status, &headers, &body, "operator client with post");
}

/// The same at the revocation and introspection endpoints.
#[tokio::test]
async fn revocation_and_introspection_accept_only_the_registered_auth_method() {
    let server = TestServer::start().await;
    let (id, secret) = server.operator_client(&["client_credentials"]).await;
    let form = [("token", "anything")];
    for path in ["/revoke", "/introspect"] {
        let (status, headers, body) =
            authenticated_post(&server, path, false, &id, &secret, &form).await;
        assert_invalid_client(status, &headers, &body, path);
        let (status, _, body) = authenticated_post(&server, path, true, &id, &secret, &form).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
    let (id, secret) = dcr_client(&server, "client_secret_post").await;
    for path in ["/revoke", "/introspect"] {
        let (status, headers, body) =
            authenticated_post(&server, path, true, &id, &secret, &form).await;
        assert_invalid_client(status, &headers, &body, path);
        let (status, _, body) = authenticated_post(&server, path, false, &id, &secret, &form).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
}

// ---------------------------------------------------------------------------------------------
// SEC-20: reuse of a rotated refresh token is detected whatever else is wrong with the request.
// ---------------------------------------------------------------------------------------------

/// A rotated refresh token replayed with a widened scope, or with a resource it was not granted for,
/// is reuse: `invalid_grant`, and the family's current refresh token stops working.
#[tokio::test]
async fn replayed_refresh_token_with_a_wider_request_revokes_the_family() {
    let server = TestServer::start().await;
    server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;
    for extra in [
        ("scope", "tools:read tools:write other:read"),
        ("resource", OTHER_RESOURCE),
    ] {
        let tokens = code_for_tokens(&server, &client).await;
        let old = tokens["refresh_token"].as_str().unwrap().to_owned();
        let (status, _, rotated) = server
            .token(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", &old),
                ("client_id", client.as_str()),
            ])
            .await;
        assert_eq!(status, 200, "{rotated}");
        let current = rotated["refresh_token"].as_str().unwrap().to_owned();

        let (status, _, body) = server
            .token(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", &old),
                ("client_id", client.as_str()),
                extra,
            ])
            .await;
        assert_eq!(
            (status.as_u16(), body["error"].as_str()),
            (400, Some("invalid_grant")),
            "{extra:?}: {body}"
        );

        let (status, _, body) = server
            .token(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", &current),
                ("client_id", client.as_str()),
            ])
            .await;
        assert_eq!(
            (status.as_u16(), body["error"].as_str()),
            (400, Some("invalid_grant")),
            "{extra:?}: the family is revoked: {body}"
        );
    }
}

/// Every event logged while the guard is alive, as `name=value` text (a minimal subscriber: the
/// crate has no log-capture dependency).
struct LogCapture(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

struct FieldText(String);

impl tracing::field::Visit for FieldText {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        use std::fmt::Write as _;
        let _ = write!(self.0, "{}={value:?} ", field.name());
    }
}

impl tracing::Subscriber for LogCapture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut text = FieldText(String::new());
        event.record(&mut text);
        self.0.lock().unwrap().push(text.0);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// A hostile document URL of 1,900 characters, and a document whose mismatched `client_id` is 2,000
/// characters: the refusals are logged, bounded (and escaped, see `fetch_budget::loggable`).
#[tokio::test]
async fn refused_documents_log_no_raw_attacker_text() {
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let _guard = tracing::subscriber::set_default(LogCapture(lines.clone()));
    let docs = start_document_host(|_| {
        let mut routes = std::collections::HashMap::new();
        let hostile = json!({
            "client_id": format!("https://evil.example/{}", "x".repeat(2000)),
            "client_name": "Evil",
            "redirect_uris": [REDIRECT],
        });
        routes.insert(
            "/hostile.json".to_owned(),
            document_response(&hostile.to_string(), "max-age=600"),
        );
        routes
    })
    .await;
    let server = cimd_server(&docs, true).await;
    let long = docs.url(&format!("/{}.json", "a".repeat(1900)));
    assert_eq!(authorize_as(&server.http, &server, &long).await, 400);
    assert_eq!(
        authorize_as(&server.http, &server, &docs.url("/hostile.json")).await,
        400
    );
    assert_eq!(docs.hits(), 2);
    let lines = lines.lock().unwrap();
    let refused: Vec<&String> = lines.iter().filter(|l| l.contains("refused")).collect();
    assert_eq!(refused.len(), 2, "{lines:?}");
    for line in refused {
        assert!(line.len() < 1000, "bounded: {} characters", line.len());
        assert!(line.contains("[truncated]"), "{line}");
        assert!(!line.contains('\u{1b}'), "escaped: {line}");
    }
}

/// Twelve authorization requests at once naming documents on a host that accepts connections and
/// never answers: at most `MAX_CONCURRENT_FETCHES` (8) fetches run, the others are refused at once.
#[tokio::test]
async fn concurrent_fetches_are_capped_overall() {
    let stall = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = stall.local_addr().unwrap().port();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = stall.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(socket);
        }
    });
    let docs = document_host().await;
    let mut config = docs.config(true);
    config.timeout = std::time::Duration::from_secs(2);
    let server = TestServer::start_configured(move |b| {
        default_config(b)
            .metadata_documents(config)
            .authorize_rate_limit(mcp_authz_server::RateLimit::unlimited())
    })
    .await;
    let mut tasks = Vec::new();
    for i in 0..12u8 {
        let client = ClientId::parse(&format!("https://127.0.0.1:{port}/s{i}.json")).unwrap();
        let url = Authorize::new(&client).url(&server);
        // Two peers, so that no single peer's budget (10) is what stops the fetches.
        let http = from_host(20 + i % 2);
        tasks.push(tokio::spawn(async move {
            http.get(url).send().await.unwrap().status().as_u16()
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 400);
    }
    assert_eq!(server.server.metadata_document_fetches(), 8);
    assert!(accepted.load(std::sync::atomic::Ordering::SeqCst) <= 8);
}

/// A user of a public application (here, a metadata-document-like shared client id) refreshing in a
/// loop with valid tokens spends only the budget of that client at that address: another user of the
/// same application elsewhere is not limited.
#[tokio::test]
async fn one_user_of_a_public_client_cannot_spend_the_other_users_budget() {
    let server = TestServer::start_configured(small_token_limit).await;
    server.create_user(USER, PASSWORD).await;
    let shared = server.public_client().await;
    let attacker = from_host(2);
    // The attacker's own, valid, grant.
    let browser = server.browser();
    let authorize = Authorize::new(&shared);
    let location = browser_flow(&server, &browser, &authorize).await;
    let mcp_authz_token::AuthorizationCallback::Success(success) = callback(&location) else {
        panic!("{location}")
    };
    let (status, body) = post_token(
        &attacker,
        &server,
        None,
        &[
            ("grant_type", "authorization_code"),
            ("code", success.code.secret()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", authorize.verifier.secret()),
            ("client_id", shared.as_str()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let mut refresh = body["refresh_token"].as_str().unwrap().to_owned();
    let mut limited = false;
    for _ in 0..20 {
        let (status, body) = post_token(
            &attacker,
            &server,
            None,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", &refresh),
                ("client_id", shared.as_str()),
            ],
        )
        .await;
        if status == 429 {
            limited = true;
            break;
        }
        assert_eq!(status, 200, "{body}");
        refresh = body["refresh_token"].as_str().unwrap().to_owned();
    }
    assert!(limited, "the loop is limited");
    // Another user of the same application, at another address, exchanges a code normally.
    let authorize = Authorize::new(&shared);
    let location = browser_flow(&server, &server.browser(), &authorize).await;
    let mcp_authz_token::AuthorizationCallback::Success(success) = callback(&location) else {
        panic!("{location}")
    };
    let (status, body) = post_token(
        &from_host(1),
        &server,
        None,
        &[
            ("grant_type", "authorization_code"),
            ("code", success.code.secret()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", authorize.verifier.secret()),
            ("client_id", shared.as_str()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
}
