//! OAuth requests the end-to-end tests make against `serve` as a client would: dynamic registration,
//! the authorization URL, the code exchange and refresh, and a loopback redirect target.

use mcp_authz_pkce::CodeVerifier;

/// A loopback "client redirect URI" that answers every request 200.
pub async fn callback_listener() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                    .await;
            });
        }
    });
    format!("http://{addr}/callback")
}

/// Registers a public native client (`none` authentication) redirecting to `redirect`; its id.
pub async fn register(http: &reqwest::Client, base: &str, redirect: &str) -> String {
    let response: serde_json::Value = http
        .post(format!("{base}/register"))
        .json(&serde_json::json!({
            "redirect_uris": [redirect],
            "token_endpoint_auth_method": "none",
            "grant_types": ["authorization_code", "refresh_token"],
            "application_type": "native",
            "client_name": "crash test",
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    response["client_id"].as_str().unwrap().to_owned()
}

/// The authorization URL of a code flow with PKCE S256 for `client_id`, naming `{base}/mcp`.
pub fn authorization_url(
    base: &str,
    client_id: &str,
    redirect: &str,
    verifier: &CodeVerifier,
) -> String {
    let mut url = url::Url::parse(&format!("{base}/authorize")).unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", redirect)
        .append_pair("code_challenge", &verifier.challenge().to_string())
        .append_pair("code_challenge_method", "S256")
        .append_pair("resource", &format!("{base}/mcp"))
        .append_pair("state", "s");
    url.to_string()
}

/// The `code` of a redirect to the client.
pub fn code_of(callback: &str) -> String {
    url::Url::parse(callback)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no code in {callback}"))
}

/// `POST /token`; `None` when the server is gone (connection refused or reset).
pub async fn token(
    http: &reqwest::Client,
    base: &str,
    form: &[(&str, &str)],
) -> Option<(u16, serde_json::Value)> {
    let response = http
        .post(format!("{base}/token"))
        .form(form)
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    let body = response.json().await.ok()?;
    Some((status, body))
}

/// The authorization-code exchange; `None` when the server is gone.
pub async fn exchange(
    http: &reqwest::Client,
    base: &str,
    client_id: &str,
    redirect: &str,
    code: &str,
    verifier: &CodeVerifier,
) -> Option<(u16, serde_json::Value)> {
    token(
        http,
        base,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect),
            ("code_verifier", verifier.secret()),
            ("client_id", client_id),
        ],
    )
    .await
}

/// A refresh-token request; `None` when the server is gone.
pub async fn refresh(
    http: &reqwest::Client,
    base: &str,
    client_id: &str,
    refresh_token: &str,
) -> Option<(u16, serde_json::Value)> {
    token(
        http,
        base,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
            ("client_id", client_id),
        ],
    )
    .await
}
