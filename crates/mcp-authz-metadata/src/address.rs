//! One address classifier for every outbound fetch (REQUIREMENTS SEC-6, SEC-12).
//!
//! A server fetching a Client ID Metadata Document, a resource server fetching JWKS and a client
//! following metadata all ask the same question: may this connection go to that address? They ask it
//! here, so they cannot disagree.
//!
//! IPv6 addresses that carry an IPv4 address are judged by the IPv4 address they carry, whichever way
//! it is embedded: IPv4-mapped (`::ffff:0:0/96`, RFC 4291 §2.5.5.2), IPv4-compatible (`::/96`, deprecated
//! by the same section but still routed by some stacks), NAT64 (`64:ff9b::/96`, RFC 6052; the local-use
//! `64:ff9b:1::/48` of RFC 8215 is treated as private whole), 6to4 (`2002::/16`, RFC 3056) and Teredo
//! (`2001::/32`, RFC 4380: both the server address and the obfuscated client address).
//!
//! ```
//! use std::net::IpAddr;
//! use mcp_authz_metadata::{AddressClass, classify_address};
//! let ip: IpAddr = "2002:a9fe:a9fe::1".parse()?; // 6to4 of 169.254.169.254
//! assert_eq!(classify_address(ip), AddressClass::LinkLocal);
//! assert!(!classify_address(ip).is_public());
//! let ip: IpAddr = "::ffff:127.0.0.1".parse()?;
//! assert_eq!(classify_address(ip), AddressClass::Loopback);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// What kind of address an IP address is, for deciding whether an outbound fetch may connect to it.
///
/// Only [`AddressClass::Public`] is reachable by default; [`AddressClass::Loopback`] only where a
/// caller allows this machine (development), everything else only where a caller explicitly allows
/// private networks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AddressClass {
    /// A globally routable unicast address.
    Public,
    /// This machine: `127.0.0.0/8`, `::1`, or an embedding of `127.0.0.0/8`.
    Loopback,
    /// Private networks: `10/8`, `172.16/12`, `192.168/16` (RFC 1918), unique-local `fc00::/7`,
    /// deprecated site-local `fec0::/10`, local-use NAT64 `64:ff9b:1::/48`.
    Private,
    /// Link-local: `169.254/16` (including the `169.254.169.254` cloud metadata service) and `fe80::/10`.
    LinkLocal,
    /// Carrier-grade NAT shared space `100.64/10` (RFC 6598).
    Shared,
    /// `0.0.0.0/8` and `::`.
    Unspecified,
    /// Multicast and broadcast.
    Multicast,
    /// Documentation (`192.0.2/24`, `198.51.100/24`, `203.0.113/24`, `2001:db8::/32`) and benchmarking
    /// (`198.18/15`) ranges.
    Documentation,
    /// IETF protocol assignments (`192.0.0/24`), the reserved `240/4`, and IPv6 space that is not
    /// global unicast.
    Reserved,
}

impl AddressClass {
    /// `true` only for [`AddressClass::Public`].
    #[must_use]
    pub fn is_public(self) -> bool {
        self == Self::Public
    }

    /// `true` only for [`AddressClass::Loopback`].
    #[must_use]
    pub fn is_loopback(self) -> bool {
        self == Self::Loopback
    }
}

