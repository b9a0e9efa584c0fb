//! Password and client-secret hashing (REQUIREMENTS AS-13: secrets stored hashed).
//!
//! - **Passwords** are hashed with Argon2id (PHC string, OWASP parameters `m=19456,t=2,p=1`): they are
//!   chosen by people and must resist offline guessing.
//! - **Client secrets** issued by this server are 256-bit random values; they are stored as
//!   `$sha256$<base64url digest>`. With 256 bits of entropy nothing can be guessed, so a slow hash would
//!   add no protection and would let anyone exhaust the CPU through the token endpoint. Operator
//!   configured secrets may be stored as Argon2id PHC strings instead: [`verify_secret`] accepts both.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mcp_authz_store::SecretHashString;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Why a secret could not be hashed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HashError {
    /// The operating system's random number generator failed.
    #[error("the random number generator is unavailable")]
    RandomnessUnavailable,
    /// The hasher failed (parameters refused).
    #[error("password hashing failed")]
    Hasher,
    /// Too many password checks are running or waiting in the server: try again later (the server
    /// answers 503 with `Retry-After`).
    #[error("too many password checks are running; try again later")]
    Busy,
}

/// This server's Argon2id hasher (OWASP parameters `m=19456,t=2,p=1`).
pub(crate) fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password with Argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<SecretHashString, HashError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| HashError::RandomnessUnavailable)?;
    let salt = SaltString::encode_b64(&salt).map_err(|_| HashError::Hasher)?;
    let phc = argon2()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|_| HashError::Hasher)?;
    SecretHashString::parse(&phc.to_string()).map_err(|_| HashError::Hasher)
}

/// Hashes a server-generated high-entropy client secret (`$sha256$…`).
pub fn hash_client_secret(secret: &str) -> Result<SecretHashString, HashError> {
    let digest = URL_SAFE_NO_PAD.encode(Sha256::digest(secret.as_bytes()));
    SecretHashString::parse(&format!("$sha256${digest}")).map_err(|_| HashError::Hasher)
}

/// Checks `secret` against a stored hash: `$sha256$` (constant-time) or an Argon2 PHC string.
pub fn verify_secret(secret: &str, stored: &SecretHashString) -> bool {
    let stored = stored.secret();
    if let Some(digest) = stored.strip_prefix("$sha256$") {
        let presented = URL_SAFE_NO_PAD.encode(Sha256::digest(secret.as_bytes()));
        return bool::from(presented.as_bytes().ct_eq(digest.as_bytes()));
    }
    match PasswordHash::new(stored) {
        Ok(hash) => argon2().verify_password(secret.as_bytes(), &hash).is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_round_trip_with_argon2id() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.secret().starts_with("$argon2id$"));
        assert!(verify_secret("correct horse", &hash));
        assert!(!verify_secret("wrong", &hash));
    }

    #[test]
    fn client_secrets_use_sha256() {
        let hash = hash_client_secret("s3cret").unwrap();
        assert!(hash.secret().starts_with("$sha256$"));
        assert!(verify_secret("s3cret", &hash));
        assert!(!verify_secret("s3creT", &hash));
        assert!(!verify_secret(
            "x",
            &SecretHashString::parse("$bogus$x").unwrap()
        ));
    }
}
