//! Revocation by an operator (the `mcp-authz tokens revoke` command): no client authentication.

use mcp_authz_store::{NumericDate, RevocationReason, SecretHash, StoreError, TokenId};

use super::AuthorizationServer;
use crate::KeyError;

/// What [`AuthorizationServer::revoke_as_operator`] found and revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum OperatorRevocation {
    /// An access token signed by one of the store's keys: its `jti` is on the deny-list until it
    /// expires.
    AccessToken,
    /// A refresh token: its grant, and so its whole token family, is revoked.
    Grant,
    /// Not a token of this server (or its key is gone): nothing changed.
    Unknown,
}

impl AuthorizationServer {
    /// Revokes a token of this server by value, for an operator: any client's token, without client
    /// authentication. An access token counts as this server's when its signature verifies with a
    /// published key of the store (its `iss` is not compared, so that an admin tool configured with
    /// another public URL of the same deployment works).
    pub async fn revoke_as_operator(&self, token: &str) -> Result<OperatorRevocation, StoreError> {
        let now = self.now();
        let token = token.trim();
        if token.split('.').count() == 3 {
            return self.revoke_jwt(token, now).await;
        }
        match self
            .inner
            .store
            .find_refresh_token(&SecretHash::of(token), now)
            .await?
        {
            Some(lookup) => {
                self.inner
                    .store
                    .revoke_grant(&lookup.grant.id, RevocationReason::Requested, now)
                    .await?;
                Ok(OperatorRevocation::Grant)
            }
            None => Ok(OperatorRevocation::Unknown),
        }
    }

    async fn revoke_jwt(
        &self,
        token: &str,
        now: NumericDate,
    ) -> Result<OperatorRevocation, StoreError> {
        let claims = match self.inner.keys.verify_own(token, false, now).await {
            Ok(Some(claims)) => claims,
            Err(KeyError::Store(e)) => return Err(e),
            Ok(None) | Err(_) => return Ok(OperatorRevocation::Unknown),
        };
        let Ok(jti) = TokenId::parse(&claims.jti) else {
            return Ok(OperatorRevocation::Unknown);
        };
        let expires = claims.exp;
        self.inner.store.revoke_access_token(&jti, expires).await?;
        Ok(OperatorRevocation::AccessToken)
    }
}
