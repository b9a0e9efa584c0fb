//! Property tests of the client's own parsers and checks: SSE framing, the URL policy, the
//! resource-covers relation.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use mcp_authz_client::UrlPolicy;
use mcp_authz_client::internal::{covers, sse_data};
use mcp_authz_metadata::ResourceUri;
use proptest::prelude::*;

proptest! {
    #[test]
    fn sse_never_panics(text in any::<String>()) {
        let _ = sse_data(&text);
    }

    #[test]
    fn sse_round_trip(events in proptest::collection::vec("[ -~]{1,40}", 0..6)) {
        let rendered: String = events.iter().map(|e| format!("event: message\ndata: {e}\n\n")).collect();
        // `data: ` loses exactly its one space, then the text is kept verbatim.
        let parsed = sse_data(&rendered);
        prop_assert_eq!(parsed.len(), events.len());
        for (got, want) in parsed.iter().zip(&events) {
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn policy_never_panics(text in "(https?|ftp)://[a-z0-9.:\\[\\]-]{0,30}(/[a-z]{0,5})?") {
        if let Ok(url) = text.parse() {
            let _ = UrlPolicy::default().check_syntax(&url);
            let _ = UrlPolicy::default().allow_loopback(true).check_syntax(&url);
        }
    }

    #[test]
    fn private_ipv4_literals_are_refused(b in 0u8..=255, c in 0u8..=255, d in 0u8..=255) {
        for prefix in [format!("10.{b}"), format!("192.168.{b}"), format!("169.254.{b}"), format!("172.{}", 16 + b % 16)] {
            let text = if prefix.matches('.').count() == 1 {
                format!("https://{prefix}.{c}.{d}/x")
            } else {
                format!("https://{prefix}.{c}/x")
            };
            let url = text.parse().unwrap();
            prop_assert!(UrlPolicy::default().allow_loopback(true).check_syntax(&url).is_err(), "{}", text);
        }
    }

    #[test]
    fn a_resource_covers_itself_and_its_origin_covers_it(
        host in "[a-z]{1,10}\\.example",
        path in proptest::collection::vec("[a-z0-9]{1,6}", 0..4),
    ) {
        let resource = ResourceUri::parse(&format!("https://{host}/{}", path.join("/"))).unwrap();
        let origin = ResourceUri::parse(&format!("https://{host}")).unwrap();
        prop_assert!(covers(&resource, &resource));
        prop_assert!(covers(&origin, &resource));
        let elsewhere = ResourceUri::parse(&format!("https://x{host}/{}", path.join("/"))).unwrap();
        prop_assert!(!covers(&elsewhere, &resource));
    }
}
