//! Templates an operator puts in place of the built-in pages (issue #24): served, every placeholder
//! filled and escaped, the forms still working; a template that does not check refused at start.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use mcp_authz_server::{PageTemplate, PageTemplates, TemplateError};

const LAYOUT: &str = "<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\">\
<title>{{title}}</title><style>{{style}} .brand{color:#123}</style></head>\
<body><div class=\"brand\" data-service=\"{{service}}\">{{service}}</div>{{content}}</body></html>";

const LOGIN: &str = "<h1>Connexion à {{service}}</h1>{{client}}{{notice}}\
<form method=\"post\" action=\"{{action}}\">{{hidden}}\
<label for=\"u\">Identifiant</label><input id=\"u\" name=\"username\">\
<label for=\"p\">Mot de passe</label><input id=\"p\" name=\"password\" type=\"password\">\
<button type=\"submit\">Se connecter</button></form>";

const ERROR: &str = "<h1>Erreur</h1><p class=\"message\" title=\"{{message}}\">{{message}}</p>";

/// A template directory holding `files` (name, text).
fn template_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

#[tokio::test]
async fn replaced_templates_are_served_with_their_placeholders_filled_and_escaped() {
    let dir = template_dir(&[
        ("layout.html", LAYOUT),
        ("login.html", LOGIN),
        ("error.html", ERROR),
    ]);
    let templates = PageTemplates::from_dir(dir.path()).unwrap();
    let server = TestServer::start_configured(move |b| {
        default_config(b)
            .service_name("Acme \"<Notes>\"")
            .page_templates(templates)
    })
    .await;
    server.create_user(USER, PASSWORD).await;
    let client = server.public_client().await;
    let browser = server.browser();
    let response = browser
        .get(Authorize::new(&client).url(&server))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let html = response.text().await.unwrap();
    let service = "Acme &quot;&lt;Notes&gt;&quot;";
    assert!(
        html.starts_with("<!DOCTYPE html><html lang=\"fr\">"),
        "{html}"
    );
    assert!(
        html.contains(&format!("<title>Sign in to {service}</title>")),
        "{html}"
    );
    // Escaped in an attribute as in text.
    assert!(
        html.contains(&format!(
            "<div class=\"brand\" data-service=\"{service}\">{service}</div>"
        )),
        "{html}"
    );
    assert!(
        html.contains(&format!("<h1>Connexion à {service}</h1>")),
        "{html}"
    );
    assert!(!html.contains("<Notes>"), "{html}");
    assert!(!html.contains("{{"), "{html}");
    // The built-in style sheet where the layout asked for it, the server's fragments where the
    // login template asked for them: the client (its self-chosen name escaped) and the form.
    assert!(html.contains(":focus-visible{outline:"), "{html}");
    assert!(html.contains(" .brand{color:#123}</style>"), "{html}");
    assert!(
        html.contains("<strong>Test &lt;Client&gt;</strong>"),
        "{html}"
    );
    assert!(html.contains("id=\"provenance-dynamic\""), "{html}");
    assert!(
        html.contains("<form method=\"post\" action=\"/authorize/login\"><input type=\"hidden\" name=\"request\" value=\""),
        "{html}"
    );
    // The form of the operator's template signs in; the consent page keeps the built-in template
    // inside the operator's layout.
    let consent = login(&server, &browser, &html, USER, PASSWORD).await;
    let consent_html = consent.text().await.unwrap();
    assert!(consent_html.starts_with("<!DOCTYPE html><html lang=\"fr\">"));
    assert!(consent_html.contains("value=\"approve\""), "{consent_html}");
    let location = approve(&server, &browser, &consent_html).await;
    assert!(matches!(
        callback(&location),
        mcp_authz_token::AuthorizationCallback::Success(_)
    ));

    // The error page: the operator's template, the message escaped in text and attribute.
    let error = server
        .http
        .get(server.url("/authorize?response_type=code&client_id=%3Cscript%3E"))
        .send()
        .await
        .unwrap();
    assert_eq!(error.status(), 400);
    let html = error.text().await.unwrap();
    assert!(
        html.contains("<h1>Erreur</h1><p class=\"message\" title=\""),
        "{html}"
    );
    assert!(
        html.contains(&format!("<title>Authorization error: {service}</title>")),
        "{html}"
    );
    assert!(!html.contains("<script>"), "{html}");
}

#[test]
fn a_template_that_does_not_check_is_refused_with_its_name() {
    let refused = |files: &[(&str, &str)]| {
        let dir = template_dir(files);
        PageTemplates::from_dir(dir.path()).unwrap_err()
    };
    assert_eq!(
        refused(&[("logon.html", LOGIN)]),
        TemplateError::UnknownFile("logon.html".into())
    );
    assert_eq!(
        refused(&[(
            "login.html",
            "<h1>{{service}}</h1>{{client}}{{notice}}{{hidden}}"
        )]),
        TemplateError::MissingPlaceholder {
            template: "login.html",
            name: "action"
        }
    );
    // A consent page must show what is asked for: without it, approving would remember what the
    // user never saw (SEC-13).
    let consent = PageTemplate::Consent
        .builtin()
        .replace("{{permissions}}", "");
    assert_eq!(
        refused(&[("consent.html", &consent)]),
        TemplateError::MissingPlaceholder {
            template: "consent.html",
            name: "permissions"
        }
    );
    assert_eq!(
        refused(&[("error.html", "{{message}} {{ message }}")]),
        TemplateError::UnknownPlaceholder {
            template: "error.html",
            name: " message ".into()
        }
    );
    assert!(matches!(
        refused(&[("layout.html", "{{content}} {{title")]),
        TemplateError::Unclosed {
            template: "layout.html",
            ..
        }
    ));
    let missing = PageTemplates::from_dir(std::path::Path::new("/nonexistent/templates"));
    assert!(matches!(missing, Err(TemplateError::Read { .. })));
    // Each error names the file and what is wrong with it.
    assert_eq!(
        refused(&[("error.html", "<p>{{mesage}}</p>")]).to_string(),
        "template error.html has no placeholder {{mesage}}"
    );
}

#[test]
fn an_empty_directory_keeps_the_builtin_templates() {
    let dir = template_dir(&[]);
    assert_eq!(
        PageTemplates::from_dir(dir.path()).unwrap(),
        PageTemplates::default()
    );
}
