//! The token endpoint: authorization_code, refresh_token, client_credentials (REQUIREMENTS AS-2, AS-3,
//! AS-5, AS-7, AS-8, AS-9, AS-13, AS-14).

use crate::config::{ResourcePolicy, ServerConfig};
use mcp_authz_metadata::Issuer;
use mcp_authz_store::Clock;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use mcp_authz_metadata::{ClientId, GrantType, ResourceUri, Scope};
use mcp_authz_store::{
    AuditKind, AuditOutcome, AuditReason, ClientRecord, CodeConsumption, CodeExchange,
    NewRefreshToken, RefreshStatus, Rotation, SecretHash, Store, Subject,
};
use mcp_authz_token::{
    AccessToken, Audience, AuthorizationCodeGrant, ClientCredentialsGrant, JwtAccessTokenClaims,
    NumericDate, RefreshToken, RefreshTokenGrant, TokenRequest, TokenResponse,
};

use crate::audit::Auditor;
use crate::client_limits::ClientLimits;
use crate::clients::{ClientDirectory, is_confidential, may_act_without_user};
use crate::error::{EndpointError, Handled, InvalidGrant, UnauthorizedClient, wire};
use crate::grant_policy::{Grant, narrow_resources, narrow_scope, resolve_grant};
use crate::keys::Keys;
use crate::respond;
use crate::session::random_id;
use crate::token_status::jti_of_family;

fn randomness() -> EndpointError {
    EndpointError::randomness()
}

/// What the audit of one token request learns while it is handled.
#[derive(Default)]
struct Note {
    /// The authenticated client.
    client_id: Option<ClientId>,
    /// What was issued, once the response is ready.
    issued: Option<Issued>,
}

/// Tokens issued: by which act, for whom, with what scope and resources.
struct Issued {
    /// `CodeRedeemed`, `RefreshRotated`, or `TokensIssued` alone (client credentials).
    act: AuditKind,
    grant_type: &'static str,
    subject: Option<Subject>,
    scope: Scope,
    resources: Vec<ResourceUri>,
}

/// The token endpoint's dependencies.
pub(crate) struct TokenEndpoint {
    clock: Arc<dyn Clock>,
    issuer: Issuer,
    /// The resources served, for the grant policy.
    resources: Vec<ResourcePolicy>,
    access_token_lifetime: Duration,
    refresh_token_lifetime: Duration,
    grant_lifetime: Duration,
    store: Arc<dyn Store>,
    keys: Arc<Keys>,
    clients: Arc<ClientDirectory>,
    /// Shared with the revocation and introspection endpoints (SEC-11).
    limits: Arc<ClientLimits>,
    audit: Arc<Auditor>,
}

impl TokenEndpoint {
    /// The endpoint over these parts.
    pub(crate) fn new(
        config: &ServerConfig,
        store: Arc<dyn Store>,
        keys: Arc<Keys>,
        clients: Arc<ClientDirectory>,
        limits: Arc<ClientLimits>,
        audit: Arc<Auditor>,
    ) -> Self {
        Self {
            audit,
            clock: config.clock.clone(),
            issuer: config.issuer.clone(),
            resources: config.resources.clone(),
            access_token_lifetime: config.access_token_lifetime,
            refresh_token_lifetime: config.refresh_token_lifetime,
            grant_lifetime: config.grant_lifetime,
            store,
            keys,
            clients,
            limits,
        }
    }

    fn now(&self) -> NumericDate {
        self.clock.now()
    }

    /// `POST /token`.
    pub(crate) async fn handle(&self, request: Request<Bytes>) -> Response<Bytes> {
        let mut note = Note::default();
        let result = self
            .limits
            .limited_by_peer(&request, self.token(&request, &mut note))
            .await;
        match (&result, note.issued) {
            (Ok(_), Some(issued)) => {
                let mut event = self
                    .audit
                    .event(issued.act, AuditOutcome::Success, &request);
                event.client_id = note.client_id;
                event.subject = issued.subject;
                event.scope = issued.scope;
                event.resources = issued.resources;
                if issued.act != AuditKind::TokensIssued {
                    self.audit.record(event.clone()).await;
                }
                event.kind = AuditKind::TokensIssued;
                event.reason = AuditReason::lossy(issued.grant_type);
                self.audit.record(event).await;
            }
            (Err(error), _) => {
                self.audit
                    .refused(
                        AuditKind::TokensIssued,
                        &request,
                        note.client_id.as_ref(),
                        error,
                    )
                    .await;
            }
            (Ok(_), None) => {}
        }
        wire::finish(result)
    }

