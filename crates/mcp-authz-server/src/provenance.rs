//! Where a client's name comes from, as the login and consent pages tell it (AS-11): a value of its
//! own, below both the client directory and the browser session that carry it.

use mcp_authz_store::{ClientKind, ClientRecord};

/// Where the client's identity (its name) comes from, for the login and consent pages (AS-11).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Provenance {
    /// Registered by the operator of this server.
    Operator,
    /// A Client ID Metadata Document served by this host (of the client id URL).
    MetadataDocument {
        /// The host (and port, if any) of the client id URL.
        host: String,
    },
    /// Registered through the registration endpoint: its name is its own choice, unverified.
    Dynamic,
}

impl Provenance {
    /// The provenance of `client`.
    pub(crate) fn of(client: &ClientRecord) -> Self {
        match client.kind {
            ClientKind::PreRegistered => Self::Operator,
            ClientKind::Dynamic => Self::Dynamic,
            ClientKind::MetadataDocument { .. } => {
                let url = url::Url::parse(client.client_id.as_str()).ok();
                let host = url
                    .as_ref()
                    .and_then(|u| {
                        u.host_str().map(|h| match u.port() {
                            Some(port) => format!("{h}:{port}"),
                            None => h.to_owned(),
                        })
                    })
                    .unwrap_or_else(|| client.client_id.as_str().to_owned());
                Self::MetadataDocument { host }
            }
            // A kind this server does not know: unverified.
            _ => Self::Dynamic,
        }
    }
}
