//! Metadata, the authorization endpoint and its pages, over real HTTP (AS-1..AS-4, AS-6, AS-11, AS-16,
//! SEC-1, SEC-4, SEC-5, SEC-9).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use mcp_authz_metadata::{ClientId, RedirectUri, ResourceUri};
use mcp_authz_server::{ConfigError, ServerConfig};
use mcp_authz_token::{AuthorizationCallback, ErrorCode};
use serde_json::Value;

#[tokio::test]
async fn metadata_is_served_at_rfc8414_and_oidc_paths() {
    let server = TestServer::start().await;
    for path in [
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
    ] {
        let response = server.http.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let doc: Value = response.json().await.unwrap();
        assert_eq!(doc["issuer"], server.base.as_str());
        assert_eq!(
            doc["code_challenge_methods_supported"],
            serde_json::json!(["S256"])
        );
        assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
        assert_eq!(doc["client_id_metadata_document_supported"], true);
        assert_eq!(doc["response_types_supported"], serde_json::json!(["code"]));
        let grants = doc["grant_types_supported"].as_array().unwrap();
        assert!(!grants.iter().any(|g| g == "implicit" || g == "password"));
        assert_eq!(doc["token_endpoint"], server.url("/token"));
        assert_eq!(doc["jwks_uri"], server.url("/jwks.json"));
        assert_eq!(doc["registration_endpoint"], server.url("/register"));
    }
}

