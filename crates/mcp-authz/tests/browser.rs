//! The login and consent pages in a real headless Chromium, driven through WebDriver, against the
//! built `mcp-authz serve` without `--dev`: sign in (a new session id: no fixation) and approve
//! (AS-11, AS-6: `code`, `state` and `iss` on the redirect; the code works at `/token`), deny
//! (`access_denied`), the authorization page framed by another origin, which the browser
//! refuses to render (SEC-9), the connected applications page, whose revoke button ends the
//! client's refresh and access tokens (OB-3), and what the pages are like to use (issue #24):
//! labels, language, keyboard order and visible focus, the marked default button, contrast, a
//! phone-sized window, with screenshots into `$MCP_AUTHZ_SCREENSHOTS` when it is set
//! (docs/pages.md).
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian `chromium`, `chromium-driver`;
//! `.ci/run` installs them). Without them the tests fail under `CI=true` and are skipped loudly
//! otherwise.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod browser_support;
mod common;

use std::collections::BTreeMap;

use base64::Engine as _;
use browser_support::{Chromedriver, Session, Site};
use common::{ADMIN, Serve};
use mcp_authz_pkce::CodeVerifier;

/// One Chromium at a time: the tests share two cores with the build.
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const CLIENT_NAME: &str = "Browser Test Client";
/// The session cookie of a loopback `http` issuer (`__Host-` prefixed and `Secure` under https).
const SESSION_COOKIE: &str = "mcp_authz_session";
/// Two of the demo server's scopes, sorted.
const SCOPES: [&str; 2] = ["mcp:tools", "notes:read"];

/// A registered public client and an authorization request for it (PKCE S256, `resource`, `state`).
struct Authorization {
    client_id: String,
    redirect_uri: String,
    resource: String,
    verifier: CodeVerifier,
    state: String,
    url: String,
}

