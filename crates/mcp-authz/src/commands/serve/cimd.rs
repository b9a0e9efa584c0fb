//! `serve --dangerous-allow-loopback-cimd <PEM>`: Client ID Metadata Documents served on this machine,
//! for interoperability tests whose client publishes its document on `https://127.0.0.1:<port>/...`.
//!
//! The SSRF guard (REQUIREMENTS SEC-6) normally refuses loopback, private and link-local targets; this
//! option lifts it for metadata-document fetches and trusts the certificates of the given PEM file
//! besides the web PKI roots. Documents still need an `https` client id with a path. `serve` accepts
//! the option only on a loopback bind, so only local clients can make the server fetch anything.

use std::net::SocketAddr;
use std::path::Path;

use mcp_authz_server::MetadataDocumentConfig;
use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;

use crate::error::{CliError, TlsError};

/// The metadata-document settings of the option: private addresses allowed, the file's certificates
/// trusted. Refused unless `bind` is a loopback address.
pub(crate) fn loopback_documents(
    bind: SocketAddr,
    roots: &Path,
) -> Result<MetadataDocumentConfig, CliError> {
    if !bind.ip().is_loopback() {
        return Err(CliError::InvalidArgument {
            what: "--dangerous-allow-loopback-cimd",
            reason: format!("only allowed on a loopback address, not {bind}"),
        });
    }
    let path = roots.display().to_string();
    let pem = std::fs::read(roots).map_err(|source| TlsError::Read {
        path: path.clone(),
        source,
    })?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .map(|c| c.map(|c| c.as_ref().to_vec()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Certificate {
            path: path.clone(),
            reason: e.to_string(),
        })?;
    if certificates.is_empty() {
        return Err(TlsError::Certificate {
            path,
            reason: "the file is empty or has no CERTIFICATE block".into(),
        }
        .into());
    }
    Ok(MetadataDocumentConfig {
        allow_private_addresses: true,
        extra_root_certificates: certificates,
        ..MetadataDocumentConfig::default()
    })
}
