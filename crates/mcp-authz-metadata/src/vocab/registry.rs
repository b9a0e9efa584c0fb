//! Open registries: OAuth values that come from IANA registries which grow. Each enum names the values
//! MCP uses and keeps any other value verbatim in `Unknown`, so documents round-trip.

/// Defines an open registry enum with its wire names.
macro_rules! open_registry {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident => $wire:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this crate does not know, kept verbatim.
            Unknown(String),
        }

        impl $name {
            /// The wire form.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Unknown(other) => other,
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            /// Every string parses; unknown values become `Unknown`.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(match s {
                    $( $wire => Self::$variant, )+
                    other => Self::Unknown(other.to_owned()),
                })
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s.parse() {
                    Ok(value) => value,
                    Err(never) => match never {},
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Ok(Self::from(&*s))
            }
        }
    };
}

open_registry! {
    /// An OAuth grant type ([RFC 7591 §2], OAuth 2.1 §4).
    ///
    /// [RFC 7591 §2]: https://www.rfc-editor.org/rfc/rfc7591#section-2
    GrantType {
        /// `authorization_code` (OAuth 2.1 §4.1).
        AuthorizationCode => "authorization_code",
        /// `refresh_token` (OAuth 2.1 §4.3).
        RefreshToken => "refresh_token",
        /// `client_credentials` (OAuth 2.1 §4.2).
        ClientCredentials => "client_credentials",
        /// `urn:ietf:params:oauth:grant-type:jwt-bearer` (RFC 7523).
        JwtBearer => "urn:ietf:params:oauth:grant-type:jwt-bearer",
    }
}

open_registry! {
    /// An OAuth response type ([RFC 6749 §3.1.1]). OAuth 2.1 keeps only `code`.
    ///
    /// [RFC 6749 §3.1.1]: https://www.rfc-editor.org/rfc/rfc6749#section-3.1.1
    ResponseType {
        /// `code`: the authorization code flow.
        Code => "code",
    }
}

open_registry! {
    /// A client authentication method at the token endpoint ([RFC 7591 §2]).
    ///
    /// [RFC 7591 §2]: https://www.rfc-editor.org/rfc/rfc7591#section-2
    TokenEndpointAuthMethod {
        /// `none`: a public client, authenticated by PKCE alone.
        None => "none",
        /// `client_secret_basic`: HTTP Basic with the client id and secret.
        ClientSecretBasic => "client_secret_basic",
        /// `client_secret_post`: the secret as a form parameter.
        ClientSecretPost => "client_secret_post",
        /// `private_key_jwt`: a signed JWT assertion (RFC 7523).
        PrivateKeyJwt => "private_key_jwt",
    }
}

open_registry! {
    /// The kind of application a client is (OpenID Connect Dynamic Client Registration §2), used by MCP
    /// to decide which redirect URIs a dynamically registered client may use.
    ApplicationType {
        /// `web`: redirect URIs are `https`.
        Web => "web",
        /// `native`: loopback `http` or private-use scheme redirect URIs.
        Native => "native",
    }
}

pub(crate) use open_registry;
