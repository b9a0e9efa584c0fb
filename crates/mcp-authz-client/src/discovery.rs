//! Discovery (REQUIREMENTS CL-1 .. CL-4): from the MCP server's URI and its challenge to validated
//! protected resource metadata and authorization server metadata.

use mcp_authz_metadata::{
    AuthorizationServerMetadata, AuthorizationServerMetadataError, DocumentError, GrantType,
    Issuer, ProtectedResourceMetadata, ProtectedResourceMetadataError, ResourceUri,
    ValidatedAuthorizationServerMetadata, ValidatedProtectedResourceMetadata,
    authorization_server_metadata_urls, protected_resource_metadata_urls,
};
use mcp_authz_token::BearerChallenge;
use url::Url;

use crate::fetch::Fetcher;
use crate::{FetchError, Flow};

/// Why discovery failed. Every variant stops the authorization: no endpoint of a document that
/// failed validation is ever used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoveryError {
    /// A metadata request failed or was refused by the URL policy.
    #[error("fetching {url} failed: {source}")]
    Fetch {
        /// The URL.
        url: String,
        /// Why.
        source: FetchError,
    },
    /// No candidate URL served protected resource metadata.
    #[error("no protected resource metadata found at {}", crate::text::list(tried))]
    ProtectedResourceMetadataNotFound {
        /// The URLs tried, in order.
        tried: Vec<String>,
    },
    /// A protected resource metadata document that does not parse.
    #[error("the protected resource metadata at {url} is malformed: {source}")]
    MalformedProtectedResourceMetadata {
        /// The URL.
        url: String,
        /// Why.
        source: DocumentError,
    },
    /// The protected resource metadata is not for this server (REQUIREMENTS CL-2) or names no
    /// authorization server.
    #[error("the protected resource metadata at {url} is not usable: {source}")]
    InvalidProtectedResourceMetadata {
        /// The URL.
        url: String,
        /// Why.
        source: ProtectedResourceMetadataError,
    },
    /// No candidate URL served authorization server metadata.
    #[error(
        "no authorization server metadata found for {issuer} at {}",
        crate::text::list(tried)
    )]
    AuthorizationServerMetadataNotFound {
        /// The issuer.
        issuer: String,
        /// The URLs tried, in order.
        tried: Vec<String>,
    },
    /// An authorization server metadata document that does not parse.
    #[error("the authorization server metadata at {url} is malformed: {source}")]
    MalformedAuthorizationServerMetadata {
        /// The URL.
        url: String,
        /// Why.
        source: DocumentError,
    },
    /// The authorization server metadata names another issuer (REQUIREMENTS CL-3) or lacks S256 PKCE
    /// (REQUIREMENTS CL-4) or the code flow.
    #[error("the authorization server metadata at {url} is not usable: {source}")]
    InvalidAuthorizationServerMetadata {
        /// The URL.
        url: String,
        /// Why.
        source: AuthorizationServerMetadataError,
    },
}

/// The outcome of discovery: both documents, validated.
#[derive(Debug, Clone)]
pub struct Discovery {
    /// Where the protected resource metadata came from.
    pub protected_resource_metadata_url: Url,
    /// The protected resource metadata; its `resource` equals the server's canonical URI.
    pub protected_resource: ValidatedProtectedResourceMetadata,
    /// The metadata of the chosen (first listed) authorization server; its `issuer` is the one the
    /// protected resource names.
    pub authorization_server: ValidatedAuthorizationServerMetadata,
}

impl Discovery {
    /// The resource the tokens are for: the protected resource metadata's `resource`, exactly as
    /// published (the server's URI, or a same-origin parent of it named by the origin's root
    /// well-known document). Tokens are still stored under the server's own URI (see [`GrantKey`](crate::GrantKey)).
    pub fn resource(&self) -> &ResourceUri {
        self.protected_resource.resource()
    }

    /// The issuer of the chosen authorization server.
    pub fn issuer(&self) -> &Issuer {
        self.authorization_server.issuer()
    }
}

