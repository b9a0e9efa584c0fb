//! `mcp-authz challenge`.

use std::io::Write;

use mcp_authz_token::{BearerChallenge, Challenge};

use crate::error::CliError;

/// Parses a `WWW-Authenticate` value and prints each challenge, then the Bearer challenge's meaning.
pub(crate) fn run(value: &str, out: &mut impl Write) -> Result<(), CliError> {
    let challenges = Challenge::parse_str(value).map_err(|e| CliError::InvalidArgument {
        what: "WWW-Authenticate value",
        reason: e.to_string(),
    })?;
    for challenge in &challenges {
        writeln!(out, "challenge: {challenge}")?;
    }
    let header = http::HeaderValue::from_str(value).map_err(|e| CliError::InvalidArgument {
        what: "WWW-Authenticate value",
        reason: e.to_string(),
    })?;
    let bearer = BearerChallenge::from_header_values([&header])
        .map_err(|e| CliError::Failed(format!("no usable Bearer challenge: {e}")))?;
    match bearer {
        None => writeln!(
            out,
            "no Bearer challenge: an MCP client cannot use this response"
        )?,
        Some(bearer) => {
            match &bearer.resource_metadata {
                Some(url) => writeln!(
                    out,
                    "resource_metadata: {url} (fetch this first, RFC 9728 §5.1)"
                )?,
                None => writeln!(
                    out,
                    "resource_metadata: absent (clients fall back to the well-known URLs)"
                )?,
            }
            match &bearer.scope {
                Some(scope) => writeln!(out, "scope: {scope}")?,
                None => writeln!(out, "scope: absent (clients use the PRM scopes_supported)")?,
            }
            match &bearer.error {
                Some(error) => writeln!(out, "error: {}", error.as_str())?,
                None => writeln!(out, "error: none (no token was sent, RFC 6750 §3.1)")?,
            }
        }
    }
    Ok(())
}
