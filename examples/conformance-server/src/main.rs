//! The authorization server under test for the MCP conformance suite (`conformance authorization`).
//!
//! ```text
//! conformance-server --redirect-uri http://127.0.0.1:3000/callback [--client-id ID] [--port P]
//!                    [--resource URI] [--misbehave wrong-issuer]
//! ```
//!
//! Serves [`mcp_authz_server`] over a [`MemoryStore`] on `127.0.0.1` (port 0 picks a free one), with
//! one pre-registered public client (`token_endpoint_auth_method` `none`, default id
//! `conformance-client`) that may use the given redirect URIs and the resource (default
//! `<issuer>/mcp`). Login and consent are skipped with [`AutoApprove::DevUser`], which the server
//! only allows for a loopback `http` issuer. Once listening it prints the issuer URL on a line of its
//! own on standard output, then serves until killed.
//!
//! `--misbehave wrong-issuer` (or `CONFORMANCE_SERVER_MISBEHAVE=wrong-issuer`) configures the issuer
//! as `http://localhost:<port>` while printing `http://127.0.0.1:<port>`, so that a harness given the
//! printed URL must report an issuer mismatch: a check that the test script can fail.

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use mcp_authz_metadata::{
    ApplicationType, ClientId, GrantType, RedirectUri, ResourceUri, Scope, TokenEndpointAuthMethod,
};
use mcp_authz_server::dangerous::AutoApprove;
use mcp_authz_server::{AuthorizationServer, ServerConfig};
use mcp_authz_store::{
    ClientKind, ClientRecord, ClientStore as _, MemoryStore, NumericDate, Subject,
};

/// The scope the resource offers (and grants when the request names none).
const SCOPE: &str = "mcp:tools";

/// The command line.
#[derive(Debug, Default)]
struct Args {
    client_id: Option<String>,
    redirect_uris: Vec<String>,
    resource: Option<String>,
    port: u16,
    wrong_issuer: bool,
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        wrong_issuer: std::env::var("CONFORMANCE_SERVER_MISBEHAVE").as_deref()
            == Ok("wrong-issuer"),
        ..Args::default()
    };
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--client-id" => parsed.client_id = Some(value()?),
            "--redirect-uri" => parsed.redirect_uris.push(value()?),
            "--resource" => parsed.resource = Some(value()?),
            "--port" => {
                let port = value()?;
                parsed.port = port
                    .parse()
                    .map_err(|_| format!("--port: not a port number: {port}"))?;
            }
            "--misbehave" => match value()?.as_str() {
                "wrong-issuer" => parsed.wrong_issuer = true,
                other => return Err(format!("--misbehave: unknown mode {other}")),
            },
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if parsed.redirect_uris.is_empty() {
        return Err("at least one --redirect-uri is required".to_owned());
    }
    Ok(parsed)
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("conformance-server: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let args = parse_args(std::env::args().skip(1))?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .map_err(|e| format!("bind 127.0.0.1:{}: {e}", args.port))?;
    let port = listener
        .local_addr()
        .map_err(|e| format!("local address: {e}"))?
        .port();
    let printed = format!("http://127.0.0.1:{port}");
    let issuer = if args.wrong_issuer {
        format!("http://localhost:{port}")
    } else {
        printed.clone()
    };
    let resource = args
        .resource
        .unwrap_or_else(|| format!("http://127.0.0.1:{port}/mcp"));
    let resource = ResourceUri::parse(&resource).map_err(|e| format!("--resource: {e}"))?;
    let scope = Scope::parse(SCOPE).map_err(|e| format!("scope: {e}"))?;
    let subject = Subject::parse("conformance-user").map_err(|e| format!("subject: {e}"))?;
    let config = ServerConfig::builder_from_str(&issuer)
        .map_err(|e| format!("issuer: {e}"))?
        .allow_http_loopback()
        .resource(resource.clone(), scope)
        .dangerous_auto_approve(AutoApprove::DevUser(subject))
        .build()
        .map_err(|e| format!("configuration: {e}"))?;

    let store = Arc::new(MemoryStore::new());
    let client = public_client(args.client_id.as_deref(), &args.redirect_uris, resource)?;
    store
        .insert_client(client)
        .await
        .map_err(|e| format!("register client: {e}"))?;
    let server = AuthorizationServer::new(config, store).map_err(|e| format!("server: {e}"))?;

    let mut stdout = std::io::stdout();
    writeln!(stdout, "{printed}")
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("stdout: {e}"))?;
    axum::serve(
        listener,
        server
            .router()
            .into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
    .map_err(|e| format!("serve: {e}"))
}

/// The pre-registered public native client the harness drives.
fn public_client(
    client_id: Option<&str>,
    redirect_uris: &[String],
    resource: ResourceUri,
) -> Result<ClientRecord, String> {
    let client_id = ClientId::parse(client_id.unwrap_or("conformance-client"))
        .map_err(|e| format!("--client-id: {e}"))?;
    let redirect_uris = redirect_uris
        .iter()
        .map(|uri| RedirectUri::parse(uri).map_err(|e| format!("--redirect-uri {uri}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ClientRecord {
        client_id,
        kind: ClientKind::PreRegistered,
        secret_hash: None,
        secret_expires_at: None,
        redirect_uris,
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        token_endpoint_auth_method: TokenEndpointAuthMethod::None,
        application_type: ApplicationType::Native,
        client_name: Some("MCP conformance suite".to_owned()),
        allowed_resources: Some(vec![resource]),
        allowed_scope: None,
        metadata_json: "{}".to_owned(),
        created_at: NumericDate::from_system_time(std::time::SystemTime::now()),
    })
}
