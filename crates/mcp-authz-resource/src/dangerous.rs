//! Settings that weaken the defaults. Each one is a deliberate, visible choice; none is needed with an
//! RFC 9068 / RFC 7662 compliant authorization server over https.

use crate::{IntrospectionVerifierBuilder, JwtVerifierBuilder, ResourceServerConfigBuilder};

/// Accepts a plain `http` resource URI on a non-loopback host (for a server behind a TLS-terminating
/// proxy that is configured with its internal URL; prefer configuring the public `https` URI).
pub fn allow_http_resource(builder: ResourceServerConfigBuilder) -> ResourceServerConfigBuilder {
    let mut builder = builder;
    builder.allow_http = true;
    builder
}

/// Passes the `Authorization` header on to the inner service. By default the layer removes it, so
/// that application code sees validated claims and never the client's token (REQUIREMENTS RS-8).
pub fn keep_authorization_header(
    builder: ResourceServerConfigBuilder,
) -> ResourceServerConfigBuilder {
    let mut builder = builder;
    builder.strip_authorization = false;
    builder
}

/// Accepts JWTs whose JOSE `typ` is not `at+jwt` (authorization servers that predate RFC 9068). Such
/// tokens could be ID tokens or other JWTs signed by the same key; only use this when the issuer
/// signs nothing else with its keys.
pub fn accept_any_jwt_typ(builder: JwtVerifierBuilder) -> JwtVerifierBuilder {
    let mut builder = builder;
    builder.require_at_jwt = false;
    builder
}

/// Accepts introspection answers without `aud` (RFC 7662 makes it optional). Without it the resource
/// cannot tell whether the token was meant for it (REQUIREMENTS RS-4, SEC-7).
pub fn introspection_allow_missing_audience(
    builder: IntrospectionVerifierBuilder,
) -> IntrospectionVerifierBuilder {
    let mut builder = builder;
    builder.require_audience = false;
    builder
}
