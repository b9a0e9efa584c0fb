//! The tower middleware: [`RequireBearerLayer`] / [`RequireBearer`] / [`ResponseFuture`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http::{Method, Request, Response};
use http_body::Body;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use mcp_authz_metadata::Scope;
use tower_layer::Layer;
use tower_service::Service;

use crate::session::{MCP_SESSION_ID, Principal, SessionTable, Standing};
use crate::{RejectionReason, ResourceServer, ResponseBody, TokenVerifier};

/// Protects a service: answers the protected resource metadata paths (REQUIREMENTS RS-1), refuses
/// requests without a valid token with the RFC 6750 challenge (RS-2..RS-7), checks the scopes of MCP
/// `tools/call` requests (RS-5, RS-6), and passes the others on with [`VerifiedClaims`] in the request
/// extensions and the `Authorization` header removed (RS-8).
///
/// Works with axum (`Router::layer`, `route_layer`) and with rmcp's `StreamableHttpService`, whose
/// tool handlers read the claims from the `http::request::Parts` it puts into their context:
///
/// ```
/// # use mcp_authz_resource::VerifiedClaims;
/// # let extensions = http::Extensions::new(); // rmcp: `ctx.extensions` of the tool's RequestContext
/// let parts = extensions.get::<http::request::Parts>();
/// let claims = parts.and_then(|p| p.extensions.get::<VerifiedClaims>());
/// # assert!(claims.is_none());
/// ```
///
/// **Tool scopes.** When [tool scopes](crate::ResourceServerConfigBuilder::tool_scope) are configured,
/// the layer reads `POST` bodies (up to [`max_inspected_body`](crate::ResourceServerConfig::max_inspected_body)
/// bytes, else 413), finds every `tools/call` and answers 403 `insufficient_scope` naming every scope
/// the calls need before the MCP server sees the request. This is why the request body type must be
/// rebuildable from bytes (`B: From<Bytes>`, as axum's `Body` is).
///
/// **MCP sessions** (REQUIREMENTS SEC-17). The first response that names an `Mcp-Session-Id` binds
/// that session to the issuer, subject and client of the token of its request. A later request
/// carrying the id with another principal's token, or an id the layer never handed out (or forgot:
/// at most 10 000 sessions, 64 per principal, each forgotten after an hour unused), gets 404, as MCP
/// answers for an unknown session, and never reaches the service. Turn this off with
/// [`without_session_binding`](Self::without_session_binding) when the service does its own binding
/// or uses the header for something else. The binding lives in this layer and its clones: layers
/// created separately (or separate processes) do not share it.
///
/// [`VerifiedClaims`]: crate::VerifiedClaims
#[derive(Debug)]
pub struct RequireBearerLayer<V> {
    server: ResourceServer<V>,
    sessions: Option<Arc<SessionTable>>,
}

impl<V> Clone for RequireBearerLayer<V> {
    fn clone(&self) -> Self {
        Self {
            server: self.server.clone(),
            sessions: self.sessions.clone(),
        }
    }
}

impl<V: TokenVerifier> RequireBearerLayer<V> {
    /// A layer protecting services with `server`, binding MCP sessions to their principals.
    pub fn new(server: ResourceServer<V>) -> Self {
        Self {
            server,
            sessions: Some(Arc::new(SessionTable::default())),
        }
    }

    /// Passes `Mcp-Session-Id` through unchecked: any principal with a valid token may use any
    /// session whose id it knows. Default: sessions are bound (see the type's documentation).
    #[must_use]
    pub fn without_session_binding(mut self) -> Self {
        self.sessions = None;
        self
    }
}

impl<S, V> Layer<S> for RequireBearerLayer<V> {
    type Service = RequireBearer<S, V>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireBearer {
            inner,
            server: self.server.clone(),
            sessions: self.sessions.clone(),
        }
    }
}

/// The service of [`RequireBearerLayer`].
#[derive(Debug)]
pub struct RequireBearer<S, V> {
    inner: S,
    server: ResourceServer<V>,
    sessions: Option<Arc<SessionTable>>,
}

impl<S: Clone, V> Clone for RequireBearer<S, V> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            server: self.server.clone(),
            sessions: self.sessions.clone(),
        }
    }
}

type BoxedResponse<ResB, E> =
    Pin<Box<dyn Future<Output = Result<Response<ResponseBody<ResB>>, E>> + Send>>;

/// The response future of [`RequireBearer`].
pub struct ResponseFuture<ResB, E> {
    inner: BoxedResponse<ResB, E>,
}

impl<ResB, E> std::fmt::Debug for ResponseFuture<ResB, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<ResB, E> Future for ResponseFuture<ResB, E> {
    type Output = Result<Response<ResponseBody<ResB>>, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx)
    }
}

