//! What `serve`'s consent page tells the user, through the real forms (issue #24): the service name
//! (`--service-name`), the username, the demo scopes' descriptions and the settings file's
//! `[scope_descriptions]` and `[scope_details]`, all escaped; `--templates` (served, or refused at
//! start when a template does not check).
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
        "[scope_descriptions]\n\"notes:read\" = \"Read <all> your notes\"\n\
         [scope_details]\n\"notes:read\" = \"Every <note> you added\"\n",
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
    // The longer explanations: the settings file's, escaped, and the demo's own.
    assert!(
        consent.contains(
            "<summary>More about notes:read</summary><p>Every &lt;note&gt; you added</p>"
        ),
        "{consent}"
    );
    assert!(
        consent.contains("<summary>More about notes:write</summary><p>The add_note tool"),
        "{consent}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_uses_the_operators_templates_and_refuses_a_broken_one_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("templates");
    std::fs::create_dir(&templates).unwrap();
    std::fs::write(
        templates.join("error.html"),
        "<h1>Something went wrong</h1><p class=\"operator\">{{message}}</p>",
    )
    .unwrap();
    let serve = Serve::start(
        &dir.path().join("data"),
        &[
            "--templates",
            templates.to_str().unwrap(),
            "--service-name",
            "Acme <Notes>",
        ],
    );
    let page = reqwest::get(format!("{}/authorize?client_id=%3Cb%3E", serve.base))
        .await
        .unwrap();
    assert_eq!(page.status(), 400);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("<h1>Something went wrong</h1><p class=\"operator\">"),
        "{html}"
    );
    assert!(
        html.contains("<header>Acme &lt;Notes&gt;</header>"),
        "{html}"
    );
    assert!(!html.contains("<b>") && !html.contains("<Notes>"), "{html}");
    drop(serve);

    // A misspelt placeholder: `serve` does not start, and says which template and what.
    std::fs::write(templates.join("error.html"), "<p>{{mesage}}</p>").unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_mcp-authz"))
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .arg("--templates")
        .arg(&templates)
        .env("XDG_CONFIG_HOME", dir.path().join("serve-config"))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("--templates")
            && stderr.contains("template error.html has no placeholder {{mesage}}"),
        "{stderr}"
    );
}
