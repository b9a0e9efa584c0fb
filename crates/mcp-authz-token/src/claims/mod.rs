//! JWT access token claims ([RFC 9068 §2.2]) and their time, issuer and audience checks. Signatures are
//! verified elsewhere (the resource server and authorization server crates, with `jsonwebtoken`).
//!
//! [RFC 9068 §2.2]: https://www.rfc-editor.org/rfc/rfc9068#section-2.2

mod audience;
mod validate;

pub use audience::Audience;
/// `NumericDate` lives in `mcp-authz-metadata`, the one home of time; re-exported for the claims.
pub use mcp_authz_metadata::NumericDate;
pub use validate::{ClaimsError, ClaimsExpectations, DEFAULT_LEEWAY};

use std::collections::BTreeMap;

use mcp_authz_metadata::{ClientId, Issuer, Scope};

/// The JOSE header `typ` of a JWT access token (RFC 9068 §2.1), as this crate writes it.
pub const AT_JWT_TYP: &str = "at+jwt";

/// Whether a JOSE `typ` names a JWT access token: `at+jwt` or `application/at+jwt`, case-insensitively
/// (media type names are case-insensitive, RFC 7515 §4.1.9; RFC 9068 §4 requires the check).
///
/// ```
/// use mcp_authz_token::is_at_jwt_typ;
/// assert!(is_at_jwt_typ("at+JWT"));
/// assert!(is_at_jwt_typ("application/at+jwt"));
/// assert!(!is_at_jwt_typ("JWT"));
/// ```
pub fn is_at_jwt_typ(typ: &str) -> bool {
    let bare = match typ.get(..12) {
        Some(prefix) if prefix.eq_ignore_ascii_case("application/") => {
            typ.get(12..).unwrap_or_default()
        }
        _ => typ,
    };
    bare.eq_ignore_ascii_case(AT_JWT_TYP)
}

/// The claims of a JWT access token (RFC 9068 §2.2). Claims this crate does not know are kept in
/// `extra` (REQUIREMENTS TY-2).
///
/// ```
/// use mcp_authz_token::JwtAccessTokenClaims;
/// let claims = JwtAccessTokenClaims::from_json(br#"{"iss":"https://as.example.com","sub":"u1",
///     "aud":"https://mcp.example.com","exp":1700003600,"iat":1700000000,"jti":"j1","client_id":"app"}"#)?;
/// assert!(claims.aud.contains("https://mcp.example.com"));
/// # Ok::<(), mcp_authz_token::ClaimsError>(())
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct JwtAccessTokenClaims {
    /// `iss`: the issuer, compared as an exact string.
    pub iss: Issuer,
    /// `sub`: the resource owner, or the client for client-credentials tokens.
    pub sub: String,
    /// `aud`: the resource indicators the token is for.
    pub aud: Audience,
    /// `exp`: expiry.
    pub exp: NumericDate,
    /// `iat`: issuance time.
    pub iat: NumericDate,
    /// `nbf`: not before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<NumericDate>,
    /// `jti`: the token's unique identifier.
    pub jti: String,
    /// `client_id`: the client the token was issued to.
    pub client_id: ClientId,
    /// `scope`: the granted scope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    /// `auth_time`: when the resource owner authenticated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<NumericDate>,
    /// Every other claim, preserved.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl JwtAccessTokenClaims {
    /// Parses the JSON claims set (the decoded JWT payload).
    pub fn from_json(json: &[u8]) -> Result<Self, ClaimsError> {
        serde_json::from_slice(json).map_err(|e| ClaimsError::Malformed(e.to_string()))
    }

    /// Checks `iss`, `aud`, `exp`, `nbf` and `iat` against the expectations at time `now`
    /// (seconds since the Unix epoch, or a `SystemTime`), with the expectations' leeway.
    pub fn validate(
        &self,
        expected: &ClaimsExpectations,
        now: impl Into<NumericDate>,
    ) -> Result<(), ClaimsError> {
        validate::validate(self, expected, now.into())
    }
}
