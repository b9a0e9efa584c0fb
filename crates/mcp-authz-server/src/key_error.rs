//! Why a signing-key operation failed: shared by key management (`keys.rs`) and key material
//! (`signing.rs`), below both.

use mcp_authz_store::StoreError;
use mcp_authz_token::JwsAlgorithm;

/// Why a key operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Key generation, parsing or signing failed.
    #[error("signing key error: {0}")]
    Crypto(String),
    /// The server does not sign with this algorithm (it signs with ES256 or EdDSA).
    #[error("the server cannot sign with {0}: ES256 or EdDSA")]
    UnsupportedAlgorithm(JwsAlgorithm),
}
