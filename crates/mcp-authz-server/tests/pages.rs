//! What the login and consent pages tell the user, over real HTTP (REQUIREMENTS AS-11; issue #24):
//! who is signed in and how to sign out, where the client's name comes from, what each scope allows, and the operator's service name.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;

/// The value of attribute `name` of the first tag holding `marker`.
fn attribute_of(html: &str, marker: &str, name: &str) -> String {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in {html}"));
    let tag_start = html[..at].rfind('<').unwrap();
    let tag = &html[tag_start..tag_start + html[tag_start..].find('>').unwrap()];
    let key = format!("{name}=\"");
    let start = tag
        .find(&key)
        .unwrap_or_else(|| panic!("no {name} in {tag}"))
        + key.len();
    tag[start..start + tag[start..].find('"').unwrap()].to_owned()
}

/// Signs in on a fresh authorization request of a fresh client; the consent page.
async fn consent_page(server: &TestServer, browser: &reqwest::Client) -> (Authorize, String) {
    let client = server.public_client().await;
    let authorize = Authorize::new(&client);
    let page = browser.get(authorize.url(server)).send().await.unwrap();
    let html = page.text().await.unwrap();
    assert!(html.contains("name=\"password\""), "{html}");
    let consent = login(server, browser, &html, USER, PASSWORD).await;
    assert_eq!(consent.status(), 200);
    (authorize, consent.text().await.unwrap())
}

#[tokio::test]
async fn consent_page_shows_the_username_not_the_subject_id() {
    let server = TestServer::start().await;
    let subject = server.create_user(USER, PASSWORD).await;
    let browser = server.browser();
    let (_, html) = consent_page(&server, &browser).await;
    assert!(
        html.contains(&format!("Signed in as <strong id=\"user\">{USER}</strong>")),
        "{html}"
    );
    assert!(!html.contains(&subject), "the subject id is shown: {html}");
}