/// Classifies `ip`, judging IPv6 addresses that embed IPv4 by the embedded address (see the module
/// documentation for the embeddings recognised).
#[must_use]
pub fn classify_address(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

/// The IPv4 addresses an IPv6 address carries, in the order they are judged: one for IPv4-mapped,
/// IPv4-compatible, NAT64 and 6to4, two for Teredo (server, then client), none otherwise.
#[must_use]
pub fn embedded_ipv4(ip: Ipv6Addr) -> Vec<Ipv4Addr> {
    let s = ip.segments();
    let o = ip.octets();
    let low = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    match s {
        // IPv4-mapped ::ffff:a.b.c.d
        [0, 0, 0, 0, 0, 0xffff, _, _] => vec![low],
        // IPv4-compatible ::a.b.c.d; `::` and `::1` are IPv6's own unspecified and loopback.
        [0, 0, 0, 0, 0, 0, hi, lo] if hi != 0 || lo > 1 => vec![low],
        // NAT64 well-known prefix 64:ff9b::/96
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => vec![low],
        // 6to4 2002:a.b.c.d::/48
        [0x2002, hi, lo, ..] => vec![v4_from(hi, lo)],
        // Teredo 2001:0000:server:…:client-xor-ffff
        [0x2001, 0, shi, slo, _, _, chi, clo] => vec![v4_from(shi, slo), v4_from(!chi, !clo)],
        _ => Vec::new(),
    }
}

fn v4_from(hi: u16, lo: u16) -> Ipv4Addr {
    Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo))
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    let [a, b, _, _] = ip.octets();
    if ip.is_loopback() {
        AddressClass::Loopback
    } else if ip.is_private() {
        AddressClass::Private
    } else if ip.is_link_local() {
        AddressClass::LinkLocal
    } else if a == 100 && (64..128).contains(&b) {
        AddressClass::Shared
    } else if a == 0 {
        AddressClass::Unspecified
    } else if ip.is_multicast() || ip.is_broadcast() {
        AddressClass::Multicast
    } else if ip.is_documentation() || (a == 198 && (b == 18 || b == 19)) {
        AddressClass::Documentation
    } else if (a == 192 && b == 0 && ip.octets()[2] == 0) || a >= 240 {
        AddressClass::Reserved
    } else {
        AddressClass::Public
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    if ip.is_loopback() {
        return AddressClass::Loopback;
    }
    if ip.is_unspecified() {
        return AddressClass::Unspecified;
    }
    let embedded = embedded_ipv4(ip);
    if !embedded.is_empty() {
        // The worst of the embedded addresses decides: a Teredo address is public only if both are.
        return embedded
            .into_iter()
            .map(classify_v4)
            .find(|class| !class.is_public())
            .unwrap_or(AddressClass::Public);
    }
    let s = ip.segments();
    let first = s[0];
    if ip.is_multicast() {
        AddressClass::Multicast
    } else if first & 0xfe00 == 0xfc00 || first & 0xffc0 == 0xfec0 {
        AddressClass::Private
    } else if first & 0xffc0 == 0xfe80 {
        AddressClass::LinkLocal
    } else if first == 0x64 && s[1] == 0xff9b && s[2] == 1 {
        AddressClass::Private
    } else if first == 0x2001 && s[1] == 0x0db8 {
        AddressClass::Documentation
    } else if first & 0xe000 != 0x2000 || (first == 0x2001 && s[1] < 0x0200) {
        // Outside global unicast 2000::/3, or in the IETF protocol assignments 2001::/23.
        AddressClass::Reserved
    } else {
        AddressClass::Public
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn class(s: &str) -> AddressClass {
        classify_address(s.parse().unwrap())
    }

    #[test]
    fn every_embedding_of_private_space_is_judged_by_its_ipv4() {
        for (ip, expected) in [
            ("::ffff:10.0.0.1", AddressClass::Private),
            ("::ffff:127.0.0.1", AddressClass::Loopback),
            ("::a9fe:a9fe", AddressClass::LinkLocal),
            ("::a00:1", AddressClass::Private),
            ("::7f00:1", AddressClass::Loopback),
            ("64:ff9b::a9fe:a9fe", AddressClass::LinkLocal),
            ("64:ff9b:1::1", AddressClass::Private),
            ("2002:a9fe:a9fe::1", AddressClass::LinkLocal),
            ("2002:7f00:1::", AddressClass::Loopback),
            ("2002:c0a8:101::1", AddressClass::Private),
            ("2001:0:a9fe:a9fe::5601:5601", AddressClass::LinkLocal),
            // Teredo with a public server but a private (obfuscated) client address.
            ("2001:0:5db8:d822::f5ff:fffe", AddressClass::Private),
        ] {
            assert_eq!(class(ip), expected, "{ip}");
        }
    }

    #[test]
    fn plain_ranges() {
        for (ip, expected) in [
            ("127.0.0.1", AddressClass::Loopback),
            ("127.255.0.9", AddressClass::Loopback),
            ("::1", AddressClass::Loopback),
            ("10.1.2.3", AddressClass::Private),
            ("172.16.0.1", AddressClass::Private),
            ("192.168.1.1", AddressClass::Private),
            ("169.254.169.254", AddressClass::LinkLocal),
            ("100.64.0.1", AddressClass::Shared),
            ("0.0.0.0", AddressClass::Unspecified),
            ("::", AddressClass::Unspecified),
            ("255.255.255.255", AddressClass::Multicast),
            ("224.0.0.1", AddressClass::Multicast),
            ("ff02::1", AddressClass::Multicast),
            ("192.0.2.1", AddressClass::Documentation),
            ("198.18.0.1", AddressClass::Documentation),
            ("2001:db8::1", AddressClass::Documentation),
            ("192.0.0.8", AddressClass::Reserved),
            ("240.0.0.1", AddressClass::Reserved),
            ("fd00:ec2::254", AddressClass::Private),
            ("fec0::1", AddressClass::Private),
            ("fe80::1", AddressClass::LinkLocal),
            ("100::1", AddressClass::Reserved),
            ("2001:10::1", AddressClass::Reserved),
            ("93.184.216.34", AddressClass::Public),
            ("192.0.1.1", AddressClass::Public),
            ("2606:2800:220:1:248:1893:25c8:1946", AddressClass::Public),
            ("2002:5db8:d822::1", AddressClass::Public),
            ("64:ff9b::5db8:d822", AddressClass::Public),
        ] {
            assert_eq!(class(ip), expected, "{ip}");
        }
    }

    #[test]
    fn embedded_addresses_are_extracted() {
        let v6: Ipv6Addr = "2001:0:a9fe:a9fe::5601:5601".parse().unwrap();
        assert_eq!(
            embedded_ipv4(v6),
            vec![
                Ipv4Addr::new(169, 254, 169, 254),
                Ipv4Addr::new(169, 254, 169, 254)
            ]
        );
        assert!(embedded_ipv4("2606:2800::1".parse().unwrap()).is_empty());
        assert!(embedded_ipv4(Ipv6Addr::LOCALHOST).is_empty());
    }
}
