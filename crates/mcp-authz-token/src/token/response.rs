//! The successful token response ([RFC 6749 §5.1]).
//!
//! [RFC 6749 §5.1]: https://www.rfc-editor.org/rfc/rfc6749#section-5.1

use std::collections::BTreeMap;
use std::fmt;

use mcp_authz_metadata::Scope;

use crate::{AccessToken, RefreshToken};

/// An access token type ([RFC 6749 §7.1]); compared case-insensitively, written in its canonical case.
///
/// [RFC 6749 §7.1]: https://www.rfc-editor.org/rfc/rfc6749#section-7.1
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenType {
    /// `Bearer` (RFC 6750), the only type MCP uses.
    Bearer,
    /// `DPoP` (RFC 9449).
    DPoP,
    /// Any other type, kept verbatim.
    Unknown(String),
}

impl TokenType {
    /// The wire form.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Bearer => "Bearer",
            Self::DPoP => "DPoP",
            Self::Unknown(other) => other,
        }
    }
}

impl From<&str> for TokenType {
    fn from(s: &str) -> Self {
        if s.eq_ignore_ascii_case("bearer") {
            Self::Bearer
        } else if s.eq_ignore_ascii_case("dpop") {
            Self::DPoP
        } else {
            Self::Unknown(s.to_owned())
        }
    }
}

impl fmt::Display for TokenType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for TokenType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for TokenType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Ok(Self::from(&*s))
    }
}

/// A successful token response. Members this crate does not know are kept in `extra`, so a response
/// re-serialises with every member (REQUIREMENTS TY-2).
///
/// ```
/// use mcp_authz_token::{AccessToken, TokenResponse, TokenType};
/// let response = TokenResponse::bearer(AccessToken::parse("2YotnFZFEjr1zCsicMWpAA").unwrap(), Some(3600));
/// let json = serde_json::to_string(&response).unwrap();
/// assert_eq!(json, r#"{"access_token":"2YotnFZFEjr1zCsicMWpAA","token_type":"Bearer","expires_in":3600}"#);
/// let back: TokenResponse = serde_json::from_str(&json).unwrap();
/// assert_eq!(back, response);
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TokenResponse {
    /// `access_token`.
    pub access_token: AccessToken,
    /// `token_type`.
    pub token_type: TokenType,
    /// `expires_in`, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    /// `refresh_token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<RefreshToken>,
    /// `scope`, when it differs from the requested scope (or always, at the server's choice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    /// Every other member, preserved.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl TokenResponse {
    /// A `Bearer` response with an access token and its lifetime, nothing else.
    pub fn bearer(access_token: AccessToken, expires_in: Option<u64>) -> Self {
        Self {
            access_token,
            token_type: TokenType::Bearer,
            expires_in,
            refresh_token: None,
            scope: None,
            extra: BTreeMap::new(),
        }
    }
}
