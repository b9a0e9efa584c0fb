//! `serve --tls-cert --tls-key`: https with rustls, the issuer derived as `https://`, plain http
//! refused, and one-line errors for unusable PEM files.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod operator_support;

use operator_support::{Server, command, mcp_initialize, run, secret_of};

/// A self-signed certificate for 127.0.0.1, written as PEM files: (cert path, key path, cert PEM).
fn self_signed(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, String) {
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let cert_pem = certified.cert.pem();
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, &cert_pem).unwrap();
    std::fs::write(&key, certified.key_pair.serialize_pem()).unwrap();
    (cert, key, cert_pem)
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_speaks_https_with_the_given_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, cert_pem) = self_signed(dir.path());
    let data = dir.path().join("data");
    let mut serve = command(dir.path());
    serve
        .args(["serve", "--bind", "127.0.0.1:0", "--tls-cert"])
        .arg(&cert)
        .arg("--tls-key")
        .arg(&key)
        .arg("--data-dir")
        .arg(&data);
    let server = Server::start(serve, &dir.path().join("serve.log"));
    let base = server.base.clone();
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");

    let trusting = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap())
        .build()
        .unwrap();
    let metadata: serde_json::Value = trusting
        .get(format!("{base}/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // The default issuer follows the scheme.
    assert_eq!(metadata["issuer"], base.as_str());
    assert_eq!(metadata["token_endpoint"], format!("{base}/token"));

    // Without trusting the certificate, the handshake fails.
    assert!(reqwest::get(format!("{base}/jwks.json")).await.is_err());
    // Plain http on the TLS port gets no HTTP answer.
    let plain = base.replacen("https://", "http://", 1);
    let answer = reqwest::get(format!("{plain}/.well-known/oauth-authorization-server")).await;
    assert!(
        answer.as_ref().map_or(true, |r| !r.status().is_success()),
        "{answer:?}"
    );

    // The demo MCP server behind TLS verifies tokens against the server's own JWKS over https.
    let mut add = command(dir.path());
    add.args([
        "clients",
        "add",
        "robot",
        "--client-credentials",
        "--data-dir",
    ])
    .arg(&data);
    let (ok, out, err) = run(add, "");
    assert!(ok, "{err}");
    let secret = secret_of(&out);
    let token: serde_json::Value = trusting
        .post(format!("{base}/token"))
        .basic_auth("robot", Some(&secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("resource", &format!("{base}/mcp")),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = token["access_token"].as_str().unwrap();
    let response = mcp_initialize(&trusting, &format!("{base}/mcp"), access).await;
    assert_eq!(response.status(), 200, "{}", server.stderr());
}

#[test]
fn unusable_pem_files_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, _) = self_signed(dir.path());
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a pem file\n").unwrap();
    let cases = [
        (garbage.clone(), key.clone(), "no PEM certificate in"),
        (cert.clone(), garbage.clone(), "no PEM private key"),
        (dir.path().join("missing.pem"), key.clone(), "cannot read"),
    ];
    for (cert, key, expected) in cases {
        let mut serve = command(dir.path());
        serve
            .args(["serve", "--bind", "127.0.0.1:0", "--tls-cert"])
            .arg(&cert)
            .arg("--tls-key")
            .arg(&key);
        let (ok, out, err) = run(serve, "");
        assert!(!ok);
        assert!(out.is_empty(), "{out}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(expected), "{expected}: {err}");
    }
    // Nothing was created before the check.
    assert!(!dir.path().join("data").exists());
    // A certificate without its key is refused too.
    let mut half = command(dir.path());
    half.args(["serve", "--tls-cert"]).arg(&cert);
    let (ok, _, err) = run(half, "");
    assert!(!ok);
    assert!(
        err.contains("--tls-cert and --tls-key go together"),
        "{err}"
    );
}
