//! What a presented token is, and whether an access token of this server still stands (REQUIREMENTS
//! AS-7, AS-15, SEC-16): the one answer that revocation, introspection and a co-located resource
//! server all use.

use std::sync::Arc;

use mcp_authz_metadata::ClientId;
use mcp_authz_store::{
    FamilyId, NumericDate, RefreshLookup, RefreshStatus, SecretHash, Store, StoreError, TokenId,
};
use mcp_authz_token::JwtAccessTokenClaims;

use crate::config::ServerConfig;
use crate::error::EndpointError;
use crate::keys::Keys;

/// What a presented token turned out to be.
pub(crate) enum Known {
    /// A valid, unexpired, unrevoked access token of this server.
    Access(Box<JwtAccessTokenClaims>),
    /// An active refresh token, with its grant's data.
    Refresh(Box<RefreshLookup>),
    /// Anything else (unknown, expired, revoked, malformed).
    Inactive,
}

/// The `jti` of a token issued from a grant: `<family id>.<random>`, so that introspection and
/// revocation can find the grant (a revoked grant's access tokens are inactive, AS-7).
pub(crate) fn jti_of_family(family: &FamilyId, random: &str) -> String {
    format!("{family}.{random}")
}

/// The grant of a `jti` made by [`jti_of_family`].
fn family_of_jti(jti: &str) -> Option<FamilyId> {
    let (family, _) = jti.rsplit_once('.')?;
    FamilyId::parse(family).ok()
}

/// Classifies tokens against the store and the signing keys.
pub(crate) struct TokenStatus {
    config: Arc<ServerConfig>,
    store: Arc<dyn Store>,
    keys: Arc<Keys>,
}

impl TokenStatus {
    /// The classifier over these parts.
    pub(crate) fn new(config: Arc<ServerConfig>, store: Arc<dyn Store>, keys: Arc<Keys>) -> Self {
        Self {
            config,
            store,
            keys,
        }
    }

    /// See [`AuthorizationServer::is_access_token_revoked`](crate::AuthorizationServer::is_access_token_revoked).
    pub(crate) async fn is_access_token_revoked(
        &self,
        token_id: &str,
        client_id: &ClientId,
    ) -> Result<bool, StoreError> {
        let now = self.config.clock.now();
        if let Ok(jti) = TokenId::parse(token_id)
            && self.store.is_access_token_revoked(&jti, now).await?
        {
            return Ok(true);
        }
        match family_of_jti(token_id) {
            Some(family) => Ok(!self
                .store
                .get_grant(&family)
                .await?
                .is_some_and(|g| g.revoked.is_none() && &g.client_id == client_id)),
            None => Ok(self.store.get_client(client_id).await?.is_none()),
        }
    }

    /// Classifies a presented token without changing anything.
    pub(crate) async fn examine(
        &self,
        token: &str,
        now: NumericDate,
    ) -> Result<Known, EndpointError> {
        if token.split('.').count() == 3 {
            return self.examine_jwt(token, now).await;
        }
        match self
            .store
            .find_refresh_token(&SecretHash::of(token), now)
            .await?
        {
            Some(lookup) if lookup.status == RefreshStatus::Active => {
                Ok(Known::Refresh(Box::new(lookup)))
            }
            _ => Ok(Known::Inactive),
        }
    }

    async fn examine_jwt(&self, token: &str, now: NumericDate) -> Result<Known, EndpointError> {
        // The key's stored algorithm, not the header, decides: a header naming another one is refused.
        let Some(claims) = self.keys.verify_own(token, true, now).await? else {
            return Ok(Known::Inactive);
        };
        if claims.iss.as_str() != self.config.issuer.as_str() {
            return Ok(Known::Inactive);
        }
        if claims.exp <= now {
            return Ok(Known::Inactive);
        }
        // The same answer a co-located resource server gets (SEC-16).
        if self
            .is_access_token_revoked(&claims.jti, &claims.client_id)
            .await?
        {
            return Ok(Known::Inactive);
        }
        Ok(Known::Access(Box::new(claims)))
    }
}