    async fn token(&self, request: &Request<Bytes>, note: &mut Note) -> Handled {
        let parsed = TokenRequest::parse_form(request.body())?;
        let grant = parsed.request.require_supported()?;
        let client = self
            .clients
            .authenticate(request, parsed.client, false, Some(&grant))
            .await?;
        note.client_id = Some(client.client_id.clone());
        let grant_type = grant.grant_type();
        if !client.grant_types.contains(&grant_type) {
            return Err(UnauthorizedClient::GrantType.into());
        }
        // SEC-11: see `client_limits`.
        let public = !is_confidential(&client);
        if public {
            self.limits.peek_public(&client, request)?;
        } else {
            self.limits.charge_confidential(&client)?;
        }
        let result = self.grant(&client, grant, note).await;
        if public {
            self.limits.charge_public_success(&client, request, &result);
        }
        result
    }

    async fn grant(&self, client: &ClientRecord, grant: TokenRequest, note: &mut Note) -> Handled {
        match grant {
            TokenRequest::AuthorizationCode(grant) => self.code_grant(client, grant, note).await,
            TokenRequest::RefreshToken(grant) => self.refresh_grant(client, grant, note).await,
            TokenRequest::ClientCredentials(grant) => {
                self.client_credentials_grant(client, grant, note).await
            }
            _ => Err(EndpointError::UnsupportedGrantType),
        }
    }

    async fn code_grant(
        &self,
        client: &ClientRecord,
        grant: AuthorizationCodeGrant,
        note: &mut Note,
    ) -> Handled {
        let now = self.now();
        let hash = SecretHash::of(grant.code.secret());
        let invalid = |cause: InvalidGrant| EndpointError::from(cause);
        let Some(code) = self.store.find_code(&hash).await? else {
            return Err(invalid(InvalidGrant::UnknownCode));
        };
        if code.client_id != client.client_id {
            return Err(invalid(InvalidGrant::CodeOfAnotherClient));
        }
        if code.consumed_at.is_none() {
            // Checks that do not spend the code: a wrong verifier or redirect URI leaves it usable
            // only until it expires, never for a second exchange.
            match &grant.redirect_uri {
                Some(uri) if uri.as_str() != code.redirect_uri.as_str() => {
                    return Err(invalid(InvalidGrant::RedirectUriMismatch));
                }
                None if client.redirect_uris.len() != 1 => {
                    return Err(invalid(InvalidGrant::RedirectUriRequired));
                }
                _ => {}
            }
            if code.code_challenge.verify(&grant.code_verifier).is_err() {
                return Err(invalid(InvalidGrant::Pkce));
            }
        }
        let resources = narrow_resources(&self.resources, &grant.resources, &code.resources)?;
        let issue_refresh = client.grant_types.contains(&GrantType::RefreshToken);
        let refresh = if issue_refresh {
            Some(RefreshToken::generate().map_err(|_| randomness())?)
        } else {
            None
        };
        let exchange = CodeExchange {
            grant_expires_at: now.saturating_add(self.grant_lifetime),
            refresh_token: refresh.as_ref().map(|t| self.new_refresh(t, now)),
        };
        match self.store.consume_code(&hash, exchange, now).await? {
            CodeConsumption::Consumed {
                code,
                grant: stored,
            } => {
                let jti = jti_of_family(&stored.id, &random_id().ok_or_else(randomness)?);
                let response = self
                    .token_response(
                        code.subject.as_str(),
                        &client.client_id,
                        &resources,
                        &code.scope,
                        jti,
                        refresh,
                        now,
                    )
                    .await?;
                note.issued = Some(Issued {
                    act: AuditKind::CodeRedeemed,
                    grant_type: "authorization_code",
                    subject: Some(code.subject),
                    scope: code.scope,
                    resources,
                });
                Ok(response)
            }
            CodeConsumption::AlreadyConsumed { family_id, .. } => {
                tracing::warn!(family = %family_id, "authorization code replayed: grant revoked");
                Err(invalid(InvalidGrant::CodeReplayed))
            }
            CodeConsumption::Expired => Err(invalid(InvalidGrant::CodeExpired)),
            _ => Err(invalid(InvalidGrant::UnknownCode)),
        }
    }

    fn new_refresh(&self, token: &RefreshToken, now: NumericDate) -> NewRefreshToken {
        NewRefreshToken {
            hash: SecretHash::of(token.secret()),
            expires_at: now.saturating_add(self.refresh_token_lifetime),
        }
    }