#[tokio::test]
async fn metadata_for_an_issuer_with_a_path() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let issuer = format!("{base}/tenant1");
    let config = default_config(
        ServerConfig::builder_from_str(&issuer.clone())
            .unwrap()
            .allow_http_loopback(),
    )
    .build()
    .unwrap();
    let backend = common::test_store().await;
    let server = mcp_authz_server::AuthorizationServer::new(config, backend.store.clone()).unwrap();
    let app = server.router();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    for path in [
        "/.well-known/oauth-authorization-server/tenant1",
        "/.well-known/openid-configuration/tenant1",
        "/tenant1/.well-known/openid-configuration",
    ] {
        let doc: Value = reqwest::get(format!("{base}{path}"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(doc["issuer"], issuer.as_str(), "{path}");
        assert_eq!(doc["authorization_endpoint"], format!("{issuer}/authorize"));
    }
}

#[test]
fn http_issuers_need_the_explicit_loopback_setting() {
    let build = |issuer: &str, allow: bool| {
        let builder = default_config(ServerConfig::builder_from_str(issuer)?);
        let builder = if allow {
            builder.allow_http_loopback()
        } else {
            builder
        };
        builder.build().map(|_| ())
    };
    assert_eq!(
        build("http://127.0.0.1:8080", false),
        Err(ConfigError::HttpIssuerNotAllowed)
    );
    assert!(build("http://127.0.0.1:8080", true).is_ok());
    assert!(matches!(
        build("http://auth.example.com", true),
        Err(ConfigError::Issuer(_))
    ));
    assert!(build("https://auth.example.com", false).is_ok());
    // Code lifetime at most 60 s, access token at most 1 h.
    let long_code = default_config(ServerConfig::builder_from_str("https://a.example").unwrap())
        .code_lifetime(std::time::Duration::from_secs(61))
        .build();
    assert!(matches!(
        long_code,
        Err(ConfigError::Lifetime {
            name: "code_lifetime",
            ..
        })
    ));
    let long_token = default_config(ServerConfig::builder_from_str("https://a.example").unwrap())
        .access_token_lifetime(std::time::Duration::from_secs(3601))
        .build();
    assert!(matches!(long_token, Err(ConfigError::Lifetime { .. })));
    // Auto-approve only on a loopback http issuer.
    let auto = default_config(ServerConfig::builder_from_str("https://a.example").unwrap())
        .dangerous_auto_approve(mcp_authz_server::dangerous::AutoApprove::DevUser(
            mcp_authz_store::Subject::parse("dev").unwrap(),
        ))
        .build();
    assert_eq!(auto.unwrap_err(), ConfigError::AutoApproveNotLoopback);
}

#[tokio::test]
async fn jwks_publishes_an_es256_key() {
    let server = TestServer::start().await;
    let jwks: Value = server
        .http
        .get(server.url("/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "EC");
    assert_eq!(key["crv"], "P-256");
    assert_eq!(key["alg"], "ES256");
    assert!(key["kid"].is_string());
    assert!(key.get("d").is_none(), "private key leaked");
}

#[tokio::test]
async fn full_browser_flow_with_login_and_consent() {
    let server = TestServer::start().await;
    server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;
    let browser = server.browser();
    let authorize = Authorize::new(&client);

    let page = browser.get(authorize.url(&server)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let cookie = page
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "loopback http issuer: no Secure"
    );
    let login_html = page.text().await.unwrap();
    assert!(login_html.contains("name=\"password\""));

    let consent = login(&server, &browser, &login_html, USER, PASSWORD).await;
    assert_eq!(consent.status(), 200);
    let headers = consent.headers().clone();
    let html = consent.text().await.unwrap();
    // AS-11: client name (escaped), redirect host, scopes.
    assert!(html.contains("Test &lt;Client&gt;"), "{html}");
    assert!(html.contains("127.0.0.1:7777"));
    assert!(
        html.contains("<li class=\"scope\"><span class=\"scope-token\">tools:read</span>"),
        "default scope shown: {html}"
    );
    assert!(!html.contains("<script"));
    assert!(
        !html.contains("localhost-warning"),
        "DCR clients get no CIMD warning"
    );
    // SEC-9 / SEC-5 page headers.
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["referrer-policy"], "no-referrer");

    let location = approve(&server, &browser, &html).await;
    assert!(location.starts_with(REDIRECT));
    let AuthorizationCallback::Success(success) = callback(&location) else {
        panic!("{location}")
    };
    assert_eq!(success.state.as_ref(), Some(&authorize.state));
    assert_eq!(
        success.iss.as_ref().map(|i| i.as_str()),
        Some(server.base.as_str())
    );

    // Consent is remembered: the next request for the same scope redirects at once (302).
    let again = Authorize::new(&client);
    let response = browser.get(again.url(&server)).send().await.unwrap();
    assert_eq!(response.status(), 302);
    assert!(matches!(
        callback(&location_of(&response)),
        AuthorizationCallback::Success(_)
    ));

    // A wider scope asks again.
    let mut wider = Authorize::new(&client);
    wider.request = wider.request.with_scope(scope("tools:read tools:write"));
    let response = browser.get(wider.url(&server)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("tools:write"));
}

fn location_of(response: &reqwest::Response) -> String {
    location(response)
}

#[tokio::test]
async fn wrong_password_shows_the_login_page_again() {
    let server = TestServer::start().await;
    server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;
    let browser = server.browser();
    let page = browser
        .get(Authorize::new(&client).url(&server))
        .send()
        .await
        .unwrap();
    let html = page.text().await.unwrap();
    let next = login(&server, &browser, &html, USER, "wrong").await;
    assert_eq!(next.status(), 200);
    let html = next.text().await.unwrap();
    assert!(html.contains("not correct") && html.contains("name=\"password\""));
}

#[tokio::test]
async fn consent_form_without_the_csrf_token_is_refused() {
    let server = TestServer::start().await;
    server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;
    let browser = server.browser();
    let page = browser
        .get(Authorize::new(&client).url(&server))
        .send()
        .await
        .unwrap();
    let html = page.text().await.unwrap();
    let consent = login(&server, &browser, &html, USER, PASSWORD)
        .await
        .text()
        .await
        .unwrap();
    let request = hidden_field(&consent, "request");
    for csrf in ["", "forged"] {
        let response = browser
            .post(server.url("/authorize/consent"))
            .form(&[
                ("request", request.as_str()),
                ("csrf", csrf),
                ("decision", "approve"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
        assert!(response.headers().get("location").is_none());
    }
    // Another browser (no session) with the right tokens is refused too.
    let response = server
        .http
        .post(server.url("/authorize/consent"))
        .form(&[
            ("request", request.as_str()),
            ("csrf", hidden_field(&consent, "csrf").as_str()),
            ("decision", "approve"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn denying_redirects_with_access_denied_and_iss() {
    let server = TestServer::start().await;
    server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;
    let browser = server.browser();
    let authorize = Authorize::new(&client);
    let html = browser
        .get(authorize.url(&server))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let consent = login(&server, &browser, &html, USER, PASSWORD)
        .await
        .text()
        .await
        .unwrap();
    let response = browser
        .post(server.url("/authorize/consent"))
        .form(&[
            ("request", hidden_field(&consent, "request").as_str()),
            ("csrf", hidden_field(&consent, "csrf").as_str()),
            ("decision", "deny"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let AuthorizationCallback::Error(error) = callback(&location(&response)) else {
        panic!()
    };
    assert_eq!(error.error, ErrorCode::AccessDenied);
    assert_eq!(error.state.as_ref(), Some(&authorize.state));
    assert_eq!(error.iss.unwrap().as_str(), server.base);
}

/// Fetches an authorize URL and expects an error redirect; returns it.
async fn error_redirect(
    server: &TestServer,
    url: &str,
) -> mcp_authz_token::AuthorizationErrorResponse {
    let response = server.http.get(url).send().await.unwrap();
    assert_eq!(response.status(), 302, "{url}");
    let location = location(&response);
    assert!(location.starts_with(REDIRECT), "{location}");
    match callback(&location) {
        AuthorizationCallback::Error(error) => error,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn unsupported_response_type_and_missing_pkce_redirect_with_iss_and_state() {
    let server = TestServer::start().await;
    let client = server.public_client().await;
    let authorize = Authorize::new(&client);
    let query = authorize.request.to_query();

    let implicit = server.url(&format!(
        "/authorize?{}",
        query.replace("response_type=code", "response_type=token")
    ));
    let error = error_redirect(&server, &implicit).await;
    assert_eq!(error.error, ErrorCode::UnsupportedResponseType);
    assert_eq!(error.iss.as_ref().unwrap().as_str(), server.base);
    assert_eq!(error.state.as_ref(), Some(&authorize.state));

    let without_pkce: String = query
        .split('&')
        .filter(|p| !p.starts_with("code_challenge"))
        .collect::<Vec<_>>()
        .join("&");
    let error = error_redirect(&server, &server.url(&format!("/authorize?{without_pkce}"))).await;
    assert_eq!(error.error, ErrorCode::InvalidRequest);
    assert!(error.iss.is_some());

    let plain = server.url(&format!(
        "/authorize?{}",
        query.replace("code_challenge_method=S256", "code_challenge_method=plain")
    ));
    let error = error_redirect(&server, &plain).await;
    assert_eq!(error.error, ErrorCode::InvalidRequest);
}

#[tokio::test]
async fn unknown_resource_and_scope_redirect_with_rfc_codes() {
    let server = TestServer::start().await;
    let client = server.public_client().await;
    let mut authorize = Authorize::new(&client);
    authorize.request.resources =
        vec![ResourceUri::parse("https://elsewhere.example/mcp").unwrap()];
    let error = error_redirect(&server, &authorize.url(&server)).await;
    assert_eq!(error.error, ErrorCode::InvalidTarget);

    let mut authorize = Authorize::new(&client);
    authorize.request = authorize.request.with_scope(scope("admin"));
    let error = error_redirect(&server, &authorize.url(&server)).await;
    assert_eq!(error.error, ErrorCode::InvalidScope);
}

#[tokio::test]
async fn bad_client_or_redirect_uri_gets_an_error_page_never_a_redirect() {
    let server = TestServer::start().await;
    let client = server.public_client().await;
    let mut cases = Vec::new();
    // Unregistered redirect URI.
    let mut a = Authorize::new(&client);
    a.request.redirect_uri = Some(RedirectUri::parse("https://attacker.example/cb").unwrap());
    cases.push(a.url(&server));
    // Same host, other path (exact match required).
    let mut a = Authorize::new(&client);
    a.request.redirect_uri = Some(RedirectUri::parse("http://127.0.0.1:7777/callback/x").unwrap());
    cases.push(a.url(&server));
    // Unknown client.
    let a = Authorize::new(&ClientId::parse("nobody").unwrap());
    cases.push(a.url(&server));
    // Unregistered redirect URI with an otherwise redirectable error (response_type=token).
    let mut a = Authorize::new(&client);
    a.request.redirect_uri = Some(RedirectUri::parse("https://attacker.example/cb").unwrap());
    cases.push(
        a.url(&server)
            .replace("response_type=code", "response_type=token"),
    );
    // No client_id at all.
    cases.push(
        server
            .url("/authorize?response_type=code&redirect_uri=https%3A%2F%2Fattacker.example%2Fcb"),
    );
    for url in cases {
        let response = server.http.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 400, "{url}");
        assert!(response.headers().get("location").is_none(), "{url}");
        assert_eq!(response.headers()["x-frame-options"], "DENY");
        let html = response.text().await.unwrap();
        assert!(html.contains("Authorization error"));
        assert!(
            !html.contains("attacker.example"),
            "no link to the unverified URI"
        );
    }
}

#[tokio::test]
async fn loopback_redirect_uris_match_on_any_port() {
    let server = TestServer::start().await;
    server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;
    let browser = server.browser();
    let mut authorize = Authorize::new(&client);
    authorize.request.redirect_uri =
        Some(RedirectUri::parse("http://127.0.0.1:53123/callback").unwrap());
    let location = browser_flow(&server, &browser, &authorize).await;
    assert!(
        location.starts_with("http://127.0.0.1:53123/callback?"),
        "{location}"
    );
    // But not another loopback host name or path.
    let mut other = Authorize::new(&client);
    other.request.redirect_uri =
        Some(RedirectUri::parse("http://localhost:53123/callback").unwrap());
    let response = server.http.get(other.url(&server)).send().await.unwrap();
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn request_without_scope_gets_the_default_scope() {
    let server = TestServer::start().await;
    server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;
    let tokens = code_for_tokens(&server, &client).await;
    assert_eq!(tokens["scope"], "tools:read");
}

#[tokio::test]
async fn dangerous_auto_approve_skips_the_pages() {
    let server = TestServer::start_configured(|b| {
        default_config(b).dangerous_auto_approve(mcp_authz_server::dangerous::AutoApprove::DevUser(
            mcp_authz_store::Subject::parse("dev-user").unwrap(),
        ))
    })
    .await;
    let client = server.public_client().await;
    let authorize = Authorize::new(&client);
    let response = server
        .http
        .get(authorize.url(&server))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 302);
    let AuthorizationCallback::Success(success) = callback(&location(&response)) else {
        panic!()
    };
    let (status, _, body) = server
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", success.code.secret()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", authorize.verifier.secret()),
            ("client_id", client.as_str()),
        ])
        .await;
    assert_eq!(status, 200);
    let (_, claims) = jwt_parts(body["access_token"].as_str().unwrap());
    assert_eq!(claims["sub"], "dev-user");
}

#[tokio::test]
async fn https_issuers_set_secure_host_prefixed_cookies() {
    let backend = common::test_store().await;
    let store = backend.store.clone();
    let config =
        default_config(ServerConfig::builder_from_str("https://auth.example.com").unwrap())
            .build()
            .unwrap();
    let server = mcp_authz_server::AuthorizationServer::new(config, store.clone()).unwrap();
    let client = ClientId::parse("native-app").unwrap();
    store
        .insert_client(mcp_authz_store::ClientRecord {
            client_id: client.clone(),
            kind: mcp_authz_store::ClientKind::PreRegistered,
            secret_hash: None,
            secret_expires_at: None,
            redirect_uris: vec![RedirectUri::parse(REDIRECT).unwrap()],
            grant_types: vec![mcp_authz_metadata::GrantType::AuthorizationCode],
            token_endpoint_auth_method: mcp_authz_metadata::TokenEndpointAuthMethod::None,
            application_type: mcp_authz_metadata::ApplicationType::Native,
            client_name: None,
            allowed_resources: None,
            allowed_scope: None,
            metadata_json: "{}".into(),
            created_at: mcp_authz_store::NumericDate::from_secs(0),
        })
        .await
        .unwrap();
    let authorize = Authorize::new(&client);
    let request = http::Request::builder()
        .uri(format!("/authorize?{}", authorize.request.to_query()))
        .body(bytes::Bytes::new())
        .unwrap();
    let response = server.handle(request).await;
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("__Host-mcp_authz_session="), "{cookie}");
    assert!(
        cookie.contains("; Secure")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax")
    );
}

/// An "identity provider" that signs in whoever the callback names (it redirects straight back).
struct FakeIdp;

#[async_trait::async_trait]
impl mcp_authz_server::UpstreamIdentityProvider for FakeIdp {
    fn display_name(&self) -> &str {
        "Fake IdP"
    }

    fn login_url(&self, callback: &url::Url, state: &str) -> url::Url {
        let mut url = callback.clone();
        url.query_pairs_mut()
            .append_pair("state", state)
            .append_pair("user", "bob");
        url
    }

    async fn complete(
        &self,
        _callback: &url::Url,
        query: &str,
    ) -> Result<Option<mcp_authz_store::Subject>, mcp_authz_store::StoreError> {
        let user = url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "user")
            .map(|(_, v)| v.into_owned());
        Ok(user.map(|u| mcp_authz_store::Subject::parse(&format!("upstream-{u}")).unwrap()))
    }
}

#[tokio::test]
async fn upstream_identity_provider_login() {
    let server = TestServer::start_configured(|b| {
        default_config(b).upstream_identity_provider(std::sync::Arc::new(FakeIdp))
    })
    .await;
    let client = server.public_client().await;
    let browser = server.browser();
    let authorize = Authorize::new(&client);
    let html = browser
        .get(authorize.url(&server))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Sign in with Fake IdP"), "{html}");
    let marker = "id=\"upstream-login\" href=\"";
    let start = html.find(marker).unwrap() + marker.len();
    let href = &html[start..start + html[start..].find('"').unwrap()];

    let to_idp = browser.get(server.url(href)).send().await.unwrap();
    assert_eq!(to_idp.status(), 302);
    let callback_url = location(&to_idp);
    assert!(callback_url.starts_with(&server.url("/authorize/upstream/callback?state=")));
    // Another browser cannot complete this login.
    let stranger = server.browser().get(&callback_url).send().await.unwrap();
    assert_eq!(stranger.status(), 400);
    // The state was spent by that attempt: start again.
    let to_idp = browser.get(server.url(href)).send().await.unwrap();
    let callback_url = location(&to_idp);
    let back = browser.get(&callback_url).send().await.unwrap();
    assert_eq!(back.status(), 303);
    let consent = browser
        .get(server.url(&location(&back)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        consent.contains("Signed in as <strong id=\"user\">upstream-bob</strong>"),
        "{consent}"
    );
    let location = approve(&server, &browser, &consent).await;
    assert!(matches!(
        callback(&location),
        AuthorizationCallback::Success(_)
    ));
    // Replaying the callback does nothing.
    let replay = browser.get(&callback_url).send().await.unwrap();
    assert_eq!(replay.status(), 400);
}
