//! Client registration (REQUIREMENTS CL-5): pre-registered credentials, then a Client ID Metadata
//! Document URL when the server supports it, then credentials registered earlier at the same issuer,
//! then dynamic registration (RFC 7591) with `application_type`; never another issuer's credentials.

use http::header::{CONTENT_TYPE, HeaderValue};
use mcp_authz_metadata::{
    ApplicationType, ClientId, ClientMetadata, ClientRegistrationResponse, ClientSecret,
    DocumentError, GrantType, Issuer, RedirectUri, RegistrationErrorCode,
    RegistrationErrorResponse, ResponseType, TokenEndpointAuthMethod,
    ValidatedAuthorizationServerMetadata,
};

use mcp_authz_token::{RefreshToken, RefreshTokenGrant, TokenRequest};

use crate::fetch::Fetcher;
use crate::token::request_token;
use crate::{ClientCredentials, FetchError, HttpRequest, StoreError, TokenStore};

/// Why no client credentials could be had for an authorization server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistrationError {
    /// The server offers neither Client ID Metadata Documents nor dynamic registration, and no
    /// credentials were configured for it: configure pre-registered credentials for this issuer.
    #[error(
        "no client credentials for {issuer}: it supports neither client ID metadata documents nor \
         dynamic registration; configure pre-registered credentials for this issuer"
    )]
    NoCredentials {
        /// The issuer.
        issuer: String,
    },
    /// The registration request failed.
    #[error("the registration request failed: {0}")]
    Fetch(#[from] FetchError),
    /// The server refused the registration.
    #[error("the registration was refused ({status}){}{}", crate::text::code(error.as_ref()), crate::text::detail(description))]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// The registration error code, if the body had one.
        error: Option<RegistrationErrorCode>,
        /// The error description, if any.
        description: Option<String>,
    },
    /// The registration response does not parse.
    #[error("the registration response is malformed: {0}")]
    MalformedResponse(DocumentError),
    /// Reading or saving the registration failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Credentials configured out of band for one authorization server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreRegisteredClient {
    /// The issuer they are valid at.
    pub issuer: Issuer,
    /// The client identifier.
    pub client_id: ClientId,
    /// The client secret, for confidential clients.
    pub client_secret: Option<ClientSecret>,
}

/// What the client says about itself when it registers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RegistrationSettings {
    pub(crate) pre_registered: Vec<PreRegisteredClient>,
    pub(crate) client_id_metadata_document: Option<ClientId>,
    pub(crate) client_name: String,
    pub(crate) application_type: ApplicationType,
    pub(crate) verify_stored: bool,
}

/// `false` only when the token endpoint answers a refresh request with a random refresh token by
/// `invalid_client` (RFC 6749 §5.2: "unknown client"): the server no longer knows `stored`. Any other
/// answer, including a failed request, keeps the registration. A client that authenticates with a
/// signed assertion is never probed (the probe carries no assertion).
async fn still_known(
    fetcher: &Fetcher,
    metadata: &ValidatedAuthorizationServerMetadata,
    stored: &ClientCredentials,
) -> bool {
    if stored.token_endpoint_auth_method == TokenEndpointAuthMethod::PrivateKeyJwt {
        return true;
    }
    let Ok(random) = RefreshToken::generate() else {
        return true;
    };
    let probe = TokenRequest::RefreshToken(RefreshTokenGrant {
        refresh_token: random,
        scope: None,
        resources: Vec::new(),
    });
    match request_token(fetcher, metadata.token_endpoint(), &probe, stored, None).await {
        Err(error) => !error.is_invalid_client(),
        Ok(_) => true,
    }
}

/// The token endpoint authentication method to use with a secret (or without one), given what the
/// server lists (RFC 8414 §2: absent means `client_secret_basic`).
fn choose_method(
    supported: Option<&[TokenEndpointAuthMethod]>,
    has_secret: bool,
) -> TokenEndpointAuthMethod {
    use TokenEndpointAuthMethod as M;
    let supports = |m: &M| supported.is_none_or(|list| list.contains(m));
    if !has_secret {
        return M::None;
    }
    match supported {
        None => M::ClientSecretBasic,
        Some(_) if supports(&M::ClientSecretBasic) => M::ClientSecretBasic,
        Some(_) if supports(&M::ClientSecretPost) => M::ClientSecretPost,
        Some(_) => M::ClientSecretBasic,
    }
}

/// The method to ask for in a dynamic registration: `none` (a public client with PKCE) when the
/// server accepts it, else a secret method it lists.
fn method_to_request(supported: Option<&[TokenEndpointAuthMethod]>) -> TokenEndpointAuthMethod {
    match supported {
        Some(list) if list.contains(&TokenEndpointAuthMethod::None) => {
            TokenEndpointAuthMethod::None
        }
        other => choose_method(other, true),
    }
}

