//! Why TLS (`serve --tls-cert`, `--dangerous-allow-loopback-cimd`) could not be set up.

/// Why TLS could not be set up. One line each, naming the file.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TlsError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// The certificate file holds no PEM certificate.
    #[error("no PEM certificate in {path}: {reason}")]
    Certificate { path: String, reason: String },
    /// The key file holds no PEM private key.
    #[error("no PEM private key (PKCS#8, PKCS#1 or SEC1) in {path}: {reason}")]
    Key { path: String, reason: String },
    /// rustls refused the pair (e.g. the key does not match the certificate).
    #[error("the TLS certificate and key are not usable together: {0}")]
    Config(String),
}
