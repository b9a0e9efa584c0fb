//! Authorization server issuer identifiers ([RFC 8414 §2]).
//!
//! [RFC 8414 §2]: https://www.rfc-editor.org/rfc/rfc8414#section-2

use url::Url;

use super::{is_loopback_host, string_newtype_impls};

/// Why an issuer identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IssuerError {
    /// Not an absolute URL.
    #[error("issuer is not an absolute URL: {0}")]
    NotAUrl(String),
    /// Not `https`, and not `http` on a loopback host (`localhost`, `127.0.0.0/8`, `[::1]`).
    #[error("issuer must use https (http is allowed only on loopback hosts), got scheme {0:?}")]
    InsecureScheme(String),
    /// Issuers have no query component (RFC 8414 §2).
    #[error("issuer must not have a query component")]
    HasQuery,
    /// Issuers have no fragment component (RFC 8414 §2).
    #[error("issuer must not have a fragment component")]
    HasFragment,
    /// Issuers have no user information.
    #[error("issuer must not contain user information")]
    HasUserinfo,
    /// The URL has no host.
    #[error("issuer has no host")]
    NoHost,
    /// A space or control character. The URL parser would silently drop or escape it, so the verbatim
    /// text (compared exactly) would no longer name the URL.
    #[error("issuer contains {0:?}, which is not allowed (no spaces or control characters)")]
    InvalidChar(char),
}

/// An authorization server's issuer identifier: an `https` URL with no query or fragment, or an `http` URL
/// on a loopback host for local development.
///
/// Issuers are compared as **exact strings** (RFC 8414 §3.3, RFC 9207 §2.4): the text given to
/// [`Issuer::parse`] is kept verbatim, so `https://as.example` and `https://as.example/` are different
/// issuers, as the RFCs require.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Issuer {
    text: String,
    url: Url,
}

impl Issuer {
    /// Parses and checks an issuer identifier.
    ///
    /// ```
    /// use mcp_authz_metadata::{Issuer, IssuerError};
    /// assert_eq!(Issuer::parse("https://auth.example.com/tenant1").unwrap().as_str(), "https://auth.example.com/tenant1");
    /// assert!(Issuer::parse("http://127.0.0.1:8400").is_ok());
    /// assert_eq!(Issuer::parse("http://auth.example.com").err(), Some(IssuerError::InsecureScheme("http".into())));
    /// assert_eq!(Issuer::parse("https://auth.example.com?x=1").err(), Some(IssuerError::HasQuery));
    /// ```
    pub fn parse(s: &str) -> Result<Self, IssuerError> {
        if let Some(bad) = s.chars().find(|c| c.is_control() || *c == ' ') {
            return Err(IssuerError::InvalidChar(bad));
        }
        let url = Url::parse(s).map_err(|e| IssuerError::NotAUrl(e.to_string()))?;
        let host = url.host().ok_or(IssuerError::NoHost)?;
        match url.scheme() {
            "https" => {}
            "http" if is_loopback_host(&host) => {}
            other => return Err(IssuerError::InsecureScheme(other.to_owned())),
        }
        if url.query().is_some() {
            return Err(IssuerError::HasQuery);
        }
        if url.fragment().is_some() {
            return Err(IssuerError::HasFragment);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(IssuerError::HasUserinfo);
        }
        Ok(Self {
            text: s.to_owned(),
            url,
        })
    }

    /// The issuer exactly as configured or received.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The issuer as a parsed URL (normalised by the URL parser; do not compare issuers through it).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The issuer's path without a trailing slash, `""` when it has none (`https://as.example` and
    /// `https://as.example/` both give `""`). Used to build well-known URLs (RFC 8414 §3.1).
    pub fn path_component(&self) -> &str {
        self.url.path().trim_end_matches('/')
    }

    /// `true` for `http` issuers on a loopback host (development only).
    pub fn is_insecure_loopback(&self) -> bool {
        self.url.scheme() == "http"
    }
}

string_newtype_impls!(Issuer, IssuerError);
