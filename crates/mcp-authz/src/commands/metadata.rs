//! `mcp-authz check-as-metadata`, `check-resource-metadata` and `canonical`.

use std::io::{Read as _, Write};
use std::path::Path;

use mcp_authz_metadata::{
    AuthorizationServerMetadata, Issuer, ProtectedResourceMetadata, ResourceUri,
    authorization_server_metadata_urls, protected_resource_metadata_urls,
};

use crate::error::CliError;

/// Largest document read, as for network fetches (REQUIREMENTS SEC-6).
const MAX_DOCUMENT: u64 = 64 * 1024;

fn read_document(path: &Path) -> Result<Vec<u8>, CliError> {
    let read_error = |source| CliError::Read {
        path: path.display().to_string(),
        source,
    };
    let mut bytes = Vec::new();
    // Read one byte past the limit so the parser reports the size error precisely.
    if path == Path::new("-") {
        std::io::stdin()
            .lock()
            .take(MAX_DOCUMENT + 1)
            .read_to_end(&mut bytes)
            .map_err(read_error)?;
    } else {
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_DOCUMENT + 1).read_to_end(&mut bytes))
            .map_err(read_error)?;
    }
    Ok(bytes)
}

/// Validates an RFC 8414 document for `issuer`.
pub(crate) fn check_as(path: &Path, issuer: &str, out: &mut impl Write) -> Result<(), CliError> {
    let issuer = Issuer::parse(issuer).map_err(|e| CliError::InvalidArgument {
        what: "issuer",
        reason: e.to_string(),
    })?;
    let bytes = read_document(path)?;
    let document = AuthorizationServerMetadata::parse(&bytes)
        .map_err(|e| CliError::Failed(format!("not an RFC 8414 document: {e}")))?;
    let valid = document
        .validate(&issuer)
        .map_err(|e| CliError::Failed(format!("fails MCP's rules: {e}")))?;
    writeln!(out, "ok: issuer {}", valid.issuer())?;
    writeln!(
        out,
        "authorization_endpoint: {}",
        valid.authorization_endpoint()
    )?;
    writeln!(out, "token_endpoint: {}", valid.token_endpoint())?;
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    writeln!(
        out,
        "client ID metadata documents: {}",
        yes_no(valid.supports_client_id_metadata_documents())
    )?;
    writeln!(
        out,
        "dynamic registration: {}",
        valid
            .registration_endpoint()
            .map_or("no".to_owned(), |u| u.to_string())
    )?;
    writeln!(
        out,
        "RFC 9207 iss in authorization responses: {}",
        yes_no(valid.supports_authorization_response_iss())
    )?;
    Ok(())
}

/// Validates an RFC 9728 document for the MCP server at `resource`.
pub(crate) fn check_resource(
    path: &Path,
    resource: &str,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let resource = parse_resource(resource)?;
    let bytes = read_document(path)?;
    let document = ProtectedResourceMetadata::parse(&bytes)
        .map_err(|e| CliError::Failed(format!("not an RFC 9728 document: {e}")))?;
    let valid = document
        .validate(&resource)
        .map_err(|e| CliError::Failed(format!("fails MCP's rules: {e}")))?;
    writeln!(out, "ok: resource {}", valid.resource())?;
    for issuer in valid.authorization_servers() {
        writeln!(out, "authorization server: {issuer}")?;
    }
    match valid.scopes_supported() {
        Some(scope) => writeln!(out, "scopes_supported: {scope}")?,
        None => writeln!(out, "scopes_supported: absent")?,
    }
    Ok(())
}

/// Prints the canonical URI and the discovery URLs for it.
pub(crate) fn canonical(uri: &str, out: &mut impl Write) -> Result<(), CliError> {
    let resource = parse_resource(uri)?;
    writeln!(out, "canonical: {resource}")?;
    for url in protected_resource_metadata_urls(&resource) {
        writeln!(out, "protected resource metadata candidate: {url}")?;
    }
    if let Ok(issuer) = Issuer::parse(resource.as_str()) {
        for url in authorization_server_metadata_urls(&issuer) {
            writeln!(out, "if it were an issuer, metadata candidate: {url}")?;
        }
    }
    Ok(())
}

fn parse_resource(uri: &str) -> Result<ResourceUri, CliError> {
    ResourceUri::parse(uri).map_err(|e| CliError::InvalidArgument {
        what: "MCP server URI",
        reason: e.to_string(),
    })
}
