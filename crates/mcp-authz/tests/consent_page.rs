//! What `serve`'s consent page tells the user, through the real forms (issue #24): the service name
//! (`--service-name`), the username, the demo scopes' descriptions and the settings file's
//! `[scope_descriptions]`, all escaped.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::oauth::{authorization_url, callback_listener, register};
use common::{ADMIN, Browser, Serve};
use mcp_authz_pkce::CodeVerifier;

#[tokio::test(flavor = "multi_thread")]
async fn the_consent_page_names_the_service_the_user_and_what_each_scope_allows() {
    let dir = tempfile::tempdir().unwrap();
    let settings = dir.path().join("settings.toml");
    std::fs::write(
        &settings,
        "[scope_descriptions]\n\"notes:read\" = \"Read <all> your notes\"\n",
    )
    .unwrap();
    let serve = Serve::start(
        &dir.path().join("data"),
        &[
            "--service-name",
            "Acme & Notes",
            "--config",
            settings.to_str().unwrap(),
        ],
    );
    let http = reqwest::Client::new();
    let redirect = callback_listener().await;
    let client_id = register(&http, &serve.base, &redirect).await;
    let verifier = CodeVerifier::generate().unwrap();
    let url = authorization_url(&serve.base, &client_id, &redirect, &verifier);
    let (callback, consent) = Browser::new()
        .authorize(&url, ADMIN, &serve.admin_password())
        .await;
    assert!(callback.contains("code="), "{callback}");
    assert!(
        consent.contains("<title>Acme &amp; Notes: authorize access</title>"),
        "{consent}"
    );
    assert!(
        consent.contains("Signed in as <strong id=\"user\">admin</strong>"),
        "{consent}"
    );
    let described = |token: &str, text: &str| {
        format!(
            "<span class=\"scope-token\">{token}</span>: \
             <span class=\"scope-description\">{text}</span>"
        )
    };
    for (token, text) in [
        // The demo's own descriptions...
        ("mcp:tools", "List and call the demo server&#39;s tools"),
        ("notes:write", "Add notes (and read them)"),
        // ...and the settings file's, over the demo's, escaped.
        ("notes:read", "Read &lt;all&gt; your notes"),
    ] {
        assert!(consent.contains(&described(token, text)), "{consent}");
    }
    assert!(consent.contains("id=\"provenance-dynamic\""), "{consent}");
}
