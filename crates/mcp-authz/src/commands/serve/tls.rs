//! TLS for `serve --tls-cert --tls-key`: rustls with the ring provider (the one reqwest and the rest
//! of the workspace use), TLS 1.2 and 1.3, HTTP/1.1 over ALPN.

use std::path::Path;
use std::sync::Arc;

use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::settings::TlsFiles;
use crate::error::TlsError;

/// What serving https needs: the acceptor, and the certificate chain as PEM, which the demo MCP
/// server trusts when it fetches this server's own JWKS (the certificate may be self-signed).
pub(crate) struct Tls {
    /// Accepts TLS connections.
    pub(crate) acceptor: TlsAcceptor,
    /// The certificate chain file's content.
    pub(crate) chain_pem: Vec<u8>,
}

/// Reads and checks the certificate chain and key.
pub(crate) fn load(files: &TlsFiles) -> Result<Tls, TlsError> {
    let chain_pem = read(&files.cert)?;
    let key_pem = read(&files.key)?;
    let cert_error = |reason: String| TlsError::Certificate {
        path: files.cert.display().to_string(),
        reason,
    };
    let chain = CertificateDer::pem_slice_iter(&chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| cert_error(e.to_string()))?;
    if chain.is_empty() {
        return Err(cert_error(
            "the file is empty or has no CERTIFICATE block".into(),
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| TlsError::Key {
        path: files.key.display().to_string(),
        reason: e.to_string(),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Tls {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        chain_pem,
    })
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.display().to_string(),
        source,
    })
}
