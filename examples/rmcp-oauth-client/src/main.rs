//! rmcp's own OAuth client (`rmcp` 3.x, feature `auth`: `OAuthState`, `AuthorizationManager`,
//! `AuthClient`) against `mcp-authz serve --dev`, used as shipped; run by `interop/rmcp/run.sh`.
//!
//! ```text
//! rmcp-oauth-client <mcp-server-url> <access-token-ttl-seconds>
//! ```
//!
//! The only application code is the user agent (it follows the authorization URL, which `--dev`
//! answers with a redirect) and what rmcp leaves to the application by design: on a
//! `403 insufficient_scope` the application asks the manager for a scope upgrade
//! (`request_scope_upgrade`, the union of scopes), sends the user there, and exchanges the code.
//! Steps: discovery and dynamic registration, authorization (PKCE S256, `resource`, `state`, RFC 9207
//! `iss`) and token exchange, `tools/list` and `whoami`, a refresh once the access token expired,
//! step-up to `notes:write` for `add_note`, and revocation. Prints one `✓` line per step; the first
//! failure is printed and the exit status is 1.

use std::error::Error;
use std::process::ExitCode;
use std::time::Duration;

use oauth2::TokenResponse;
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::auth::{
    AuthClient, AuthorizationCallback, AuthorizationRequest, OAuthState, WWWAuthenticateParams,
};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;

/// Never listened on: the user agent reads the authorization endpoint's redirect.
const REDIRECT_URI: &str = "http://127.0.0.1:33420/callback";
const LABEL: &str = "rmcp OAuth client";

type Failure = Box<dyn Error + Send + Sync>;

fn check(condition: bool, message: impl Into<String>) -> Result<(), Failure> {
    if condition {
        Ok(())
    } else {
        Err(message.into().into())
    }
}

