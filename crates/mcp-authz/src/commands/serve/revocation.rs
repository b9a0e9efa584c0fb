//! The demo MCP server asks the authorization server of the same process whether a token it verified
//! has been revoked since (REQUIREMENTS SEC-16): a store lookup per request, no HTTP.

use mcp_authz_resource::{
    RevocationCheck, RevocationFuture, RevocationUnavailable, VerifiedClaims,
};
use mcp_authz_server::AuthorizationServer;

/// [`RevocationCheck`] over the co-located [`AuthorizationServer`].
pub(super) struct SharedStore(pub(super) AuthorizationServer);

impl RevocationCheck for SharedStore {
    fn is_revoked<'a>(&'a self, claims: &'a VerifiedClaims) -> RevocationFuture<'a> {
        Box::pin(async move {
            // The verifier accepts only this server's RFC 9068 tokens, which always name both.
            let (Some(jti), Some(client_id)) = (claims.token_id(), claims.client_id()) else {
                return Ok(true);
            };
            self.0
                .is_access_token_revoked(jti, client_id)
                .await
                .map_err(RevocationUnavailable::new)
        })
    }
}