    async fn refresh_grant(
        &self,
        client: &ClientRecord,
        grant: RefreshTokenGrant,
        note: &mut Note,
    ) -> Handled {
        let now = self.now();
        let invalid = |cause: InvalidGrant| EndpointError::from(cause);
        let hash = SecretHash::of(grant.refresh_token.secret());
        if grant.scope.is_none() && grant.resources.is_empty() {
            // Nothing to narrow, so nothing to check against the grant before rotating: one store
            // round trip, bound to the client (a token of another client changes nothing).
            let next = RefreshToken::generate().map_err(|_| randomness())?;
            let rotation = self
                .store
                .rotate_client_refresh_token(
                    &hash,
                    &client.client_id,
                    self.new_refresh(&next, now),
                    now,
                )
                .await?;
            return self
                .rotated(client, rotation, Vec::new(), None, next, now, note)
                .await;
        }
        let Some(lookup) = self.store.find_refresh_token(&hash, now).await? else {
            return Err(invalid(InvalidGrant::UnknownRefreshToken));
        };
        if lookup.grant.client_id != client.client_id {
            return Err(invalid(InvalidGrant::RefreshTokenOfAnotherClient));
        }
        let granted = lookup.grant.scope.clone();
        if lookup.status != RefreshStatus::Active {
            // SEC-20: a rotated token presented again is reuse, whatever else the request asks: the
            // rotation detects it and revokes the family before the scope or resources are looked at.
            let next = RefreshToken::generate().map_err(|_| randomness())?;
            let rotation = self
                .store
                .rotate_refresh_token(&hash, self.new_refresh(&next, now), granted, now)
                .await?;
            return self
                .rotated(client, rotation, Vec::new(), None, next, now, note)
                .await;
        }
        let scope = narrow_scope(grant.scope.as_ref(), &granted)?;
        let resources =
            narrow_resources(&self.resources, &grant.resources, &lookup.grant.resources)?;
        let next = RefreshToken::generate().map_err(|_| randomness())?;
        // The family keeps its granted scope; a narrower request narrows this access token only.
        let rotation = self
            .store
            .rotate_refresh_token(&hash, self.new_refresh(&next, now), granted, now)
            .await?;
        self.rotated(client, rotation, resources, Some(scope), next, now, note)
            .await
    }

    /// Answers a rotation: the token response for `Rotated` (with `resources` and `scope`, or the
    /// grant's own when `None` / empty), else `invalid_grant`.
    #[allow(clippy::too_many_arguments)]
    async fn rotated(
        &self,
        client: &ClientRecord,
        rotation: Rotation,
        resources: Vec<ResourceUri>,
        scope: Option<Scope>,
        next: RefreshToken,
        now: NumericDate,
        note: &mut Note,
    ) -> Handled {
        let invalid = |cause: InvalidGrant| EndpointError::from(cause);
        match rotation {
            Rotation::Rotated { grant: stored, .. } => {
                let jti = jti_of_family(&stored.id, &random_id().ok_or_else(randomness)?);
                let resources = if resources.is_empty() {
                    &stored.resources
                } else {
                    &resources
                };
                let scope = scope.unwrap_or_else(|| stored.scope.clone());
                let response = self
                    .token_response(
                        stored.subject.as_str(),
                        &client.client_id,
                        resources,
                        &scope,
                        jti,
                        Some(next),
                        now,
                    )
                    .await?;
                note.issued = Some(Issued {
                    act: AuditKind::RefreshRotated,
                    grant_type: "refresh_token",
                    subject: Some(stored.subject.clone()),
                    scope,
                    resources: resources.to_vec(),
                });
                Ok(response)
            }
            Rotation::Reused { family_id } => {
                tracing::warn!(family = %family_id, "refresh token reused: family revoked");
                Err(invalid(InvalidGrant::RefreshTokenReused))
            }
            Rotation::Revoked { .. } => Err(invalid(InvalidGrant::GrantRevoked)),
            Rotation::Expired => Err(invalid(InvalidGrant::RefreshTokenExpired)),
            Rotation::OtherClient => Err(invalid(InvalidGrant::RefreshTokenOfAnotherClient)),
            _ => Err(invalid(InvalidGrant::UnknownRefreshToken)),
        }
    }

    async fn client_credentials_grant(
        &self,
        client: &ClientRecord,
        grant: ClientCredentialsGrant,
        note: &mut Note,
    ) -> Handled {
        if !is_confidential(client) {
            return Err(UnauthorizedClient::NotConfidential.into());
        }
        if !may_act_without_user(client) {
            return Err(UnauthorizedClient::NotOperatorRegistered.into());
        }
        let Grant { resources, scope } = resolve_grant(
            &self.resources,
            client,
            &grant.resources,
            grant.scope.as_ref(),
        )?;
        let now = self.now();
        let jti = random_id().ok_or_else(randomness)?;
        let response = self
            .token_response(
                client.client_id.as_str(),
                &client.client_id,
                &resources,
                &scope,
                jti,
                None,
                now,
            )
            .await?;
        note.issued = Some(Issued {
            act: AuditKind::TokensIssued,
            grant_type: "client_credentials",
            subject: None,
            scope,
            resources,
        });
        Ok(response)
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
        let lifetime = self.access_token_lifetime;
        let claims = JwtAccessTokenClaims {
            iss: self.issuer.clone(),
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
        let jwt = self.keys.sign(&claims, now).await?;
        let access_token = AccessToken::parse(&jwt).map_err(EndpointError::IssuedToken)?;
        let mut response = TokenResponse::bearer(access_token, Some(lifetime.as_secs()));
        response.refresh_token = refresh_token;
        response.scope = (!scope.is_empty()).then(|| scope.clone());
        Ok(respond::json_value(StatusCode::OK, &response))
    }
}
