//! `mcp-authz pkce`.

use std::io::Write;

use mcp_authz_pkce::CodeVerifier;

use crate::error::CliError;

/// Prints a fresh verifier and its S256 challenge.
pub(crate) fn run(out: &mut impl Write) -> Result<(), CliError> {
    let verifier = CodeVerifier::generate().map_err(|e| CliError::Failed(e.to_string()))?;
    writeln!(out, "code_verifier={}", verifier.secret())?;
    writeln!(out, "code_challenge={}", verifier.challenge())?;
    writeln!(out, "code_challenge_method=S256")?;
    Ok(())
}