/// Runs discovery for `resource`. The protected resource metadata must describe `resource` itself,
/// or, only when it was found at the origin's root well-known URL, a same-origin parent of it (the
/// root-form document describes the origin, RFC 9728 §3.3); any other `resource` aborts (REQUIREMENTS CL-2). With a challenge that carries `resource_metadata`, only that URL is
/// used (RFC 9728 §5.1); otherwise the path-inserted then the root well-known URL (REQUIREMENTS CL-1).
/// Authorization server metadata is tried in the RFC 8414 / OpenID order for the issuer (CL-3).
pub(crate) async fn discover(
    fetcher: &Fetcher,
    resource: &ResourceUri,
    challenge: Option<&BearerChallenge>,
    flow: Flow,
) -> Result<Discovery, DiscoveryError> {
    let candidates = match challenge.and_then(|c| c.resource_metadata.clone()) {
        Some(url) => vec![url],
        None => protected_resource_metadata_urls(resource),
    };
    let (prm_url, protected_resource) = first_document(fetcher, &candidates, |url, body| {
        let document = ProtectedResourceMetadata::parse_with_limit(
            body,
            fetcher.policy().max_document_bytes(),
        )
        .map_err(
            |source| DiscoveryError::MalformedProtectedResourceMetadata {
                url: url.to_string(),
                source,
            },
        )?;
        // RFC 9728 §3.3: the document is for the resource identifier the URL was built from; only
        // the origin's root well-known URL describes the origin, so only a document found there may
        // name a same-origin parent of the server (REQUIREMENTS CL-2, SEC-7). Anywhere else (a
        // path-inserted URL, a challenge's `resource_metadata`) it must name the server itself.
        let expected =
            if is_root_metadata_url(url, resource) && covers(&document.resource, resource) {
                document.resource.clone()
            } else {
                resource.clone()
            };
        document.validate(&expected).map_err(|source| {
            DiscoveryError::InvalidProtectedResourceMetadata {
                url: url.to_string(),
                source,
            }
        })
    })
    .await?
    .ok_or_else(|| DiscoveryError::ProtectedResourceMetadataNotFound {
        tried: candidates.iter().map(Url::to_string).collect(),
    })?;

    let issuer = protected_resource.authorization_server().clone();
    let candidates = authorization_server_metadata_urls(&issuer);
    let (_, authorization_server) = first_document(fetcher, &candidates, |url, body| {
        let document = AuthorizationServerMetadata::parse_with_limit(
            body,
            fetcher.policy().max_document_bytes(),
        )
        .map_err(
            |source| DiscoveryError::MalformedAuthorizationServerMetadata {
                url: url.to_string(),
                source,
            },
        )?;
        validate_for(document, &issuer, flow).map_err(|source| {
            DiscoveryError::InvalidAuthorizationServerMetadata {
                url: url.to_string(),
                source,
            }
        })
    })
    .await?
    .ok_or_else(|| DiscoveryError::AuthorizationServerMetadataNotFound {
        issuer: issuer.as_str().to_owned(),
        tried: candidates.iter().map(Url::to_string).collect(),
    })?;
    Ok(Discovery {
        protected_resource_metadata_url: prm_url,
        protected_resource,
        authorization_server,
    })
}

/// Validates the document for `flow`. The client-credentials flow does not need the authorization
/// code grant: a server that lists only other grants is accepted for it (every other check stays,
/// and the validated copy omits `grant_types_supported`).
fn validate_for(
    document: AuthorizationServerMetadata,
    issuer: &Issuer,
    flow: Flow,
) -> Result<ValidatedAuthorizationServerMetadata, AuthorizationServerMetadataError> {
    let grants = document.grant_types_supported.clone();
    match document.clone().validate(issuer) {
        Err(AuthorizationServerMetadataError::AuthorizationCodeGrantNotSupported { .. })
            if flow == Flow::ClientCredentials
                && grants.is_some_and(|g| g.contains(&GrantType::ClientCredentials)) =>
        {
            let mut relaxed = document;
            relaxed.grant_types_supported = None;
            relaxed.validate(issuer)
        }
        other => other,
    }
}

