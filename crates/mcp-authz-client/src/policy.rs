//! Where the client may send requests: the URL policy and the SSRF guard (REQUIREMENTS AS-16, SEC-6).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use mcp_authz_metadata::{AddressClass, classify_address};
use mcp_authz_token::fetch::{AddressGuard, PolicyError};
use url::{Host, Url};

/// The URL policy applied to every request the client makes (metadata, registration, authorization,
/// token and MCP requests).
///
/// Secure by default: `https` only; hosts that are or resolve to loopback, private (RFC 1918, ULA),
/// link-local (including the `169.254.169.254` metadata service), CGNAT, unspecified, multicast or
/// reserved addresses are refused; metadata documents are capped at 64 KiB; every exchange has a
/// time limit of 10 s. Loopback (and `http` to loopback) is a development setting.
///
/// ```
/// use mcp_authz_client::UrlPolicy;
/// let policy = UrlPolicy::default();
/// assert!(policy.check_syntax(&"http://localhost:8080/mcp".parse()?).is_err());
/// let dev = UrlPolicy::default().allow_loopback(true);
/// assert!(dev.check_syntax(&"http://localhost:8080/mcp".parse()?).is_ok());
/// assert!(dev.check_syntax(&"https://169.254.169.254/latest".parse()?).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlPolicy {
    loopback: bool,
    private: bool,
    max_document_bytes: usize,
    timeout: Duration,
}

impl Default for UrlPolicy {
    fn default() -> Self {
        Self {
            loopback: false,
            private: false,
            max_document_bytes: 64 * 1024,
            timeout: Duration::from_secs(10),
        }
    }
}

impl UrlPolicy {
    /// Allows loopback hosts and plain `http` to them (development only). Default: `false`.
    #[must_use]
    pub fn allow_loopback(mut self, allow: bool) -> Self {
        self.loopback = allow;
        self
    }

    /// Allows private and special-purpose addresses (an intranet deployment). Default: `false`.
    #[must_use]
    pub fn allow_private_networks(mut self, allow: bool) -> Self {
        self.private = allow;
        self
    }

    /// The size cap of metadata and registration documents. Default: 64 KiB.
    #[must_use]
    pub fn with_max_document_bytes(mut self, bytes: usize) -> Self {
        self.max_document_bytes = bytes;
        self
    }

    /// The time limit of one exchange. Default: 10 s.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The size cap of metadata and registration documents.
    pub fn max_document_bytes(&self) -> usize {
        self.max_document_bytes
    }

    /// The time limit of one exchange.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// `true` when loopback hosts are allowed.
    pub fn loopback_allowed(&self) -> bool {
        self.loopback
    }

    /// Checks the URL without resolving its host: scheme, and the address when the host is an IP
    /// literal or `localhost`.
    pub fn check_syntax(&self, url: &Url) -> Result<(), PolicyError> {
        let host = url.host().ok_or(PolicyError::NoHost)?;
        let loopback = mcp_authz_metadata::is_loopback_host(&host);
        match url.scheme() {
            "https" => {}
            "http" if loopback => {}
            "http" => return Err(PolicyError::InsecureHttp(host.to_string())),
            other => return Err(PolicyError::UnsupportedScheme(other.to_owned())),
        }
        if loopback && !self.loopback {
            return Err(PolicyError::LoopbackNotAllowed(host.to_string()));
        }
        match host {
            Host::Ipv4(ip) => self.check_ip(&host.to_string(), IpAddr::V4(ip)),
            Host::Ipv6(ip) => self.check_ip(&host.to_string(), IpAddr::V6(ip)),
            Host::Domain(_) => Ok(()),
        }
    }

    /// Checks the URL and every address its host resolves to.
    pub async fn check(&self, url: &Url) -> Result<(), PolicyError> {
        self.check_syntax(url)?;
        let Some(Host::Domain(domain)) = url.host() else {
            return Ok(());
        };
        let port = url.port_or_known_default().unwrap_or(443);
        let addresses =
            tokio::net::lookup_host((domain, port))
                .await
                .map_err(|e| PolicyError::Resolve {
                    host: domain.to_owned(),
                    description: e.to_string(),
                })?;
        let mut any = false;
        for address in addresses {
            any = true;
            self.check_ip(domain, address.ip())?;
        }
        if any {
            Ok(())
        } else {
            Err(PolicyError::Resolve {
                host: domain.to_owned(),
                description: "no addresses".to_owned(),
            })
        }
    }

    /// Checks one resolved address of `host` with the shared classifier
    /// ([`mcp_authz_metadata::classify_address`], SEC-12), which judges IPv6 addresses by any IPv4
    /// address they embed (mapped, compatible, NAT64, 6to4, Teredo).
    pub fn check_ip(&self, host: &str, address: IpAddr) -> Result<(), PolicyError> {
        match classify_address(address) {
            AddressClass::Public => Ok(()),
            AddressClass::Loopback if self.loopback => Ok(()),
            AddressClass::Loopback => Err(PolicyError::LoopbackNotAllowed(host.to_owned())),
            _ if self.private => Ok(()),
            _ => Err(PolicyError::ForbiddenAddress {
                host: host.to_owned(),
                address,
            }),
        }
    }
}

/// At connection time every resolved address must pass [`UrlPolicy::check_ip`]; one refused address
/// refuses the host.
impl AddressGuard for UrlPolicy {
    fn admit(&self, host: &str, resolved: Vec<SocketAddr>) -> Result<Vec<SocketAddr>, PolicyError> {
        for address in &resolved {
            self.check_ip(host, address.ip())?;
        }
        Ok(resolved)
    }
}

/// `true` for addresses that are neither public nor loopback.
#[cfg(test)]
fn is_special(address: IpAddr) -> bool {
    !matches!(
        classify_address(address),
        AddressClass::Public | AddressClass::Loopback
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_addresses_are_refused() {
        for ip in [
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(is_special(ip), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(!is_special(ip), "{ip}");
        }
    }

    #[test]
    fn loopback_only_by_setting() {
        let url: Url = "http://127.0.0.1:9/x".parse().unwrap();
        assert_eq!(
            UrlPolicy::default().check_syntax(&url),
            Err(PolicyError::LoopbackNotAllowed("127.0.0.1".into()))
        );
        assert!(
            UrlPolicy::default()
                .allow_loopback(true)
                .check_syntax(&url)
                .is_ok()
        );
        let url: Url = "http://[::1]:9/x".parse().unwrap();
        assert!(UrlPolicy::default().check_syntax(&url).is_err());
    }

    #[test]
    fn plain_http_is_refused_off_loopback() {
        let url: Url = "http://example.com/x".parse().unwrap();
        assert_eq!(
            UrlPolicy::default().allow_loopback(true).check_syntax(&url),
            Err(PolicyError::InsecureHttp("example.com".into()))
        );
    }
}
