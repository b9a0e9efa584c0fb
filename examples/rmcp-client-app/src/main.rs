//! `rmcp-client-app URL [TOOL [JSON]]`: lists the tools of the MCP server at `URL`, or calls one,
//! signing in through the browser when needed; tokens are kept in `$XDG_STATE_HOME/rmcp-client-app`
//! (else `~/.local/state/rmcp-client-app`) by the example's own store.

use std::sync::Arc;

use mcp_authz_client::{BrowserLaunch, LoopbackRedirect};
use rmcp::model::CallToolRequestParams;
use rmcp_client_app::{DirectoryTokenStore, connect};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .ok_or("usage: rmcp-client-app URL [TOOL [JSON]]")?;
    let state = std::env::var_os("XDG_STATE_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".local/state")))
        .ok_or("set XDG_STATE_HOME or HOME")?;
    let store = Arc::new(DirectoryTokenStore::open(state.join("rmcp-client-app"))?);
    let step = Arc::new(LoopbackRedirect::new(BrowserLaunch::Open));
    let client = connect(&url, store, step).await?;
    match args.next() {
        None => {
            for tool in client.list_tools(None).await?.tools {
                println!("{}", tool.name);
            }
        }
        Some(tool) => {
            let mut request = CallToolRequestParams::new(tool);
            if let Some(json) = args.next() {
                request = request.with_arguments(serde_json::from_str(&json)?);
            }
            let result = client.call_tool(request).await?;
            println!("{}", serde_json::to_string_pretty(&result.content)?);
        }
    }
    client.cancel().await?;
    Ok(())
}
