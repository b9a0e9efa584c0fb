//! Secret token values: access tokens, refresh tokens, authorization codes ([RFC 6749 Appendix A]).
//!
//! Every one of them is `1*VSCHAR` on the wire, a bearer credential in practice: `Debug` is redacted,
//! there is no `Display`, equality is constant time, and the text is read through an explicit
//! `secret()` accessor (REQUIREMENTS TY-4).
//!
//! [RFC 6749 Appendix A]: https://www.rfc-editor.org/rfc/rfc6749#appendix-A

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use subtle::ConstantTimeEq;

/// Longest token, code or state value this crate accepts (8 KiB), to bound memory and log lines.
pub const MAX_SECRET_LEN: usize = 8192;

/// Why a token, code or state value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretSyntaxError {
    /// An empty value.
    #[error("the value is empty")]
    Empty,
    /// A character outside VSCHAR (`%x20-7E`, RFC 6749 Appendix A), at this byte offset.
    #[error("the value contains a character outside VSCHAR (%x20-7E) at byte {0}")]
    InvalidChar(usize),
    /// Longer than [`MAX_SECRET_LEN`] bytes.
    #[error("the value is longer than {MAX_SECRET_LEN} bytes")]
    TooLong,
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator is unavailable")]
    RandomnessUnavailable,
}

/// Checks `1*VSCHAR` with the length bound.
pub(crate) fn check_vschar(s: &str) -> Result<(), SecretSyntaxError> {
    if s.is_empty() {
        return Err(SecretSyntaxError::Empty);
    }
    if s.len() > MAX_SECRET_LEN {
        return Err(SecretSyntaxError::TooLong);
    }
    match s.bytes().position(|b| !(0x20..=0x7e).contains(&b)) {
        Some(at) => Err(SecretSyntaxError::InvalidChar(at)),
        None => Ok(()),
    }
}

/// 32 bytes from the operating system's CSPRNG, base64url without padding (43 characters).
pub(crate) fn random_token() -> Result<String, SecretSyntaxError> {
    let mut entropy = [0u8; 32];
    getrandom::fill(&mut entropy).map_err(|_| SecretSyntaxError::RandomnessUnavailable)?;
    Ok(URL_SAFE_NO_PAD.encode(entropy))
}

/// Defines a secret newtype over `String` with VSCHAR validation, redacted `Debug`, constant-time
/// equality and serde through the same validation.
macro_rules! secret_newtype {
    ($(#[$meta:meta])* $name:ident, $label:literal) => {
        $(#[$meta])*
        pub struct $name(String);

        impl $name {
            /// Parses a value received on the wire: `1*VSCHAR`, at most [`MAX_SECRET_LEN`] bytes.
            pub fn parse(s: &str) -> Result<Self, SecretSyntaxError> {
                check_vschar(s)?;
                Ok(Self(s.to_owned()))
            }

            /// A fresh value with 256 bits of entropy from the operating system's CSPRNG
            /// (32 random bytes, base64url without padding).
            pub fn generate() -> Result<Self, SecretSyntaxError> {
                random_token().map(Self)
            }

            /// The value's text, for sending it. Never log it.
            pub fn secret(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq for $name {
            /// Constant time in the length of the values.
            fn eq(&self, other: &Self) -> bool {
                bool::from(self.0.as_bytes().ct_eq(other.0.as_bytes()))
            }
        }

        impl Eq for $name {}

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!($label, "(<redacted>)"))
            }
        }

        impl ::std::convert::TryFrom<&str> for $name {
            type Error = SecretSyntaxError;
            fn try_from(s: &str) -> Result<Self, Self::Error> {
                Self::parse(s)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Self::parse(&s).map_err(::serde::de::Error::custom)
            }
        }
    };
}

secret_newtype! {
    /// An OAuth access token ([RFC 6749 §1.4](https://www.rfc-editor.org/rfc/rfc6749#section-1.4)).
    ///
    /// `Clone`, because a client presents the same access token on every request.
    ///
    /// ```
    /// use mcp_authz_token::{AccessToken, SecretSyntaxError};
    /// let token = AccessToken::parse("mF_9.B5f-4.1JqM").unwrap();
    /// assert_eq!(token.secret(), "mF_9.B5f-4.1JqM");
    /// assert_eq!(format!("{token:?}"), "AccessToken(<redacted>)");
    /// assert_eq!(AccessToken::parse("").err(), Some(SecretSyntaxError::Empty));
    /// ```
    #[derive(Clone)]
    AccessToken, "AccessToken"
}

secret_newtype! {
    /// An OAuth refresh token ([RFC 6749 §1.5](https://www.rfc-editor.org/rfc/rfc6749#section-1.5)).
    ///
    /// `Clone`, because a client keeps it in storage while sending it.
    #[derive(Clone)]
    RefreshToken, "RefreshToken"
}

secret_newtype! {
    /// An authorization code ([RFC 6749 §4.1.2](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2)).
    ///
    /// Single use (REQUIREMENTS AS-7): no `Clone`, so that a code received once is redeemed once.
    AuthorizationCode, "AuthorizationCode"
}

secret_newtype! {
    /// A token of unknown kind, as presented in the `token` parameter of an introspection
    /// ([RFC 7662 §2.1](https://www.rfc-editor.org/rfc/rfc7662#section-2.1)) or revocation
    /// ([RFC 7009 §2.1](https://www.rfc-editor.org/rfc/rfc7009#section-2.1)) request.
    PresentedToken, "PresentedToken"
}

impl From<AccessToken> for PresentedToken {
    fn from(token: AccessToken) -> Self {
        Self(token.0)
    }
}

impl From<RefreshToken> for PresentedToken {
    fn from(token: RefreshToken) -> Self {
        Self(token.0)
    }
}
