//! The client under test for the MCP conformance suite (`conformance client --command ...`).
//!
//! Reads the suite's contract: the MCP server URL as the last argument, and the environment
//! variables `MCP_CONFORMANCE_SCENARIO`, `MCP_CONFORMANCE_PROTOCOL_VERSION` and
//! `MCP_CONFORMANCE_CONTEXT`. It connects, lists the tools and calls `test-tool`, authorizing through
//! `mcp-authz-client` with a headless step that reads the mock authorization server's redirect.
//! Exit status 0 on success, 1 with the error on standard error otherwise.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;

use mcp_authz_client::{
    ClientAssertionClaims, ClientAssertionSigner, Flow, McpClient, OAuthClient,
    PreRegisteredClient, RedirectCapture, ReqwestHttpClient, UrlPolicy,
};
use mcp_authz_metadata::{ClientId, ClientSecret, Issuer, RedirectUri};

/// The redirect URI the suite's reference client uses; the mock never calls it.
const REDIRECT_URI: &str = "http://localhost:3000/callback";
/// The Client ID Metadata Document URL the `auth/basic-cimd` scenario expects.
const CIMD_URL: &str = "https://conformance-test.local/client-metadata.json";

/// `MCP_CONFORMANCE_CONTEXT`: the members this client reads.
#[derive(Debug, Default, serde::Deserialize)]
struct Context {
    client_id: Option<String>,
    client_secret: Option<String>,
    issuer: Option<String>,
    private_key_pem: Option<String>,
}

/// ES256 client assertions for the `auth/client-credentials-jwt` scenario.
struct Es256Signer(jsonwebtoken::EncodingKey);

impl ClientAssertionSigner for Es256Signer {
    fn sign(
        &self,
        claims: &ClientAssertionClaims,
    ) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
        let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        Ok(jsonwebtoken::encode(&header, claims, &self.0)?)
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("conformance-client: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let server_url = std::env::args()
        .next_back()
        .ok_or("usage: conformance-client <mcp-server-url>")?;
    let scenario = std::env::var("MCP_CONFORMANCE_SCENARIO").unwrap_or_default();
    let version = std::env::var("MCP_CONFORMANCE_PROTOCOL_VERSION")
        .unwrap_or_else(|_| "2025-11-25".to_owned());
    let context: Context = match std::env::var("MCP_CONFORMANCE_CONTEXT") {
        Ok(text) => serde_json::from_str(&text)?,
        Err(_) => Context::default(),
    };

    // The suite's mock servers listen on localhost: a development policy.
    let policy = UrlPolicy::default().allow_loopback(true);
    let http = Arc::new(ReqwestHttpClient::with_policy(policy.clone())?);
    let step = RedirectCapture::new(
        http.clone(),
        policy.clone(),
        RedirectUri::parse(REDIRECT_URI)?,
    );
    let client_credentials = scenario.starts_with("auth/client-credentials-");
    let flow = if client_credentials {
        Flow::ClientCredentials
    } else {
        Flow::AuthorizationCode
    };
    let builder = || -> Result<_, Box<dyn std::error::Error>> {
        Ok(OAuthClient::builder(&server_url)?
            .http_client(http.clone())
            .url_policy(policy.clone())
            .authorization_step(Arc::new(step.clone()))
            .client_name("mcp-authz conformance client")
            .flow(flow))
    };
    // Credentials are bound to an issuer. The client-credentials contexts name none: discover it.
    let issuer = match (&context.issuer, client_credentials) {
        (Some(issuer), _) => Some(Issuer::parse(issuer)?),
        (None, true) => Some(builder()?.build()?.discover().await?.issuer().clone()),
        (None, false) => None,
    };
    let mut builder = builder()?;
    if let (Some(id), Some(issuer)) = (&context.client_id, issuer) {
        builder = builder.pre_registered(PreRegisteredClient {
            issuer,
            client_id: ClientId::parse(id)?,
            client_secret: context.client_secret.as_deref().map(ClientSecret::new),
        });
    }
    if let Some(pem) = &context.private_key_pem {
        let key = jsonwebtoken::EncodingKey::from_ec_pem(pem.as_bytes())?;
        builder = builder.client_assertion_signer(Arc::new(Es256Signer(key)));
    }
    // Only this scenario gets the CIMD URL, so that no other scenario makes the harness fetch it.
    if scenario == "auth/basic-cimd" {
        builder = builder.client_id_metadata_document(ClientId::parse(CIMD_URL)?);
    }
    let mcp = McpClient::new(Arc::new(builder.build()?), version);
    mcp.connect().await?;
    let tools = mcp.list_tools().await?;
    eprintln!(
        "conformance-client: tools: {:?}",
        tools.iter().map(|t| t.name.as_str()).collect::<Vec<_>>()
    );
    let result = mcp
        .call_tool("test-tool", &BTreeMap::<String, String>::new())
        .await?;
    eprintln!(
        "conformance-client: test-tool returned {} item(s)",
        result.content.len()
    );
    Ok(())
}
