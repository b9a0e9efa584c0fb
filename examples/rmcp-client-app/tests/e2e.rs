//! The application end to end over 127.0.0.1 against a real `mcp-authz-server` (dynamic
//! registration, login and consent approved automatically for a loopback test issuer) and the
//! `protected-mcp-server` example: login on first use, the tokens and registration in the example's
//! own store (private files), step-up when a tool needs more scope, refresh with rotation in a later
//! session, and a revoked grant taking the app back to authorization.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::Duration;

use mcp_authz_client::{RedirectCapture, RedirectUri, ReqwestHttpClient, UrlPolicy};
use mcp_authz_resource::{JwtVerifier, ResourceServer};
use mcp_authz_server::dangerous::AutoApprove;
use mcp_authz_server::{
    AuthorizationServer, Issuer, MemoryStore, ResourceUri, Scope, ServerConfig,
};
use rmcp::model::CallToolRequestParams;
use rmcp::transport::streamable_http_server::StreamableHttpServerConfig;
use rmcp_client_app::{DirectoryTokenStore, connect};

/// The authorization server at the root and the protected MCP server at `/mcp`, one listener.
async fn start() -> (String, AuthorizationServer) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let issuer = Issuer::parse(&base).unwrap();
    let resource = ResourceUri::parse(&format!("{base}/mcp")).unwrap();
    let config = ServerConfig::builder(issuer.clone())
        .allow_http_loopback()
        .resource(
            resource.clone(),
            Scope::parse("mcp:tools notes:read notes:write").unwrap(),
        )
        // Shorter than the client's 60 s refresh margin: every new session refreshes first.
        .access_token_lifetime(Duration::from_secs(30))
        .dangerous_auto_approve(AutoApprove::DevUser(
            mcp_authz_store::Subject::parse("dev-user").unwrap(),
        ))
        .build()
        .unwrap();
    let server = AuthorizationServer::new(config, Arc::new(MemoryStore::new())).unwrap();
    let verifier = JwtVerifier::builder(issuer.clone(), resource.clone())
        .build()
        .unwrap();
    let protected = ResourceServer::new(
        protected_mcp_server::config(resource.clone(), issuer).unwrap(),
        verifier,
    );
    let app = server.router().merge(protected_mcp_server::app(
        &resource,
        protected,
        StreamableHttpServerConfig::default(),
    ));
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap();
    });
    (base, server)
}

/// A headless step: the test server approves at once, so the redirect is read, not followed.
fn step() -> Arc<RedirectCapture> {
    let policy = UrlPolicy::default().allow_loopback(true);
    let http = Arc::new(ReqwestHttpClient::with_policy(policy.clone()).unwrap());
    Arc::new(RedirectCapture::new(
        http,
        policy,
        RedirectUri::parse("http://127.0.0.1:9/callback").unwrap(),
    ))
}

fn files(store: &DirectoryTokenStore, prefix: &str) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(store.dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect()
}

fn grant(store: &DirectoryTokenStore) -> serde_json::Value {
    let grants = files(store, "grant-");
    assert_eq!(grants.len(), 1, "{grants:?}");
    serde_json::from_slice(&std::fs::read(&grants[0]).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn login_step_up_refresh_and_revocation_with_an_own_token_store() {
    let (base, server) = start().await;
    let url = format!("{base}/mcp");
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(DirectoryTokenStore::open(dir.path().join("tokens")).unwrap());

    // First use: discovery, dynamic registration, authorization with the challenge's scope.
    let client = connect(&url, store.clone(), step()).await.unwrap();
    let tools = client.list_tools(None).await.unwrap();
    assert_eq!(tools.tools.len(), 3);
    assert_eq!(grant(&store)["scope"], "mcp:tools");
    assert_eq!(files(&store, "client-").len(), 1);
    #[cfg(unix)]
    for file in files(&store, "") {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", file.display());
    }

    // A tool that needs more: 403 insufficient_scope, authorization again with the union.
    let added = client
        .call_tool(
            CallToolRequestParams::new("add_note").with_arguments(
                serde_json::json!({"text": "hello"})
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
        )
        .await
        .unwrap();
    assert!(!added.is_error.unwrap_or(false), "{added:?}");
    let scope = grant(&store)["scope"].as_str().unwrap().to_owned();
    assert!(
        scope.contains("notes:write") && scope.contains("mcp:tools"),
        "{scope}"
    );
    client.cancel().await.unwrap();

    // A later session (a restarted app): the stored grant is refreshed and the rotation saved.
    let before = grant(&store);
    let again = connect(&url, store.clone(), step()).await.unwrap();
    let notes = again
        .call_tool(CallToolRequestParams::new("read_notes"))
        .await
        .unwrap();
    assert!(!notes.is_error.unwrap_or(false), "{notes:?}");
    let after = grant(&store);
    assert_ne!(after["refresh_token"], before["refresh_token"]);
    assert_ne!(after["access_token"], before["access_token"]);
    again.cancel().await.unwrap();

    // The operator revokes the grant: the stored refresh token is refused (invalid_grant), the
    // grant is dropped, and the app authorizes again by itself.
    let refresh = after["refresh_token"].as_str().unwrap();
    let revoked = server.revoke_as_operator(refresh).await.unwrap();
    assert_eq!(revoked, mcp_authz_server::OperatorRevocation::Grant);
    let third = connect(&url, store.clone(), step()).await.unwrap();
    assert_eq!(third.list_tools(None).await.unwrap().tools.len(), 3);
    assert_ne!(grant(&store)["refresh_token"], after["refresh_token"]);
    third.cancel().await.unwrap();
}
