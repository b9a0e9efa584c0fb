//! `mcp-authz call <mcp-url> <tool> [--args JSON]`: one MCP tool call with the stored tokens. The
//! access token is refreshed when it expires or is refused (the rotated refresh token is saved
//! first); `403 insufficient_scope` sends the user to the browser again (step-up). Without a stored
//! grant the command stops and asks for `mcp-authz login`.

use std::io::Write;
use std::sync::Arc;

use mcp_authz_client::{ClientError, LoopbackRedirect, McpClient, OAuthClient, TokenStore};
use mcp_authz_metadata::ResourceUri;
use serde_json::{Map, Value};

use super::client::{
    BrowserStep, ClientOptions, PROTOCOL_VERSION, http_client, parse_server_url, policy_for, probe,
    runtime,
};
use crate::error::{CliError, printable_text};

/// The options of `call`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct CallArgs {
    /// The MCP server's URL, as given to `mcp-authz login`.
    pub(crate) url: String,
    /// The tool's name.
    pub(crate) tool: String,
    /// The tool's arguments: a JSON object, e.g. `{"text":"hello"}`.
    #[arg(long, value_name = "JSON")]
    pub(crate) args: Option<String>,
    #[command(flatten)]
    pub(crate) client: ClientOptions,
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

/// Runs the call and prints the tool's text content.
pub(crate) fn run(args: &CallArgs, out: &mut impl Write) -> Result<(), CliError> {
    let resource = parse_server_url(&args.url)?;
    let arguments = parse_arguments(args.args.as_deref())?;
    let store: Arc<dyn TokenStore> = args.client.token_store()?;
    let step = Arc::new(BrowserStep::step_up_only(LoopbackRedirect::new(
        args.client.launch(),
    )));
    let text = runtime()?.block_on(call(&resource, &args.tool, &arguments, store, step))?;
    writeln!(out, "{}", printable_text(&text))?;
    Ok(())
}

async fn call(
    resource: &ResourceUri,
    tool: &str,
    arguments: &Map<String, Value>,
    store: Arc<dyn TokenStore>,
    step: Arc<BrowserStep>,
) -> Result<String, CliError> {
    let not_logged_in = || CliError::NotLoggedIn {
        resource: resource.to_string(),
    };
    let policy = policy_for(resource);
    let http = http_client(&policy)?;
    let challenge = probe(http.as_ref(), &policy, resource)
        .await?
        .challenge
        .ok()
        .flatten();
    let oauth = OAuthClient::builder(resource.as_str())?
        .http_client(http)
        .url_policy(policy)
        .token_store(store.clone())
        .authorization_step(step.clone())
        .client_name("mcp-authz command line")
        .build()?;
    let discovery = oauth.discover_from(challenge.as_ref()).await?;
    // Keyed by the URL the user logged in to: a grant for a parent resource is never sent here
    // unless the user logged in to this very URL (CL-2, SEC-7).
    let key = oauth.grant_key(&discovery);
    if store
        .load_grant(&key)
        .await
        .map_err(ClientError::from)?
        .is_none()
    {
        return Err(not_logged_in());
    }
    step.require_grant(store, key);
    let mcp = McpClient::new(Arc::new(oauth), PROTOCOL_VERSION);
    let outcome = async {
        mcp.connect().await?;
        mcp.call_tool(tool, arguments).await
    }
    .await;
    let result = match outcome {
        Ok(result) => result,
        Err(_) if step.refused_sign_in() => return Err(not_logged_in()),
        Err(error) => return Err(error.into()),
    };
    let text = result
        .content
        .iter()
        .filter_map(|c| c.text.as_deref())
        .collect::<Vec<_>>()
        .join("\n");
    if result.is_error {
        return Err(CliError::ToolFailed {
            tool: tool.to_owned(),
            message: text,
        });
    }
    Ok(text)
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
