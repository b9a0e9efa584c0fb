//! The operator's user, grant and consent commands against a real `serve` on SQLite (REQUIREMENTS
//! OB-4): `grants revoke` ends a client's refresh and access tokens, `consents revoke` makes the next
//! authorization ask again, `users passwd|disable|enable` decide who signs in, `users export` holds
//! no secret, `users remove` takes back everything the user granted.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod operator_support;

use std::path::Path;

use mcp_authz_pkce::CodeVerifier;
use operator_support::common::oauth::{
    authorization_url, callback_listener, code_of, exchange, refresh, register,
};
use operator_support::common::{ADMIN, Browser, Serve, hidden_inputs};
use operator_support::{command, mcp_initialize, run};

fn admin(home: &Path, data: &Path, args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut cmd = command(home);
    cmd.args(args).arg("--data-dir").arg(data);
    run(cmd, stdin)
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap()
}

/// Signs in as `user` in a fresh browser, approves if asked, exchanges the code: (tokens, whether
/// the consent page was shown).
async fn authorize(
    serve: &Serve,
    client_id: &str,
    redirect: &str,
    user: &str,
    password: &str,
) -> (serde_json::Value, bool) {
    let verifier = CodeVerifier::generate().unwrap();
    let url = authorization_url(&serve.base, client_id, redirect, &verifier);
    let (callback, consent) = Browser::new().authorize(&url, user, password).await;
    let (status, tokens) = exchange(
        &reqwest::Client::new(),
        &serve.base,
        client_id,
        redirect,
        &code_of(&callback),
        &verifier,
    )
    .await
    .unwrap();
    assert_eq!(status, 200, "{tokens}");
    (tokens, !consent.is_empty())
}

/// `true` when the login form refuses `user` and `password` (`failed=1`).
async fn sign_in_refused(
    serve: &Serve,
    client_id: &str,
    redirect: &str,
    user: &str,
    password: &str,
) -> bool {
    let verifier = CodeVerifier::generate().unwrap();
    let browser = Browser::new();
    let url = authorization_url(&serve.base, client_id, redirect, &verifier);
    let page = browser.http().get(&url).send().await.unwrap();
    let html = page.text().await.unwrap();
    assert!(html.contains("name=\"password\""), "{html}");
    let mut form = hidden_inputs(&html);
    form.push(("username".into(), user.into()));
    form.push(("password".into(), password.into()));
    let response = browser
        .http()
        .post(format!("{}/authorize/login", serve.base))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    response.headers()["location"]
        .to_str()
        .unwrap()
        .ends_with("&failed=1")
}

