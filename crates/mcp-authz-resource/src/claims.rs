//! What the application sees of a validated token (REQUIREMENTS RS-8): claims, never the token.

use std::fmt;
use std::sync::Arc;

use mcp_authz_metadata::{ClientId, Issuer, Scope};
use mcp_authz_token::{ActiveToken, Audience, JwtAccessTokenClaims, NumericDate};

/// The validated facts about the access token of a request, put into the request's extensions by
/// [`RequireBearer`](crate::RequireBearer). It holds no copy of the token, so application code cannot
/// forward the client's credential to another service (REQUIREMENTS RS-8): call upstream APIs with
/// tokens of your own. Cheap to clone (shared).
///
/// ```
/// use mcp_authz_resource::VerifiedClaims;
/// fn handler(parts: &http::request::Parts) -> Option<&str> {
///     parts.extensions.get::<VerifiedClaims>()?.subject()
/// }
/// # let (parts, ()) = http::Request::new(()).into_parts();
/// # assert_eq!(handler(&parts), None);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct VerifiedClaims(Arc<Inner>);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Inner {
    issuer: Option<Issuer>,
    subject: Option<String>,
    client_id: Option<ClientId>,
    scope: Scope,
    expires_at: Option<NumericDate>,
    audience: Audience,
    token_id: Option<String>,
}

impl fmt::Debug for VerifiedClaims {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedClaims")
            .field("issuer", &self.0.issuer)
            .field("subject", &self.0.subject)
            .field("client_id", &self.0.client_id)
            .field("scope", &self.0.scope)
            .field("expires_at", &self.0.expires_at)
            .field("audience", &self.0.audience)
            .field("token_id", &self.0.token_id)
            .finish()
    }
}

impl VerifiedClaims {
    /// Claims granting `scope` for `audience`, for [`TokenVerifier`](crate::TokenVerifier)
    /// implementations of your own; add the other facts with the `with_*` methods.
    pub fn new(scope: Scope, audience: Audience) -> Self {
        Self(Arc::new(Inner {
            issuer: None,
            subject: None,
            client_id: None,
            scope,
            expires_at: None,
            audience,
            token_id: None,
        }))
    }

    fn edit(mut self, f: impl FnOnce(&mut Inner)) -> Self {
        f(Arc::make_mut(&mut self.0));
        self
    }

    /// Sets the issuer.
    #[must_use]
    pub fn with_issuer(self, issuer: Issuer) -> Self {
        self.edit(|i| i.issuer = Some(issuer))
    }

    /// Sets the subject.
    #[must_use]
    pub fn with_subject(self, subject: impl Into<String>) -> Self {
        let subject = subject.into();
        self.edit(|i| i.subject = Some(subject))
    }

    /// Sets the client id.
    #[must_use]
    pub fn with_client_id(self, client_id: ClientId) -> Self {
        self.edit(|i| i.client_id = Some(client_id))
    }

    /// Sets the expiry.
    #[must_use]
    pub fn with_expires_at(self, expires_at: NumericDate) -> Self {
        self.edit(|i| i.expires_at = Some(expires_at))
    }

    /// Sets the token identifier.
    #[must_use]
    pub fn with_token_id(self, token_id: impl Into<String>) -> Self {
        let token_id = token_id.into();
        self.edit(|i| i.token_id = Some(token_id))
    }

    /// `iss`, when the token or introspection response names it.
    pub fn issuer(&self) -> Option<&Issuer> {
        self.0.issuer.as_ref()
    }

    /// `sub`: the resource owner (or the client, for client-credentials tokens).
    pub fn subject(&self) -> Option<&str> {
        self.0.subject.as_deref()
    }

    /// `client_id`: the client the token was issued to.
    pub fn client_id(&self) -> Option<&ClientId> {
        self.0.client_id.as_ref()
    }

    /// `scope`: the granted scope, as issued (the scope hierarchy is applied when checking).
    pub fn scope(&self) -> &Scope {
        &self.0.scope
    }

    /// `exp`: when the token expires.
    pub fn expires_at(&self) -> Option<NumericDate> {
        self.0.expires_at
    }

    /// `aud`: the audiences; always includes this resource.
    pub fn audience(&self) -> &Audience {
        &self.0.audience
    }

    /// `jti`: the token's identifier.
    pub fn token_id(&self) -> Option<&str> {
        self.0.token_id.as_deref()
    }
}

impl From<JwtAccessTokenClaims> for VerifiedClaims {
    fn from(claims: JwtAccessTokenClaims) -> Self {
        Self(Arc::new(Inner {
            issuer: Some(claims.iss),
            subject: Some(claims.sub),
            client_id: Some(claims.client_id),
            scope: claims.scope.unwrap_or_default(),
            expires_at: Some(claims.exp),
            audience: claims.aud,
            token_id: Some(claims.jti),
        }))
    }
}

impl From<ActiveToken> for VerifiedClaims {
    fn from(token: ActiveToken) -> Self {
        Self(Arc::new(Inner {
            issuer: token.iss,
            subject: token.sub,
            client_id: token.client_id,
            scope: token.scope.unwrap_or_default(),
            expires_at: token.exp,
            audience: token.aud.unwrap_or_default(),
            token_id: token.jti,
        }))
    }
}