impl Authorization {
    /// Registers a native public client through `/register` (RFC 7591) whose redirect URI is the
    /// test site's `/callback`, and builds its authorization URL.
    async fn new(server: &Serve, site: &Site) -> Self {
        let redirect_uri = site.url("/callback");
        let response = reqwest::Client::new()
            .post(format!("{}/register", server.base))
            .json(&serde_json::json!({
                "redirect_uris": [redirect_uri],
                "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "client_name": CLIENT_NAME,
                "application_type": "native",
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let registered: serde_json::Value = response.json().await.unwrap();
        let client_id = registered["client_id"].as_str().unwrap().to_owned();
        assert!(registered.get("client_secret").is_none());

        let verifier = CodeVerifier::generate().unwrap();
        let mut random = [0u8; 16];
        getrandom::fill(&mut random).unwrap();
        let state = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random);
        let resource = server.mcp_url();
        let mut url = reqwest::Url::parse(&format!("{}/authorize", server.base)).unwrap();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &client_id)
            .append_pair("redirect_uri", &redirect_uri)
            .append_pair("code_challenge", &verifier.challenge().to_string())
            .append_pair("code_challenge_method", "S256")
            .append_pair("state", &state)
            .append_pair("resource", &resource)
            .append_pair("scope", &SCOPES.join(" "));
        Self {
            client_id,
            redirect_uri,
            resource,
            verifier,
            state,
            url: url.into(),
        }
    }
}

/// `mcp-authz serve` without `--dev` on a fresh data directory (kept alive by the returned guard).
fn start_serve() -> (tempfile::TempDir, Serve) {
    let dir = tempfile::tempdir().unwrap();
    let server = Serve::start(&dir.path().join("data"), &[]);
    (dir, server)
}

/// The query parameters of a URL (each name once).
fn query(url: &str) -> BTreeMap<String, String> {
    let url = reqwest::Url::parse(url).unwrap();
    let mut map = BTreeMap::new();
    for (k, v) in url.query_pairs() {
        assert!(
            map.insert(k.into_owned(), v.into_owned()).is_none(),
            "repeated parameter in {url}"
        );
    }
    map
}

/// The rendered texts of every element matching `css`.
async fn texts(browser: &Session, css: &str) -> Vec<String> {
    let mut out = Vec::new();
    for element in browser.find_all(css).await.unwrap() {
        out.push(browser.text(&element).await.unwrap());
    }
    out
}

/// Navigates to the authorization URL, fills in the login form as `admin` and submits it; returns
/// when the consent page is shown, after checking what it says (AS-11), with the page's source.
async fn sign_in_and_see_consent(
    browser: &Session,
    server: &Serve,
    site: &Site,
    auth: &Authorization,
) -> String {
    browser.goto(&auth.url).await.unwrap();
    assert_eq!(texts(browser, "h1").await, ["Sign in to mcp-authz"]);
    let before = browser.cookie(SESSION_COOKIE).await.unwrap().unwrap();
    assert_eq!(before["httpOnly"], true, "{before}");
    assert_eq!(before["sameSite"], "Lax", "{before}");
    let username = browser.find("input[name=username]").await.unwrap();
    browser.send_keys(&username, ADMIN).await.unwrap();
    let password = browser.find("input[name=password]").await.unwrap();
    browser
        .send_keys(&password, &server.admin_password())
        .await
        .unwrap();
    let submit = browser.find("form button[type=submit]").await.unwrap();
    browser.click(&submit).await.unwrap();
    browser
        .wait_for_url("the consent page", |url| url.contains("/authorize/resume"))
        .await
        .unwrap();
    // Signing in issued a new session id: the one an attacker could have planted is worthless.
    let after = browser.cookie(SESSION_COOKIE).await.unwrap().unwrap();
    assert_ne!(after["value"], before["value"]);

    // The consent page: who asks, where the result goes, for what, on which resource.
    assert_eq!(
        texts(browser, "h1").await,
        ["mcp-authz: authorize access"],
        "{}",
        browser.source().await.unwrap()
    );
    let strong = texts(browser, "strong").await;
    let redirect_host = site.base.trim_start_matches("http://").to_owned();
    // "Signed in as <username>" (not the subject id), then the client's name and the host the
    // result goes to.
    assert_eq!(strong.len(), 3, "{strong:?}");
    assert_eq!(strong[0], "admin");
    assert_eq!(texts(browser, "#sign-out").await, ["Not you? Sign out"]);
    // A self-registered client: its name is its own choice, and the page says so.
    assert_eq!(
        texts(browser, "#provenance-dynamic").await,
        ["Unverified: this name was chosen by the application itself."]
    );
    assert_eq!(strong[1..], [CLIENT_NAME, redirect_host.as_str()]);
    let mut scopes = texts(browser, "li.scope .scope-token").await;
    scopes.sort();
    assert_eq!(scopes, SCOPES);
    assert_eq!(
        texts(browser, "li.resource").await,
        [auth.resource.as_str()]
    );
    let client_ids = texts(browser, "code").await;
    assert_eq!(client_ids, [auth.client_id.as_str()]);
    browser.source().await.unwrap()
}

/// Clicks the consent button with `decision` and returns the URL the browser lands on, once it is
/// the client's redirect URI.
async fn decide(browser: &Session, auth: &Authorization, decision: &str) -> String {
    let button = browser
        .find(&format!("button[name=decision][value={decision}]"))
        .await
        .unwrap();
    browser.click(&button).await.unwrap();
    let landed = browser
        .wait_for_url("the client's redirect URI", |url| {
            url.starts_with(&format!("{}?", auth.redirect_uri))
        })
        .await
        .unwrap();
    // The browser really loaded the client's page.
    assert_eq!(texts(browser, "#callback").await.len(), 1);
    landed
}

#[tokio::test(flavor = "multi_thread")]
async fn chromium_signs_in_approves_and_lands_on_the_redirect_uri_with_code_state_and_iss() {
    let _one = ONE_BROWSER.lock().await;
    let Some(driver) = Chromedriver::start() else {
        return;
    };
    let (_dir, server) = start_serve();
    let site = Site::start().await;
    let auth = Authorization::new(&server, &site).await;
    let browser = driver.session().await;

    let consent_source = sign_in_and_see_consent(&browser, &server, &site, &auth).await;
    let landed = decide(&browser, &auth, "approve").await;
    let params = query(&landed);
    assert_eq!(
        params.keys().map(String::as_str).collect::<Vec<_>>(),
        ["code", "iss", "state"],
        "{landed}"
    );
    assert_eq!(params["state"], auth.state);
    assert_eq!(params["iss"], server.base);
    browser.quit().await.unwrap();

    // The code is real: it buys tokens for the requested resource and scopes, once.
    let form = [
        ("grant_type", "authorization_code"),
        ("code", params["code"].as_str()),
        ("redirect_uri", auth.redirect_uri.as_str()),
        ("client_id", auth.client_id.as_str()),
        ("code_verifier", auth.verifier.secret()),
        ("resource", auth.resource.as_str()),
    ];
    let http = reqwest::Client::new();
    let response = http
        .post(format!("{}/token", server.base))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let tokens: serde_json::Value = response.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], SCOPES.join(" "));
    assert!(tokens["refresh_token"].is_string());
    // The access token (RFC 9068) is for the user who consented, this client and the resource.
    let jwt = tokens["access_token"].as_str().unwrap();
    let payload = jwt.split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["iss"], server.base);
    // The token is for the signed-in user, whose random subject id the page did not show.
    let subject = claims["sub"].as_str().unwrap();
    assert!(!subject.is_empty() && subject != "admin");
    assert!(!consent_source.contains(subject), "{consent_source}");
    assert_eq!(claims["client_id"], auth.client_id);
    assert_eq!(claims["scope"], SCOPES.join(" "));
    let audience = match &claims["aud"] {
        serde_json::Value::Array(list) => list.clone(),
        one => vec![one.clone()],
    };
    assert_eq!(audience, [auth.resource.as_str()]);
    let replay = http
        .post(format!("{}/token", server.base))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 400);
    let replay: serde_json::Value = replay.json().await.unwrap();
    assert_eq!(replay["error"], "invalid_grant");

    // Neither the password nor the code reached the server's log.
    let log = server.log();
    assert!(!log.contains(params["code"].as_str()), "{log}");
    assert_eq!(log.matches(&server.admin_password()).count(), 1, "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn chromium_deny_redirects_with_access_denied_state_and_iss() {
    let _one = ONE_BROWSER.lock().await;
    let Some(driver) = Chromedriver::start() else {
        return;
    };
    let (_dir, server) = start_serve();
    let site = Site::start().await;
    let auth = Authorization::new(&server, &site).await;
    let browser = driver.session().await;

    sign_in_and_see_consent(&browser, &server, &site, &auth).await;
    let landed = decide(&browser, &auth, "deny").await;
    let params = query(&landed);
    assert_eq!(params["error"], "access_denied", "{landed}");
    assert_eq!(params["state"], auth.state);
    assert_eq!(params["iss"], server.base);
    assert!(!params.contains_key("code"), "{landed}");
    browser.quit().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn chromium_refuses_to_render_the_authorization_page_framed_by_another_origin() {
    let _one = ONE_BROWSER.lock().await;
    let Some(driver) = Chromedriver::start() else {
        return;
    };
    let (_dir, server) = start_serve();
    let site = Site::start().await;
    let auth = Authorization::new(&server, &site).await;

    // The headers that forbid framing, on the very page the frame asks for.
    let page = reqwest::get(&auth.url).await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert!(page.text().await.unwrap().contains("name=\"password\""));

    // Another origin (the test site's port) frames a harmless form of its own, as a control that
    // framed forms are visible to this harness, and the authorization URL.
    site.put(
        "/control",
        "<!DOCTYPE html><title>control</title><form><input name=\"password\" type=\"password\">\
         </form>"
            .to_owned(),
    );
    site.put(
        "/frame",
        format!(
            "<!DOCTYPE html><title>framing</title>\
             <iframe id=\"control\" src=\"/control\"></iframe>\
             <iframe id=\"authz\" src=\"{}\"></iframe>",
            auth.url.replace('&', "&amp;")
        ),
    );
    let browser = driver.session().await;
    browser.goto(&site.url("/frame")).await.unwrap();

    let control = browser.find("iframe#control").await.unwrap();
    browser.switch_to_frame(&control).await.unwrap();
    assert!(browser.find("input[name=password]").await.is_ok());
    browser.switch_to_top().await.unwrap();

    let framed = browser.find("iframe#authz").await.unwrap();
    browser.switch_to_frame(&framed).await.unwrap();
    let missing = browser.find("input[name=password]").await.unwrap_err();
    assert_eq!(missing.error, "no such element", "{missing}");
    let source = browser.source().await.unwrap();
    assert!(!source.contains("Sign in"), "{source}");
    // Chromium replaced the refused document with its own error page.
    let location = browser
        .execute("return document.location.href")
        .await
        .unwrap();
    assert_eq!(location, "chrome-error://chromewebdata/");
    browser.switch_to_top().await.unwrap();
    browser.quit().await.unwrap();
}

/// The contrast ratio (WCAG 2) of the least legible text of the page, and which element it is.
const WORST_CONTRAST: &str = r"
const lum = c => { const m = c.match(/[\d.]+/g).map(Number);
  const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(m[0]) + 0.7152 * f(m[1]) + 0.0722 * f(m[2]); };
const bg = e => { for (; e; e = e.parentElement) { const c = getComputedStyle(e).backgroundColor;
  const m = c.match(/[\d.]+/g); if (m && (m.length < 4 || Number(m[3]) > 0)) return c; }
  return 'rgb(255, 255, 255)'; };
let worst = [99, ''];
for (const e of document.querySelectorAll('header,h1,h2,h3,p,li,label,button,summary,a,strong,code,span')) {
  if (!e.textContent.trim() || e.offsetParent === null) continue;
  const a = lum(getComputedStyle(e).color), b = lum(bg(e));
  const r = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  if (r < worst[0]) worst = [r, e.tagName + '.' + e.className];
}
return worst;";

/// What has the keyboard focus: its id, else its value, else its tag.
const FOCUSED: &str = "const e = document.activeElement; \
    return e.id || e.value || e.tagName.toLowerCase();";

/// Checks the page has a language, a label for every visible input, readable contrast, and no
/// horizontal scrolling in a phone-sized window (which it leaves at desktop size). Screenshots: the
/// page as `name`, and in the phone-sized window too when `phone_shot`.
async fn check_page(browser: &Session, name: &str, phone_shot: bool) {
    let lang = browser
        .execute("return document.documentElement.lang")
        .await
        .unwrap();
    assert_eq!(lang, "en", "{name}");
    let unlabelled = browser
        .execute(
            "return [...document.querySelectorAll('input:not([type=hidden])')]\
             .filter(i => i.labels.length === 0 || !i.labels[0].textContent.trim()).length",
        )
        .await
        .unwrap();
    assert_eq!(unlabelled, 0, "{name}");
    let worst = browser.execute(WORST_CONTRAST).await.unwrap();
    assert!(worst[0].as_f64().unwrap() >= 4.5, "{name}: {worst}");
    browser.set_window_size(390, 844).await.unwrap();
    let overflow = browser
        .execute("return document.documentElement.scrollWidth - window.innerWidth")
        .await
        .unwrap();
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "{name} scrolls sideways on a phone"
    );
    if phone_shot {
        save_screenshot(browser, &format!("{name}-phone")).await;
    }
    browser.set_window_size(900, 900).await.unwrap();
    save_screenshot(browser, name).await;
}

