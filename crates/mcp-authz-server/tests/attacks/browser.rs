//! Attacks on the browser pages of the authorization server: login, consent and their sessions
//! (REQUIREMENTS SEC-13, SEC-17, SEC-19). Each test performs the attack over real HTTP on 127.0.0.1.

use mcp_authz_metadata::{ClientId, RedirectUri, ResourceUri};
use mcp_authz_pkce::CodeVerifier;
use mcp_authz_token::{AuthorizationCallback, AuthorizationRequest, State};

use crate::common::*;

/// An authorization request of `client` for `resource` (and `scope`, if any).
fn authorize_for(client: &ClientId, resource: &str, scope_text: Option<&str>) -> Authorize {
    let verifier = CodeVerifier::generate().unwrap();
    let state = State::generate().unwrap();
    let mut request = AuthorizationRequest::new(client.clone(), verifier.challenge())
        .with_redirect_uri(RedirectUri::parse(REDIRECT).unwrap())
        .with_state(state.clone())
        .with_resource(ResourceUri::parse(resource).unwrap());
    if let Some(s) = scope_text {
        request = request.with_scope(scope(s));
    }
    Authorize {
        verifier,
        state,
        request,
    }
}

/// `true` when `location` is a redirect to the client carrying a code.
fn is_code(location: &str) -> bool {
    matches!(callback(location), AuthorizationCallback::Success(_))
}

// ---------------------------------------------------------------------------------------------
// SEC-13: a remembered consent covers exactly what the user saw.
// ---------------------------------------------------------------------------------------------

/// Two resources that accept the same scope, so that only the resource tells the requests apart.
fn same_scope_resources(
    builder: mcp_authz_server::ServerConfigBuilder,
) -> mcp_authz_server::ServerConfigBuilder {
    builder
        .resource(resource(), scope("tools:read"))
        .resource(
            ResourceUri::parse(OTHER_RESOURCE).unwrap(),
            scope("tools:read"),
        )
        .register_rate_limit(mcp_authz_server::RateLimit::per_second(100, 100))
}

/// After the user consented for one resource, a request of the same client for another configured
/// resource with the same scope shows the consent page again, listing that resource as new, instead
/// of issuing a code (a token for another audience) silently. The consented resource itself is still
/// remembered.
#[tokio::test]
async fn remembered_consent_does_not_cover_another_resource() {
    let server = TestServer::start_configured(same_scope_resources).await;
    server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;
    let browser = server.browser();
    let first = browser_flow(&server, &browser, &Authorize::new(&client)).await;
    assert!(is_code(&first), "{first}");

    // The attack: the same client asks for the other resource; the user's session is live.
    let other = authorize_for(&client, OTHER_RESOURCE, None);
    let response = browser.get(other.url(&server)).send().await.unwrap();
    assert_eq!(
        response.status(),
        200,
        "a code without consent: {:?}",
        response.headers().get("location")
    );
    let html = response.text().await.unwrap();
    assert!(html.contains("value=\"approve\""), "{html}");
    assert!(
        html.contains(&format!("<li class=\"resource new\">{OTHER_RESOURCE}</li>")),
        "{html}"
    );
    assert!(
        html.contains(&format!("<li class=\"resource allowed\">{RESOURCE}</li>")),
        "{html}"
    );
    assert!(
        html.contains("<li class=\"scope allowed\"><span class=\"scope-token\">tools:read</span>"),
        "{html}"
    );
    assert!(html.contains("(no new permissions)"), "{html}");

    // What was approved stays remembered: the first resource gets its code at once.
    let again = browser
        .get(Authorize::new(&client).url(&server))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 302);
    assert!(is_code(&location(&again)));

    // Approving the new resource remembers it too.
    let approved = approve(&server, &browser, &html).await;
    assert!(is_code(&approved), "{approved}");
    let remembered = browser
        .get(authorize_for(&client, OTHER_RESOURCE, None).url(&server))
        .send()
        .await
        .unwrap();
    assert_eq!(remembered.status(), 302);
}

