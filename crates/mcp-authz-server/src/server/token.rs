//! The token endpoint: authorization_code, refresh_token, client_credentials (REQUIREMENTS AS-2, AS-3,
//! AS-5, AS-7, AS-8, AS-9, AS-13, AS-14).

use std::collections::BTreeMap;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use mcp_authz_metadata::{ClientId, GrantType, ResourceUri, Scope};
use mcp_authz_store::{
    ClientRecord, CodeConsumption, CodeExchange, FamilyId, NewRefreshToken, NumericDate,
    RefreshStatus, Rotation, SecretHash,
};
use mcp_authz_token::{
    AccessToken, Audience, AuthorizationCodeGrant, ClientCredentialsGrant, ErrorCode,
    JwtAccessTokenClaims, RefreshToken, RefreshTokenGrant, TokenRequest, TokenResponse,
};

use super::authorize::resolve_grant;
use super::clients::{is_confidential, may_act_without_user};
use super::{AuthorizationServer, Failure, Handled, finish};
use crate::respond;
use crate::session::random_id;

fn reject(code: ErrorCode, description: &str) -> Failure {
    Failure::respond(respond::error(code, description))
}

fn randomness() -> Failure {
    Failure::Store(mcp_authz_store::StoreError::RandomnessUnavailable)
}

/// The resources a token request narrows to: `requested` must lie within `granted` (AS-5).
fn narrow_resources(
    server: &AuthorizationServer,
    requested: &[ResourceUri],
    granted: &[ResourceUri],
) -> Result<Vec<ResourceUri>, Failure> {
    if requested.is_empty() {
        return Ok(granted.to_vec());
    }
    for resource in requested {
        if server.inner.config.resource(resource).is_none() {
            return Err(reject(
                ErrorCode::InvalidTarget,
                "the resource is not served by this server",
            ));
        }
        if !granted.contains(resource) {
            return Err(reject(
                ErrorCode::InvalidTarget,
                "the resource was not granted",
            ));
        }
    }
    Ok(requested.to_vec())
}

/// The `jti` of a token issued from a grant: `<family id>.<random>`, so that introspection and
/// revocation can find the grant (a revoked grant's access tokens are inactive, AS-7).
pub(crate) fn family_of_jti(jti: &str) -> Option<FamilyId> {
    let (family, _) = jti.rsplit_once('.')?;
    FamilyId::parse(family).ok()
}

impl AuthorizationServer {
    /// `POST /token`.
    pub async fn token(&self, request: Request<Bytes>) -> Response<Bytes> {
        finish(
            self.limited_by_peer(&request, self.token_inner(&request))
                .await,
        )
    }

    async fn token_inner(&self, request: &Request<Bytes>) -> Handled {
        let parsed = TokenRequest::parse_form(request.body())
            .map_err(|e| Failure::respond(respond::oauth_error(&e.error_response())))?;
        let grant = parsed
            .request
            .require_supported()
            .map_err(|e| Failure::respond(respond::oauth_error(&e.error_response())))?;
        let client = self
            .authenticate_client(request, parsed.client, false, Some(&grant))
            .await?;
        let grant_type = grant.grant_type();
        if !client.grant_types.contains(&grant_type) {
            return Err(reject(
                ErrorCode::UnauthorizedClient,
                "the client may not use this grant type",
            ));
        }
        // SEC-11: see `clients::limited_by_peer`.
        let public = !is_confidential(&client);
        if public {
            self.peek_public(&client, request)?;
        } else {
            self.charge_confidential(&client)?;
        }
        let result = self.grant(&client, grant).await;
        if public {
            self.charge_public_success(&client, request, &result);
        }
        result
    }

    async fn grant(&self, client: &ClientRecord, grant: TokenRequest) -> Handled {
        match grant {
            TokenRequest::AuthorizationCode(grant) => self.code_grant(client, grant).await,
            TokenRequest::RefreshToken(grant) => self.refresh_grant(client, grant).await,
            TokenRequest::ClientCredentials(grant) => {
                self.client_credentials_grant(client, grant).await
            }
            _ => Err(reject(
                ErrorCode::UnsupportedGrantType,
                "unsupported grant type",
            )),
        }
    }