/// `true` when `url` is the root well-known protected resource metadata URL of `server`'s origin
/// (`/.well-known/oauth-protected-resource`, no path suffix, no query): the only URL whose document
/// may describe a parent of the server (RFC 9728 §3.3).
pub(crate) fn is_root_metadata_url(url: &Url, server: &ResourceUri) -> bool {
    let s = server.url();
    url.scheme() == s.scheme()
        && url.host_str() == s.host_str()
        && url.port_or_known_default() == s.port_or_known_default()
        && url.path() == "/.well-known/oauth-protected-resource"
        && url.query().is_none()
}

/// `true` when `parent` is `server` or a same-origin parent of it on a path-segment boundary
/// (`https://h` covers `https://h/mcp`; `https://h/a` covers `https://h/a/b` but not `https://h/ab`).
pub fn covers(parent: &ResourceUri, server: &ResourceUri) -> bool {
    if parent == server {
        return true;
    }
    let (p, s) = (parent.url(), server.url());
    if p.scheme() != s.scheme()
        || p.host_str() != s.host_str()
        || p.port_or_known_default() != s.port_or_known_default()
        || p.query().is_some()
    {
        return false;
    }
    let prefix = parent.path().trim_end_matches('/');
    let path = server.path();
    prefix.is_empty()
        || path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Fetches the candidates in order; the first `200` is read with `read` and decides the outcome
/// (a document that does not validate stops discovery). Other statuses move on to the next candidate.
async fn first_document<T>(
    fetcher: &Fetcher,
    candidates: &[Url],
    read: impl Fn(&Url, &[u8]) -> Result<T, DiscoveryError>,
) -> Result<Option<(Url, T)>, DiscoveryError> {
    for url in candidates {
        let response = fetcher
            .get_document(url)
            .await
            .map_err(|source| DiscoveryError::Fetch {
                url: url.to_string(),
                source,
            })?;
        if response.status.is_success() {
            return read(url, &response.body).map(|doc| Some((url.clone(), doc)));
        }
        tracing::debug!(%url, status = %response.status, "no metadata here, trying the next URL");
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> ResourceUri {
        ResourceUri::parse(s).unwrap()
    }

    #[test]
    fn parent_resources_are_same_origin_path_prefixes() {
        assert!(covers(&r("https://h/mcp"), &r("https://h/mcp")));
        assert!(covers(&r("https://h"), &r("https://h/mcp")));
        assert!(covers(&r("https://h/a"), &r("https://h/a/b")));
        assert!(!covers(&r("https://h/a"), &r("https://h/ab")));
        assert!(!covers(&r("https://evil.example/mcp"), &r("https://h/mcp")));
        assert!(!covers(&r("http://h/mcp"), &r("https://h/mcp")));
        assert!(!covers(&r("https://h:8443"), &r("https://h/mcp")));
        assert!(!covers(&r("https://h/mcp/x"), &r("https://h/mcp")));
    }

    #[test]
    fn only_the_root_well_known_url_describes_a_parent() {
        let server = r("https://h/mcp/evil");
        let url = |s: &str| Url::parse(s).unwrap();
        assert!(is_root_metadata_url(
            &url("https://h/.well-known/oauth-protected-resource"),
            &server
        ));
        for other in [
            "https://h/.well-known/oauth-protected-resource/mcp/evil",
            "https://h/.well-known/oauth-protected-resource/",
            "https://h/.well-known/oauth-protected-resource?x=1",
            "https://h/prm",
            "https://other/.well-known/oauth-protected-resource",
            "https://h:8443/.well-known/oauth-protected-resource",
        ] {
            assert!(!is_root_metadata_url(&url(other), &server), "{other}");
        }
    }
}