/// A new scope on an already consented resource asks again, listing only that scope as new.
#[tokio::test]
async fn remembered_consent_does_not_cover_a_new_scope() {
    let server = TestServer::start().await;
    server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;
    let browser = server.browser();
    let first = browser_flow(&server, &browser, &Authorize::new(&client)).await;
    assert!(is_code(&first), "{first}");
    let wider = authorize_for(&client, RESOURCE, Some("tools:read tools:write"));
    let response = browser.get(wider.url(&server)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(
        html.contains("<li class=\"scope new\"><span class=\"scope-token\">tools:write</span>"),
        "{html}"
    );
    assert!(
        html.contains("<li class=\"scope allowed\"><span class=\"scope-token\">tools:read</span>"),
        "{html}"
    );
    assert!(!html.contains("class=\"resource new\""), "{html}");
}

/// A consent stored before resources were remembered (no resources: what the 0002 migration gives
/// old rows) covers nothing: the user is asked again.
#[tokio::test]
async fn consent_without_resources_asks_again() {
    let server = TestServer::start().await;
    let subject = server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;
    server
        .store
        .put_consent(mcp_authz_store::Consent {
            subject: mcp_authz_store::Subject::parse(&subject).unwrap(),
            client_id: client.clone(),
            resources: std::collections::BTreeSet::new(),
            scope: scope("tools:read tools:write other:read"),
            granted_at: server.clock.now_time(),
        })
        .await
        .unwrap();
    let browser = server.browser();
    let page = browser
        .get(Authorize::new(&client).url(&server))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let next = login(&server, &browser, &page, USER, PASSWORD).await;
    assert_eq!(next.status(), 200, "{:?}", next.headers().get("location"));
    let html = next.text().await.unwrap();
    assert!(
        html.contains(&format!("<li class=\"resource new\">{RESOURCE}</li>")),
        "{html}"
    );
}

// ---------------------------------------------------------------------------------------------
// SEC-19: password guessing is slowed per account and per address.
// ---------------------------------------------------------------------------------------------

/// A browser (cookies kept, redirects not followed) whose connections come from `127.0.0.<n>`.
fn browser_from(n: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, n]))
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap()
}

/// The login page of a fresh authorization request of `client` in `browser`.
async fn login_page(server: &TestServer, browser: &reqwest::Client, client: &ClientId) -> String {
    let response = browser
        .get(Authorize::new(client).url(server))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    assert!(html.contains("name=\"password\""), "{html}");
    html
}

