//! Whether an access token this server issued still stands (REQUIREMENTS SEC-16): the one answer
//! introspection and a co-located resource server both use.

use mcp_authz_metadata::ClientId;
use mcp_authz_store::{StoreError, TokenId};

use super::AuthorizationServer;
use super::token::family_of_jti;

impl AuthorizationServer {
    /// `true` when an access token of this server, whose signature, issuer, audience and expiry were
    /// already checked, must no longer be accepted: its `jti` is on the deny-list (`/revoke`,
    /// `tokens revoke`), its grant is revoked or gone (refresh-token revocation, code replay,
    /// `tokens revoke --client/--user`, `clients remove`), or, for a token issued without a grant
    /// (client credentials), its client is no longer registered.
    ///
    /// Cost: one or two indexed store reads (the deny-list, then the grant or the client), no
    /// cryptography. A resource server sharing the store calls this per request, so that revocation
    /// takes effect at once rather than when the token expires.
    pub async fn is_access_token_revoked(
        &self,
        token_id: &str,
        client_id: &ClientId,
    ) -> Result<bool, StoreError> {
        let now = self.now();
        if let Ok(jti) = TokenId::parse(token_id)
            && self.inner.store.is_access_token_revoked(&jti, now).await?
        {
            return Ok(true);
        }
        match family_of_jti(token_id) {
            Some(family) => Ok(!self
                .inner
                .store
                .get_grant(&family)
                .await?
                .is_some_and(|g| g.revoked.is_none() && &g.client_id == client_id)),
            None => Ok(self.inner.store.get_client(client_id).await?.is_none()),
        }
    }
}
