//! The `aud` claim ([RFC 7519 §4.1.3]): one string or an array of strings.
//!
//! [RFC 7519 §4.1.3]: https://www.rfc-editor.org/rfc/rfc7519#section-4.1.3

use std::collections::BTreeSet;

use mcp_authz_metadata::ResourceUri;

/// The audiences of a token: a set of strings, usually resource indicators (RFC 8707). Written as a
/// single string when there is one, as an array otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Audience(BTreeSet<String>);

impl Audience {
    /// An audience of one resource.
    pub fn single(audience: impl Into<String>) -> Self {
        Self(BTreeSet::from([audience.into()]))
    }

    /// `true` when `audience` is one of the values, exactly.
    pub fn contains(&self, audience: &str) -> bool {
        self.0.contains(audience)
    }

    /// `true` when one of the values is `resource`, either exactly or after canonicalisation as a
    /// resource URI (REQUIREMENTS TY-5, RS-4): `https://MCP.example.com/` matches
    /// `https://mcp.example.com`.
    ///
    /// ```
    /// use mcp_authz_metadata::ResourceUri;
    /// use mcp_authz_token::Audience;
    /// let aud = Audience::single("https://MCP.example.com/");
    /// assert!(aud.contains_resource(&ResourceUri::parse("https://mcp.example.com").unwrap()));
    /// assert!(!aud.contains_resource(&ResourceUri::parse("https://mcp.example.com/other").unwrap()));
    /// ```
    pub fn contains_resource(&self, resource: &ResourceUri) -> bool {
        self.0.contains(resource.as_str())
            || self
                .0
                .iter()
                .any(|aud| ResourceUri::parse(aud).is_ok_and(|r| &r == resource))
    }

    /// The values, sorted.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// The number of distinct values.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// `true` when there is no value.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<String> for Audience {
    fn from_iter<I: IntoIterator<Item = String>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl From<&ResourceUri> for Audience {
    fn from(resource: &ResourceUri) -> Self {
        Self::single(resource.as_str())
    }
}

impl serde::Serialize for Audience {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match (self.0.len(), self.0.first()) {
            (1, Some(only)) => serializer.serialize_str(only),
            _ => serializer.collect_seq(&self.0),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Audience {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Wire {
            One(String),
            Many(Vec<String>),
        }
        Ok(match Wire::deserialize(deserializer)? {
            Wire::One(one) => Self::single(one),
            Wire::Many(many) => many.into_iter().collect(),
        })
    }
}
