//! The rule every endpoint URL in a validated document follows: `https`, or `http` on a loopback host for
//! local development (OAuth 2.1 §1.5, REQUIREMENTS AS-16), with no fragment and no user information.

use url::Url;

use crate::is_loopback_host;

/// What is wrong with an endpoint URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EndpointProblem {
    /// Not `https`, and not `http` on a loopback host.
    #[error("it must use https (http is allowed only on loopback hosts)")]
    InsecureScheme,
    /// Endpoint URLs have no fragment component (RFC 6749 §3.1, §3.2).
    #[error("it must not have a fragment component")]
    HasFragment,
    /// Endpoint URLs carry no user information.
    #[error("it must not contain user information")]
    HasUserinfo,
}

/// Checks one endpoint URL.
pub(crate) fn check_endpoint(url: &Url) -> Result<(), EndpointProblem> {
    match url.scheme() {
        "https" if url.host().is_some() => {}
        "http" if url.host().is_some_and(|h| is_loopback_host(&h)) => {}
        _ => return Err(EndpointProblem::InsecureScheme),
    }
    if url.fragment().is_some() {
        return Err(EndpointProblem::HasFragment);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(EndpointProblem::HasUserinfo);
    }
    Ok(())
}