#[tokio::test]
async fn sign_out_ends_the_session_and_shows_the_login_page_of_the_same_request() {
    let server = TestServer::start().await;
    server.create_user(USER, PASSWORD).await;
    let browser = server.browser();
    let (authorize, html) = consent_page(&server, &browser).await;
    let request = hidden_field(&html, "request");
    let action = attribute_of(&html, "id=\"sign-out\"", "formaction");
    assert_eq!(action, "/authorize/signout");
    let response = browser
        .post(server.url(&action))
        .form(&[
            ("request", request.as_str()),
            ("csrf", hidden_field(&html, "csrf").as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let next = location(&response);
    assert_eq!(next, format!("/authorize/resume?request={request}"));
    let login_page = browser.get(server.url(&next)).send().await.unwrap();
    assert_eq!(login_page.status(), 200);
    let login_html = login_page.text().await.unwrap();
    assert!(login_html.contains("name=\"password\""), "{login_html}");
    // The same request, with a new CSRF token: the old one is spent with the session.
    assert_eq!(hidden_field(&login_html, "request"), request);
    assert_ne!(
        hidden_field(&login_html, "csrf"),
        hidden_field(&html, "csrf")
    );
    // The session is gone: the authorization URL asks for the password again.
    let again = browser.get(authorize.url(&server)).send().await.unwrap();
    assert_eq!(again.status(), 200);
    assert!(again.text().await.unwrap().contains("name=\"password\""));
    // Signing in again on the same request reaches the consent page, and approving gives a code.
    let consent = login(&server, &browser, &login_html, USER, PASSWORD).await;
    let consent_html = consent.text().await.unwrap();
    let location = approve(&server, &browser, &consent_html).await;
    assert!(matches!(
        callback(&location),
        mcp_authz_token::AuthorizationCallback::Success(_)
    ));
}

#[tokio::test]
async fn a_dynamically_registered_client_is_shown_as_unverified() {
    let server = TestServer::start().await;
    server.create_user(USER, PASSWORD).await;
    let browser = server.browser();
    let (_, html) = consent_page(&server, &browser).await;
    // The name it chose, escaped, and that nobody vouches for it; the redirect host as before.
    assert!(
        html.contains("<strong>Test &lt;Client&gt;</strong>"),
        "{html}"
    );
    assert!(
        html.contains(
            "id=\"provenance-dynamic\">Unverified: this name was chosen by the application itself."
        ),
        "{html}"
    );
    assert!(html.contains("<strong>127.0.0.1:7777</strong>"), "{html}");
    assert!(!html.contains("provenance-operator"));
    assert!(!html.contains("provenance-document"));
}

#[tokio::test]
async fn an_operator_registered_client_is_shown_as_such_on_login_and_consent() {
    let server = TestServer::start().await;
    server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;
    // The operator's record of the same client (as `mcp-authz clients add` stores it).
    let mut record = server.store.get_client(&client).await.unwrap().unwrap();
    record.kind = mcp_authz_store::ClientKind::PreRegistered;
    server.store.update_client(record).await.unwrap();
    let browser = server.browser();
    let authorize = Authorize::new(&client);
    let login_html = browser
        .get(authorize.url(&server))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let operator = "id=\"provenance-operator\">This application was registered by the operator";
    assert!(login_html.contains(operator), "{login_html}");
    let consent = login(&server, &browser, &login_html, USER, PASSWORD).await;
    let html = consent.text().await.unwrap();
    assert!(html.contains(operator), "{html}");
    assert!(!html.contains("provenance-dynamic"), "{html}");
}

#[tokio::test]
async fn requested_scopes_show_their_escaped_descriptions_or_none() {
    let server = TestServer::start_configured(|b| {
        default_config(b).scope_description(
            mcp_authz_metadata::ScopeToken::parse("tools:read").unwrap(),
            "Read <b>your</b> tools & \"lists\"",
        )
    })
    .await;
    server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;
    let browser = server.browser();
    let mut authorize = Authorize::new(&client);
    authorize.request = authorize
        .request
        .with_scope(scope("tools:read tools:write"));
    let html = browser
        .get(authorize.url(&server))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let consent = login(&server, &browser, &html, USER, PASSWORD).await;
    let html = consent.text().await.unwrap();
    assert!(
        html.contains(
            "<li class=\"scope\"><span class=\"scope-token\">tools:read</span>: \
             <span class=\"scope-description\">Read &lt;b&gt;your&lt;/b&gt; tools &amp; \
             &quot;lists&quot;</span></li>"
        ),
        "{html}"
    );
    assert!(!html.contains("<b>your</b>"));
    assert!(
        html.contains(
            "<li class=\"scope\"><span class=\"scope-token\">tools:write</span>: \
             <span class=\"scope-description none\">(no description)</span></li>"
        ),
        "{html}"
    );
}

#[test]
fn a_description_of_a_scope_no_resource_accepts_is_refused() {
    let token = |s: &str| mcp_authz_metadata::ScopeToken::parse(s).unwrap();
    let build = |scope: &str, text: &str| {
        default_config(
            mcp_authz_server::ServerConfig::builder_from_str("https://auth.example.com").unwrap(),
        )
        .scope_description(token(scope), text)
        .build()
        .err()
    };
    assert_eq!(build("tools:read", "Read tools"), None);
    assert_eq!(
        build("tools:typo", "Read tools"),
        Some(mcp_authz_server::ConfigError::UnknownScopeDescription(
            "tools:typo".into()
        ))
    );
    assert_eq!(
        build("tools:read", " "),
        Some(mcp_authz_server::ConfigError::ScopeDescriptionLength(
            "tools:read".into()
        ))
    );
    assert_eq!(
        build(
            "tools:read",
            &"x".repeat(mcp_authz_server::MAX_SCOPE_DESCRIPTION_LEN + 1)
        ),
        Some(mcp_authz_server::ConfigError::ScopeDescriptionLength(
            "tools:read".into()
        ))
    );
}

#[tokio::test]
async fn the_service_name_is_in_the_title_and_heading_of_both_pages_escaped() {
    let server =
        TestServer::start_configured(|b| default_config(b).service_name("Acme <Notes> & Co")).await;
    server.create_user(USER, PASSWORD).await;
    let browser = server.browser();
    let client = server.public_client().await;
    let authorize = Authorize::new(&client);
    let login_html = browser
        .get(authorize.url(&server))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let escaped = "Acme &lt;Notes&gt; &amp; Co";
    assert!(
        login_html.contains(&format!("<title>Sign in to {escaped}</title>")),
        "{login_html}"
    );
    assert!(
        login_html.contains(&format!(
            "<h1>Sign in to <span id=\"service\">{escaped}</span></h1>"
        )),
        "{login_html}"
    );
    let html = login(&server, &browser, &login_html, USER, PASSWORD)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&format!("<title>{escaped}: authorize access</title>")),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            "<h1><span id=\"service\">{escaped}</span>: authorize access</h1>"
        )),
        "{html}"
    );
    assert!(!html.contains("<Notes>"));
}

#[tokio::test]
async fn the_default_service_name_is_mcp_authz() {
    let server = TestServer::start().await;
    let client = server.public_client().await;
    let html = server
        .browser()
        .get(Authorize::new(&client).url(&server))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("<title>Sign in to mcp-authz</title>"),
        "{html}"
    );
}