impl<S, V, B, ResB> Service<Request<B>> for RequireBearer<S, V>
where
    S: Service<Request<B>, Response = Response<ResB>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Send + 'static,
    V: TokenVerifier,
    B: Body<Data = Bytes> + From<Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    ResB: Send + 'static,
{
    type Response = Response<ResponseBody<ResB>>;
    type Error = S::Error;
    type Future = ResponseFuture<ResB, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // The clone is not ready; keep the ready one for this call (tower's usual swap).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let server = self.server.clone();
        let sessions = self.sessions.clone();
        ResponseFuture {
            inner: Box::pin(async move {
                let (mut parts, body) = request.into_parts();
                let own = |r: Response<http_body_util::Full<Bytes>>| Ok(r.map(ResponseBody::own));
                if let Some(metadata) = server.metadata_response(&parts) {
                    return own(metadata);
                }
                let claims = match server.authorize(&parts).await {
                    Ok(claims) => claims,
                    Err(rejection) => return own(rejection.into_response()),
                };
                let principal = sessions.as_ref().map(|_| Principal::of(&claims));
                let presented = parts.headers.get(MCP_SESSION_ID).cloned();
                if let (Some(table), Some(principal)) = (&sessions, &principal)
                    && let Some(id) = &presented
                {
                    let standing = id.to_str().map_or(Standing::Unknown, |id| {
                        table.check(id, principal, Instant::now())
                    });
                    if standing != Standing::Owner {
                        tracing::debug!(?standing, "MCP session refused");
                        return own(crate::session::not_found());
                    }
                }
                let body = if server.config().has_tool_scopes() && parts.method == Method::POST {
                    let limit = server.config().max_inspected_body();
                    let collected = match Limited::new(body, limit).collect().await {
                        Ok(collected) => collected,
                        Err(e) if e.is::<LengthLimitError>() => {
                            return own(server
                                .reject(RejectionReason::BodyTooLarge { limit })
                                .into_response());
                        }
                        Err(_) => {
                            return own(server
                                .reject(RejectionReason::BodyUnreadable)
                                .into_response());
                        }
                    };
                    let bytes = collected.to_bytes();
                    if let Some(tools) = crate::jsonrpc::called_tools(&bytes) {
                        let mut required = server.config().required_scope().clone();
                        for tool in &tools {
                            required = required.union(&server.config().tool_scope(tool));
                        }
                        if required != Scope::new()
                            && let Err(rejection) = server.check_scope(&claims, &required)
                        {
                            return own(rejection.into_response());
                        }
                    }
                    B::from(bytes)
                } else {
                    body
                };
                if server.config().strip_authorization {
                    parts.headers.remove(http::header::AUTHORIZATION);
                }
                parts.extensions.insert(claims);
                let ending = parts.method == Method::DELETE;
                let uri = parts.uri.clone();
                let host = parts.headers.get(http::header::HOST).cloned();
                let closer = inner.clone();
                let response = inner.call(Request::from_parts(parts, body)).await?;
                if let (Some(table), Some(principal)) = (&sessions, &principal) {
                    if ending && response.status().is_success() {
                        if let Some(id) = presented.as_ref().and_then(|v| v.to_str().ok()) {
                            table.forget(id);
                        }
                    } else if let Some(id) = response
                        .headers()
                        .get(MCP_SESSION_ID)
                        .and_then(|v| v.to_str().ok())
                    {
                        let dropped = table.bind(id, principal, Instant::now());
                        end_sessions(closer, &uri, host.as_ref(), dropped).await;
                    }
                }
                Ok(response.map(ResponseBody::inner))
            }),
        }
    }
}

/// Ends, at the protected service, the sessions the table dropped (evicted or idle): one MCP
/// `DELETE` each, the way a client ends its session. Without it the service would keep every session
/// a principal opened in a loop until its own idle timeout. Failures are logged, not returned: the
/// binding is gone either way, so a later request naming the id is refused.
///
/// The `DELETE` goes to the URI and `Host` of the request that caused the drop (the same service), so
/// a server checking `Host` against DNS rebinding (rmcp does) accepts it.
async fn end_sessions<S, B, ResB>(
    mut service: S,
    uri: &http::Uri,
    host: Option<&http::HeaderValue>,
    ids: Vec<String>,
) where
    S: Service<Request<B>, Response = Response<ResB>>,
    B: From<Bytes>,
{
    for id in ids {
        let Ok(value) = http::HeaderValue::from_str(&id) else {
            continue;
        };
        let mut request = Request::new(B::from(Bytes::new()));
        *request.method_mut() = Method::DELETE;
        *request.uri_mut() = uri.clone();
        request.headers_mut().insert(MCP_SESSION_ID, value);
        if let Some(host) = host {
            request
                .headers_mut()
                .insert(http::header::HOST, host.clone());
        }
        let ready = std::future::poll_fn(|cx| service.poll_ready(cx)).await;
        if ready.is_err() {
            tracing::debug!("service not ready to end a dropped MCP session");
            return;
        }
        match service.call(request).await {
            Ok(response) => {
                tracing::debug!(status = %response.status(), "dropped MCP session ended")
            }
            Err(_) => tracing::debug!("ending a dropped MCP session failed"),
        }
    }
}
