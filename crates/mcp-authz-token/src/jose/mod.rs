//! JOSE: JSON Web Keys and Key Sets (RFC 7517, RFC 7518 §6, RFC 8037 §2), JWS algorithms (RFC 7518
//! §3, RFC 8037 §3) and compact JWS verification (RFC 7515).

mod algorithm;
mod jwk;
mod jwk_set;
mod jws;

pub use algorithm::{JwsAlgorithm, UnsupportedAlgorithm};
pub use jwk::{Jwk, JwkError, JwkKey, KeyUse};
pub use jwk_set::{JwkSet, JwkSetError};
pub use jws::{CompactJws, JwsError, JwsHeader, VerifyingKey};
