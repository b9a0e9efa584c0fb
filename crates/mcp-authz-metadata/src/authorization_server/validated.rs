//! Checking authorization server metadata against the issuer it was discovered for ([RFC 8414 §3.3]) and
//! the MCP requirements (REQUIREMENTS CL-3, CL-4).
//!
//! [RFC 8414 §3.3]: https://www.rfc-editor.org/rfc/rfc8414#section-3.3

use mcp_authz_pkce::CodeChallengeMethod;
use url::Url;

use super::AuthorizationServerMetadata;
use crate::endpoint::{EndpointProblem, check_endpoint};
use crate::{GrantType, Issuer, ResponseType, ScopeToken};

/// Why an authorization server metadata document is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthorizationServerMetadataError {
    /// `issuer` is not identical to the issuer used to build the well-known URL (RFC 8414 §3.3,
    /// REQUIREMENTS CL-3). The document must not be used.
    #[error(
        "issuer {found:?} in the document is not identical to the expected issuer {expected:?}"
    )]
    IssuerMismatch {
        /// The issuer the document was fetched for.
        expected: String,
        /// The issuer the document claims.
        found: String,
    },
    /// No `authorization_endpoint`.
    #[error("authorization_endpoint is missing")]
    MissingAuthorizationEndpoint,
    /// No `token_endpoint`.
    #[error("token_endpoint is missing")]
    MissingTokenEndpoint,
    /// An endpoint URL that is not `https` (or loopback `http`), or has a fragment or user information.
    #[error("{member} {url:?} is not acceptable: {problem}")]
    InvalidEndpoint {
        /// The member holding the URL.
        member: &'static str,
        /// The URL.
        url: String,
        /// What is wrong with it.
        problem: EndpointProblem,
    },
    /// No `code_challenge_methods_supported`: the server does not say it supports PKCE, so MCP clients
    /// must not proceed (REQUIREMENTS CL-4).
    #[error("code_challenge_methods_supported is missing, so PKCE support cannot be confirmed")]
    MissingCodeChallengeMethods,
    /// `code_challenge_methods_supported` without `S256` (REQUIREMENTS CL-4).
    #[error("code_challenge_methods_supported (\"{}\") does not contain S256", advertised.join(" "))]
    S256NotSupported {
        /// The methods the server lists.
        advertised: Vec<String>,
    },
    /// No `response_types_supported` (REQUIRED by RFC 8414 §2).
    #[error("response_types_supported is missing")]
    MissingResponseTypes,
    /// `response_types_supported` without `code`.
    #[error("response_types_supported (\"{}\") does not contain \"code\"", advertised.join(" "))]
    CodeResponseTypeNotSupported {
        /// The response types the server lists.
        advertised: Vec<String>,
    },
    /// `grant_types_supported` is present and lacks `authorization_code`.
    #[error("grant_types_supported (\"{}\") does not contain \"authorization_code\"", advertised.join(" "))]
    AuthorizationCodeGrantNotSupported {
        /// The grant types the server lists.
        advertised: Vec<String>,
    },
}

/// Authorization server metadata that passed [`AuthorizationServerMetadata::validate`]: its issuer is
/// the expected one, its endpoints are `https` (or loopback `http`), and it supports the authorization
/// code flow with S256 PKCE. The accessors for those facts cannot fail.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedAuthorizationServerMetadata {
    document: AuthorizationServerMetadata,
    authorization_endpoint: Url,
    token_endpoint: Url,
}

