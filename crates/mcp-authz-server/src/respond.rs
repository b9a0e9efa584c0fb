//! Response builders: every header the endpoints promise is set here, in one place (REQUIREMENTS AS-14,
//! SEC-5, SEC-9).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Response, StatusCode};
use mcp_authz_token::{ErrorCode, ErrorResponse};

/// The peer address of a request, put into the request extensions by the transport (the axum adapter
/// does it from `ConnectInfo`). Rate limits key anonymous requests by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// Set once a request without [`ClientAddr`] was warned about.
static WARNED_NO_PEER: AtomicBool = AtomicBool::new(false);

/// The rate-limit key of an anonymous request: the peer IP, or one shared key without it. The first
/// request without a peer address is logged at WARN: a transport that never sets it (axum served
/// without `into_make_service_with_connect_info::<SocketAddr>()`) puts every client in one bucket.
pub(crate) fn peer_key(request: &http::Request<Bytes>) -> String {
    match request.extensions().get::<ClientAddr>() {
        Some(addr) => addr.0.to_string(),
        None => {
            if !WARNED_NO_PEER.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    "a request arrived without its peer address (ClientAddr): every such request \
                     shares one rate-limit bucket. Serve with AuthorizationServer::serve, or axum::serve \
                     with into_make_service_with_connect_info::<SocketAddr>(), or insert ClientAddr \
                     before AuthorizationServer::handle"
                );
            }
            "unknown".to_owned()
        }
    }
}

/// The Content-Security-Policy of every HTML page: no scripts, no framing (SEC-9).
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

fn base(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Response<Bytes> {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// A JSON response with `Cache-Control: no-store` and `Pragma: no-cache`.
pub(crate) fn json(status: StatusCode, body: impl Into<Bytes>) -> Response<Bytes> {
    base(status, "application/json", body)
}

/// A cacheable public JSON document (metadata, JWKS).
pub(crate) fn public_json(body: Bytes, max_age: &'static str) -> Response<Bytes> {
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(max_age));
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

/// A serializable value as a no-store JSON response.
pub(crate) fn json_value<T: serde::Serialize>(status: StatusCode, value: &T) -> Response<Bytes> {
    match serde_json::to_vec(value) {
        Ok(body) => json(status, body),
        Err(_) => server_error(),
    }
}

/// 500 for an internal failure (a key that does not load): never caused by input. The body is
/// `{"error":"server_error"}`; [`crate::error::wire`] decides when it is sent.
pub(crate) fn server_error() -> Response<Bytes> {
    let body = serde_json::to_vec(&ErrorResponse::new(ErrorCode::ServerError)).unwrap_or_default();
    json(StatusCode::INTERNAL_SERVER_ERROR, body)
}

/// An HTML page with the anti-framing and no-referrer headers (AS-11, SEC-5, SEC-9).
pub(crate) fn html(status: StatusCode, body: String) -> Response<Bytes> {
    let mut response = base(status, "text/html; charset=utf-8", body);
    page_headers(response.headers_mut());
    response
}

fn page_headers(headers: &mut HeaderMap) {
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

/// A redirect: 302 from the authorization endpoint (GET), 303 after a form POST.
pub(crate) fn redirect(status: StatusCode, location: &str) -> Response<Bytes> {
    let mut response = base(status, "text/plain; charset=utf-8", Bytes::new());
    page_headers(response.headers_mut());
    match HeaderValue::try_from(location) {
        Ok(value) => {
            response.headers_mut().insert(header::LOCATION, value);
            response
        }
        Err(_) => server_error(),
    }
}

/// The value of cookie `name` in the request.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A form body of our own pages: each name at most once.
pub(crate) fn simple_form(body: &[u8]) -> Option<HashMap<String, String>> {
    if body.len() > mcp_authz_token::MAX_FORM_LEN {
        return None;
    }
    let mut map = HashMap::new();
    for (k, v) in form_urlencoded::parse(body) {
        if map.insert(k.into_owned(), v.into_owned()).is_some() {
            return None;
        }
    }
    Some(map)
}

/// Escapes text for HTML element content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