#[test]
fn an_empty_or_long_service_name_is_refused() {
    for name in [
        String::new(),
        " ".into(),
        "x".repeat(mcp_authz_server::MAX_SERVICE_NAME_LEN + 1),
    ] {
        let built = default_config(
            mcp_authz_server::ServerConfig::builder_from_str("https://auth.example.com").unwrap(),
        )
        .service_name(name)
        .build();
        assert!(matches!(
            built,
            Err(mcp_authz_server::ConfigError::ServiceName)
        ));
    }
}

/// The start tags `<name ...>` of `html`, each as its text between `<` and `>`.
fn start_tags<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let open = format!("<{name}");
    let mut tags = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find(&open) {
        let tag = &rest[at + 1..];
        let end = tag.find('>').unwrap();
        let after = tag.as_bytes()[name.len()];
        if after == b' ' || after == b'>' {
            tags.push(&tag[..end]);
        }
        rest = &tag[end..];
    }
    tags
}

/// The value of attribute `name` in a start tag's text.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    Some(&tag[start..start + tag[start..].find('"')?])
}

/// The structural accessibility checks every page passes: a language, a viewport for phones, one
/// `h1` and no skipped heading level, a label for every visible input, a type on every button,
/// visible focus, and nothing loaded from elsewhere.
fn assert_accessible(html: &str) {
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert_eq!(
        attr(start_tags(html, "html")[0], "lang"),
        Some("en"),
        "{html}"
    );
    assert!(
        html.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"),
        "{html}"
    );
    assert_eq!(start_tags(html, "h1").len(), 1, "one h1: {html}");
    // Headings in document order never go down more than one level.
    let mut level = 0;
    let mut at = 0;
    while let Some(found) = html[at..].find("<h") {
        at += found + 2;
        if let Some(n) = html[at..].chars().next().and_then(|c| c.to_digit(10)) {
            assert!(n <= level + 1, "h{n} after h{level}: {html}");
            level = n;
        }
    }
    let labels: Vec<&str> = start_tags(html, "label")
        .into_iter()
        .map(|l| attr(l, "for").unwrap_or_else(|| panic!("label without for: {l}")))
        .collect();
    for input in start_tags(html, "input") {
        if attr(input, "type") == Some("hidden") {
            continue;
        }
        let id = attr(input, "id").unwrap_or_else(|| panic!("input without id: {input}"));
        assert!(labels.contains(&id), "no label for {input}: {html}");
    }
    for button in start_tags(html, "button") {
        assert!(
            matches!(attr(button, "type"), Some("submit" | "button")),
            "button without type: {button}"
        );
        assert!(!button.contains("autofocus"), "{button}");
    }
    assert!(html.contains(":focus-visible{outline:"), "{html}");
    // Self-contained: no script, style sheet, image, font or frame from anywhere.
    for external in [
        "<script", "<link", "<img", "<iframe", " src=", "url(", "@import",
    ] {
        assert!(!html.contains(external), "{external} in {html}");
    }
}

/// The Content-Security-Policy of the pages, unchanged by the templates: inline style only.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

#[tokio::test]
async fn login_consent_and_error_pages_are_structurally_accessible() {
    let server = TestServer::start_configured(|b| {
        default_config(b).scope_details(
            mcp_authz_metadata::ScopeToken::parse("tools:read").unwrap(),
            "Lets the application list every tool.",
        )
    })
    .await;
    server.create_user(USER, PASSWORD).await;
    let browser = server.browser();
    let client = server.public_client().await;
    let login_page = browser
        .get(Authorize::new(&client).url(&server))
        .send()
        .await
        .unwrap();
    assert_eq!(login_page.headers()["content-security-policy"], CSP);
    let login_html = login_page.text().await.unwrap();
    assert_accessible(&login_html);
    assert_eq!(start_tags(&login_html, "label").len(), 2);
    // The one action of the login form is its default and marked as such.
    let login_buttons = start_tags(&login_html, "button");
    assert_eq!(login_buttons.len(), 1);
    assert_eq!(attr(login_buttons[0], "class"), Some("primary"));

    let consent = login(&server, &browser, &login_html, USER, PASSWORD).await;
    assert_eq!(consent.headers()["content-security-policy"], CSP);
    let html = consent.text().await.unwrap();
    assert_accessible(&html);
    assert!(html.contains("<details class=\"scope-details\">"), "{html}");
    // Allow and Deny are grouped, in that order, Allow marked as the main action and Deny not.
    let group = &html[html.find("role=\"group\"").unwrap()..];
    let decisions = start_tags(group, "button");
    assert_eq!(decisions.len(), 2, "{group}");
    assert_eq!(attr(decisions[0], "value"), Some("approve"));
    assert_eq!(attr(decisions[0], "class"), Some("primary"));
    assert_eq!(attr(decisions[1], "value"), Some("deny"));
    assert_eq!(attr(decisions[1], "class"), None);
    assert!(
        attr(start_tags(&html, "div")[0], "aria-label").is_some(),
        "{html}"
    );

    let error = server
        .http
        .get(server.url("/authorize?response_type=code"))
        .send()
        .await
        .unwrap();
    assert_eq!(error.status(), 400);
    assert_eq!(error.headers()["content-security-policy"], CSP);
    assert_accessible(&error.text().await.unwrap());
}

