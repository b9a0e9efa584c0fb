//! The framework-neutral core over `http` types: authorize a request, check an operation's scope, answer
//! metadata requests.

use std::sync::Arc;

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::request::Parts;
use http::{HeaderValue, Method, Response, StatusCode};
use http_body_util::Full;
use mcp_authz_metadata::Scope;
use mcp_authz_token::{BearerTokenError, bearer_token_from_headers, reject_token_in_query};

use crate::{
    CheckError, DEFAULT_RETRY_AFTER, InvalidToken, Rejection, RejectionReason,
    ResourceServerConfig, RevocationCheck, TokenVerifier, VerifiedClaims, VerifyError,
};

/// A protected resource: its configuration and its token verifier. Cheap to clone. Use it directly
/// from any framework, or through [`RequireBearerLayer`](crate::RequireBearerLayer).
pub struct ResourceServer<V> {
    config: Arc<ResourceServerConfig>,
    verifier: Arc<V>,
    revocation: Option<Arc<dyn RevocationCheck>>,
}

impl<V: std::fmt::Debug> std::fmt::Debug for ResourceServer<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceServer")
            .field("config", &self.config)
            .field("verifier", &self.verifier)
            .field("revocation_check", &self.revocation.is_some())
            .finish()
    }
}

impl<V> Clone for ResourceServer<V> {
    fn clone(&self) -> Self {
        Self {
            config: Arc::clone(&self.config),
            verifier: Arc::clone(&self.verifier),
            revocation: self.revocation.clone(),
        }
    }
}

impl<V: TokenVerifier> ResourceServer<V> {
    /// A resource server with this configuration and verifier.
    pub fn new(config: ResourceServerConfig, verifier: V) -> Self {
        Self {
            config: Arc::new(config),
            verifier: Arc::new(verifier),
            revocation: None,
        }
    }

    /// Also asks `check` about every token that verified, and refuses revoked ones with 401
    /// `invalid_token` (REQUIREMENTS SEC-16). Default: none (a verified token is accepted until it
    /// expires). See [`RevocationCheck`] for when this fits.
    #[must_use]
    pub fn with_revocation_check(mut self, check: impl RevocationCheck) -> Self {
        self.revocation = Some(Arc::new(check));
        self
    }

    /// The configuration.
    pub fn config(&self) -> &ResourceServerConfig {
        &self.config
    }

    /// The verifier.
    pub fn verifier(&self) -> &V {
        &self.verifier
    }

    /// Checks the verifier's configuration against the authorization server now (see
    /// [`TokenVerifier::check`]): call it at startup so a wrong issuer stops the program with the
    /// cause instead of refusing every token later.
    ///
    /// ```no_run
    /// # use mcp_authz_resource::{JwtVerifier, ResourceServer, ResourceServerConfig};
    /// # async fn run(config: ResourceServerConfig, verifier: JwtVerifier) -> Result<(), Box<dyn std::error::Error>> {
    /// let resource_server = ResourceServer::new(config, verifier);
    /// resource_server.check().await?; // e.g. "issuer http://localhost:8400 ... is not the expected issuer http://127.0.0.1:8400"
    /// # Ok(())
    /// # }
    /// ```
    pub async fn check(&self) -> Result<(), CheckError> {
        self.verifier.check().await
    }

    /// Authorizes a request: a token in the query string or a malformed `Authorization` header is 400
    /// (REQUIREMENTS RS-7); no Bearer credentials is 401 without `error` (RS-2); an invalid token is
    /// 401 `invalid_token` (RS-3, RS-4); an undecidable one is 503; a token without the
    /// [required scope](ResourceServerConfig::required_scope) is 403 (RS-5). Otherwise the validated
    /// claims.
    pub async fn authorize(&self, parts: &Parts) -> Result<VerifiedClaims, Rejection> {
        reject_token_in_query(parts.uri.query()).map_err(|e| self.reject_header(e))?;
        let token = bearer_token_from_headers(&parts.headers).map_err(|e| self.reject_header(e))?;
        let claims = self.verifier.verify(&token).await.map_err(|e| match e {
            VerifyError::InvalidToken(e) => self.reject(RejectionReason::InvalidToken(e)),
            VerifyError::Unavailable {
                retry_after,
                source,
            } => {
                tracing::warn!(error = %source, "token verification unavailable");
                self.reject(RejectionReason::Unavailable { retry_after })
            }
            // The verifier logs it at ERROR once per change, not per request.
            VerifyError::Misconfigured(_) => self.reject(RejectionReason::Misconfigured),
        })?;
        if let Some(check) = &self.revocation {
            match check.is_revoked(&claims).await {
                Ok(false) => {}
                Ok(true) => {
                    return Err(self.reject(RejectionReason::InvalidToken(InvalidToken::Revoked)));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "token revocation state unavailable");
                    return Err(self.reject(RejectionReason::Unavailable {
                        retry_after: DEFAULT_RETRY_AFTER,
                    }));
                }
            }
        }
        self.check_scope(&claims, self.config.required_scope())?;
        Ok(claims)
    }

    /// Checks that `claims` grant every scope of `required`, through the scope hierarchy
    /// (REQUIREMENTS RS-6); otherwise 403 `insufficient_scope` naming all of `required` (RS-5).
    pub fn check_scope(&self, claims: &VerifiedClaims, required: &Scope) -> Result<(), Rejection> {
        let missing = self.config.hierarchy().missing(claims.scope(), required);
        if missing.is_empty() {
            Ok(())
        } else {
            Err(self.reject(RejectionReason::InsufficientScope {
                required: required.clone(),
                missing,
            }))
        }
    }

    /// Checks the scope a call of `tool` needs ([`ResourceServerConfig::tool_scope`]). Tool handlers
    /// that are not behind the layer's body inspection can call this with the claims from the request
    /// extensions.
    pub fn check_tool(&self, claims: &VerifiedClaims, tool: &str) -> Result<(), Rejection> {
        self.check_scope(claims, &self.config.tool_scope(tool))
    }

    /// The metadata response (REQUIREMENTS RS-1) when `parts` is a `GET` or `HEAD` of a
    /// [metadata path](ResourceServerConfig::metadata_paths), `None` otherwise.
    pub fn metadata_response(&self, parts: &Parts) -> Option<Response<Full<Bytes>>> {
        if parts.method != Method::GET && parts.method != Method::HEAD {
            return None;
        }
        let path = parts.uri.path();
        if !self.config.metadata_paths().iter().any(|p| p == path) {
            return None;
        }
        let body = if parts.method == Method::HEAD {
            Bytes::new()
        } else {
            self.config.metadata_json().clone()
        };
        let mut response = Response::new(Full::new(body));
        *response.status_mut() = StatusCode::OK;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("max-age=3600"));
        headers.insert(
            http::header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        Some(response)
    }

    /// A rejection with this server's challenge parameters.
    pub fn reject(&self, reason: RejectionReason) -> Rejection {
        Rejection::new(reason, &self.config)
    }

    fn reject_header(&self, e: BearerTokenError) -> Rejection {
        match e {
            BearerTokenError::Missing | BearerTokenError::NotBearer(_) => {
                self.reject(RejectionReason::MissingToken)
            }
            other => self.reject(RejectionReason::InvalidRequest(other)),
        }
    }
}
