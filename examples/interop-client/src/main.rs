//! `mcp-authz-client` against the official TypeScript MCP SDK's OAuth example server
//! (`simpleStreamableHttp.js --oauth` or `--oauth-strict`), run by `interop/typescript/run.sh`.
//!
//! ```text
//! interop-client <mcp-server-url> [label] [greet|step-up]
//! ```
//!
//! Discovery, dynamic registration, authorization (the example's demo authorization server approves
//! at once and redirects, so [`RedirectCapture`] plays the browser), token exchange, `initialize`,
//! `tools/list`, then either a call of the example's `greet` tool, or (`step-up`, against
//! `sdk-stepup-server.mjs`) `whoami` and `add_note`, which needs `notes:write`: 403
//! `insufficient_scope`, a second authorization with the union of scopes, and the call again. Prints one `✓` line per step; on the first
//! failure prints the error and every HTTP exchange (tokens redacted) and exits 1; with
//! `INTEROP_VERBOSE=1` it prints them on success too.

mod transcript;

use std::collections::BTreeMap;
use std::error::Error;
use std::process::ExitCode;
use std::sync::Arc;

use mcp_authz_client::{
    CallToolResult, McpClient, OAuthClient, RedirectCapture, ReqwestHttpClient, UrlPolicy,
};
use mcp_authz_metadata::RedirectUri;
use transcript::{Transcript, redact_url};

/// Never listened on: [`RedirectCapture`] reads the authorization endpoint's redirect.
const REDIRECT_URI: &str = "http://127.0.0.1:33419/callback";

type Failure = Box<dyn Error>;