/// Posts the login form of `page`; the raw response.
async fn try_login(
    server: &TestServer,
    browser: &reqwest::Client,
    page: &str,
    user: &str,
    password: &str,
) -> reqwest::Response {
    browser
        .post(server.url("/authorize/login"))
        .form(&[
            ("request", hidden_field(page, "request").as_str()),
            ("csrf", hidden_field(page, "csrf").as_str()),
            ("username", user),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
}

/// `true` when `response` is a successful login (303 to the next step, not back to the form).
fn signed_in(response: &reqwest::Response) -> bool {
    response.status() == 303 && !location(response).contains("failed=1")
}

/// Asserts that `response` is the locked login page: 429, `Retry-After`, the form again.
async fn assert_locked(response: reqwest::Response) {
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    let html = response.text().await.unwrap();
    assert!(html.contains("id=\"locked\""), "{html}");
    assert!(html.contains("name=\"password\""), "{html}");
}

/// Guessing one account's password from one address is locked after 5 failures: even the correct
/// password is refused (no password check) until the lock expires; an unknown account is treated
/// the same. The owner, from another address, still signs in; after the lock, so does this address.
#[tokio::test]
async fn password_guessing_from_one_address_is_locked_out() {
    let server = TestServer::start().await;
    server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;
    let attacker = browser_from(2);
    let page = login_page(&server, &attacker, &client).await;
    for account in [USER, "nobody-here"] {
        for guess in 0..5 {
            let response =
                try_login(&server, &attacker, &page, account, &format!("guess{guess}")).await;
            assert_eq!(response.status(), 303);
            assert!(location(&response).contains("failed=1"));
        }
        assert_locked(try_login(&server, &attacker, &page, account, "guess5").await).await;
    }
    // The correct password is refused too while the lock lasts.
    assert_locked(try_login(&server, &attacker, &page, USER, PASSWORD).await).await;

    // The owner at another address is not locked out.
    let owner = browser_from(3);
    let owner_page = login_page(&server, &owner, &client).await;
    assert!(signed_in(
        &try_login(&server, &owner, &owner_page, USER, PASSWORD).await
    ));

    // The lock expires (1 minute for the first one).
    server.clock.advance(std::time::Duration::from_secs(61));
    assert!(signed_in(
        &try_login(&server, &attacker, &page, USER, PASSWORD).await
    ));
}

/// A shared lockout store that cannot answer (a PostgreSQL store whose database is unreachable)
/// does not unlock the login: the attempt is refused with 503 without a password check, even with
/// the correct password (SC-1, SEC-19: fail closed). Failing open would let a guesser who can
/// disturb the database guess without limit.
#[tokio::test]
async fn an_unreachable_shared_lockout_store_refuses_the_login() {
    let unreachable = mcp_authz_store_postgres::PostgresStore::builder(
        "postgres://postgres@127.0.0.1:1/unreachable",
    )
    .unwrap()
    .acquire_timeout(std::time::Duration::from_secs(1))
    .operation_timeout(std::time::Duration::from_secs(2))
    .connect_lazy()
    .unwrap();
    let server = TestServer::start_configured(|builder| {
        default_config(builder).shared_login_attempts(std::sync::Arc::new(unreachable))
    })
    .await;
    server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;
    let browser = browser_from(2);
    let page = login_page(&server, &browser, &client).await;
    let response = try_login(&server, &browser, &page, USER, PASSWORD).await;
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
}

/// Twenty guesses sent at once from one address: only 5 get a password check, the others are
/// refused as locked (each attempt counts before the slow password check, not after it).
#[tokio::test]
async fn parallel_guesses_get_no_more_checks_than_the_threshold() {
    let server = TestServer::start().await;
    server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;
    let attacker = browser_from(2);
    let page = login_page(&server, &attacker, &client).await;
    let (request, csrf) = (hidden_field(&page, "request"), hidden_field(&page, "csrf"));
    let mut tasks = Vec::new();
    for guess in 0..20 {
        let (attacker, url) = (attacker.clone(), server.url("/authorize/login"));
        let form = [
            ("request", request.clone()),
            ("csrf", csrf.clone()),
            ("username", USER.to_owned()),
            ("password", format!("guess{guess}")),
        ];
        tasks.push(tokio::spawn(async move {
            attacker
                .post(url)
                .form(&form)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut checked = 0;
    for task in tasks {
        match task.await.unwrap() {
            303 => checked += 1,
            429 => {}
            other => panic!("status {other}"),
        }
    }
    assert_eq!(checked, 5);
}

/// The lock grows with further failures (doubling, capped) and each one expires.
#[tokio::test]
async fn lockout_doubles_and_expires() {
    let server = TestServer::start().await;
    server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;
    let attacker = browser_from(2);
    let page = login_page(&server, &attacker, &client).await;
    for guess in 0..5 {
        try_login(&server, &attacker, &page, USER, &format!("guess{guess}")).await;
    }
    server.clock.advance(std::time::Duration::from_secs(61));
    // One more failure after the first lock: locked for 2 minutes now.
    let response = try_login(&server, &attacker, &page, USER, "guess6").await;
    assert_eq!(response.status(), 303);
    server.clock.advance(std::time::Duration::from_secs(61));
    assert_locked(try_login(&server, &attacker, &page, USER, PASSWORD).await).await;
    server.clock.advance(std::time::Duration::from_secs(60));
    assert!(signed_in(
        &try_login(&server, &attacker, &page, USER, PASSWORD).await
    ));
}

/// Guessing from many addresses, each below the per-address threshold, locks the account for new
/// addresses; the address its owner signed in from before is not locked out (the lockout cannot
/// be used to deny the owner service), and the lock expires.
#[tokio::test]
async fn guessing_from_many_addresses_locks_the_account_but_not_its_owner() {
    let server = TestServer::start_configured(|b| {
        default_config(b)
            .login_lockout(mcp_authz_server::LoginLockout::default().account_failures(8))
    })
    .await;
    server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;
    let owner = browser_from(3);
    let owner_page = login_page(&server, &owner, &client).await;
    assert!(signed_in(
        &try_login(&server, &owner, &owner_page, USER, PASSWORD).await
    ));

    for bot in 10..14u8 {
        let browser = browser_from(bot);
        let page = login_page(&server, &browser, &client).await;
        for guess in 0..2 {
            let response =
                try_login(&server, &browser, &page, USER, &format!("g{bot}-{guess}")).await;
            assert_eq!(response.status(), 303);
        }
    }
    // Eight failures in all: a new address is refused, even with the right password.
    let newcomer = browser_from(20);
    let page = login_page(&server, &newcomer, &client).await;
    assert_locked(try_login(&server, &newcomer, &page, USER, PASSWORD).await).await;
    // The owner's usual address signs in.
    let owner = browser_from(3);
    let owner_page = login_page(&server, &owner, &client).await;
    assert!(signed_in(
        &try_login(&server, &owner, &owner_page, USER, PASSWORD).await
    ));
    // And the account lock expires.
    server.clock.advance(std::time::Duration::from_secs(61));
    assert!(signed_in(
        &try_login(&server, &newcomer, &page, USER, PASSWORD).await
    ));
}

// ---------------------------------------------------------------------------------------------
// SEC-17: anonymous traffic cannot evict signed-in sessions.
// ---------------------------------------------------------------------------------------------

/// Small tables, so that a flood of a few dozen requests is "beyond the table size".
fn small_tables(
    builder: mcp_authz_server::ServerConfigBuilder,
) -> mcp_authz_server::ServerConfigBuilder {
    default_config(builder)
        .max_pending(8)
        .max_pending_per_peer(4)
        .authorize_rate_limit(mcp_authz_server::RateLimit::unlimited())
}

/// `count` anonymous authorization requests (no cookies) from `127.0.0.<host>`, each answered with
/// the login page.
async fn flood(server: &TestServer, client: &ClientId, host: u8, count: usize) {
    let http = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, host]))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    for _ in 0..count {
        let response = http
            .get(Authorize::new(client).url(server))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
}

/// A signed-in user on the consent page keeps the session and the request while anonymous requests
/// flood the server, from another address and from the user's own address, far beyond the size of
/// the tables: the form still works, and the session still signs the next request in.
#[tokio::test]
async fn anonymous_flood_cannot_evict_a_signed_in_user() {
    let server = TestServer::start_configured(small_tables).await;
    server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;
    let user = browser_from(3);
    let page = login_page(&server, &user, &client).await;
    let consent = login(&server, &user, &page, USER, PASSWORD).await;
    assert_eq!(consent.status(), 200);
    let consent = consent.text().await.unwrap();
    assert!(consent.contains("value=\"approve\""), "{consent}");

    flood(&server, &client, 4, 40).await;
    flood(&server, &client, 3, 40).await;

    let approved = approve(&server, &user, &consent).await;
    assert!(is_code(&approved), "{approved}");
    // Still signed in: the next request of this browser needs neither login nor consent.
    let next = user
        .get(Authorize::new(&client).url(&server))
        .send()
        .await
        .unwrap();
    assert_eq!(next.status(), 302);
    assert!(is_code(&location(&next)));
}

/// A user who has not signed in yet keeps the login form while another address floods the server
/// with anonymous requests: each address keeps at most its own share of the table.
#[tokio::test]
async fn anonymous_flood_from_one_peer_cannot_evict_another_peers_login() {
    let server = TestServer::start_configured(small_tables).await;
    server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;
    let user = browser_from(5);
    let page = login_page(&server, &user, &client).await;

    flood(&server, &client, 4, 40).await;

    let consent = login(&server, &user, &page, USER, PASSWORD).await;
    assert_eq!(consent.status(), 200);
    let location = approve(&server, &user, &consent.text().await.unwrap()).await;
    assert!(is_code(&location), "{location}");
}

/// A cross-site form (no CSRF token, or another page's) cannot sign the user out: the session
/// survives and the authorization URL still shows the consent page, not the login page (SEC-4).
#[tokio::test]
async fn sign_out_without_the_pages_csrf_token_keeps_the_session() {
    let server = TestServer::start().await;
    server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;
    let browser = server.browser();
    let authorize = Authorize::new(&client);
    let page = browser.get(authorize.url(&server)).send().await.unwrap();
    let login_html = page.text().await.unwrap();
    let consent = login(&server, &browser, &login_html, USER, PASSWORD).await;
    let consent_html = consent.text().await.unwrap();
    let request = hidden_field(&consent_html, "request");
    for csrf in [None, Some("A".repeat(43))] {
        let mut form = vec![("request", request.clone())];
        if let Some(csrf) = csrf {
            form.push(("csrf", csrf));
        }
        let response = browser
            .post(server.url("/authorize/signout"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
    }
    let still = browser.get(authorize.url(&server)).send().await.unwrap();
    let still_html = still.text().await.unwrap();
    assert!(still_html.contains("value=\"approve\""), "{still_html}");
    assert!(!still_html.contains("name=\"password\""));
}

/// The same approved consent form submitted many times at once (a double click, a replayed
/// request, or two instances behind a balancer): one submission takes the pending request and
/// gets a code; every other one finds it gone (SC-1: pending requests are taken exactly once).
/// Fails if the consent step leaves the request behind; that the take is atomic under
/// concurrency is the store kit's `browser_states_taken_once` (64 tasks, memory and PostgreSQL).
#[tokio::test(flavor = "multi_thread")]
async fn a_consent_form_submitted_many_times_at_once_issues_one_code() {
    let server = TestServer::start().await;
    server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;
    let browser = server.browser();
    let authorize = Authorize::new(&client);
    let page = browser.get(authorize.url(&server)).send().await.unwrap();
    let login_html = page.text().await.unwrap();
    let consent = login(&server, &browser, &login_html, USER, PASSWORD).await;
    let consent_html = consent.text().await.unwrap();
    let form = [
        ("request", hidden_field(&consent_html, "request")),
        ("csrf", hidden_field(&consent_html, "csrf")),
        ("decision", "approve".to_owned()),
    ];
    let submissions: Vec<_> = (0..16)
        .map(|_| {
            let (browser, url, form) = (
                browser.clone(),
                server.url("/authorize/consent"),
                form.clone(),
            );
            tokio::spawn(async move { browser.post(url).form(&form).send().await.unwrap() })
        })
        .collect();
    let mut codes = 0;
    for submission in submissions {
        let response = submission.await.unwrap();
        if response.status() == 303 {
            assert!(is_code(&location(&response)), "{}", location(&response));
            codes += 1;
        } else {
            assert_eq!(response.status(), 400);
        }
    }
    assert_eq!(codes, 1);
}
