//! The rmcp adapter (feature `rmcp`): an rmcp client over `AuthorizedRmcpClient` is authorized,
//! steps up and reads both JSON and SSE responses.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod support;

use std::sync::Arc;

use mcp_authz_client::AuthorizedRmcpClient;
use rmcp::ServiceExt as _;
use rmcp::model::CallToolRequestParams;
use support::{Cfg, World};

#[tokio::test]
async fn rmcp_client_is_authorized_and_steps_up() {
    for sse in [false, true] {
        let world = World::start(Cfg {
            sse,
            challenge_scope: Some("mcp:basic".into()),
            tool_call_scope: Some("mcp:write".into()),
            ..Cfg::default()
        })
        .await;
        let oauth = Arc::new(world.client().build().unwrap());
        let client = ().serve(AuthorizedRmcpClient::transport(oauth)).await.unwrap();
        let tools = client.list_tools(None).await.unwrap();
        assert_eq!(tools.tools[0].name, "test-tool");
        let result = client
            .call_tool(CallToolRequestParams::new("test-tool"))
            .await
            .unwrap();
        assert_eq!(result.content.len(), 1);
        client.cancel().await.unwrap();
        let log = world.log();
        let scopes: Vec<&str> = log
            .authorize
            .iter()
            .map(|(_, q)| q["scope"].as_str())
            .collect();
        assert_eq!(scopes, ["mcp:basic", "mcp:basic mcp:write"], "sse={sse}");
        assert!(
            log.mcp_auth[1..]
                .iter()
                .all(|a| a.as_deref().is_some_and(|a| a.starts_with("Bearer ")))
        );
    }
}
