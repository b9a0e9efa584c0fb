//! The first user: `admin` with a random password, created once and shown once.

use base64::Engine as _;
use mcp_authz_metadata::Issuer;
use mcp_authz_server::AuthorizationServer;
use mcp_authz_store::{Clock as _, RandomIds, Store, SystemClock, Username};

use crate::error::CliError;

/// The first user's name.
pub(super) const ADMIN: &str = "admin";

/// Creates `admin` with a fresh random password (stored as Argon2id) unless it exists, and prints the
/// password once, to standard error.
pub(super) async fn ensure_first_user(
    server: &AuthorizationServer,
    store: &dyn Store,
    issuer: &Issuer,
) -> Result<(), CliError> {
    let name = Username::parse(ADMIN).map_err(|e| CliError::InvalidArgument {
        what: "username",
        reason: e.to_string(),
    })?;
    if store.find_user_by_username(&name).await?.is_some() {
        tracing::info!(user = ADMIN, "first user exists");
        return Ok(());
    }
    let password = random_password()?;
    server
        .local_users()
        .create_user(&RandomIds, ADMIN, &password, SystemClock.now())
        .await?;
    tracing::info!(user = ADMIN, "created the first user");
    eprintln!(
        "mcp-authz: created user `{ADMIN}` with password: {password}\n\
         mcp-authz: it is shown only this once. Sign in on the login page an MCP client opens \
         when it authorizes at {issuer} (for example the demo server {issuer}/mcp).",
        issuer = issuer.as_str().trim_end_matches('/'),
    );
    Ok(())
}

/// 144 random bits, base64url: 24 characters.
fn random_password() -> Result<String, CliError> {
    let mut bytes = [0u8; 18];
    getrandom::fill(&mut bytes).map_err(CliError::Random)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_long_and_distinct() {
        let a = random_password().unwrap();
        let b = random_password().unwrap();
        assert_eq!(a.len(), 24);
        assert_ne!(a, b);
    }
}
