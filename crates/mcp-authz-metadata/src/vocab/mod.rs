//! The shared vocabulary of OAuth for MCP: validated newtypes for the strings that every document and
//! request carries, and open registries that keep values they do not know.

mod client_id;
mod issuer;
mod redirect_uri;
pub(crate) mod registry;
mod resource_uri;
mod scope;
mod secret;

pub use client_id::{ClientId, ClientIdError};
pub use issuer::{Issuer, IssuerError};
pub use redirect_uri::{RedirectUri, RedirectUriError};
pub use registry::{ApplicationType, GrantType, ResponseType, TokenEndpointAuthMethod};
pub use resource_uri::{ResourceUri, ResourceUriError};
pub use scope::{Scope, ScopeError, ScopeToken};
pub use secret::ClientSecret;

/// `true` for hosts that name this machine: `localhost`, `127.0.0.0/8` and `[::1]`.
///
/// Used for the development exception to the https rule (OAuth 2.1 §1.5) and the RFC 8252 §7.3 loopback
/// redirect rule.
pub fn is_loopback_host(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(domain) => domain.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// Implements `Display`, `FromStr`, `AsRef<str>`, `TryFrom<String>`, `Serialize` and `Deserialize` for a
/// newtype that has `parse(&str) -> Result<Self, E>` and `as_str(&self) -> &str`, so serde goes through the
/// same validation as `FromStr`.
macro_rules! string_newtype_impls {
    ($ty:ty, $err:ty) => {
        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl ::std::str::FromStr for $ty {
            type Err = $err;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
        impl ::std::convert::TryFrom<String> for $ty {
            type Error = $err;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }
        impl ::std::convert::TryFrom<&str> for $ty {
            type Error = $err;
            fn try_from(s: &str) -> Result<Self, Self::Error> {
                Self::parse(s)
            }
        }
        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }
        impl ::serde::Serialize for $ty {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }
        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Self::parse(&s).map_err(::serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use string_newtype_impls;