impl AuthorizationServerMetadata {
    /// Checks the document against the issuer it was discovered for.
    ///
    /// Checks, in order: `issuer` is identical to `expected_issuer` (exact string comparison); the
    /// authorization and token endpoints are present; every endpoint present (`authorization_endpoint`,
    /// `token_endpoint`, `jwks_uri`, `registration_endpoint`, `revocation_endpoint`,
    /// `introspection_endpoint`, `userinfo_endpoint`) is `https` or loopback `http` without fragment or
    /// user information; `code_challenge_methods_supported` is present and lists `S256` (REQUIREMENTS
    /// CL-4); `response_types_supported` lists `code`; `grant_types_supported`, when present, lists
    /// `authorization_code`.
    ///
    /// ```
    /// use mcp_authz_metadata::{AuthorizationServerMetadata, AuthorizationServerMetadataError, Issuer};
    /// let doc = AuthorizationServerMetadata::parse(br#"{"issuer":"https://honest.example"}"#)?;
    /// let expected = Issuer::parse("https://attacker.example")?;
    /// assert!(matches!(
    ///     doc.validate(&expected),
    ///     Err(AuthorizationServerMetadataError::IssuerMismatch { .. })
    /// ));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn validate(
        self,
        expected_issuer: &Issuer,
    ) -> Result<ValidatedAuthorizationServerMetadata, AuthorizationServerMetadataError> {
        use AuthorizationServerMetadataError as E;
        if self.issuer.as_str() != expected_issuer.as_str() {
            return Err(E::IssuerMismatch {
                expected: expected_issuer.as_str().to_owned(),
                found: self.issuer.as_str().to_owned(),
            });
        }
        let authorization_endpoint = self
            .authorization_endpoint
            .clone()
            .ok_or(E::MissingAuthorizationEndpoint)?;
        let token_endpoint = self.token_endpoint.clone().ok_or(E::MissingTokenEndpoint)?;
        let endpoints = [
            ("authorization_endpoint", Some(&authorization_endpoint)),
            ("token_endpoint", Some(&token_endpoint)),
            ("jwks_uri", self.jwks_uri.as_ref()),
            ("registration_endpoint", self.registration_endpoint.as_ref()),
            ("revocation_endpoint", self.revocation_endpoint.as_ref()),
            (
                "introspection_endpoint",
                self.introspection_endpoint.as_ref(),
            ),
            ("userinfo_endpoint", self.userinfo_endpoint.as_ref()),
        ];
        for (member, url) in endpoints {
            if let Some(url) = url {
                check_endpoint(url).map_err(|problem| E::InvalidEndpoint {
                    member,
                    url: url.as_str().to_owned(),
                    problem,
                })?;
            }
        }
        let methods = self
            .code_challenge_methods_supported
            .as_ref()
            .ok_or(E::MissingCodeChallengeMethods)?;
        if !methods.contains(&CodeChallengeMethod::S256) {
            return Err(E::S256NotSupported {
                advertised: methods.iter().map(|m| m.as_str().to_owned()).collect(),
            });
        }
        let response_types = self
            .response_types_supported
            .as_ref()
            .ok_or(E::MissingResponseTypes)?;
        if !response_types.contains(&ResponseType::Code) {
            return Err(E::CodeResponseTypeNotSupported {
                advertised: response_types
                    .iter()
                    .map(|t| t.as_str().to_owned())
                    .collect(),
            });
        }
        if let Some(grants) = &self.grant_types_supported
            && !grants.contains(&GrantType::AuthorizationCode)
        {
            return Err(E::AuthorizationCodeGrantNotSupported {
                advertised: grants.iter().map(|g| g.as_str().to_owned()).collect(),
            });
        }
        Ok(ValidatedAuthorizationServerMetadata {
            document: self,
            authorization_endpoint,
            token_endpoint,
        })
    }
}

impl ValidatedAuthorizationServerMetadata {
    /// The issuer: identical to the one given to `validate`.
    pub fn issuer(&self) -> &Issuer {
        &self.document.issuer
    }

    /// The authorization endpoint (`https`, or loopback `http`).
    pub fn authorization_endpoint(&self) -> &Url {
        &self.authorization_endpoint
    }

    /// The token endpoint (`https`, or loopback `http`).
    pub fn token_endpoint(&self) -> &Url {
        &self.token_endpoint
    }

    /// The dynamic client registration endpoint, if the server has one (REQUIREMENTS CL-5).
    pub fn registration_endpoint(&self) -> Option<&Url> {
        self.document.registration_endpoint.as_ref()
    }

    /// The revocation endpoint, if any.
    pub fn revocation_endpoint(&self) -> Option<&Url> {
        self.document.revocation_endpoint.as_ref()
    }

    /// The introspection endpoint, if any.
    pub fn introspection_endpoint(&self) -> Option<&Url> {
        self.document.introspection_endpoint.as_ref()
    }

    /// The JWKS URI, if any.
    pub fn jwks_uri(&self) -> Option<&Url> {
        self.document.jwks_uri.as_ref()
    }

    /// The scopes the server lists, if it lists any.
    pub fn scopes_supported(&self) -> Option<&[ScopeToken]> {
        self.document.scopes_supported.as_deref()
    }

    /// `true` when the server advertises `offline_access` in `scopes_supported` (REQUIREMENTS CL-6:
    /// clients ask for it only then).
    pub fn supports_offline_access(&self) -> bool {
        self.scopes_supported()
            .is_some_and(|scopes| scopes.iter().any(ScopeToken::is_offline_access))
    }

    /// `true` when the server accepts Client ID Metadata Documents (REQUIREMENTS CL-5, AS-10).
    pub fn supports_client_id_metadata_documents(&self) -> bool {
        self.document.client_id_metadata_document_supported == Some(true)
    }

    /// `true` when the server sends `iss` in authorization responses (RFC 9207, REQUIREMENTS CL-8).
    pub fn supports_authorization_response_iss(&self) -> bool {
        self.document.authorization_response_iss_parameter_supported == Some(true)
    }

    /// The full document.
    pub fn document(&self) -> &AuthorizationServerMetadata {
        &self.document
    }

    /// The full document, by value.
    pub fn into_document(self) -> AuthorizationServerMetadata {
        self.document
    }
}
