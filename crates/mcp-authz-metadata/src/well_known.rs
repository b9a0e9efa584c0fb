//! Well-known metadata locations: the ordered candidate URLs a client tries ([RFC 9728 §3.1],
//! [RFC 8414 §3.1], OpenID Connect Discovery; REQUIREMENTS CL-1, CL-3), and the paths a server serves
//! (REQUIREMENTS RS-1, AS-1).
//!
//! [RFC 9728 §3.1]: https://www.rfc-editor.org/rfc/rfc9728#section-3.1
//! [RFC 8414 §3.1]: https://www.rfc-editor.org/rfc/rfc8414#section-3.1

use url::Url;

use crate::{Issuer, ResourceUri};

/// `/.well-known/oauth-protected-resource` (RFC 9728 §3).
pub const PROTECTED_RESOURCE_WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";
/// `/.well-known/oauth-authorization-server` (RFC 8414 §3).
pub const AUTHORIZATION_SERVER_WELL_KNOWN: &str = "/.well-known/oauth-authorization-server";
/// `/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §4).
pub const OPENID_CONFIGURATION_WELL_KNOWN: &str = "/.well-known/openid-configuration";

/// The URLs at which a client looks for a resource's protected resource metadata when the
/// `WWW-Authenticate` challenge names none (REQUIREMENTS CL-1), in the order to try them: the
/// path-inserted form `/.well-known/oauth-protected-resource<path>`, then the root form. A resource
/// without a path has only the root form.
///
/// ```
/// use mcp_authz_metadata::{ResourceUri, protected_resource_metadata_urls};
/// let urls = protected_resource_metadata_urls(&ResourceUri::parse("https://example.com/public/mcp")?);
/// assert_eq!(urls[0].as_str(), "https://example.com/.well-known/oauth-protected-resource/public/mcp");
/// assert_eq!(urls[1].as_str(), "https://example.com/.well-known/oauth-protected-resource");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn protected_resource_metadata_urls(resource: &ResourceUri) -> Vec<Url> {
    let inserted = protected_resource_metadata_url(resource);
    let root = with_path(resource.url(), PROTECTED_RESOURCE_WELL_KNOWN, None);
    if inserted == root {
        vec![root]
    } else {
        vec![inserted, root]
    }
}

/// The URL of a resource's protected resource metadata by RFC 9728 §3.1: the well-known string inserted
/// between the host and the path (and query) of the resource. This is the URL a server names in
/// `resource_metadata` (REQUIREMENTS RS-2).
///
/// ```
/// use mcp_authz_metadata::{ResourceUri, protected_resource_metadata_url};
/// let url = protected_resource_metadata_url(&ResourceUri::parse("https://mcp.example.com")?);
/// assert_eq!(url.as_str(), "https://mcp.example.com/.well-known/oauth-protected-resource");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn protected_resource_metadata_url(resource: &ResourceUri) -> Url {
    let path = format!("{PROTECTED_RESOURCE_WELL_KNOWN}{}", resource.path());
    with_path(resource.url(), &path, resource.url().query())
}

/// The path (without query) at which a server serves the protected resource metadata of `resource`
/// (REQUIREMENTS RS-1): `/.well-known/oauth-protected-resource<path>`, which is the root form when the
/// resource has no path.
///
/// ```
/// use mcp_authz_metadata::{ResourceUri, protected_resource_metadata_path};
/// assert_eq!(
///     protected_resource_metadata_path(&ResourceUri::parse("https://example.com/public/mcp")?),
///     "/.well-known/oauth-protected-resource/public/mcp",
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn protected_resource_metadata_path(resource: &ResourceUri) -> String {
    format!("{PROTECTED_RESOURCE_WELL_KNOWN}{}", resource.path())
}

/// The URLs at which a client looks for an authorization server's metadata (REQUIREMENTS CL-3), in the
/// order to try them. For an issuer with a path: `/.well-known/oauth-authorization-server<path>`,
/// `/.well-known/openid-configuration<path>`, `<path>/.well-known/openid-configuration`. For an issuer
/// without a path: `/.well-known/oauth-authorization-server`, `/.well-known/openid-configuration`. A
/// terminating `/` of the issuer's path is dropped first (RFC 8414 §3.1).
///
/// ```
/// use mcp_authz_metadata::{Issuer, authorization_server_metadata_urls};
/// let urls = authorization_server_metadata_urls(&Issuer::parse("https://auth.example.com/tenant1")?);
/// let urls: Vec<&str> = urls.iter().map(|u| u.as_str()).collect();
/// assert_eq!(urls, [
///     "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
///     "https://auth.example.com/.well-known/openid-configuration/tenant1",
///     "https://auth.example.com/tenant1/.well-known/openid-configuration",
/// ]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn authorization_server_metadata_urls(issuer: &Issuer) -> Vec<Url> {
    authorization_server_metadata_paths(issuer)
        .iter()
        .map(|path| with_path(issuer.url(), path, None))
        .collect()
}

/// The path at which an authorization server serves its RFC 8414 metadata (REQUIREMENTS AS-1):
/// `/.well-known/oauth-authorization-server<issuer path>`.
pub fn authorization_server_metadata_path(issuer: &Issuer) -> String {
    format!(
        "{AUTHORIZATION_SERVER_WELL_KNOWN}{}",
        issuer.path_component()
    )
}

/// Every path at which an authorization server serves its metadata so that any client finds it
/// (REQUIREMENTS AS-1), in client discovery order: the paths of
/// [`authorization_server_metadata_urls`].
///
/// ```
/// use mcp_authz_metadata::{Issuer, authorization_server_metadata_paths};
/// assert_eq!(
///     authorization_server_metadata_paths(&Issuer::parse("https://auth.example.com")?),
///     ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"],
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn authorization_server_metadata_paths(issuer: &Issuer) -> Vec<String> {
    let path = issuer.path_component();
    if path.is_empty() {
        vec![
            AUTHORIZATION_SERVER_WELL_KNOWN.to_owned(),
            OPENID_CONFIGURATION_WELL_KNOWN.to_owned(),
        ]
    } else {
        vec![
            format!("{AUTHORIZATION_SERVER_WELL_KNOWN}{path}"),
            format!("{OPENID_CONFIGURATION_WELL_KNOWN}{path}"),
            format!("{path}{OPENID_CONFIGURATION_WELL_KNOWN}"),
        ]
    }
}

/// `base` with its path and query replaced and no fragment.
fn with_path(base: &Url, path: &str, query: Option<&str>) -> Url {
    let mut url = base.clone();
    url.set_path(path);
    url.set_query(query);
    url.set_fragment(None);
    url
}
