//! The arguments of `serve`.

use std::net::SocketAddr;
use std::path::PathBuf;

use mcp_authz_server::IpNet;

use crate::settings::{LogFormat, LogLevel, PRECEDENCE_HELP, SigningAlg, StoreArgs};

/// The options of `serve`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_long_help = PRECEDENCE_HELP)]
pub(crate) struct ServeArgs {
    /// Print an annotated configuration file with every key and its default, and exit.
    #[arg(long)]
    pub(crate) example_config: bool,
    /// The configuration file and the store.
    #[command(flatten)]
    pub(crate) storage: StoreArgs,
    /// The address to listen on, `IP:PORT` or `localhost:PORT` (port 0 picks a free port).
    /// Default: 127.0.0.1:8400.
    #[arg(long, visible_alias = "listen", env = "MCP_AUTHZ_BIND", value_name = "ADDRESS",
          value_parser = parse_bind)]
    pub(crate) bind: Option<SocketAddr>,
    /// The public URL of the authorization server (the issuer). Default: `http://<bound address>`
    /// (`https://` with --tls-cert).
    #[arg(long, env = "MCP_AUTHZ_ISSUER")]
    pub(crate) issuer: Option<String>,
    /// DANGEROUS, local development only: approve every authorization request at once as a demo
    /// user, without login or consent. Refused unless bound to a loopback address.
    #[arg(long, env = "MCP_AUTHZ_DEV", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    pub(crate) dev: Option<bool>,
    /// Serve https with this PEM certificate chain (leaf first); needs --tls-key.
    #[arg(long, env = "MCP_AUTHZ_TLS_CERT", value_name = "PEM")]
    pub(crate) tls_cert: Option<PathBuf>,
    /// The PEM private key (PKCS#8, PKCS#1 or SEC1) of --tls-cert.
    #[arg(long, env = "MCP_AUTHZ_TLS_KEY", value_name = "PEM")]
    pub(crate) tls_key: Option<PathBuf>,
    /// Resource-server-only mode: serve only the demo MCP server at /mcp, accepting tokens of this
    /// external authorization server (its issuer URL); no local store.
    #[arg(long, env = "MCP_AUTHZ_AUTHORIZATION_SERVER", value_name = "URL")]
    pub(crate) authorization_server: Option<String>,
    /// Another protected resource to issue tokens for, e.g. a resource-server-only `serve`:
    /// `URL[=SCOPE,SCOPE...]` (default scopes: the demo server's). Repeatable; the variable takes a
    /// space-separated list.
    #[arg(
        long = "resource",
        env = "MCP_AUTHZ_RESOURCES",
        value_name = "URL[=SCOPES]",
        value_delimiter = ' '
    )]
    pub(crate) resources: Vec<String>,
    /// The name of this service, in the title and heading of the login and consent pages.
    /// Default: mcp-authz.
    #[arg(long, env = "MCP_AUTHZ_SERVICE_NAME", value_name = "NAME")]
    pub(crate) service_name: Option<String>,
    /// A directory of page templates replacing the built-in login, consent and error pages:
    /// `layout.html`, `login.html`, `consent.html`, `error.html`, each optional (docs/pages.md).
    /// Checked at start: an unknown file or placeholder refuses to start.
    #[arg(long, env = "MCP_AUTHZ_TEMPLATES", value_name = "DIR")]
    pub(crate) templates: Option<std::path::PathBuf>,
    /// Access-token lifetime in seconds (default 600, at most 3600). Short lifetimes are for
    /// exercising refresh in tests and demos.
    #[arg(long, env = "MCP_AUTHZ_ACCESS_TOKEN_TTL", value_name = "SECONDS")]
    pub(crate) access_token_ttl: Option<u64>,
    /// Days audit events are kept before the background purge removes them (default 90, 1 to
    /// 3660); `mcp-authz audit` lists them.
    #[arg(long, env = "MCP_AUTHZ_AUDIT_RETENTION_DAYS", value_name = "DAYS")]
    pub(crate) audit_retention_days: Option<u64>,
    /// The algorithm of the signing keys the server creates (its first key, and rotations). Existing
    /// keys keep theirs: after a change, `keys rotate` switches. Default: es256.
    #[arg(long, env = "MCP_AUTHZ_SIGNING_ALG", value_enum)]
    pub(crate) signing_alg: Option<SigningAlg>,
    /// Seconds a connection may take to send a complete request head (and, on https, to finish the
    /// TLS handshake); an idle keep-alive connection is closed after as long. Default: 10.
    #[arg(long, env = "MCP_AUTHZ_HEADER_TIMEOUT", value_name = "SECONDS")]
    pub(crate) header_timeout: Option<u64>,
    /// Seconds a request body may take to arrive once the server reads it; a stalled body gets 400.
    /// Default: 30.
    #[arg(long, env = "MCP_AUTHZ_BODY_TIMEOUT", value_name = "SECONDS")]
    pub(crate) body_timeout: Option<u64>,
    /// The most connections served at once; further ones wait in the listen queue. Default: 1024.
    #[arg(long, env = "MCP_AUTHZ_MAX_CONNECTIONS", value_name = "N")]
    pub(crate) max_connections: Option<usize>,
    /// Seconds open connections may take to finish after SIGINT or SIGTERM before they are closed.
    /// Default: 10.
    #[arg(long, env = "MCP_AUTHZ_SHUTDOWN_TIMEOUT", value_name = "SECONDS")]
    pub(crate) shutdown_timeout: Option<u64>,
    /// Rate limit of the authorization endpoint and its login and consent pages, per client address:
    /// `N/s` or `N/min`, optionally `:BURST` (e.g. 20/s:40), or `off`. Default: 20/s:40.
    #[arg(long, env = "MCP_AUTHZ_AUTHORIZE_RATE_LIMIT", value_name = "RATE")]
    pub(crate) authorize_rate_limit: Option<String>,
    /// Rate limit of the token, revocation and introspection endpoints, per authenticated client and,
    /// for unauthenticated or failed requests, per address (same form). Default: 50/s:100.
    #[arg(long, env = "MCP_AUTHZ_TOKEN_RATE_LIMIT", value_name = "RATE")]
    pub(crate) token_rate_limit: Option<String>,
    /// Rate limit of dynamic client registration, per client address (same form). Default: 1/s:10.
    #[arg(long, env = "MCP_AUTHZ_REGISTER_RATE_LIMIT", value_name = "RATE")]
    pub(crate) register_rate_limit: Option<String>,
    /// How much to log (to standard error). Default: info.
    #[arg(long, env = "MCP_AUTHZ_LOG_LEVEL", value_enum)]
    pub(crate) log_level: Option<LogLevel>,
    /// The log line format: `text` (for people) or `json` (one object per line, for log
    /// collectors). Default: text.
    #[arg(long, env = "MCP_AUTHZ_LOG_FORMAT", value_enum)]
    pub(crate) log_format: Option<LogFormat>,
    /// Serve Prometheus metrics at `http://ADDRESS/metrics` on a listener of their own (keep it
    /// private: it shows traffic by route). Default: off.
    #[arg(long, env = "MCP_AUTHZ_METRICS_BIND", value_name = "ADDRESS", value_parser = parse_bind)]
    pub(crate) metrics_bind: Option<SocketAddr>,
    /// A reverse proxy whose `Forwarded` / `X-Forwarded-For` header names the client (for rate
    /// limits and logs): an address or network (`10.0.0.0/8`, `192.0.2.7`); repeatable, or
    /// comma-separated in the variable. Requests from anywhere else are keyed by their TCP peer
    /// whatever their headers say. Default: none.
    #[arg(
        long = "trusted-proxy",
        env = "MCP_AUTHZ_TRUSTED_PROXIES",
        value_name = "CIDR",
        value_delimiter = ',',
        value_parser = parse_network
    )]
    pub(crate) trusted_proxies: Vec<IpNet>,
    /// DANGEROUS, interoperability tests only: fetch Client ID Metadata Documents from loopback and
    /// private addresses too (the SSRF guard refuses them otherwise), trusting the PEM certificates in
    /// this file besides the web PKI roots. Documents still need https. Refused unless bound to a
    /// loopback address.
    #[arg(long, value_name = "PEM")]
    pub(crate) dangerous_allow_loopback_cimd: Option<PathBuf>,
}