    async fn code_grant(&self, client: &ClientRecord, grant: AuthorizationCodeGrant) -> Handled {
        let now = self.now();
        let hash = SecretHash::of(grant.code.secret());
        let invalid = |d| reject(ErrorCode::InvalidGrant, d);
        let Some(code) = self.inner.store.find_code(&hash).await? else {
            return Err(invalid("unknown authorization code"));
        };
        if code.client_id != client.client_id {
            return Err(invalid("the code was issued to another client"));
        }
        if code.consumed_at.is_none() {
            // Checks that do not spend the code: a wrong verifier or redirect URI leaves it usable
            // only until it expires, never for a second exchange.
            match &grant.redirect_uri {
                Some(uri) if uri.as_str() != code.redirect_uri.as_str() => {
                    return Err(invalid(
                        "redirect_uri does not match the authorization request",
                    ));
                }
                None if client.redirect_uris.len() != 1 => {
                    return Err(invalid("redirect_uri is required"));
                }
                _ => {}
            }
            if code.code_challenge.verify(&grant.code_verifier).is_err() {
                return Err(invalid("PKCE verification failed"));
            }
        }
        let resources = narrow_resources(self, &grant.resources, &code.resources)?;
        let issue_refresh = client.grant_types.contains(&GrantType::RefreshToken);
        let refresh = if issue_refresh {
            Some(RefreshToken::generate().map_err(|_| randomness())?)
        } else {
            None
        };
        let exchange = CodeExchange {
            grant_expires_at: now.saturating_add(self.inner.config.grant_lifetime),
            refresh_token: refresh.as_ref().map(|t| self.new_refresh(t, now)),
        };
        match self.inner.store.consume_code(&hash, exchange, now).await? {
            CodeConsumption::Consumed {
                code,
                grant: stored,
            } => {
                let jti = format!("{}.{}", stored.id, random_id().ok_or_else(randomness)?);
                self.token_response(
                    code.subject.as_str(),
                    &client.client_id,
                    &resources,
                    &code.scope,
                    jti,
                    refresh,
                    now,
                )
                .await
            }
            CodeConsumption::AlreadyConsumed { family_id, .. } => {
                tracing::warn!(family = %family_id, "authorization code replayed: grant revoked");
                Err(invalid("the authorization code was already used"))
            }
            CodeConsumption::Expired => Err(invalid("the authorization code expired")),
            _ => Err(invalid("unknown authorization code")),
        }
    }

    fn new_refresh(&self, token: &RefreshToken, now: NumericDate) -> NewRefreshToken {
        NewRefreshToken {
            hash: SecretHash::of(token.secret()),
            expires_at: now.saturating_add(self.inner.config.refresh_token_lifetime),
        }
    }

    async fn refresh_grant(&self, client: &ClientRecord, grant: RefreshTokenGrant) -> Handled {
        let now = self.now();
        let invalid = |d| reject(ErrorCode::InvalidGrant, d);
        let hash = SecretHash::of(grant.refresh_token.secret());
        if grant.scope.is_none() && grant.resources.is_empty() {
            // Nothing to narrow, so nothing to check against the grant before rotating: one store
            // round trip, bound to the client (a token of another client changes nothing).
            let next = RefreshToken::generate().map_err(|_| randomness())?;
            let rotation = self
                .inner
                .store
                .rotate_client_refresh_token(
                    &hash,
                    &client.client_id,
                    self.new_refresh(&next, now),
                    now,
                )
                .await?;
            return self
                .rotated(client, rotation, Vec::new(), None, next, now)
                .await;
        }
        let Some(lookup) = self.inner.store.find_refresh_token(&hash, now).await? else {
            return Err(invalid("unknown refresh token"));
        };
        if lookup.grant.client_id != client.client_id {
            return Err(invalid("the refresh token was issued to another client"));
        }
        let granted = lookup.grant.scope.clone();
        if lookup.status != RefreshStatus::Active {
            // SEC-20: a rotated token presented again is reuse, whatever else the request asks: the
            // rotation detects it and revokes the family before the scope or resources are looked at.
            let next = RefreshToken::generate().map_err(|_| randomness())?;
            let rotation = self
                .inner
                .store
                .rotate_refresh_token(&hash, self.new_refresh(&next, now), granted, now)
                .await?;
            return self
                .rotated(client, rotation, Vec::new(), None, next, now)
                .await;
        }
        let scope = match &grant.scope {
            Some(scope) if !scope.is_subset(&granted) => {
                return Err(reject(
                    ErrorCode::InvalidScope,
                    "refresh cannot widen the scope",
                ));
            }
            Some(scope) => scope.clone(),
            None => granted.clone(),
        };
        let resources = narrow_resources(self, &grant.resources, &lookup.grant.resources)?;
        let next = RefreshToken::generate().map_err(|_| randomness())?;
        // The family keeps its granted scope; a narrower request narrows this access token only.
        let rotation = self
            .inner
            .store
            .rotate_refresh_token(&hash, self.new_refresh(&next, now), granted, now)
            .await?;
        self.rotated(client, rotation, resources, Some(scope), next, now)
            .await
    }

