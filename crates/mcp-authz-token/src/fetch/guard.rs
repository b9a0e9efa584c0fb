//! Which resolved addresses a connection may go to (SSRF, SEC-6, SEC-12).

use std::net::SocketAddr;

use super::PolicyError;

/// Decides, at connection time, which of the addresses a host name resolved to may be connected
/// to, so a DNS answer that changes after a URL was checked (DNS rebinding) cannot reach a refused
/// address. Pure: the classification itself is
/// [`mcp_authz_metadata::classify_address`].
pub trait AddressGuard: Send + Sync + 'static {
    /// The addresses of `host` to connect to, or why none may be used.
    fn admit(&self, host: &str, resolved: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, PolicyError>;
}
