//! `mcp-authz tools <mcp-url>`: the tools of an MCP server, with the stored tokens, each with its
//! description and the scope it needs when the server says so (the `_meta` member
//! [`REQUIRED_SCOPE_META`], which `serve`'s demo server sets; other servers may set it too).

use std::io::Write;

use mcp_authz_metadata::ResourceUri;
use serde::Deserialize;

use super::client::{ClientOptions, StoredSession, parse_server_url, run_until_interrupted};
use crate::demo::REQUIRED_SCOPE_META;
use crate::error::{CliError, printable};

/// The options of `tools`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ToolsArgs {
    /// The MCP server's URL, as given to `mcp-authz login`.
    pub(crate) url: String,
    /// Print the server's `tools/list` result as JSON.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// One tool of a `tools/list` result, the members printed.
#[derive(Debug, Deserialize)]
struct Tool {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default, rename = "_meta")]
    meta: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Deserialize)]
struct ToolList {
    tools: Vec<Tool>,
}

impl Tool {
    fn required_scope(&self) -> Option<&str> {
        self.meta.as_ref()?.get(REQUIRED_SCOPE_META)?.as_str()
    }
}

/// Lists the tools.
pub(crate) fn run(args: &ToolsArgs, out: &mut impl Write) -> Result<(), CliError> {
    let resource = parse_server_url(&args.url)?;
    let listing = run_until_interrupted(
        list(&resource, args.json, &args.client),
        "the listing did not finish",
    )?;
    write!(out, "{listing}")?;
    Ok(())
}

async fn list(
    resource: &ResourceUri,
    json: bool,
    options: &ClientOptions,
) -> Result<String, CliError> {
    let session = StoredSession::open(resource, options).await?;
    let result: serde_json::Value = match session
        .mcp
        .request("tools/list", serde_json::json!({}))
        .await
    {
        Ok(result) => result,
        Err(error) => return Err(session.explain(error.into()).await),
    };
    if json {
        let text = serde_json::to_string_pretty(&result)
            .map_err(|e| CliError::Failed(format!("cannot print the result: {e}")))?;
        return Ok(crate::error::printable_text(&format!("{text}\n")));
    }
    let list: ToolList = serde_json::from_value(result)
        .map_err(|e| CliError::Failed(format!("the tools/list result is malformed: {e}")))?;
    Ok(render(&list.tools))
}

/// One line per tool: name, required scope, description; every server-supplied text made safe to
/// print.
fn render(tools: &[Tool]) -> String {
    if tools.is_empty() {
        return "(no tools)\n".to_owned();
    }
    let width = tools
        .iter()
        .map(|t| t.name.chars().count())
        .max()
        .unwrap_or(0);
    let mut text = String::new();
    for tool in tools {
        let scope = tool
            .required_scope()
            .map_or_else(String::new, |s| format!("  [scope: {s}]"));
        let description = tool
            .description
            .as_deref()
            .map_or_else(String::new, |d| format!("  {d}"));
        text.push_str(&printable(&format!(
            "{:<width$}{description}{scope}",
            tool.name
        )));
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_tool_is_one_safe_line_with_its_scope() {
        let list: ToolList = serde_json::from_value(serde_json::json!({"tools": [
            {"name": "whoami", "description": "Tell who is calling"},
            {"name": "add_note", "description": "Add\u{1b}[2J a note",
             "_meta": {REQUIRED_SCOPE_META: "notes:write"}},
        ]}))
        .unwrap();
        assert_eq!(
            render(&list.tools),
            "whoami    Tell who is calling\nadd_note  Add?[2J a note  [scope: notes:write]\n"
        );
        assert_eq!(render(&[]), "(no tools)\n");
    }
}