async fn refresh_status(
    serve: &Serve,
    client_id: &str,
    tokens: &serde_json::Value,
) -> (u16, serde_json::Value) {
    refresh(
        &reqwest::Client::new(),
        &serve.base,
        client_id,
        tokens["refresh_token"].as_str().unwrap(),
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn grants_and_consents_are_listed_and_revoked_by_the_operator() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let data = home.join("data");
    let serve = Serve::start(&data, &[]);
    let password = serve.admin_password();
    let redirect = callback_listener().await;
    let client = register(&reqwest::Client::new(), &serve.base, &redirect).await;
    let (tokens, asked) = authorize(&serve, &client, &redirect, ADMIN, &password).await;
    assert!(asked);
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(
        mcp_initialize(&reqwest::Client::new(), &serve.mcp_url(), access)
            .await
            .status(),
        200
    );

    let (ok, out, err) = admin(home, &data, &["grants", "list", "--json"], "");
    assert!(ok, "{err}");
    let grants = json(&out);
    assert_eq!(grants.as_array().unwrap().len(), 1, "{out}");
    let family = grants[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(grants[0]["client_id"], client.as_str());
    assert_eq!(grants[0]["revoked_at"], serde_json::Value::Null);
    assert!(!out.contains(tokens["refresh_token"].as_str().unwrap()));
    let (ok, out, _) = admin(
        home,
        &data,
        &["grants", "list", "--user", ADMIN, "--client", &client],
        "",
    );
    assert!(ok);
    assert!(out.contains(&family) && out.contains("active"), "{out}");
    let (ok, out, _) = admin(
        home,
        &data,
        &["grants", "list", "--client", "other", "--json"],
        "",
    );
    assert!(ok);
    assert_eq!(json(&out), serde_json::json!([]));
    let (ok, out, _) = admin(
        home,
        &data,
        &["consents", "list", "--user", ADMIN, "--json"],
        "",
    );
    assert!(ok);
    assert_eq!(json(&out)[0]["client_id"], client.as_str());

    // Revoked by id: the refresh fails, the access token is refused at /mcp.
    let (ok, out, err) = admin(home, &data, &["grants", "revoke", &family], "");
    assert!(ok, "{err}");
    assert_eq!(out, format!("revoked grant {family} and its tokens\n"));
    let (status, body) = refresh_status(&serve, &client, &tokens).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    assert_eq!(
        mcp_initialize(&reqwest::Client::new(), &serve.mcp_url(), access)
            .await
            .status(),
        401
    );
    let (ok, _, err) = admin(home, &data, &["grants", "revoke", &family], "");
    assert!(!ok);
    assert_eq!(err, format!("mcp-authz: no active grant {family}\n"));

    // The consent is still remembered: no consent page; forgotten, the next one asks again.
    let (tokens, asked) = authorize(&serve, &client, &redirect, ADMIN, &password).await;
    assert!(!asked);
    let (ok, out, err) = admin(
        home,
        &data,
        &["consents", "revoke", "--user", ADMIN, "--client", &client],
        "",
    );
    assert!(ok, "{err}");
    assert!(out.starts_with("forgot the consent of user admin"), "{out}");
    let (ok, _, err) = admin(
        home,
        &data,
        &["consents", "revoke", "--user", ADMIN, "--client", &client],
        "",
    );
    assert!(!ok);
    assert!(err.contains("has no remembered consent"), "{err}");
    let (_, asked) = authorize(&serve, &client, &redirect, ADMIN, &password).await;
    assert!(asked);

    // By user and client: both live grants, and their refresh tokens.
    let (ok, out, err) = admin(
        home,
        &data,
        &["grants", "revoke", "--user", ADMIN, "--client", &client],
        "",
    );
    assert!(ok, "{err}");
    assert_eq!(out, "revoked 2 grant(s) and their tokens\n");
    assert_eq!(refresh_status(&serve, &client, &tokens).await.0, 400);
    let (ok, _, err) = admin(home, &data, &["grants", "revoke"], "");
    assert!(!ok, "a bare `grants revoke` must name what to revoke");
    assert!(err.contains("required"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn users_passwd_disable_enable_export_and_remove() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let data = home.join("data");
    let serve = Serve::start(&data, &[]);
    let first = "bob's first passphrase";
    let second = "bob's second passphrase";
    let (ok, _, err) = admin(home, &data, &["users", "add", "bob"], &format!("{first}\n"));
    assert!(ok, "{err}");
    let redirect = callback_listener().await;
    let client = register(&reqwest::Client::new(), &serve.base, &redirect).await;
    let (tokens, _) = authorize(&serve, &client, &redirect, "bob", first).await;

    // The export: the user, the grant, the consent; no secret.
    let (ok, out, err) = admin(home, &data, &["users", "export", "bob"], "");
    assert!(ok, "{err}");
    let export = json(&out);
    assert_eq!(export["user"]["username"], "bob");
    assert_eq!(export["user"]["disabled"], false);
    let subject = export["user"]["subject"].as_str().unwrap().to_owned();
    assert_eq!(export["grants"].as_array().unwrap().len(), 1);
    assert_eq!(export["grants"][0]["client_id"], client.as_str());
    assert_eq!(export["consents"][0]["client_id"], client.as_str());
    for secret in [
        tokens["refresh_token"].as_str().unwrap(),
        tokens["access_token"].as_str().unwrap(),
        first,
        "$argon2",
        "password",
    ] {
        assert!(!out.contains(secret), "{secret} in {out}");
    }

    // passwd: the old password stops working, the new one works.
    let (ok, out, err) = admin(
        home,
        &data,
        &["users", "passwd", "bob"],
        &format!("{second}\n"),
    );
    assert!(ok, "{err}");
    assert_eq!(out, "set the password of user bob\n");
    assert!(sign_in_refused(&serve, &client, &redirect, "bob", first).await);
    assert!(!sign_in_refused(&serve, &client, &redirect, "bob", second).await);
    let (ok, _, err) = admin(
        home,
        &data,
        &["users", "passwd", "nobody"],
        &format!("{second}\n"),
    );
    assert!(!ok);
    assert_eq!(err, "mcp-authz: unknown user nobody\n");

    // disable: no sign-in, and the refresh fails; enable: sign-in again.
    let (ok, out, err) = admin(home, &data, &["users", "disable", "bob"], "");
    assert!(ok, "{err}");
    assert_eq!(out, "disabled user bob; revoked 1 grant(s)\n");
    let (status, body) = refresh_status(&serve, &client, &tokens).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    assert!(sign_in_refused(&serve, &client, &redirect, "bob", second).await);
    let (_, out, _) = admin(home, &data, &["users", "list", "--json"], "");
    let bob = json(&out)
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "bob")
        .cloned()
        .unwrap();
    assert_eq!(bob["disabled"], true);
    let (ok, _, err) = admin(home, &data, &["users", "enable", "bob"], "");
    assert!(ok, "{err}");
    let (tokens, _) = authorize(&serve, &client, &redirect, "bob", second).await;

    // remove: every grant revoked, every consent forgotten, the user gone.
    let (ok, out, err) = admin(home, &data, &["users", "remove", "bob"], "");
    assert!(ok, "{err}");
    assert_eq!(
        out,
        "removed user bob; revoked 1 grant(s), forgot 1 consent(s)\n"
    );
    assert_eq!(refresh_status(&serve, &client, &tokens).await.0, 400);
    let (_, out, _) = admin(home, &data, &["grants", "list", "--json"], "");
    let grants = json(&out);
    assert_eq!(grants.as_array().unwrap().len(), 2);
    assert!(
        grants
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["subject"] == subject.as_str() && g["revoked_at"].is_string()),
        "{out}"
    );
    let (_, out, _) = admin(home, &data, &["consents", "list", "--json"], "");
    assert_eq!(json(&out), serde_json::json!([]));
    let (ok, _, _) = admin(home, &data, &["users", "export", "bob"], "");
    assert!(!ok);
}
