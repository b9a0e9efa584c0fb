//! One module per endpoint, each owning a small struct with exactly its dependencies and a `handle`
//! method from `http::Request<Bytes>` to `http::Response<Bytes>`. Endpoints depend on the shared
//! modules below them (grant policy, clients, browsers, flow, token status, errors), never on each
//! other; [`crate::AuthorizationServer`] composes them and dispatches by path.

mod account;
mod authorize;
mod consent;
mod introspect;
mod jwks;
mod login;
mod metadata;
mod register;
mod revoke;
mod token;
mod upstream;

pub(crate) use account::AccountEndpoint;
pub(crate) use authorize::AuthorizeEndpoint;
pub(crate) use consent::ConsentEndpoint;
pub(crate) use introspect::IntrospectEndpoint;
pub(crate) use jwks::JwksEndpoint;
pub(crate) use login::LoginEndpoint;
pub(crate) use metadata::{MetadataEndpoint, document as metadata_document};
pub(crate) use register::RegisterEndpoint;
pub(crate) use revoke::RevokeEndpoint;
pub(crate) use token::TokenEndpoint;
pub(crate) use upstream::UpstreamEndpoint;
