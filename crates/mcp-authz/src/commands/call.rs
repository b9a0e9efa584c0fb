//! `mcp-authz call <mcp-url> <tool> [--args JSON|@FILE|-] [--json]`: one MCP tool call with the stored tokens. The
//! access token is refreshed when it expires or is refused (the rotated refresh token is saved
//! first); `403 insufficient_scope` sends the user to the browser again (step-up). Without a stored
//! grant the command stops and asks for `mcp-authz login`.

use std::io::Write;

use mcp_authz_client::CallToolResult;
use mcp_authz_metadata::ResourceUri;
use serde_json::{Map, Value};

use super::client::{ClientOptions, StoredSession, parse_server_url, run_until_interrupted};
use crate::error::{CliError, printable_text};

/// The options of `call`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct CallArgs {
    /// The MCP server's URL, as given to `mcp-authz login`.
    pub(crate) url: String,
    /// The tool's name (`mcp-authz tools URL` lists them).
    pub(crate) tool: String,
    /// The tool's arguments: a JSON object, e.g. `{"text":"hello"}`; `@FILE` reads it from a file,
    /// `-` from standard input.
    #[arg(long, value_name = "JSON|@FILE|-")]
    pub(crate) args: Option<String>,
    /// Print the tool's whole result as JSON (the MCP `tools/call` result) instead of its text.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
}

/// The text of `--args`: inline, from a file (`@FILE`) or from standard input (`-`).
fn read_arguments(text: Option<&str>) -> Result<Option<String>, CliError> {
    let read_error = |path: &str, source| CliError::Read {
        path: path.to_owned(),
        source,
    };
    match text {
        None => Ok(None),
        Some("-") => {
            let mut input = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut input)
                .map_err(|e| read_error("standard input", e))?;
            Ok(Some(input))
        }
        Some(text) => match text.strip_prefix('@') {
            Some(path) => std::fs::read_to_string(path)
                .map(Some)
                .map_err(|e| read_error(path, e)),
            None => Ok(Some(text.to_owned())),
        },
    }
}

/// Parses `--args`: a JSON object, or a precise error.
fn parse_arguments(text: Option<&str>) -> Result<Map<String, Value>, CliError> {
    let invalid = |reason: String| CliError::InvalidArgument {
        what: "--args",
        reason,
    };
    let Some(text) = text else {
        return Ok(Map::new());
    };
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(invalid(format!(
            "expected a JSON object such as {{\"text\":\"hello\"}}, got {}",
            kind(&other)
        ))),
        Err(e) => Err(invalid(format!("not JSON: {e}"))),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Runs the call and prints the tool's text content (or its whole result with `--json`).
pub(crate) fn run(args: &CallArgs, out: &mut impl Write) -> Result<(), CliError> {
    let resource = parse_server_url(&args.url)?;
    let text = read_arguments(args.args.as_deref())?;
    let arguments = parse_arguments(text.as_deref())?;
    let printed = run_until_interrupted(
        call(&resource, &args.tool, arguments, args.json, &args.client),
        "the call did not finish",
    )?;
    writeln!(out, "{}", printable_text(&printed))?;
    Ok(())
}

async fn call(
    resource: &ResourceUri,
    tool: &str,
    arguments: Map<String, Value>,
    json: bool,
    options: &ClientOptions,
) -> Result<String, CliError> {
    let session = StoredSession::open(resource, options).await?;
    let params = serde_json::json!({ "name": tool, "arguments": arguments });
    let result: Value = match session.mcp.request("tools/call", &params).await {
        Ok(result) => result,
        Err(error) => {
            let error = session.explain(error.into()).await;
            return Err(unknown_tool(&session, resource, tool)
                .await
                .unwrap_or(error));
        }
    };
    let parsed: CallToolResult = serde_json::from_value(result.clone())
        .map_err(|e| CliError::Failed(format!("the tool result is malformed: {e}")))?;
    let text = parsed
        .content
        .iter()
        .filter_map(|c| c.text.as_deref())
        .collect::<Vec<_>>()
        .join("\n");
    if parsed.is_error {
        return Err(match unknown_tool(&session, resource, tool).await {
            Some(error) => error,
            None => CliError::ToolFailed {
                tool: tool.to_owned(),
                message: text,
            },
        });
    }
    if json {
        return serde_json::to_string_pretty(&result)
            .map_err(|e| CliError::Failed(format!("cannot print the result: {e}")));
    }
    Ok(text)
}

/// After a failed call: the error naming the server's tools when `tool` is not one of them.
async fn unknown_tool(
    session: &StoredSession,
    resource: &ResourceUri,
    tool: &str,
) -> Option<CliError> {
    let tools = session.mcp.list_tools().await.ok()?;
    if tools.iter().any(|t| t.name == tool) {
        return None;
    }
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
    Some(CliError::UnknownTool {
        resource: resource.to_string(),
        tool: tool.to_owned(),
        tools: if names.is_empty() {
            "(none)".to_owned()
        } else {
            names.join(", ")
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_must_be_a_json_object() {
        assert!(parse_arguments(None).unwrap().is_empty());
        let map = parse_arguments(Some(r#"{"text":"hi"}"#)).unwrap();
        assert_eq!(map["text"], "hi");
        let err = parse_arguments(Some("[1]")).unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid --args: expected a JSON object such as {\"text\":\"hello\"}, got an array"
        );
        let err = parse_arguments(Some("{")).unwrap_err().to_string();
        assert!(err.starts_with("invalid --args: not JSON: "), "{err}");
    }
}
