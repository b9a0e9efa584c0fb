//! The canonical resource URI of a protected resource ([RFC 8707 §2]; MCP "Canonical Server URI").
//!
//! [RFC 8707 §2]: https://www.rfc-editor.org/rfc/rfc8707#section-2

use std::fmt;

use url::Url;

use super::string_newtype_impls;

/// Why a resource URI was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResourceUriError {
    /// Not an absolute URI (e.g. `mcp.example.com`, missing its scheme).
    #[error("resource is not an absolute URI: {0}")]
    NotAbsolute(String),
    /// A scheme other than `https` or `http`.
    #[error("resource must be an http or https URI, got scheme {0:?}")]
    UnsupportedScheme(String),
    /// Resource indicators have no fragment (RFC 8707 §2).
    #[error("resource must not have a fragment component")]
    HasFragment,
    /// Resource indicators carry no user information.
    #[error("resource must not contain user information")]
    HasUserinfo,
    /// The URI has no host.
    #[error("resource has no host")]
    NoHost,
    /// A space or control character, which the URL parser would silently drop or escape.
    #[error("resource contains {0:?}, which is not allowed (no spaces or control characters)")]
    InvalidChar(char),
}

/// The canonical URI of an MCP server (REQUIREMENTS TY-5): one type, used by every crate.
///
/// Canonicalisation, so that equal resources compare equal:
/// - absolute `https` or `http` URI, no fragment, no user information;
/// - scheme and host lowercased (accepted in any case on input), default ports removed, IDNs in
///   punycode, dot segments resolved (all by the WHATWG URL parser);
/// - an empty path, or a path of a single `/`, is written without the slash (`https://mcp.example.com`);
///   a trailing slash on a longer path is kept, because it may be semantically significant.
///
/// Equality and hashing are on the canonical string. Whether a plain `http` resource is acceptable is a
/// deployment policy, not a property of the URI; see [`ResourceUri::is_https`].
#[derive(Clone)]
pub struct ResourceUri {
    canonical: String,
    url: Url,
}

impl PartialEq for ResourceUri {
    fn eq(&self, other: &Self) -> bool {
        self.canonical == other.canonical
    }
}

impl Eq for ResourceUri {}

impl std::hash::Hash for ResourceUri {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.canonical.hash(state);
    }
}

impl PartialOrd for ResourceUri {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ResourceUri {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.canonical.cmp(&other.canonical)
    }
}

impl ResourceUri {
    /// Parses any spelling of a resource URI into its canonical form.
    ///
    /// ```
    /// use mcp_authz_metadata::{ResourceUri, ResourceUriError};
    /// let a = ResourceUri::parse("HTTPS://MCP.Example.com:443/").unwrap();
    /// assert_eq!(a.as_str(), "https://mcp.example.com");
    /// assert_eq!(ResourceUri::parse("https://mcp.example.com/server/mcp").unwrap().as_str(), "https://mcp.example.com/server/mcp");
    /// assert!(matches!(ResourceUri::parse("mcp.example.com"), Err(ResourceUriError::NotAbsolute(_))));
    /// assert_eq!(ResourceUri::parse("https://mcp.example.com#fragment").err(), Some(ResourceUriError::HasFragment));
    /// ```
    pub fn parse(s: &str) -> Result<Self, ResourceUriError> {
        if let Some(bad) = s.chars().find(|c| c.is_control() || *c == ' ') {
            return Err(ResourceUriError::InvalidChar(bad));
        }
        let url = Url::parse(s).map_err(|e| ResourceUriError::NotAbsolute(e.to_string()))?;
        Self::from_url(&url)
    }

    /// The canonical form of an already-parsed URL.
    pub fn from_url(url: &Url) -> Result<Self, ResourceUriError> {
        match url.scheme() {
            "https" | "http" => {}
            other => return Err(ResourceUriError::UnsupportedScheme(other.to_owned())),
        }
        if url.fragment().is_some() {
            return Err(ResourceUriError::HasFragment);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(ResourceUriError::HasUserinfo);
        }
        let Some(host) = url.host_str() else {
            return Err(ResourceUriError::NoHost);
        };
        let mut canonical = format!("{}://{}", url.scheme(), host);
        if let Some(port) = url.port() {
            canonical.push(':');
            canonical.push_str(&port.to_string());
        }
        if url.path() != "/" {
            canonical.push_str(url.path());
        }
        if let Some(query) = url.query() {
            canonical.push('?');
            canonical.push_str(query);
        }
        Ok(Self {
            canonical,
            url: url.clone(),
        })
    }

    /// The canonical string, as sent in `resource` parameters and compared with `aud` claims.
    pub fn as_str(&self) -> &str {
        &self.canonical
    }

    /// The resource as a URL. (The URL parser writes an empty path as `/`; compare resources through
    /// [`ResourceUri::as_str`], never through the URL.)
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The path of the resource, `""` for a resource with no path (`https://mcp.example.com` and
    /// `https://mcp.example.com/` both give `""`; `https://mcp.example.com/public/mcp` gives
    /// `"/public/mcp"`). Used to build the path-inserted well-known URL (RFC 9728 §3.1).
    pub fn path(&self) -> &str {
        match self.url.path() {
            "/" => "",
            path => path,
        }
    }

    /// `true` for `https` resources.
    pub fn is_https(&self) -> bool {
        self.url.scheme() == "https"
    }
}

impl fmt::Debug for ResourceUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResourceUri({:?})", self.canonical)
    }
}

string_newtype_impls!(ResourceUri, ResourceUriError);
