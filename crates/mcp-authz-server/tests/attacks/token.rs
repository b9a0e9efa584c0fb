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
