//! SEC-17 (MCP half): an `Mcp-Session-Id` belongs to the principal whose request created it. Each
//! test runs the layer in front of a stand-in MCP server over real HTTP on 127.0.0.1.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::any;
use mcp_authz_metadata::ResourceUri;
use mcp_authz_resource::{
    ManualClock, RequireBearerLayer, ResourceServer, ResourceServerConfig, VerifiedClaims,
};

use crate::support::{NOW, TestAs, client};

/// What the stand-in MCP server saw: (session id, subject) of every request that carried one.
type Seen = Arc<Mutex<Vec<(String, String)>>>;

/// A stand-in MCP server: a request without `Mcp-Session-Id` starts a session and gets a fresh id
/// back; one with an id is served in that session (any id: the transport trusts the header, which
/// is the weakness the layer covers). A `DELETE` ends the session and is recorded as
/// `("DELETE <id>", subject)`, the subject empty when the request carried no verified claims (the
/// layer's own `DELETE` of a session it evicted).
async fn mcp(
    seen: Seen,
    counter: Arc<AtomicUsize>,
    request: axum::extract::Request,
) -> axum::response::Response {
    let subject = request
        .extensions()
        .get::<VerifiedClaims>()
        .and_then(VerifiedClaims::subject)
        .unwrap_or_default()
        .to_owned();
    let headers: &HeaderMap = request.headers();
    match headers.get("mcp-session-id").and_then(|v| v.to_str().ok()) {
        Some(id) if request.method() == axum::http::Method::DELETE => {
            // A real MCP server checks `Host` (DNS rebinding): record whether it came.
            let what = match headers.get("host") {
                Some(_) => format!("DELETE {id}"),
                None => format!("DELETE without Host {id}"),
            };
            seen.lock().unwrap().push((what, subject));
            axum::http::StatusCode::ACCEPTED.into_response()
        }
        Some(id) => {
            seen.lock().unwrap().push((id.to_owned(), subject));
            "in session".into_response()
        }
        None => {
            let id = format!("session-{}", counter.fetch_add(1, Ordering::SeqCst));
            ([("mcp-session-id", id)], "initialized").into_response()
        }
    }
}

/// Starts the protected stand-in; returns its `/mcp` URL, the auth server and what the server saw.
async fn start(
    layer: impl FnOnce(
        RequireBearerLayer<mcp_authz_resource::JwtVerifier>,
    ) -> RequireBearerLayer<mcp_authz_resource::JwtVerifier>,
) -> (String, TestAs, Seen) {
    let auth = TestAs::start().await;
    let clock = ManualClock::new(NOW);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let resource = ResourceUri::parse(&url).unwrap();
    let config = ResourceServerConfig::builder(resource.clone())
        .authorization_server(auth.issuer.clone())
        .build()
        .unwrap();
    let server = ResourceServer::new(config, auth.jwt_verifier(&resource, &clock));
    let seen = Seen::default();
    let counter = Arc::new(AtomicUsize::new(0));
    let handler_seen = Arc::clone(&seen);
    let app = Router::new()
        .route(
            "/mcp",
            any(move |request: axum::extract::Request| {
                mcp(Arc::clone(&handler_seen), Arc::clone(&counter), request)
            }),
        )
        .layer(layer(RequireBearerLayer::new(server)));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, auth, seen)
}

/// A valid token for `url` of `subject` through `client_id`.
fn token(auth: &TestAs, url: &str, subject: &str, client_id: &str) -> String {
    let mut claims = auth.claims(url, "");
    claims["sub"] = subject.into();
    claims["client_id"] = client_id.into();
    claims["jti"] = format!("{subject}-{client_id}").into();
    auth.sign(&claims)
}

async fn post(url: &str, token: &str, session: Option<&str>) -> reqwest::Response {
    let mut request = client()
        .post(url)
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#);
    if let Some(id) = session {
        request = request.header("mcp-session-id", id);
    }
    request.send().await.unwrap()
}

/// Alice starts a session; Bob, with a valid token of his own, sends Alice's session id: 404, and
/// the MCP server never sees his request. Alice carries on.
#[tokio::test]
async fn another_users_session_id_is_not_found() {
    let (url, auth, seen) = start(|l| l).await;
    let alice = token(&auth, &url, "alice", "app");
    let bob = token(&auth, &url, "bob", "app");
    let initialized = post(&url, &alice, None).await;
    assert_eq!(initialized.status(), 200);
    let session = initialized.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();

    let hijack = post(&url, &bob, Some(&session)).await;
    assert_eq!(hijack.status(), 404);
    assert!(
        seen.lock().unwrap().is_empty(),
        "the MCP server saw Bob's request in Alice's session"
    );

    assert_eq!(post(&url, &alice, Some(&session)).await.status(), 200);
    assert_eq!(
        *seen.lock().unwrap(),
        [(session.clone(), "alice".to_owned())]
    );
}

/// The same user through another client (e.g. a malicious app the user also authorized) cannot use
/// the session either: sessions are bound to the subject and the client.
#[tokio::test]
async fn same_user_through_another_client_is_not_found() {
    let (url, auth, seen) = start(|l| l).await;
    let good = token(&auth, &url, "alice", "good-app");
    let evil = token(&auth, &url, "alice", "evil-app");
    let initialized = post(&url, &good, None).await;
    let session = initialized.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(post(&url, &evil, Some(&session)).await.status(), 404);
    assert!(seen.lock().unwrap().is_empty());
}

/// A session id the layer never handed out (guessed, or of a session it forgot) is not found
/// either: binding cannot be bypassed by evicting the owner's entry.
#[tokio::test]
async fn an_unknown_session_id_is_not_found() {
    let (url, auth, seen) = start(|l| l).await;
    let mallory = token(&auth, &url, "mallory", "app");
    assert_eq!(
        post(&url, &mallory, Some("session-guessed")).await.status(),
        404
    );
    assert!(seen.lock().unwrap().is_empty());
}

/// With `without_session_binding` the layer passes the header through (the operator's choice).
#[tokio::test]
async fn without_session_binding_passes_session_ids_through() {
    let (url, auth, seen) = start(RequireBearerLayer::without_session_binding).await;
    let alice = token(&auth, &url, "alice", "app");
    let bob = token(&auth, &url, "bob", "app");
    let initialized = post(&url, &alice, None).await;
    let session = initialized.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(post(&url, &bob, Some(&session)).await.status(), 200);
    assert_eq!(seen.lock().unwrap().len(), 1);
}

/// One principal opening sessions in a loop and never ending them: beyond its 64 the layer evicts
/// its least recently used bindings, and ends each evicted session at the MCP server with a `DELETE`
/// (as a client would), so the server's own session state stays within the layer's bound instead of
/// growing until the server's idle timeout. The evicted ids are refused afterwards.
#[tokio::test]
async fn evicted_sessions_are_ended_at_the_server() {
    let (url, auth, seen) = start(|l| l).await;
    let mallory = token(&auth, &url, "mallory", "app");
    let opened = 64 + 10;
    for _ in 0..opened {
        assert_eq!(post(&url, &mallory, None).await.status(), 200);
    }
    let deleted: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .filter_map(|(what, _)| what.strip_prefix("DELETE ").map(str::to_owned))
        .collect();
    let expected: Vec<String> = (0..10).map(|i| format!("session-{i}")).collect();
    assert_eq!(
        deleted, expected,
        "the ten oldest sessions are ended at the server"
    );
    assert_eq!(post(&url, &mallory, Some("session-0")).await.status(), 404);
    assert_eq!(post(&url, &mallory, Some("session-73")).await.status(), 200);
}
