//! Scopes ([RFC 6749 §3.3], OAuth 2.1 §1.4.1).
//!
//! ```text
//! scope       = scope-token *( SP scope-token )
//! scope-token = 1*NQCHAR
//! NQCHAR      = %x21 / %x23-5B / %x5D-7E
//! ```
//!
//! [RFC 6749 §3.3]: https://www.rfc-editor.org/rfc/rfc6749#section-3.3

use std::collections::BTreeSet;
use std::fmt;

use super::string_newtype_impls;

/// Why a scope or scope token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScopeError {
    /// A scope token with no characters: an empty string, or a leading, trailing or doubled space.
    #[error("empty scope token (scopes are single-space-delimited tokens)")]
    EmptyToken,
    /// A character outside NQCHAR (`%x21 / %x23-5B / %x5D-7E`): `"`, `\`, a control, a non-ASCII
    /// character or a space inside a single token.
    #[error(
        "scope token contains {0:?}, which is not allowed (NQCHAR is %x21 / %x23-5B / %x5D-7E)"
    )]
    InvalidChar(char),
}

/// One scope token: `1*NQCHAR` (REQUIREMENTS TY-3). Case-sensitive.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ScopeToken(String);

impl ScopeToken {
    /// The `offline_access` scope token (OpenID Connect Core §11), which asks for a refresh token.
    pub const OFFLINE_ACCESS: &'static str = "offline_access";

    /// Parses one scope token.
    ///
    /// ```
    /// use mcp_authz_metadata::{ScopeError, ScopeToken};
    /// assert_eq!(ScopeToken::parse("files:read").unwrap().as_str(), "files:read");
    /// assert_eq!(ScopeToken::parse("a b"), Err(ScopeError::InvalidChar(' ')));
    /// ```
    pub fn parse(s: &str) -> Result<Self, ScopeError> {
        if s.is_empty() {
            return Err(ScopeError::EmptyToken);
        }
        if let Some(bad) = s.chars().find(|c| !is_nqchar(*c)) {
            return Err(ScopeError::InvalidChar(bad));
        }
        Ok(Self(s.to_owned()))
    }

    /// The token's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `true` for `offline_access`, which MCP servers never advertise or challenge for (REQUIREMENTS RS-9).
    pub fn is_offline_access(&self) -> bool {
        self.0 == Self::OFFLINE_ACCESS
    }
}

string_newtype_impls!(ScopeToken, ScopeError);

/// Tokens compare, order and hash exactly as their text does, so sets of tokens can be searched by `&str`.
impl std::borrow::Borrow<str> for ScopeToken {
    fn borrow(&self) -> &str {
        &self.0
    }
}

/// `NQCHAR = %x21 / %x23-5B / %x5D-7E`.
fn is_nqchar(c: char) -> bool {
    matches!(c, '\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E')
}

/// A scope: a set of [`ScopeToken`]s (REQUIREMENTS TY-3).
///
/// Set semantics: order and duplicates on the wire carry no meaning, so `"b a a"` equals `"a b"`. The wire
/// form ([`Display`](fmt::Display), serde) lists the tokens sorted and single-space-delimited. An empty
/// scope displays as the empty string; on the wire an empty scope is expressed by omitting the parameter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Scope(BTreeSet<ScopeToken>);

impl Scope {
    /// The empty scope.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a space-delimited scope string. Exactly one space separates tokens; an empty string, or
    /// leading, trailing or doubled spaces, are refused with [`ScopeError::EmptyToken`].
    ///
    /// ```
    /// use mcp_authz_metadata::{Scope, ScopeError};
    /// let scope = Scope::parse("tools:call files:read files:read").unwrap();
    /// assert_eq!(scope.len(), 2);
    /// assert_eq!(scope.to_string(), "files:read tools:call");
    /// assert_eq!(Scope::parse("a  b"), Err(ScopeError::EmptyToken));
    /// ```
    pub fn parse(s: &str) -> Result<Self, ScopeError> {
        s.split(' ').map(ScopeToken::parse).collect()
    }

    /// `true` when the scope holds the token `token`.
    pub fn contains(&self, token: &str) -> bool {
        self.0.contains(token)
    }

    /// `true` when every token of `self` is in `other`.
    pub fn is_subset(&self, other: &Scope) -> bool {
        self.0.is_subset(&other.0)
    }

    /// Every token in `self` or `other`.
    #[must_use]
    pub fn union(&self, other: &Scope) -> Scope {
        Scope(self.0.union(&other.0).cloned().collect())
    }

    /// Every token in both `self` and `other`.
    #[must_use]
    pub fn intersection(&self, other: &Scope) -> Scope {
        Scope(self.0.intersection(&other.0).cloned().collect())
    }

    /// Every token of `self` that is not in `other`.
    #[must_use]
    pub fn difference(&self, other: &Scope) -> Scope {
        Scope(self.0.difference(&other.0).cloned().collect())
    }

    /// This scope without `offline_access` (REQUIREMENTS RS-9).
    #[must_use]
    pub fn without_offline_access(&self) -> Scope {
        Scope(
            self.0
                .iter()
                .filter(|t| !t.is_offline_access())
                .cloned()
                .collect(),
        )
    }

    /// Adds a token; `false` if it was already there.
    pub fn insert(&mut self, token: ScopeToken) -> bool {
        self.0.insert(token)
    }

    /// Removes a token; `false` if it was not there.
    pub fn remove(&mut self, token: &ScopeToken) -> bool {
        self.0.remove(token)
    }

    /// The tokens, sorted.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &ScopeToken> {
        self.0.iter()
    }

    /// The number of distinct tokens.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// `true` for the empty scope.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, token) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(token.as_str())?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Scope {
    type Err = ScopeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl FromIterator<ScopeToken> for Scope {
    fn from_iter<I: IntoIterator<Item = ScopeToken>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

impl Extend<ScopeToken> for Scope {
    fn extend<I: IntoIterator<Item = ScopeToken>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

impl<'a> IntoIterator for &'a Scope {
    type Item = &'a ScopeToken;
    type IntoIter = std::collections::btree_set::Iter<'a, ScopeToken>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl serde::Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Scope {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        // In JSON documents an empty string is a (redundant) empty scope; accept it so that
        // serialising the empty scope round-trips.
        if s.is_empty() {
            return Ok(Self::new());
        }
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}