/// With `MCP_AUTHZ_SCREENSHOTS=<dir>` (an explicit step, docs/pages.md), a PNG of the whole page
/// as `<dir>/<name>.png`: the window is made as tall as the page first.
async fn save_screenshot(browser: &Session, name: &str) {
    let Some(dir) = std::env::var_os("MCP_AUTHZ_SCREENSHOTS") else {
        return;
    };
    let size = browser
        .execute(
            "return [window.outerWidth, document.documentElement.scrollHeight \
             + window.outerHeight - window.innerHeight]",
        )
        .await
        .unwrap();
    let (width, height) = (size[0].as_u64().unwrap(), size[1].as_u64().unwrap());
    browser
        .set_window_size(
            u32::try_from(width).unwrap(),
            u32::try_from(height).unwrap(),
        )
        .await
        .unwrap();
    let png = browser.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn chromium_pages_are_labelled_keyboard_usable_legible_and_fit_a_phone() {
    let _one = ONE_BROWSER.lock().await;
    let Some(driver) = Chromedriver::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = Serve::start(&dir.path().join("data"), &["--service-name", "Acme Notes"]);
    let site = Site::start().await;
    let auth = Authorization::new(&server, &site).await;
    let browser = driver.session().await;
    browser.set_window_size(900, 900).await.unwrap();

    // The login page: the service name, the client and where its name comes from, a labelled form.
    browser.goto(&auth.url).await.unwrap();
    assert_eq!(texts(&browser, "header").await, ["Acme Notes"]);
    assert_eq!(texts(&browser, "h1").await, ["Sign in to Acme Notes"]);
    assert_eq!(texts(&browser, "label[for=username]").await, ["Username"]);
    assert_eq!(texts(&browser, "label[for=password]").await, ["Password"]);
    assert_eq!(texts(&browser, "#provenance-dynamic").await.len(), 1);
    check_page(&browser, "login", false).await;
    // Keyboard: from the username, Tab reaches the password, then the one (default) button, and
    // the focus is visible.
    let username = browser.find("#username").await.unwrap();
    browser.send_keys(&username, ADMIN).await.unwrap();
    browser.press_key("\u{E004}").await.unwrap();
    assert_eq!(browser.execute(FOCUSED).await.unwrap(), "password");
    let outline = browser
        .execute(
            "const s = getComputedStyle(document.activeElement); \
             return document.activeElement.matches(':focus-visible') + ' ' + s.outlineStyle + ' ' + s.outlineWidth",
        )
        .await
        .unwrap();
    assert_eq!(outline, "true solid 3px");
    let password = browser.find("#password").await.unwrap();
    browser
        .send_keys(&password, &server.admin_password())
        .await
        .unwrap();
    browser.press_key("\u{E004}").await.unwrap();
    let focused = browser
        .execute("return document.activeElement.matches('button.primary[type=submit]')")
        .await
        .unwrap();
    assert_eq!(focused, true);
    // Enter on the focused default button signs in.
    browser.press_key("\u{E007}").await.unwrap();
    browser
        .wait_for_url("the consent page", |url| url.contains("/authorize/resume"))
        .await
        .unwrap();

    // The consent page: service, user, client and provenance, each scope described (the demo's
    // longer explanations folded in details), Allow marked as the main action and Deny not.
    assert_eq!(
        texts(&browser, "h1").await,
        ["Acme Notes: authorize access"]
    );
    assert_eq!(texts(&browser, "#user").await, ["admin"]);
    assert_eq!(
        texts(&browser, "#provenance-dynamic").await,
        ["Unverified: this name was chosen by the application itself."]
    );
    assert_eq!(
        texts(&browser, ".scope-description").await,
        ["List and call the demo server's tools", "Read your notes"]
    );
    assert_eq!(
        texts(&browser, "details summary").await,
        ["More about notes:read"]
    );
    assert_eq!(
        texts(&browser, "h2").await,
        ["Application", "Access it asks for"]
    );
    let colours = browser
        .execute(
            "return ['approve', 'deny'].map(v => getComputedStyle(\
             document.querySelector(`[role=group] button[value=${v}]`)).backgroundColor)",
        )
        .await
        .unwrap();
    assert_eq!(colours[0], "rgb(11, 87, 208)", "{colours}");
    assert_ne!(colours[1], colours[0], "{colours}");
    // Keyboard order: sign out, the explanation, Allow, Deny.
    let mut order = Vec::new();
    for _ in 0..4 {
        browser.press_key("\u{E004}").await.unwrap();
        order.push(browser.execute(FOCUSED).await.unwrap());
    }
    assert_eq!(
        order,
        ["sign-out", "summary", "approve", "deny"],
        "{order:?}"
    );
    let more = browser.find("details summary").await.unwrap();
    browser.click(&more).await.unwrap();
    assert!(
        texts(&browser, "details p").await[0].starts_with("The read_notes tool"),
        "the explanation opens"
    );
    check_page(&browser, "consent", true).await;

    // The error page: the same chrome with the service name.
    browser
        .goto(&format!("{}/authorize?client_id=unknown", server.base))
        .await
        .unwrap();
    assert_eq!(texts(&browser, "header").await, ["Acme Notes"]);
    assert_eq!(texts(&browser, "h1").await, ["Authorization error"]);
    check_page(&browser, "error", false).await;
    browser.quit().await.unwrap();
}

/// An MCP `initialize` POST to `url` with the bearer token: the status tells whether the token was
/// accepted.
async fn mcp_initialize(url: &str, token: &str) -> reqwest::StatusCode {
    reqwest::Client::new()
        .post(url)
        .bearer_auth(token)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(
            r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"test","version":"1"}}}"#,
        )
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread")]
async fn chromium_revokes_an_application_on_the_connected_applications_page() {
    let _one = ONE_BROWSER.lock().await;
    let Some(driver) = Chromedriver::start() else {
        return;
    };
    let (_dir, server) = start_serve();
    let site = Site::start().await;
    let auth = Authorization::new(&server, &site).await;
    let browser = driver.session().await;

    sign_in_and_see_consent(&browser, &server, &site, &auth).await;
    // The consent page says where the access can be taken back.
    let link = browser.find("#revoke-later a").await.unwrap();
    assert_eq!(browser.text(&link).await.unwrap(), "connected applications");
    let landed = decide(&browser, &auth, "approve").await;
    let params = query(&landed);
    let http = reqwest::Client::new();
    let response = http
        .post(format!("{}/token", server.base))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", params["code"].as_str()),
            ("redirect_uri", auth.redirect_uri.as_str()),
            ("client_id", auth.client_id.as_str()),
            ("code_verifier", auth.verifier.secret()),
            ("resource", auth.resource.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let tokens: serde_json::Value = response.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    assert_eq!(mcp_initialize(&server.mcp_url(), access).await, 200);

    // The page, in the same browser (its session): the client, where its name comes from, the
    // scopes and the resource.
    browser
        .goto(&format!("{}/account/applications", server.base))
        .await
        .unwrap();
    assert_eq!(
        texts(&browser, "h1").await,
        ["mcp-authz: connected applications"],
        "{}",
        browser.source().await.unwrap()
    );
    assert_eq!(texts(&browser, "#user").await, [ADMIN]);
    assert_eq!(texts(&browser, "li.application h2").await, [CLIENT_NAME]);
    assert_eq!(
        texts(&browser, "li.application .client-id").await,
        [auth.client_id.as_str()]
    );
    assert_eq!(
        texts(&browser, "li.application .provenance-dynamic").await,
        ["Unverified: this name was chosen by the application itself."]
    );
    let mut scopes = texts(&browser, "li.application .scope-token").await;
    scopes.sort();
    assert_eq!(scopes, SCOPES);
    assert_eq!(
        texts(&browser, "li.application li.resource").await,
        [auth.resource.as_str()]
    );
    let revoke = browser.find("li.application button.revoke").await.unwrap();
    assert_eq!(
        browser.text(&revoke).await.unwrap(),
        format!("Revoke access of {CLIENT_NAME}")
    );
    browser.click(&revoke).await.unwrap();
    browser
        .wait_for_url("the page after revoking", |url| url.ends_with("?revoked=1"))
        .await
        .unwrap();
    assert_eq!(texts(&browser, "#revoked").await.len(), 1);
    assert_eq!(texts(&browser, "#no-applications").await.len(), 1);
    assert!(texts(&browser, "li.application").await.is_empty());

    // Signing out from the page leaves a sign-in form.
    let sign_out = browser.find("#sign-out").await.unwrap();
    browser.click(&sign_out).await.unwrap();
    browser
        .wait_for_url("the page after signing out", |url| {
            url.ends_with("/account/applications")
        })
        .await
        .unwrap();
    assert_eq!(
        browser
            .find_all("input[name=password]")
            .await
            .unwrap()
            .len(),
        1
    );
    browser.quit().await.unwrap();

    // The client's refresh token and access token are dead.
    let response = http
        .post(format!("{}/token", server.base))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", auth.client_id.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
    assert_eq!(mcp_initialize(&server.mcp_url(), access).await, 401);
}
