//! Reading an authorization server's RFC 8414 metadata for the endpoints a resource server needs.

use mcp_authz_metadata::{
    AuthorizationServerMetadata, Issuer, Url, authorization_server_metadata_urls, is_loopback_host,
};

use super::misconfiguration::{Misconfiguration, SourceError};
use crate::{FetchError, HttpClient};

/// Fetches the first metadata document found at the issuer's well-known URLs (RFC 8414 §3.1, then the
/// OpenID forms) whose `issuer` is identical to `issuer` (RFC 8414 §3.3). Only `issuer` and the
/// endpoints are used, so any standards-compliant server works, MCP-specific members or not. When no
/// document fits, a document naming another issuer is reported as a [`Misconfiguration`] before any
/// fetch error.
pub(crate) async fn discover(
    http: &dyn HttpClient,
    issuer: &Issuer,
    max_body: usize,
) -> Result<AuthorizationServerMetadata, SourceError> {
    let mut last = None;
    let mut mismatch = None;
    for url in authorization_server_metadata_urls(issuer) {
        let body = match crate::fetch::get(http, &url, max_body).await {
            Ok(fetched) => fetched.body,
            Err(e) => {
                last = Some(e);
                continue;
            }
        };
        match AuthorizationServerMetadata::parse_with_limit(&body, max_body) {
            Ok(doc) if doc.issuer.as_str() == issuer.as_str() => return Ok(doc),
            Ok(doc) => {
                mismatch.get_or_insert(Misconfiguration::IssuerMismatch {
                    metadata_url: url.to_string(),
                    expected: issuer.as_str().to_owned(),
                    found: doc.issuer.as_str().to_owned(),
                });
            }
            Err(e) => last = Some(invalid(&url, &e.to_string())),
        }
    }
    Err(match mismatch {
        Some(mismatch) => mismatch.into(),
        None => last
            .unwrap_or_else(|| invalid(issuer.url(), "no metadata URL"))
            .into(),
    })
}

/// `url` when it is acceptable for an endpoint (see [`is_acceptable_endpoint`]), else the
/// configuration error.
pub(crate) fn acceptable_endpoint(url: Url) -> Result<Url, Misconfiguration> {
    if is_acceptable_endpoint(&url) {
        Ok(url)
    } else {
        Err(Misconfiguration::InsecureEndpoint {
            url: url.to_string(),
        })
    }
}

/// A document that arrived but cannot be used.
pub(crate) fn invalid(url: &Url, reason: &str) -> FetchError {
    FetchError::InvalidDocument {
        url: url.as_str().to_owned(),
        reason: reason.to_owned(),
    }
}

/// `true` for `https` URLs and `http` URLs on loopback hosts, without user information or fragment.
pub(crate) fn is_acceptable_endpoint(url: &Url) -> bool {
    let scheme_ok = match url.scheme() {
        "https" => true,
        "http" => url.host().as_ref().is_some_and(is_loopback_host),
        _ => false,
    };
    scheme_ok && url.username().is_empty() && url.password().is_none() && url.fragment().is_none()
}
