//! Settings that switch security off, for tests and local development only.
//!
//! Everything here is refused by [`ServerConfigBuilder::build`](crate::ServerConfigBuilder::build)
//! unless the issuer is a loopback `http` URL, so it cannot reach a production deployment by accident.

use mcp_authz_store::Subject;

/// **Test-only.** Skips the login and consent pages: every valid authorization request is approved at
/// once as the given user, with the requested (or default) scope.
///
/// This exists for the MCP conformance suite and the binary's `--dev` mode, which drive the flow
/// without a browser. The redirect URI, PKCE, resource and scope checks still apply.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AutoApprove {
    /// Approve as this subject.
    DevUser(Subject),
}

impl AutoApprove {
    /// The subject every request is approved for.
    pub fn subject(&self) -> &Subject {
        match self {
            Self::DevUser(subject) => subject,
        }
    }
}