/// `--trusted-proxy`: a network in CIDR notation, or one address (a /32 or /128 network).
pub(crate) fn parse_network(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| {
            format!("{text:?} is not an address or a network (e.g. 10.0.0.0/8 or 192.0.2.7)")
        })
}

/// `--bind`: a socket address, or `localhost:PORT` for the IPv4 loopback address.
fn parse_bind(text: &str) -> Result<SocketAddr, String> {
    if let Some(port) = text.strip_prefix("localhost:") {
        let port: u16 = port
            .parse()
            .map_err(|_| format!("{port:?} is not a port number"))?;
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    text.parse().map_err(|_| {
        format!(
            "{text:?} is not an address: expected IP:PORT (e.g. 127.0.0.1:8400) or localhost:PORT"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_proxies_are_networks_or_addresses() {
        assert_eq!(
            parse_network("10.0.0.0/8").unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(
            parse_network(" 192.0.2.7 ").unwrap().to_string(),
            "192.0.2.7/32"
        );
        assert_eq!(
            parse_network("2001:db8::/32").unwrap().to_string(),
            "2001:db8::/32"
        );
        assert_eq!(parse_network("::1").unwrap().to_string(), "::1/128");
        for bad in ["", "10.0.0.0/33", "proxy.internal", "10.0.0.0/8/8", "*"] {
            assert!(parse_network(bad).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        /// Any text parses or is refused with a message, never a panic; what parses prints back
        /// as a network that parses to itself.
        #[test]
        fn any_network_text_is_safe(text in "[0-9a-f:./ ]{0,40}") {
            if let Ok(net) = parse_network(&text) {
                proptest::prop_assert_eq!(parse_network(&net.to_string()).unwrap(), net);
            }
        }

        /// `--bind` / `--metrics-bind` parsing never panics, and an accepted address prints back
        /// as itself.
        #[test]
        fn any_bind_text_is_safe(text in "[0-9a-z:.\\[\\]]{0,30}") {
            if let Ok(addr) = parse_bind(&text) {
                proptest::prop_assert_eq!(parse_bind(&addr.to_string()).unwrap(), addr);
            }
        }
    }

    #[test]
    fn bind_accepts_addresses_and_localhost() {
        assert_eq!(
            parse_bind("localhost:8400").unwrap(),
            "127.0.0.1:8400".parse().unwrap()
        );
        assert_eq!(parse_bind("[::1]:0").unwrap(), "[::1]:0".parse().unwrap());
        assert!(
            parse_bind("localhost:http")
                .unwrap_err()
                .contains("not a port number")
        );
        assert!(
            parse_bind("example.com:80")
                .unwrap_err()
                .contains("expected IP:PORT")
        );
    }
}
