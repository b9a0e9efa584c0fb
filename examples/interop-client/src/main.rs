//! `mcp-authz-client` against MCP servers built with the official SDKs: the TypeScript SDK's OAuth
//! example server (`simpleStreamableHttp.js --oauth` or `--oauth-strict`) and step-up server, run by
//! `interop/typescript/run.sh`, and the Python SDK step-up server, run by `interop/python/run.sh`.
//!
//! ```text
//! interop-client <mcp-server-url> [label] [greet|step-up|step-up-without-scope|issuer-mismatch]
//! ```
//!
//! Discovery, dynamic registration, authorization (the example's demo authorization server approves
//! at once and redirects, so [`RedirectCapture`] plays the browser), token exchange, `initialize`,
//! `tools/list`, then either a call of the example's `greet` tool, or (`step-up`, against
//! `sdk-stepup-server.mjs`) `whoami` and `add_note`, which needs `notes:write`: 403
//! `insufficient_scope`, a second authorization with the union of scopes, and the call again.
//! Against the Python SDK's server (`interop/python/sdk_stepup_server.py`) two peer behaviours are
//! asserted as they ship, each with its upstream issue, so that the step turns red when they change:
//! `step-up-without-scope` (its 403 names no `scope`, python-sdk#3103) and `issuer-mismatch` (its
//! protected resource metadata adds a `/` to a root issuer, python-sdk#1919). Prints one `✓` line per step; on the first
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
use mcp_authz_token::{BearerChallenge, BearerError, Challenge};
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
    let check = match args.next().as_deref() {
        None | Some("greet") => Check::Greet,
        Some("step-up") => Check::StepUp,
        Some("step-up-without-scope") => Check::StepUpWithoutScope,
        Some("issuer-mismatch") => Check::IssuerMismatch,
        Some(other) => {
            eprintln!(
                "{label}: unknown check {other:?} (greet, step-up, step-up-without-scope or issuer-mismatch)"
            );
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
    match run(&server_url, &label, check, policy, &transcript).await {
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

/// What the run checks after authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// The TypeScript example's `greet` tool.
    Greet,
    /// `whoami`, `add_note` with step-up, `whoami`.
    StepUp,
    /// `whoami`, then `add_note` refused: the server's 403 names no `scope` (python-sdk#3103).
    StepUpWithoutScope,
    /// Discovery refused: the PRM names the issuer with a `/` the AS does not (python-sdk#1919).
    IssuerMismatch,
}

async fn run(
    server_url: &str,
    label: &str,
    check_after: Check,
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
    if check_after == Check::IssuerMismatch {
        return issuer_mismatch(&oauth, transcript, ok).await;
    }
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

    match check_after {
        Check::StepUp => {
            return steps_up(&mcp, transcript, metadata.authorization_endpoint(), ok).await;
        }
        Check::StepUpWithoutScope => return step_up_without_scope(&mcp, transcript, ok).await,
        Check::Greet | Check::IssuerMismatch => {}
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

/// python-sdk#3103 (<https://github.com/modelcontextprotocol/python-sdk/issues/3103>), as shipped: the
/// SDK's `RequireAuthMiddleware` answers `403 insufficient_scope` without the RFC 6750 `scope`
/// attribute, so a client cannot learn the scope a tool needs, and the protected resource metadata
/// lists only `required_scopes`. `whoami` works; `add_note` stays refused. Fails (turns red) as soon
/// as a 403 names a `scope` or `add_note` succeeds.
async fn step_up_without_scope(
    mcp: &McpClient,
    transcript: &Transcript,
    ok: impl Fn(String),
) -> Result<(), Failure> {
    let no_args = BTreeMap::<String, String>::new();
    let before = texts(&mcp.call_tool("whoami", &no_args).await?)?;
    check(
        before == "scopes=mcp:tools",
        format!("whoami before step-up: {before}"),
    )?;
    ok(format!("tools/call whoami ({before})"));
    let refused = mcp
        .call_tool(
            "add_note",
            &BTreeMap::from([("text", "from mcp-authz-client")]),
        )
        .await;
    let challenges: Vec<String> = transcript
        .exchanges()
        .into_iter()
        .filter(|e| e.status == 403)
        .filter_map(|e| e.challenge)
        .collect();
    check(
        !challenges.is_empty(),
        "add_note got no 403 challenge at all",
    )?;
    // Read with the project's own challenge parser (RFC 9110 §11.6.1, RFC 6750 §3).
    let names_no_scope = |header: &String| {
        Challenge::parse_str(header).is_ok_and(|parsed| {
            parsed.iter().any(|c| {
                BearerChallenge::from_challenge(c).is_ok_and(|b| {
                    b.error == Some(BearerError::InsufficientScope) && b.scope.is_none()
                })
            })
        })
    };
    check(
        challenges.iter().all(names_no_scope),
        format!(
            "a 403 named a scope: python-sdk#3103 is fixed; expect step-up to work now and update this check and docs/conformance.md ({challenges:?})"
        ),
    )?;
    check(
        refused.is_err(),
        "add_note succeeded: python-sdk#3103 is fixed; update this check and docs/conformance.md",
    )?;
    ok(format!(
        "known SDK behaviour (python-sdk#3103): 403 insufficient_scope without `scope` ({} challenges), so add_note cannot step up",
        challenges.len()
    ));
    Ok(())
}

/// python-sdk#1919 (<https://github.com/modelcontextprotocol/python-sdk/issues/1919>), as shipped: the
/// SDK renders `AuthSettings.issuer_url` through pydantic's `AnyHttpUrl`, which adds a `/` to a root
/// URL, so its protected resource metadata names `http://host:port/` for an authorization server
/// whose issuer is `http://host:port`; RFC 8414 §3.3 makes the client refuse that metadata. Fails
/// (turns red) when discovery succeeds.
async fn issuer_mismatch(
    oauth: &OAuthClient,
    transcript: &Transcript,
    ok: impl Fn(String),
) -> Result<(), Failure> {
    let Err(error) = oauth.discover().await else {
        return Err("discovery succeeded: python-sdk#1919 is fixed; update this check and docs/conformance.md".into());
    };
    let message = error.to_string();
    check(
        message.contains("not identical to the expected issuer"),
        format!("discovery failed otherwise: {message}"),
    )?;
    check(
        transcript.exchanges().iter().any(|e| e.status == 200),
        "no metadata was fetched",
    )?;
    ok(format!(
        "known SDK behaviour (python-sdk#1919): its metadata adds `/` to a root issuer, discovery refused ({message})"
    ));
    Ok(())
}
