//! The introspection response ([RFC 7662 §2.2]).
//!
//! [RFC 7662 §2.2]: https://www.rfc-editor.org/rfc/rfc7662#section-2.2

use std::collections::BTreeMap;

use mcp_authz_metadata::{ClientId, Issuer, Scope};

use crate::{Audience, NumericDate, TokenType};

/// What an introspection endpoint says about a token. An inactive token carries no information and
/// serialises as exactly `{"active":false}` (RFC 7662 §2.2); members sent with an inactive answer are
/// ignored.
///
/// ```
/// use mcp_authz_token::IntrospectionResponse;
/// assert_eq!(serde_json::to_string(&IntrospectionResponse::Inactive).unwrap(), r#"{"active":false}"#);
/// let parsed: IntrospectionResponse = serde_json::from_str(r#"{"active":false,"scope":"x"}"#).unwrap();
/// assert_eq!(parsed, IntrospectionResponse::Inactive);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum IntrospectionResponse {
    /// `"active": true`, with the token's information.
    Active(Box<ActiveToken>),
    /// `"active": false`.
    Inactive,
}

/// The members of an active introspection response (RFC 7662 §2.2). All optional; unknown members are
/// kept in `extra`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ActiveToken {
    /// `scope`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    /// `client_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<ClientId>,
    /// `username`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// `token_type`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<TokenType>,
    /// `exp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<NumericDate>,
    /// `iat`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<NumericDate>,
    /// `nbf`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<NumericDate>,
    /// `sub`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// `aud`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<Audience>,
    /// `iss`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<Issuer>,
    /// `jti`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// Every other member, preserved.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl IntrospectionResponse {
    /// `true` for [`IntrospectionResponse::Active`].
    pub fn is_active(&self) -> bool {
        matches!(self, Self::Active(_))
    }
}

#[derive(serde::Serialize)]
struct ActiveRepr<'a> {
    active: bool,
    #[serde(flatten)]
    token: &'a ActiveToken,
}

#[derive(serde::Serialize)]
struct InactiveRepr {
    active: bool,
}

impl serde::Serialize for IntrospectionResponse {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Active(token) => ActiveRepr {
                active: true,
                token,
            }
            .serialize(serializer),
            Self::Inactive => InactiveRepr { active: false }.serialize(serializer),
        }
    }
}

impl<'de> serde::Deserialize<'de> for IntrospectionResponse {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        struct Wire {
            active: bool,
            #[serde(flatten)]
            rest: serde_json::Map<String, serde_json::Value>,
        }
        let wire = Wire::deserialize(deserializer)?;
        if !wire.active {
            return Ok(Self::Inactive);
        }
        let token: ActiveToken = serde_json::from_value(serde_json::Value::Object(wire.rest))
            .map_err(serde::de::Error::custom)?;
        Ok(Self::Active(Box::new(token)))
    }
}