    /// Answers a rotation: the token response for `Rotated` (with `resources` and `scope`, or the
    /// grant's own when `None` / empty), else `invalid_grant`.
    async fn rotated(
        &self,
        client: &ClientRecord,
        rotation: Rotation,
        resources: Vec<ResourceUri>,
        scope: Option<Scope>,
        next: RefreshToken,
        now: NumericDate,
    ) -> Handled {
        let invalid = |d| reject(ErrorCode::InvalidGrant, d);
        match rotation {
            Rotation::Rotated { grant: stored, .. } => {
                let jti = format!("{}.{}", stored.id, random_id().ok_or_else(randomness)?);
                let resources = if resources.is_empty() {
                    &stored.resources
                } else {
                    &resources
                };
                self.token_response(
                    stored.subject.as_str(),
                    &client.client_id,
                    resources,
                    scope.as_ref().unwrap_or(&stored.scope),
                    jti,
                    Some(next),
                    now,
                )
                .await
            }
            Rotation::Reused { family_id } => {
                tracing::warn!(family = %family_id, "refresh token reused: family revoked");
                Err(invalid("the refresh token was already used"))
            }
            Rotation::Revoked { .. } => Err(invalid("the grant was revoked")),
            Rotation::Expired => Err(invalid("the refresh token expired")),
            Rotation::OtherClient => Err(invalid("the refresh token was issued to another client")),
            _ => Err(invalid("unknown refresh token")),
        }
    }

    async fn client_credentials_grant(
        &self,
        client: &ClientRecord,
        grant: ClientCredentialsGrant,
    ) -> Handled {
        if !is_confidential(client) {
            return Err(reject(
                ErrorCode::UnauthorizedClient,
                "client_credentials needs a confidential client",
            ));
        }
        if !may_act_without_user(client) {
            return Err(reject(
                ErrorCode::UnauthorizedClient,
                "client_credentials is only available to clients registered by the operator",
            ));
        }
        let (resources, scope) =
            resolve_grant(self, client, &grant.resources, grant.scope.as_ref())
                .map_err(|(code, description)| reject(code, description))?;
        let now = self.now();
        let jti = random_id().ok_or_else(randomness)?;
        self.token_response(
            client.client_id.as_str(),
            &client.client_id,
            &resources,
            &scope,
            jti,
            None,
            now,
        )
        .await
    }

    /// Signs an RFC 9068 access token and builds the token response.
    #[allow(clippy::too_many_arguments)]
    async fn token_response(
        &self,
        subject: &str,
        client_id: &ClientId,
        resources: &[ResourceUri],
        scope: &Scope,
        jti: String,
        refresh_token: Option<RefreshToken>,
        now: NumericDate,
    ) -> Handled {
        let lifetime = self.inner.config.access_token_lifetime;
        let claims = JwtAccessTokenClaims {
            iss: self.inner.config.issuer.clone(),
            sub: subject.to_owned(),
            aud: resources
                .iter()
                .map(|r| r.as_str().to_owned())
                .collect::<Audience>(),
            exp: now.saturating_add(lifetime),
            iat: now,
            nbf: None,
            jti,
            client_id: client_id.clone(),
            scope: (!scope.is_empty()).then(|| scope.clone()),
            auth_time: None,
            extra: BTreeMap::new(),
        };
        let jwt = self.inner.keys.sign(&claims, now).await?;
        let access_token = AccessToken::parse(&jwt)
            .map_err(|e| Failure::Key(crate::keys::KeyError::Crypto(e.to_string())))?;
        let mut response = TokenResponse::bearer(access_token, Some(lifetime.as_secs()));
        response.refresh_token = refresh_token;
        response.scope = (!scope.is_empty()).then(|| scope.clone());
        Ok(respond::json_value(StatusCode::OK, &response))
    }
}