#[tokio::test]
async fn longer_scope_explanations_fold_under_the_description_escaped() {
    let token = |s: &str| mcp_authz_metadata::ScopeToken::parse(s).unwrap();
    let server = TestServer::start_configured(|b| {
        default_config(b)
            .scope_description(token("tools:read"), "Read your tools")
            .scope_details(token("tools:read"), "Every tool's <name> & \"arguments\".")
            .scope_details(token("tools:write"), "Changes tools.")
    })
    .await;
    server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;
    let browser = server.browser();
    let mut authorize = Authorize::new(&client);
    authorize.request = authorize
        .request
        .with_scope(scope("tools:read tools:write"));
    let html = browser
        .get(authorize.url(&server))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let html = login(&server, &browser, &html, USER, PASSWORD)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(
            "<li class=\"scope\"><span class=\"scope-token\">tools:read</span>: \
             <span class=\"scope-description\">Read your tools</span>\
             <details class=\"scope-details\"><summary>More about tools:read</summary>\
             <p>Every tool&#39;s &lt;name&gt; &amp; &quot;arguments&quot;.</p></details></li>"
        ),
        "{html}"
    );
    assert!(!html.contains("<name>"), "{html}");
    // A scope without a short description says so, and still gets its explanation.
    assert!(
        html.contains(
            "<span class=\"scope-token\">tools:write</span>: \
             <span class=\"scope-description none\">(no description)</span>\
             <details class=\"scope-details\"><summary>More about tools:write</summary>\
             <p>Changes tools.</p></details></li>"
        ),
        "{html}"
    );
}

#[test]
fn a_longer_explanation_of_an_unknown_scope_or_of_bad_length_is_refused() {
    let token = |s: &str| mcp_authz_metadata::ScopeToken::parse(s).unwrap();
    let build = |scope: &str, text: &str| {
        default_config(
            mcp_authz_server::ServerConfig::builder_from_str("https://auth.example.com").unwrap(),
        )
        .scope_details(token(scope), text)
        .build()
        .err()
    };
    assert_eq!(build("tools:read", &"x".repeat(1000)), None);
    assert_eq!(
        build("tools:typo", "Reads"),
        Some(mcp_authz_server::ConfigError::UnknownScopeDescription(
            "tools:typo".into()
        ))
    );
    for bad in [
        "\n".to_owned(),
        "x".repeat(mcp_authz_server::MAX_SCOPE_DETAILS_LEN + 1),
    ] {
        assert_eq!(
            build("tools:read", &bad),
            Some(mcp_authz_server::ConfigError::ScopeDetailsLength(
                "tools:read".into()
            ))
        );
    }
}

#[tokio::test]
async fn the_error_page_names_the_service_in_the_same_chrome_as_the_login_page() {
    let server =
        TestServer::start_configured(|b| default_config(b).service_name("Acme <Notes>")).await;
    let response = server
        .http
        .get(server.url("/authorize?response_type=code&client_id=nobody"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(response.headers()["x-frame-options"], "DENY");
    let html = response.text().await.unwrap();
    let escaped = "Acme &lt;Notes&gt;";
    assert!(
        html.contains(&format!("<title>Authorization error: {escaped}</title>")),
        "{html}"
    );
    assert!(
        html.contains(&format!("<header>{escaped}</header>")),
        "{html}"
    );
    assert!(html.contains("<h1>Authorization error</h1>"), "{html}");
    assert!(!html.contains("<Notes>"), "{html}");
    // The same chrome (everything up to the title, the style sheet, the header) as the login page.
    let client = server.public_client().await;
    let login_html = server
        .browser()
        .get(Authorize::new(&client).url(&server))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let chrome = |page: &str| {
        let head = &page[..page.find("<title>").unwrap()];
        let style = &page[page.find("<style>").unwrap()..page.find("</main>").unwrap()];
        let style = &style[..style.find("<main>").unwrap()];
        (head.to_owned(), style.to_owned())
    };
    assert_eq!(chrome(&html), chrome(&login_html));
    assert!(login_html.contains(&format!("<header>{escaped}</header>")));
}
