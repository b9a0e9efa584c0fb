//! Redirect URIs ([RFC 6749 §3.1.2], OAuth 2.1 §2.3, [RFC 8252 §7.3]).
//!
//! [RFC 6749 §3.1.2]: https://www.rfc-editor.org/rfc/rfc6749#section-3.1.2
//! [RFC 8252 §7.3]: https://www.rfc-editor.org/rfc/rfc8252#section-7.3

use url::Url;

use super::{is_loopback_host, string_newtype_impls};

/// Why a redirect URI was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RedirectUriError {
    /// Not an absolute URI.
    #[error("redirect URI is not an absolute URI: {0}")]
    NotAbsolute(String),
    /// Redirect URIs have no fragment (OAuth 2.1 §2.3).
    #[error("redirect URI must not have a fragment component")]
    HasFragment,
    /// `http` on a host that is not loopback.
    #[error("redirect URI must use https, a loopback http address, or a private-use scheme")]
    InsecureScheme,
    /// A scheme that can execute code or carry inline content (`javascript:`, `data:`, `file:`, ...).
    #[error("redirect URI scheme {0:?} is not allowed")]
    ForbiddenScheme(String),
    /// A space or control character. The URL parser would silently drop or escape it, so the verbatim
    /// text (compared exactly) would no longer name the URL.
    #[error("redirect URI contains {0:?}, which is not allowed (no spaces or control characters)")]
    InvalidChar(char),
}

/// A redirect URI: absolute, no fragment, and either `https`, `http` on a loopback host (RFC 8252 §7.3),
/// or a private-use URI scheme of a native app (RFC 8252 §7.1, e.g. `com.example.app:/callback`).
///
/// The text is kept verbatim: registered and presented redirect URIs are compared as exact strings
/// ([`RedirectUri::matches_registered`]), with the loopback-port exception of RFC 8252 §7.3.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RedirectUri {
    text: String,
    url: Url,
}

impl RedirectUri {
    /// Parses and checks a redirect URI.
    ///
    /// ```
    /// use mcp_authz_metadata::{RedirectUri, RedirectUriError};
    /// assert!(RedirectUri::parse("https://app.example.com/cb").is_ok());
    /// assert!(RedirectUri::parse("http://127.0.0.1:5173/callback").is_ok());
    /// assert!(RedirectUri::parse("com.example.app:/oauth").is_ok());
    /// assert_eq!(RedirectUri::parse("http://app.example.com/cb"), Err(RedirectUriError::InsecureScheme));
    /// assert_eq!(RedirectUri::parse("https://app.example.com/cb#x"), Err(RedirectUriError::HasFragment));
    /// ```
    pub fn parse(s: &str) -> Result<Self, RedirectUriError> {
        if let Some(bad) = s.chars().find(|c| c.is_control() || *c == ' ') {
            return Err(RedirectUriError::InvalidChar(bad));
        }
        let url = Url::parse(s).map_err(|e| RedirectUriError::NotAbsolute(e.to_string()))?;
        if url.fragment().is_some() {
            return Err(RedirectUriError::HasFragment);
        }
        match url.scheme() {
            "https" => {}
            "http" => {
                let loopback = url.host().is_some_and(|h| is_loopback_host(&h));
                if !loopback {
                    return Err(RedirectUriError::InsecureScheme);
                }
            }
            "javascript" | "data" | "file" | "vbscript" | "about" | "blob" | "ftp" | "ws"
            | "wss" => {
                return Err(RedirectUriError::ForbiddenScheme(url.scheme().to_owned()));
            }
            _private_use => {}
        }
        Ok(Self {
            text: s.to_owned(),
            url,
        })
    }

    /// The redirect URI exactly as registered or presented.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The redirect URI as a parsed URL, e.g. to append response parameters.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// `true` for `http` redirect URIs on `127.0.0.0/8`, `[::1]` or `localhost`.
    pub fn is_loopback(&self) -> bool {
        self.url.scheme() == "http" && self.url.host().is_some_and(|h| is_loopback_host(&h))
    }

    /// `true` for `https` redirect URIs.
    pub fn is_https(&self) -> bool {
        self.url.scheme() == "https"
    }

    /// `true` for private-use (custom) schemes of native apps.
    pub fn is_private_use_scheme(&self) -> bool {
        !matches!(self.url.scheme(), "http" | "https")
    }

    /// Whether this presented redirect URI matches a registered one (REQUIREMENTS AS-4): exact string
    /// comparison, except that for loopback redirect URIs the port is ignored (RFC 8252 §7.3), since
    /// native apps listen on an ephemeral port. Host, path and query must still match exactly.
    ///
    /// ```
    /// use mcp_authz_metadata::RedirectUri;
    /// let registered = RedirectUri::parse("http://127.0.0.1/callback").unwrap();
    /// assert!(RedirectUri::parse("http://127.0.0.1:53682/callback").unwrap().matches_registered(&registered));
    /// assert!(!RedirectUri::parse("http://localhost:53682/callback").unwrap().matches_registered(&registered));
    /// assert!(!RedirectUri::parse("http://127.0.0.1:53682/other").unwrap().matches_registered(&registered));
    /// ```
    pub fn matches_registered(&self, registered: &RedirectUri) -> bool {
        if self.text == registered.text {
            return true;
        }
        if !(self.is_loopback() && registered.is_loopback()) {
            return false;
        }
        let mut presented = self.url.clone();
        let mut expected = registered.url.clone();
        // Setting the port of an http URL with a host cannot fail.
        if presented.set_port(None).is_err() || expected.set_port(None).is_err() {
            return false;
        }
        presented.as_str() == expected.as_str()
    }
}

string_newtype_impls!(RedirectUri, RedirectUriError);
