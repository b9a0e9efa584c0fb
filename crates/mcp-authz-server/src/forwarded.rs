//! The client address of a request that came through reverse proxies (REQUIREMENTS SC-1): the
//! `Forwarded` (RFC 7239) or `X-Forwarded-For` header counts only when the connection comes from a
//! proxy the operator trusts, and then only as far as the chain of trusted proxies reaches.
//!
//! Each proxy appends the address it received the request from, so the header reads
//! `client, proxy1, proxy2` and the connection comes from the last proxy. Walking from the right,
//! every address that is a trusted proxy is skipped; the first one that is not is the client. What
//! a client writes into the header itself ends up on the left of what the trusted proxies append,
//! so it is never reached unless the client is itself a trusted proxy.

use std::net::IpAddr;

use http::HeaderMap;
use http::header::FORWARDED;
pub use ipnet::IpNet;

/// The proxies whose forwarded client addresses are believed; empty (the default) believes none,
/// and the TCP peer is the client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    networks: Vec<IpNet>,
}

impl TrustedProxies {
    /// Trusts the proxies in `networks` (e.g. `10.0.0.0/8`, `192.0.2.7/32`).
    pub fn new(networks: impl IntoIterator<Item = IpNet>) -> Self {
        Self {
            networks: networks.into_iter().collect(),
        }
    }

    /// `true` when no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }

    /// `true` when `addr` is a trusted proxy (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn trusts(&self, addr: IpAddr) -> bool {
        let addr = addr.to_canonical();
        self.networks.iter().any(|net| net.contains(&addr))
    }

    /// The client address of a request received from `peer` with `headers`: `peer` itself unless it
    /// is a trusted proxy; else the rightmost forwarded address that is not a trusted proxy (from
    /// `Forwarded` if present, else `X-Forwarded-For`). An element that is not an address
    /// (`unknown`, an obfuscated identifier, garbage) ends the walk at the proxy that wrote it, which
    /// is then the client as far as this server can tell.
    pub fn client_addr(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.trusts(peer) {
            return peer;
        }
        let hops = if headers.contains_key(FORWARDED) {
            forwarded_for(headers)
        } else {
            x_forwarded_for(headers)
        };
        let mut client = peer;
        for hop in hops.iter().rev() {
            match hop {
                Some(addr) => {
                    client = addr.to_canonical();
                    if !self.trusts(client) {
                        return client;
                    }
                }
                None => return client,
            }
        }
        client
    }
}

/// The `for=` addresses of every `Forwarded` header, in order (`None` for an element without an
/// address, or with one that does not parse).
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    headers
        .get_all(FORWARDED)
        .iter()
        .flat_map(|value| {
            let text = value.to_str().unwrap_or("");
            text.split(',').map(str::to_owned).collect::<Vec<_>>()
        })
        .map(|element| {
            element
                .split(';')
                .filter_map(|pair| pair.split_once('='))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
                .and_then(|(_, node)| node_addr(node.trim()))
        })
        .collect()
}

/// The addresses of every `X-Forwarded-For` header, in order.
fn x_forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|value| {
            let text = value.to_str().unwrap_or("");
            text.split(',').map(str::to_owned).collect::<Vec<_>>()
        })
        .map(|element| node_addr(element.trim()))
        .collect()
}

