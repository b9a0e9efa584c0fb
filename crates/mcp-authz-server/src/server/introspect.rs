//! Revocation (RFC 7009) and introspection (RFC 7662) (REQUIREMENTS AS-15, SEC-7).

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use mcp_authz_store::{
    ClientRecord, RefreshStatus, RevocationReason, SecretHash, TokenId, UnixTime,
};
use mcp_authz_token::{
    ActiveToken, Audience, IntrospectionRequest, IntrospectionResponse, JwtAccessTokenClaims,
    NumericDate, RevocationRequest, TokenType,
};

use super::{AuthorizationServer, Failure, Handled, finish};
use crate::respond;

/// What a presented token turned out to be.
enum Known {
    /// A valid, unexpired, unrevoked access token of this server.
    Access(Box<JwtAccessTokenClaims>),
    /// An active refresh token, with its grant's data.
    Refresh {
        lookup: Box<mcp_authz_store::RefreshLookup>,
    },
    /// Anything else (unknown, expired, revoked, malformed).
    Inactive,
}

/// `true` if `caller` may learn about a token of `client_id` for `audience`: its own tokens, or
/// tokens for a resource it is registered for (SEC-7: nothing about other audiences).
fn visible(caller: &ClientRecord, client_id: &str, audience: &Audience) -> bool {
    caller.client_id.as_str() == client_id
        || caller
            .allowed_resources
            .as_ref()
            .is_some_and(|rs| rs.iter().any(|r| audience.contains_resource(r)))
}

impl AuthorizationServer {
    /// Classifies a presented token without changing anything.
    async fn examine(&self, token: &str, now: UnixTime) -> Result<Known, Failure> {
        if token.split('.').count() == 3 {
            return self.examine_jwt(token, now).await;
        }
        match self
            .inner
            .store
            .find_refresh_token(&SecretHash::of(token), now)
            .await?
        {
            Some(lookup) if lookup.status == RefreshStatus::Active => Ok(Known::Refresh {
                lookup: Box::new(lookup),
            }),
            _ => Ok(Known::Inactive),
        }
    }

    async fn examine_jwt(&self, token: &str, now: UnixTime) -> Result<Known, Failure> {
        // The key's stored algorithm, not the header, decides: a header naming another one is refused.
        let Some(claims) = self.inner.keys.verify_own(token, true, now).await? else {
            return Ok(Known::Inactive);
        };
        if claims.iss.as_str() != self.inner.config.issuer.as_str() {
            return Ok(Known::Inactive);
        }
        if claims.exp.secs() <= now.as_secs() {
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

    /// `POST /introspect`: client-authenticated (confidential clients only).
    pub async fn introspect(&self, request: Request<Bytes>) -> Response<Bytes> {
        finish(
            self.limited_by_peer(&request, self.introspect_inner(&request))
                .await,
        )
    }

    async fn introspect_inner(&self, request: &Request<Bytes>) -> Handled {
        let parsed = IntrospectionRequest::parse_form(request.body())
            .map_err(|e| Failure::respond(respond::oauth_error(&e.error_response())))?;
        let caller = self
            .authenticate_client(request, parsed.client, true, None)
            .await?;
        self.charge_confidential(&caller)?;
        let now = self.now();
        let response = match self.examine(parsed.request.token.secret(), now).await? {
            Known::Access(claims) if visible(&caller, claims.client_id.as_str(), &claims.aud) => {
                IntrospectionResponse::Active(Box::new(ActiveToken {
                    scope: claims.scope,
                    client_id: Some(claims.client_id),
                    token_type: Some(TokenType::Bearer),
                    exp: Some(claims.exp),
                    iat: Some(claims.iat),
                    sub: Some(claims.sub),
                    aud: Some(claims.aud),
                    iss: Some(claims.iss),
                    jti: Some(claims.jti),
                    ..ActiveToken::default()
                }))
            }
            Known::Refresh { lookup } => {
                let audience: Audience = lookup
                    .grant
                    .resources
                    .iter()
                    .map(|r| r.as_str().to_owned())
                    .collect();
                if visible(&caller, lookup.grant.client_id.as_str(), &audience) {
                    IntrospectionResponse::Active(Box::new(ActiveToken {
                        scope: Some(lookup.grant.scope.clone()),
                        client_id: Some(lookup.grant.client_id.clone()),
                        exp: Some(NumericDate::from_secs(lookup.token.expires_at.as_secs())),
                        iat: Some(NumericDate::from_secs(lookup.token.issued_at.as_secs())),
                        sub: Some(lookup.grant.subject.as_str().to_owned()),
                        aud: Some(audience),
                        iss: Some(self.inner.config.issuer.clone()),
                        ..ActiveToken::default()
                    }))
                } else {
                    IntrospectionResponse::Inactive
                }
            }
            _ => IntrospectionResponse::Inactive,
        };
        Ok(respond::json_value(StatusCode::OK, &response))
    }

    /// `POST /revoke`: 200 for every well-formed request from an authenticated client, whether or not
    /// the token was known (RFC 7009 §2.2).
    pub async fn revoke(&self, request: Request<Bytes>) -> Response<Bytes> {
        finish(
            self.limited_by_peer(&request, self.revoke_inner(&request))
                .await,
        )
    }

    async fn revoke_inner(&self, request: &Request<Bytes>) -> Handled {
        let parsed = RevocationRequest::parse_form(request.body())
            .map_err(|e| Failure::respond(respond::oauth_error(&e.error_response())))?;
        let caller = self
            .authenticate_client(request, parsed.client, false, None)
            .await?;
        // SEC-11: a public client proves nothing by revoking (unknown tokens answer 200 too), so its
        // revocations count against its peer, never against the client named.
        if super::clients::is_confidential(&caller) {
            self.charge_confidential(&caller)?;
        } else {
            self.charge_peer(request)?;
        }
        let now = self.now();
        match self.examine(parsed.request.token.secret(), now).await? {
            Known::Access(claims) if claims.client_id == caller.client_id => {
                if let Ok(jti) = TokenId::parse(&claims.jti) {
                    let expires = UnixTime::from_secs(claims.exp.secs());
                    self.inner.store.revoke_access_token(&jti, expires).await?;
                }
            }
            Known::Refresh { lookup } if lookup.grant.client_id == caller.client_id => {
                self.inner
                    .store
                    .revoke_grant(&lookup.grant.id, RevocationReason::Requested, now)
                    .await?;
            }
            _ => {}
        }
        Ok(respond::json(StatusCode::OK, Bytes::new()))
    }
}
