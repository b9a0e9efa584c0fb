//! Client secrets ([RFC 6749 §2.3.1]).
//!
//! [RFC 6749 §2.3.1]: https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1

use std::fmt;

use subtle::ConstantTimeEq;

/// A client secret (REQUIREMENTS TY-4): redacted `Debug`, no `Display`, constant-time equality.
///
/// Authorization servers store only a hash of it; this type is what travels between the client and the
/// token endpoint, and what dynamic registration returns once.
#[derive(Clone)]
pub struct ClientSecret(String);

impl ClientSecret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret's text, for sending it. Never log it.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl PartialEq for ClientSecret {
    /// Constant time in the length of the secrets.
    fn eq(&self, other: &Self) -> bool {
        bool::from(self.0.as_bytes().ct_eq(other.0.as_bytes()))
    }
}

impl Eq for ClientSecret {}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret(<redacted>)")
    }
}

impl serde::Serialize for ClientSecret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for ClientSecret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}
