//! The client's top-level error.

use mcp_authz_metadata::ResourceUriError;
use mcp_authz_token::{CallbackError, CallbackVerifyError, ErrorCode};

use crate::{
    AuthorizationStepError, DiscoveryError, FetchError, RegistrationError, StoreError, TokenError,
    TransportError,
};

/// Why the authorization step of the flow failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthorizationError {
    /// The user-agent step failed.
    #[error(transparent)]
    Step(#[from] AuthorizationStepError),
    /// The operating system's random number generator failed (PKCE verifier or `state`).
    #[error("the operating system's random number generator is unavailable")]
    RandomnessUnavailable,
    /// The callback is not an authorization response.
    #[error("the authorization response is malformed: {0}")]
    MalformedCallback(#[from] CallbackError),
    /// The callback is not for this request: wrong or missing `iss` (RFC 9207) or `state`. The
    /// response was discarded without looking at its code or error fields (REQUIREMENTS CL-8).
    #[error("the authorization response was discarded: {0}")]
    Discarded(#[from] CallbackVerifyError),
    /// The authorization server answered with an error (after `iss` and `state` were verified).
    #[error(
        "the authorization server refused: {error}{}",
        crate::text::detail(description)
    )]
    Denied {
        /// The OAuth error code.
        error: ErrorCode,
        /// The error description, if any.
        description: Option<String>,
    },
}

/// Everything that can go wrong between a request and an authorized response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The MCP server URL is not a valid resource URI.
    #[error("invalid MCP server URL: {0}")]
    InvalidServerUrl(#[from] ResourceUriError),
    /// The default HTTP client could not be built.
    #[error("the HTTP client could not be built: {0}")]
    Setup(TransportError),
    /// A request failed or was refused by the URL policy.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// Discovery failed (CL-1 .. CL-4).
    #[error(transparent)]
    Discovery(#[from] DiscoveryError),
    /// No client credentials (CL-5).
    #[error(transparent)]
    Registration(#[from] RegistrationError),
    /// The authorization step failed (CL-7 .. CL-9).
    #[error(transparent)]
    Authorization(#[from] AuthorizationError),
    /// A token request failed.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The token store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The server still refused after the allowed number of authorizations in one operation
    /// (REQUIREMENTS CL-10: at most 3).
    #[error(
        "the server still refuses after {attempts} authorization attempts (last status {status})"
    )]
    AttemptsExhausted {
        /// Authorizations made for this operation.
        attempts: u32,
        /// The last HTTP status (401 or 403).
        status: u16,
    },
}

#[cfg(test)]
mod tests {
    use mcp_authz_metadata::RegistrationErrorCode;
    use mcp_authz_token::ErrorCode;

    use super::*;

    /// Every error that carries optional or repeated server values reads as words: an application
    /// prints these to its users as they are.
    #[test]
    fn errors_never_show_rust_debug_output() {
        let messages = [
            TokenError::Rejected {
                status: 401,
                error: ErrorCode::InvalidClient,
                description: Some("unknown client".into()),
            }
            .to_string(),
            TokenError::Rejected {
                status: 400,
                error: ErrorCode::InvalidGrant,
                description: None,
            }
            .to_string(),
            RegistrationError::Rejected {
                status: 400,
                error: Some(RegistrationErrorCode::InvalidRedirectUri),
                description: Some("no loopback".into()),
            }
            .to_string(),
            RegistrationError::Rejected {
                status: 403,
                error: None,
                description: None,
            }
            .to_string(),
            AuthorizationError::Denied {
                error: ErrorCode::AccessDenied,
                description: Some("The user denied the request".into()),
            }
            .to_string(),
            DiscoveryError::ProtectedResourceMetadataNotFound {
                tried: vec!["https://a/.well-known/x".into(), "https://a/y".into()],
            }
            .to_string(),
            DiscoveryError::AuthorizationServerMetadataNotFound {
                issuer: "https://as".into(),
                tried: Vec::new(),
            }
            .to_string(),
        ];
        for message in &messages {
            for debug in ["Some(", "None", "[\"", "\\\""] {
                assert!(!message.contains(debug), "{message}");
            }
        }
        assert_eq!(
            messages[0],
            "the token endpoint refused the request (401): invalid_client: unknown client"
        );
        assert_eq!(
            messages[1],
            "the token endpoint refused the request (400): invalid_grant"
        );
        assert_eq!(
            messages[2],
            "the registration was refused (400): invalid_redirect_uri: no loopback"
        );
        assert_eq!(messages[3], "the registration was refused (403)");
        assert_eq!(
            messages[5],
            "no protected resource metadata found at https://a/.well-known/x, https://a/y"
        );
        assert_eq!(
            messages[6],
            "no authorization server metadata found for https://as at (none)"
        );
    }
}