fn ok(step: &str) {
    println!("  ✓ {LABEL}: {step}");
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(server), Some(ttl)) = (
        args.first(),
        args.get(1).and_then(|t| t.parse::<u64>().ok()),
    ) else {
        eprintln!("usage: rmcp-oauth-client <mcp-server-url> <access-token-ttl-seconds>");
        return ExitCode::from(2);
    };
    match run(server, ttl).await {
        Ok(()) => {
            println!("{LABEL}: passed");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{LABEL}: FAILED: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The user agent: follows the authorization URL and returns the redirect's location.
async fn user_agent(authorization_url: &str) -> Result<String, Failure> {
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let response = browser.get(authorization_url).send().await?;
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let Some(location) = location.filter(|_| response.status().is_redirection()) else {
        return Err(format!(
            "the authorization endpoint answered {} without a redirect",
            response.status()
        )
        .into());
    };
    let url = url::Url::parse(&location)?;
    check(
        url.as_str().starts_with(REDIRECT_URI),
        format!("redirected to {location}"),
    )?;
    if let Some((_, error)) = url.query_pairs().find(|(k, _)| k == "error") {
        return Err(format!("the authorization server refused: {error}").into());
    }
    Ok(location)
}

/// The value of a query parameter of a URL.
fn query(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The texts of a tool result, which must not be an error.
fn text(result: &CallToolResult) -> Result<String, Failure> {
    check(
        result.is_error != Some(true),
        format!("the tool failed: {result:?}"),
    )?;
    Ok(result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join(" "))
}

type Client = RunningService<RoleClient, ()>;

async fn connect(auth: &AuthClient<reqwest::Client>, server: &str) -> Result<Client, Failure> {
    let transport = StreamableHttpClientTransport::with_client(
        auth.clone(),
        StreamableHttpClientTransportConfig::with_uri(server),
    );
    Ok(().serve(transport).await?)
}

async fn call(
    client: &Client,
    name: &'static str,
    arguments: Option<serde_json::Value>,
) -> Result<CallToolResult, Failure> {
    let mut params = CallToolRequestParams::new(name);
    if let Some(serde_json::Value::Object(arguments)) = arguments {
        params = params.with_arguments(arguments);
    }
    Ok(client.call_tool(params).await?)
}

async fn run(server: &str, ttl: u64) -> Result<(), Failure> {
    // 1. Discovery, registration, authorization, token exchange.
    let mut state = OAuthState::new(server, None).await?;
    state
        .start_authorization(
            AuthorizationRequest::new(REDIRECT_URI)
                .with_client_name("mcp-authz rmcp interop")
                .with_initial_scope_selection(),
        )
        .await?;
    let authorization_url = state.get_authorization_url().await?;
    check(
        query(&authorization_url, "resource").as_deref() == Some(server),
        format!(
            "authorization request resource={:?}",
            query(&authorization_url, "resource")
        ),
    )?;
    check(
        query(&authorization_url, "code_challenge_method").as_deref() == Some("S256"),
        "no S256 PKCE",
    )?;
    let location = user_agent(&authorization_url).await?;
    check(
        query(&location, "iss").is_some(),
        "the redirect carries no iss",
    )?;
    state.handle_callback_url(&location).await?;
    let manager = state
        .into_authorization_manager()
        .ok_or("no authorization manager after the callback")?;
    let (client_id, credentials) = manager.get_credentials().await?;
    let first = credentials.ok_or("no token after the code exchange")?;
    check(
        first.refresh_token().is_some(),
        "no refresh token was issued",
    )?;
    ok(&format!(
        "discovery + dynamic registration (client {client_id}) + authorization (scope {:?}, resource, PKCE S256, state, iss) + token exchange",
        query(&authorization_url, "scope").unwrap_or_default()
    ));
    let metadata = manager.resolve_metadata().await?.metadata;
    let auth = AuthClient::new(reqwest::Client::new(), manager);

    // 2. Tool calls.
    let client = connect(&auth, server).await?;
    let tools = client.list_tools(Default::default()).await?;
    for name in ["whoami", "read_notes", "add_note"] {
        check(
            tools.tools.iter().any(|t| t.name == name),
            format!("no tool {name}"),
        )?;
    }
    let who = text(&call(&client, "whoami", None).await?)?;
    check(
        who.contains(&format!("client={client_id}")),
        format!("whoami: {who}"),
    )?;
    ok(&format!("tools/list + tools/call whoami ({who})"));

    // 3. Refresh: the access token expires; the manager refreshes before the next request.
    let before = first.refresh_token().map(|t| t.secret().clone());
    tokio::time::sleep(Duration::from_secs(ttl + 1)).await;
    let again = text(&call(&client, "whoami", None).await?)?;
    check(
        again.contains(&format!("client={client_id}")),
        format!("whoami after refresh: {again}"),
    )?;
    let (_, refreshed) = auth.auth_manager.lock().await.get_credentials().await?;
    let after = refreshed
        .as_ref()
        .and_then(|t| t.refresh_token())
        .map(|t| t.secret().clone());
    check(
        after.is_some() && after != before,
        "the refresh token was not rotated",
    )?;
    ok("refresh of the expired access token (refresh token rotated)");

    // 4. Step-up: add_note needs notes:write; the server answers 403 insufficient_scope.
    let refused = call(
        &client,
        "add_note",
        Some(serde_json::json!({"text": "from rmcp"})),
    )
    .await;
    let error = match refused {
        Ok(result) => {
            return Err(format!("add_note succeeded without notes:write: {result:?}").into());
        }
        Err(error) => error,
    };
    let challenge =
        insufficient_scope(&*error).ok_or_else(|| format!("add_note failed otherwise: {error}"))?;
    // rmcp's own challenge parser reads the required scope.
    let params = WWWAuthenticateParams::parse(&challenge, &url::Url::parse(server)?);
    check(
        params.is_insufficient_scope(),
        format!("not an insufficient_scope challenge: {challenge}"),
    )?;
    let required = params
        .scope
        .ok_or_else(|| format!("the 403 names no scope: {challenge}"))?;
    let upgrade_url = auth
        .auth_manager
        .lock()
        .await
        .request_scope_upgrade(&required)
        .await?;
    let scope = query(&upgrade_url, "scope").unwrap_or_default();
    check(
        scope.split(' ').any(|s| s == "notes:write") && scope.split(' ').any(|s| s == "mcp:tools"),
        format!("scope upgrade asked {scope:?}"),
    )?;
    let location = user_agent(&upgrade_url).await?;
    let callback = AuthorizationCallback::from_redirect_url(&location)?;
    auth.auth_manager
        .lock()
        .await
        .exchange_code_for_token_with_issuer(
            &callback.code,
            &callback.csrf_token,
            callback.issuer.as_deref(),
        )
        .await?;
    let client = connect(&auth, server).await?;
    let note = text(
        &call(
            &client,
            "add_note",
            Some(serde_json::json!({"text": "from rmcp"})),
        )
        .await?,
    )?;
    check(note.ends_with("from rmcp"), format!("add_note: {note}"))?;
    let who = text(&call(&client, "whoami", None).await?)?;
    check(
        who.contains("notes:write") && who.contains(&format!("client={client_id}")),
        format!("whoami after step-up: {who}"),
    )?;
    ok(&format!(
        "step-up: 403 insufficient_scope, re-authorized with scope {scope:?} (same client), add_note succeeded"
    ));

    // 5. Revocation (RFC 7009): rmcp has no revocation call, so the application posts the refresh token.
    let (_, current) = auth.auth_manager.lock().await.get_credentials().await?;
    let refresh_token = current
        .as_ref()
        .and_then(|t| t.refresh_token())
        .map(|t| t.secret().clone())
        .ok_or("no refresh token after the step-up")?;
    let revocation = metadata
        .additional_fields
        .get("revocation_endpoint")
        .and_then(|v| v.as_str())
        .map(str::to_owned)
        .ok_or("the authorization server metadata names no revocation_endpoint")?;
    let http = reqwest::Client::new();
    let revoked = http
        .post(&revocation)
        .form(&[
            ("token", refresh_token.as_str()),
            ("client_id", client_id.as_str()),
        ])
        .send()
        .await?;
    check(
        revoked.status() == 200,
        format!("revocation answered {}", revoked.status()),
    )?;
    let refused = http
        .post(&metadata.token_endpoint)
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.as_str()),
            ("client_id", client_id.as_str()),
            ("resource", server),
        ])
        .send()
        .await?;
    let status = refused.status();
    let body = refused.text().await?;
    check(
        status == 400 && body.contains("\"invalid_grant\""),
        format!("refresh after revocation: {status} {body}"),
    )?;
    ok("revocation: the revoked refresh token is invalid_grant");
    Ok(())
}

/// The `WWW-Authenticate` value of an insufficient-scope refusal anywhere in the error's chain.
fn insufficient_scope(error: &(dyn Error + 'static)) -> Option<String> {
    let mut current = Some(error);
    while let Some(e) = current {
        let shown = e.to_string();
        if let Some(start) = shown.find("Bearer")
            && shown.contains("insufficient_scope")
        {
            return shown.get(start..).map(str::to_owned);
        }
        current = e.source();
    }
    None
}
