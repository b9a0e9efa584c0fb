//! The token endpoint: requests by grant type, client authentication, the success response.

mod client_auth;
mod request;
mod response;

pub(crate) use request::body_client_credentials;

pub use client_auth::{
    BasicCredentials, BasicCredentialsError, BodyClientCredentials, ClientAuthError,
    ClientAuthentication,
};
pub use request::{
    AuthorizationCodeGrant, ClientCredentialsGrant, RefreshTokenGrant, TokenRequest,
    TokenRequestError, WithClientCredentials,
};
pub use response::{TokenResponse, TokenType};