fn check(condition: bool, message: impl Into<String>) -> Result<(), Failure> {
    if condition {
        Ok(())
    } else {
        Err(message.into().into())
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(server_url) = args.next() else {
        eprintln!("usage: interop-client <mcp-server-url> [label]");
        return ExitCode::from(2);
    };
    let label = format!(
        "interop-client ({})",
        args.next().unwrap_or_else(|| "typescript".into())
    );
    let step_up = match args.next().as_deref() {
        None | Some("greet") => false,
        Some("step-up") => true,
        Some(other) => {
            eprintln!("{label}: unknown check {other:?} (greet or step-up)");
            return ExitCode::from(2);
        }
    };
    let policy = UrlPolicy::default().allow_loopback(true);
    let transcript = match ReqwestHttpClient::with_policy(policy.clone()) {
        Ok(http) => Arc::new(Transcript::new(Arc::new(http))),
        Err(error) => {
            eprintln!("{label}: {error}");
            return ExitCode::FAILURE;
        }
    };
    match run(&server_url, &label, step_up, policy, &transcript).await {
        Ok(()) => {
            if std::env::var_os("INTEROP_VERBOSE").is_some_and(|v| !v.is_empty()) {
                transcript.print(&label);
            }
            println!("{label}: passed");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{label}: FAILED: {error}");
            transcript.print(&label);
            ExitCode::FAILURE
        }
    }
}

async fn run(
    server_url: &str,
    label: &str,
    step_up: bool,
    policy: UrlPolicy,
    transcript: &Arc<Transcript>,
) -> Result<(), Failure> {
    let ok = |step: String| {
        println!("  ✓ {label}: {step}");
        transcript.note(&format!("passed: {step}"));
    };
    let step = RedirectCapture::new(
        transcript.clone(),
        policy.clone(),
        RedirectUri::parse(REDIRECT_URI)?,
    );
    let oauth = Arc::new(
        OAuthClient::builder(server_url)?
            .http_client(transcript.clone())
            .url_policy(policy)
            .authorization_step(Arc::new(step))
            .client_name("mcp-authz interop client")
            .build()?,
    );

    // 1. Discovery: protected resource metadata, then the authorization server's metadata.
    let discovery = oauth.discover().await?;
    let metadata = &discovery.authorization_server;
    ok(format!(
        "discovery (resource {}, issuer {})",
        discovery.resource(),
        discovery.issuer()
    ));

    // 2. Registration, authorization, token exchange: all inside the first authorized request.
    let mcp = McpClient::new(oauth.clone(), "2025-11-25");
    mcp.connect().await?;
    let exchanges = transcript.exchanges();
    let registration = metadata
        .registration_endpoint()
        .ok_or("no registration_endpoint")?;
    check(
        exchanges
            .iter()
            .any(|e| e.method == http::Method::POST && &e.url == registration && e.status == 201),
        "no successful dynamic registration",
    )?;
    let authorize = exchanges
        .iter()
        .find(|e| {
            e.url
                .as_str()
                .starts_with(metadata.authorization_endpoint().as_str())
        })
        .ok_or("no authorization request")?;
    let query: BTreeMap<String, String> = authorize.url.query_pairs().into_owned().collect();
    let resource = query.get("resource").map(String::as_str);
    check(
        resource == Some(oauth.resource().as_str()),
        format!("authorization request resource={resource:?}"),
    )?;
    check(
        query.get("code_challenge_method").map(String::as_str) == Some("S256"),
        "no S256 PKCE",
    )?;
    check(
        exchanges
            .iter()
            .any(|e| &e.url == metadata.token_endpoint() && e.status == 200),
        "no successful token request",
    )?;
    let grant = oauth.current_grant().await.ok_or("no grant stored")?;
    ok(format!(
        "registration + authorization ({}) + token (scope {:?}, refresh token: {}) + initialize",
        redact_url(&authorize.url),
        grant.scope.as_ref().map(ToString::to_string),
        if grant.refresh_token.is_some() {
            "yes"
        } else {
            "none issued"
        },
    ));

    if step_up {
        return steps_up(&mcp, transcript, metadata.authorization_endpoint(), ok).await;
    }

    // 3. Tool calls.
    let tools = mcp.list_tools().await?;
    check(
        tools.iter().any(|t| t.name == "greet"),
        "the server lists no `greet` tool",
    )?;
    let result = mcp
        .call_tool("greet", &BTreeMap::from([("name", "mcp-authz")]))
        .await?;
    let text: Vec<&str> = result
        .content
        .iter()
        .filter_map(|c| c.text.as_deref())
        .collect();
    check(
        !result.is_error && text.iter().any(|t| t.contains("Hello, mcp-authz")),
        format!("greet returned {text:?}"),
    )?;
    ok(format!(
        "tools/list ({} tools) + tools/call greet ({})",
        tools.len(),
        text.join(" ")
    ));
    Ok(())
}

/// The texts of a tool result, which must not be an error.
fn texts(result: &CallToolResult) -> Result<String, Failure> {
    let text: Vec<&str> = result
        .content
        .iter()
        .filter_map(|c| c.text.as_deref())
        .collect();
    check(!result.is_error, format!("the tool failed: {text:?}"))?;
    Ok(text.join(" "))
}

/// `whoami`, then `add_note` (403 insufficient_scope, step-up), then `whoami` again.
async fn steps_up(
    mcp: &McpClient,
    transcript: &Transcript,
    authorization_endpoint: &url::Url,
    ok: impl Fn(String),
) -> Result<(), Failure> {
    let authorizations = || {
        transcript
            .exchanges()
            .into_iter()
            .filter(|e| e.url.as_str().starts_with(authorization_endpoint.as_str()))
            .collect::<Vec<_>>()
    };
    let no_args = BTreeMap::<String, String>::new();
    let before = texts(&mcp.call_tool("whoami", &no_args).await?)?;
    check(
        before == "scopes=mcp:tools",
        format!("whoami before step-up: {before}"),
    )?;
    let note = texts(
        &mcp.call_tool(
            "add_note",
            &BTreeMap::from([("text", "from mcp-authz-client")]),
        )
        .await?,
    )?;
    check(
        note == "noted: from mcp-authz-client",
        format!("add_note: {note}"),
    )?;
    check(
        transcript
            .exchanges()
            .iter()
            .any(|e| e.method == http::Method::POST && e.status == 403),
        "add_note succeeded without a 403 insufficient_scope first",
    )?;
    let all = authorizations();
    let last = all.last().ok_or("no authorization request")?;
    check(
        all.len() == 2,
        format!("{} authorizations, expected 2", all.len()),
    )?;
    let scope: String = last
        .url
        .query_pairs()
        .find(|(k, _)| k == "scope")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    check(
        scope.split(' ').any(|s| s == "notes:write") && scope.split(' ').any(|s| s == "mcp:tools"),
        format!("step-up authorization asked scope {scope:?}"),
    )?;
    let after = texts(&mcp.call_tool("whoami", &no_args).await?)?;
    check(
        after.contains("notes:write"),
        format!("whoami after step-up: {after}"),
    )?;
    ok(format!(
        "step-up: 403 insufficient_scope on add_note, re-authorized with scope {scope:?}, add_note succeeded ({after})"
    ));
    Ok(())
}