/// Finds or obtains credentials for the server `metadata` describes.
pub(crate) async fn obtain_client(
    fetcher: &Fetcher,
    store: &dyn TokenStore,
    settings: &RegistrationSettings,
    metadata: &ValidatedAuthorizationServerMetadata,
    redirect_uris: Vec<RedirectUri>,
) -> Result<ClientCredentials, RegistrationError> {
    let issuer = metadata.issuer();
    let supported = metadata
        .document()
        .token_endpoint_auth_methods_supported
        .as_deref();
    if let Some(pre) = settings
        .pre_registered
        .iter()
        .find(|p| p.issuer.as_str() == issuer.as_str())
    {
        return Ok(ClientCredentials {
            issuer: issuer.clone(),
            client_id: pre.client_id.clone(),
            client_secret: pre.client_secret.clone(),
            token_endpoint_auth_method: choose_method(supported, pre.client_secret.is_some()),
        });
    }
    if let Some(client_id) = &settings.client_id_metadata_document
        && metadata.supports_client_id_metadata_documents()
    {
        return Ok(ClientCredentials {
            issuer: issuer.clone(),
            client_id: client_id.clone(),
            client_secret: None,
            token_endpoint_auth_method: TokenEndpointAuthMethod::None,
        });
    }
    if let Some(stored) = store.load_client(issuer).await?
        && stored.issuer.as_str() == issuer.as_str()
    {
        let can_register = metadata.registration_endpoint().is_some();
        if !(settings.verify_stored && can_register)
            || still_known(fetcher, metadata, &stored).await
        {
            return Ok(stored);
        }
        tracing::info!(
            client_id = stored.client_id.as_str(),
            "the authorization server no longer knows the stored client: registering again"
        );
        store.remove_client(issuer).await?;
    }
    let Some(endpoint) = metadata.registration_endpoint() else {
        return Err(RegistrationError::NoCredentials {
            issuer: issuer.as_str().to_owned(),
        });
    };
    let requested = method_to_request(supported);
    let mut body = ClientMetadata::default();
    body.redirect_uris = Some(redirect_uris);
    body.token_endpoint_auth_method = Some(requested.clone());
    body.grant_types = Some(vec![GrantType::AuthorizationCode, GrantType::RefreshToken]);
    body.response_types = Some(vec![ResponseType::Code]);
    body.client_name = Some(settings.client_name.clone());
    body.application_type = Some(settings.application_type.clone());
    let json = serde_json::to_vec(&body).map_err(|e| {
        RegistrationError::MalformedResponse(DocumentError::InvalidMember {
            member: "request",
            description: e.to_string(),
        })
    })?;
    let mut request = HttpRequest::post(endpoint.clone(), json);
    request
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    request.headers.insert(
        http::header::ACCEPT,
        HeaderValue::from_static("application/json"),
    );
    let response = fetcher.document_exchange(request).await?;
    if !response.status.is_success() {
        let parsed = RegistrationErrorResponse::parse(&response.body).ok();
        return Err(RegistrationError::Rejected {
            status: response.status.as_u16(),
            error: parsed.as_ref().map(|p| p.error.clone()),
            description: parsed.and_then(|p| p.error_description),
        });
    }
    let registered = parse_registration(&response.body, fetcher.policy().max_document_bytes())
        .map_err(RegistrationError::MalformedResponse)?;
    let method = registered
        .metadata
        .token_endpoint_auth_method
        .clone()
        .unwrap_or(requested);
    let method = match (&method, &registered.client_secret) {
        (
            TokenEndpointAuthMethod::ClientSecretBasic | TokenEndpointAuthMethod::ClientSecretPost,
            None,
        ) => TokenEndpointAuthMethod::None,
        _ => method,
    };
    let credentials = ClientCredentials {
        issuer: issuer.clone(),
        client_id: registered.client_id,
        client_secret: registered.client_secret,
        token_endpoint_auth_method: method,
    };
    store.save_client(&credentials).await?;
    Ok(credentials)
}

/// Parses a registration response. A `client_secret` without the `client_secret_expires_at` RFC 7591
/// §3.2.1 requires is read as a secret that does not expire (`0`), as many servers omit it.
fn parse_registration(
    body: &[u8],
    limit: usize,
) -> Result<ClientRegistrationResponse, DocumentError> {
    match ClientRegistrationResponse::parse_with_limit(body, limit) {
        Err(DocumentError::MissingMember("client_secret_expires_at")) => {
            let mut object: serde_json::Map<String, serde_json::Value> =
                serde_json::from_slice(body).map_err(|_| DocumentError::NotAnObject)?;
            object.insert("client_secret_expires_at".to_owned(), 0.into());
            let patched = serde_json::to_vec(&object).map_err(|_| DocumentError::NotAnObject)?;
            ClientRegistrationResponse::parse_with_limit(&patched, limit.saturating_add(64))
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TokenEndpointAuthMethod as M;

    #[test]
    fn method_choice_follows_the_server_list() {
        assert_eq!(
            method_to_request(Some(&[M::None, M::ClientSecretBasic])),
            M::None
        );
        assert_eq!(
            method_to_request(Some(&[M::ClientSecretPost])),
            M::ClientSecretPost
        );
        assert_eq!(method_to_request(None), M::ClientSecretBasic);
        assert_eq!(
            choose_method(Some(&[M::ClientSecretPost]), true),
            M::ClientSecretPost
        );
        assert_eq!(choose_method(Some(&[M::ClientSecretBasic]), false), M::None);
    }

    #[test]
    fn registration_without_secret_expiry_is_accepted() {
        let body =
            br#"{"client_id":"c","client_secret":"s","redirect_uris":["http://127.0.0.1/cb"]}"#;
        let parsed = parse_registration(body, 1024).unwrap();
        assert_eq!(parsed.client_secret_expires_at, Some(0));
        assert_eq!(parsed.client_secret.unwrap().secret(), "s");
    }
}