/// The address of an RFC 7239 node (`192.0.2.43`, `"192.0.2.43:47011"`, `"[2001:db8::17]:4711"`),
/// also as written in `X-Forwarded-For`; `None` for `unknown`, `_obfuscated` or anything else.
fn node_addr(node: &str) -> Option<IpAddr> {
    let node = node
        .strip_prefix('"')
        .and_then(|n| n.strip_suffix('"'))
        .unwrap_or(node);
    if let Some(rest) = node.strip_prefix('[') {
        let (addr, after) = rest.split_once(']')?;
        if !(after.is_empty() || after.starts_with(':')) {
            return None;
        }
        return addr.parse().ok();
    }
    if let Ok(addr) = node.parse::<IpAddr>() {
        return Some(addr);
    }
    // `192.0.2.43:47011`: IPv4 with a port (an IPv6 address with a port needs brackets).
    let (addr, port) = node.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    addr.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use http::HeaderValue;
    use proptest::prelude::*;

    use super::*;

    fn proxies(nets: &[&str]) -> TrustedProxies {
        TrustedProxies::new(nets.iter().map(|n| n.parse().unwrap()))
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    /// RFC 7239 §4 and §7.1's examples of the `for` parameter.
    #[test]
    fn rfc_7239_nodes() {
        assert_eq!(node_addr("192.0.2.60"), Some(ip("192.0.2.60")));
        assert_eq!(node_addr("\"192.0.2.43:47011\""), Some(ip("192.0.2.43")));
        assert_eq!(
            node_addr("\"[2001:db8:cafe::17]:4711\""),
            Some(ip("2001:db8:cafe::17"))
        );
        assert_eq!(
            node_addr("\"[2001:db8:cafe::17]\""),
            Some(ip("2001:db8:cafe::17"))
        );
        assert_eq!(node_addr("unknown"), None);
        assert_eq!(node_addr("\"_gazonk\""), None);
        assert_eq!(node_addr("_hidden"), None);
        assert_eq!(node_addr("[2001:db8::1]x"), None);
        assert_eq!(node_addr("2001:db8::1:80"), Some(ip("2001:db8::1:80")));
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_says() {
        let trusted = proxies(&["10.0.0.0/8"]);
        let spoof = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("forwarded", "for=198.51.100.1"),
        ]);
        assert_eq!(
            trusted.client_addr(ip("192.0.2.1"), &spoof),
            ip("192.0.2.1")
        );
        assert_eq!(
            TrustedProxies::default().client_addr(ip("10.0.0.1"), &spoof),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let trusted = proxies(&["10.0.0.0/8", "192.0.2.7/32"]);
        // The client wrote 203.0.113.9 itself; the proxies appended 198.51.100.4 and 10.1.1.1.
        let xff = headers(&[("x-forwarded-for", "203.0.113.9, 198.51.100.4, 10.1.1.1")]);
        assert_eq!(
            trusted.client_addr(ip("192.0.2.7"), &xff),
            ip("198.51.100.4")
        );
        // Several header lines are one list.
        let split = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("x-forwarded-for", "198.51.100.4, 10.1.1.1"),
        ]);
        assert_eq!(
            trusted.client_addr(ip("10.0.0.2"), &split),
            ip("198.51.100.4")
        );
        // `Forwarded` wins over `X-Forwarded-For`.
        let both = headers(&[
            (
                "forwarded",
                "for=192.0.2.43, for=\"[2001:db8:cafe::17]:4711\";proto=https",
            ),
            ("x-forwarded-for", "198.51.100.4"),
        ]);
        assert_eq!(
            trusted.client_addr(ip("10.0.0.2"), &both),
            ip("2001:db8:cafe::17")
        );
        // Every hop trusted: the leftmost one.
        let internal = headers(&[("x-forwarded-for", "10.9.9.9, 10.1.1.1")]);
        assert_eq!(
            trusted.client_addr(ip("10.0.0.2"), &internal),
            ip("10.9.9.9")
        );
        // No header: the proxy itself.
        assert_eq!(
            trusted.client_addr(ip("10.0.0.2"), &HeaderMap::new()),
            ip("10.0.0.2")
        );
        // `unknown` written by a trusted proxy: that proxy is as far as we can see.
        let unknown = headers(&[("forwarded", "for=203.0.113.9, for=unknown, for=10.1.1.1")]);
        assert_eq!(
            trusted.client_addr(ip("10.0.0.2"), &unknown),
            ip("10.1.1.1")
        );
    }

    #[test]
    fn ipv4_mapped_peers_count_as_ipv4() {
        let trusted = proxies(&["127.0.0.1/32"]);
        let xff = headers(&[("x-forwarded-for", "::ffff:198.51.100.4")]);
        assert_eq!(
            trusted.client_addr(ip("::ffff:127.0.0.1"), &xff),
            ip("198.51.100.4")
        );
    }

    proptest! {
        /// Whatever a client prepends, behind a chain of trusted proxies the answer is the address
        /// the first proxy saw.
        #[test]
        fn a_client_cannot_choose_its_address(
            spoofed in proptest::collection::vec(any::<[u8; 4]>(), 0..5),
            garbage in "[ -~]{0,20}",
            client in any::<[u8; 4]>(),
            hops in 0usize..3,
        ) {
            let client = IpAddr::from(client);
            prop_assume!(!matches!(client, IpAddr::V4(v4) if v4.octets()[0] == 10));
            let trusted = proxies(&["10.0.0.0/8"]);
            let mut chain: Vec<String> = spoofed.iter().map(|o| IpAddr::from(*o).to_string()).collect();
            chain.push(garbage);
            chain.push(client.to_string());
            chain.extend((0..hops).map(|n| format!("10.0.0.{}", n + 1)));
            let value = chain.join(", ");
            prop_assume!(HeaderValue::from_str(&value).is_ok());
            let xff = headers(&[("x-forwarded-for", &value)]);
            prop_assert_eq!(trusted.client_addr(ip("10.255.0.1"), &xff), client);
        }

        /// Parsing any header text never panics, and an untrusted peer is always the answer.
        #[test]
        fn any_header_is_safe(text in "[ -~]{0,80}", peer in any::<[u8; 4]>()) {
            let peer = IpAddr::from(peer);
            prop_assume!(HeaderValue::from_str(&text).is_ok());
            let map = headers(&[("forwarded", &text), ("x-forwarded-for", &text)]);
            let trusted = proxies(&["10.0.0.0/8"]);
            let answer = trusted.client_addr(peer, &map);
            if !trusted.trusts(peer) {
                prop_assert_eq!(answer, peer);
            }
        }
    }
}
