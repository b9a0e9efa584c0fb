//! The `state` parameter ([RFC 6749 §4.1.1], Appendix A.5: `1*VSCHAR`).
//!
//! [RFC 6749 §4.1.1]: https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1

use std::fmt;

use subtle::ConstantTimeEq;

use crate::SecretSyntaxError;
use crate::secret::{check_vschar, random_token};

/// An opaque `state` value: `1*VSCHAR`, at most 8 KiB. The client's CSRF protection (REQUIREMENTS
/// SEC-4, CL-7): one fresh value per authorization attempt, compared on the callback in constant time.
#[derive(Clone, Eq)]
pub struct State(String);

impl State {
    /// Parses a received `state`.
    ///
    /// ```
    /// use mcp_authz_token::State;
    /// assert_eq!(State::parse("xyz").unwrap().as_str(), "xyz");
    /// assert!(State::parse("").is_err());
    /// assert!(State::parse("tab\there").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Self, SecretSyntaxError> {
        check_vschar(s)?;
        Ok(Self(s.to_owned()))
    }

    /// A fresh state with 256 bits of entropy from the operating system's CSPRNG.
    pub fn generate() -> Result<Self, SecretSyntaxError> {
        random_token().map(Self)
    }

    /// The value's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl PartialEq for State {
    /// Constant time in the length of the values.
    fn eq(&self, other: &Self) -> bool {
        bool::from(self.0.as_bytes().ct_eq(other.0.as_bytes()))
    }
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "State({:?})", self.0)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
