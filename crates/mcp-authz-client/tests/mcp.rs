//! The minimal MCP caller over the authorized transport: JSON and SSE responses, both lifecycles.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::expect_used
)]

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;

use mcp_authz_client::McpClient;
use support::{Cfg, World};

#[tokio::test]
async fn mcp_caller_handles_json_and_event_stream_responses() {
    for (sse, version) in [
        (false, "2025-11-25"),
        (true, "2025-11-25"),
        (false, "2026-07-28"),
        (true, "2026-07-28"),
    ] {
        let world = World::start(Cfg {
            sse,
            ..Cfg::default()
        })
        .await;
        let mcp = McpClient::new(Arc::new(world.client().build().unwrap()), version);
        mcp.connect().await.unwrap();
        let tools = mcp.list_tools().await.unwrap();
        assert_eq!(tools[0].name, "test-tool");
        let result = mcp
            .call_tool("test-tool", &BTreeMap::<String, String>::new())
            .await
            .unwrap();
        assert_eq!(result.content[0].text.as_deref(), Some("test"));
        assert!(!result.is_error);
        let methods: Vec<String> = world
            .log()
            .requests
            .iter()
            .filter(|r| r == &"POST /mcp")
            .cloned()
            .collect();
        // stateful: initialize (401), initialize, notifications/initialized, tools/list, tools/call
        // stateless: server/discover (401), server/discover, tools/list, tools/call
        assert_eq!(
            methods.len(),
            if version == "2025-11-25" { 5 } else { 4 },
            "{version}"
        );
    }
}
