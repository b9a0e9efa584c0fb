//! # mcp-authz-pkce
//!
//! [RFC 7636] Proof Key for Code Exchange, as OAuth 2.1 §4.1.1 and the MCP authorization specification
//! require it: **S256 only**.
//!
//! - [`CodeVerifier`]: 43..=128 characters of `[A-Za-z0-9-._~]`, generated from the operating system's
//!   CSPRNG with 256 bits of entropy. A secret: redacted `Debug`, no `Display`, no `Clone`.
//! - [`CodeChallenge`]: `BASE64URL-NOPAD(SHA256(ascii(verifier)))`, validated on parse.
//! - [`CodeChallengeMethod`]: `S256`, plus `plain` and unknown methods *parsed* so that an authorization
//!   server can answer them with a precise error ([`PkceError::UnsupportedMethod`]) instead of a generic one.
//! - [`CodeChallenge::verify`]: constant-time comparison of a presented verifier with a stored challenge.
//!
//! ```
//! use mcp_authz_pkce::{CodeChallenge, CodeVerifier};
//!
//! // Client: a fresh verifier per authorization attempt; the challenge goes on the authorize request.
//! let verifier = CodeVerifier::generate()?;
//! let challenge = verifier.challenge();
//!
//! // Authorization server: the token request carries the verifier; compare it with the stored challenge.
//! let presented = CodeVerifier::parse(verifier.secret())?;
//! assert!(challenge.verify(&presented).is_ok());
//! # Ok::<(), mcp_authz_pkce::PkceError>(())
//! ```
//!
//! [RFC 7636]: https://www.rfc-editor.org/rfc/rfc7636
// The README's code blocks are compiled and run as doc tests.
#![cfg_attr(doctest, doc = include_str!("../README.md"))]
#![forbid(unsafe_code)]

mod challenge;
mod error;
mod method;
mod verifier;

pub use challenge::CodeChallenge;
pub use error::PkceError;
pub use method::CodeChallengeMethod;
pub use verifier::{CodeVerifier, MAX_VERIFIER_LEN, MIN_VERIFIER_LEN};
