//! The one outbound-HTTP abstraction of the workspace (client, resource layer, server): an
//! [`HttpClient`] sends one [`HttpRequest`] and reads the whole [`HttpResponse`]; a failed exchange is a
//! [`TransportError`], and a failed fetch, one layer up, a [`FetchError`] (refused by the address
//! policy, transport, redirect not followed, unexpected status).
//!
//! No runtime and no HTTP stack by default; the `reqwest` feature adds `ReqwestHttpClient`, the one
//! implementation (redirects off, time limit, body read stopped at the cap, connections only to the
//! addresses an [`AddressGuard`] admits).

mod error;
mod guard;
mod message;
#[cfg(feature = "reqwest")]
mod reqwest_client;

pub use error::{FetchError, PolicyError, TransportError};
pub use guard::AddressGuard;
pub use message::{HttpClient, HttpRequest, HttpResponse};
#[cfg(feature = "reqwest")]
pub use reqwest_client::{ReqwestHttpClient, ReqwestHttpClientBuilder};
