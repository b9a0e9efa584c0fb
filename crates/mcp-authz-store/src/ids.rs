//! Identifiers the stores key records by, and the injected generator of fresh ones.
//!
//! Stores never invent ids: the server allocates them (a grant's family id at authorization time, a user
//! id at sign-up) with an [`IdGenerator`], so backends stay deterministic and tests use [`CounterIds`].

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::StoreError;

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// An empty identifier.
    #[error("identifier is empty")]
    Empty,
    /// Longer than the type allows.
    #[error("identifier is longer than {max} bytes")]
    TooLong {
        /// The limit, in bytes.
        max: usize,
    },
    /// A character the type does not allow.
    #[error("identifier contains {0:?}, which is not allowed")]
    InvalidChar(char),
}

/// Checks `s` against a length limit and a character predicate.
fn check(s: &str, max: usize, allowed: impl Fn(char) -> bool) -> Result<(), IdError> {
    if s.is_empty() {
        return Err(IdError::Empty);
    }
    if s.len() > max {
        return Err(IdError::TooLong { max });
    }
    match s.chars().find(|c| !allowed(*c)) {
        Some(bad) => Err(IdError::InvalidChar(bad)),
        None => Ok(()),
    }
}

/// Visible ASCII, `%x21-7E`: no spaces, no controls, nothing that needs escaping in logs.
fn visible_ascii(c: char) -> bool {
    matches!(c, '\x21'..='\x7E')
}

/// Defines a validated string identifier of visible ASCII characters.
macro_rules! opaque_id {
    ($(#[$meta:meta])* $name:ident, $max:expr) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// The longest accepted value, in bytes.
            pub const MAX_LEN: usize = $max;

            /// Parses the identifier: 1 to `MAX_LEN` bytes of visible ASCII (`%x21-7E`).
            pub fn parse(s: &str) -> Result<Self, IdError> {
                check(s, Self::MAX_LEN, visible_ascii)?;
                Ok(Self(s.to_owned()))
            }

            /// The identifier's text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

opaque_id!(
    /// The id of a grant, which is also the id of its refresh-token family (REQUIREMENTS AS-7, AS-8).
    ///
    /// Allocated by the server at authorization time and stored with the code, so that a replayed code
    /// names the family to revoke.
    ///
    /// ```
    /// use mcp_authz_store::{FamilyId, IdError};
    /// assert_eq!(FamilyId::parse("fam-1").unwrap().as_str(), "fam-1");
    /// assert_eq!(FamilyId::parse("a b"), Err(IdError::InvalidChar(' ')));
    /// ```
    FamilyId,
    128
);

opaque_id!(
    /// The subject of a grant: the authenticated user's stable id (the JWT `sub`), also the primary key
    /// of a [`User`](crate::User) of the built-in user store.
    Subject,
    255
);

opaque_id!(
    /// An access token's `jti` (RFC 7519 §4.1.7), kept in the revocation list until the token expires.
    TokenId,
    255
);

opaque_id!(
    /// A signing key's `kid` (RFC 7517 §4.5).
    KeyId,
    128
);

opaque_id!(
    /// A JWS algorithm name (`ES256`, `EdDSA`, `RS256`, RFC 7518 §3.1), stored with a signing key as the
    /// token crate names it.
    KeyAlgorithm,
    32
);

/// A local user's login name: 1 to 64 characters of `[a-z0-9._@+-]`, folded to lower case on parse so
/// that `Alice` and `alice` are the same (unique) user.
///
/// ```
/// use mcp_authz_store::{IdError, Username};
/// assert_eq!(Username::parse("Alice@Example.org").unwrap().as_str(), "alice@example.org");
/// assert_eq!(Username::parse("al ice"), Err(IdError::InvalidChar(' ')));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Username(String);

impl Username {
    /// The longest accepted username, in bytes.
    pub const MAX_LEN: usize = 64;

    /// Parses and case-folds a username.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let folded = s.to_ascii_lowercase();
        check(&folded, Self::MAX_LEN, |c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '@' | '+' | '-')
        })?;
        Ok(Self(folded))
    }

    /// The (lower-case) username.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Username {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// A source of fresh, unique identifiers (family ids, user ids, key ids).
///
/// Injected into the server so that tests get predictable ids ([`CounterIds`]) and production gets
/// unguessable ones ([`RandomIds`]).
pub trait IdGenerator: Send + Sync + fmt::Debug {
    /// A fresh identifier text: visible ASCII, at most 64 bytes, never returned before.
    fn next_id(&self) -> Result<String, StoreError>;

    /// A fresh [`FamilyId`].
    fn family_id(&self) -> Result<FamilyId, StoreError> {
        let id = self.next_id()?;
        FamilyId::parse(&id).map_err(|e| StoreError::corrupt(crate::Entity::Grant, e))
    }

    /// A fresh [`Subject`] for a new user.
    fn subject(&self) -> Result<Subject, StoreError> {
        let id = self.next_id()?;
        Subject::parse(&id).map_err(|e| StoreError::corrupt(crate::Entity::User, e))
    }

    /// A fresh [`KeyId`].
    fn key_id(&self) -> Result<KeyId, StoreError> {
        let id = self.next_id()?;
        KeyId::parse(&id).map_err(|e| StoreError::corrupt(crate::Entity::SigningKey, e))
    }
}

/// 128 bits from the operating system's CSPRNG, as 32 lower-case hex digits.
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomIds;

impl IdGenerator for RandomIds {
    fn next_id(&self) -> Result<String, StoreError> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes).map_err(|_| StoreError::RandomnessUnavailable)?;
        Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }
}

/// `<prefix>-1`, `<prefix>-2`, …: deterministic ids for tests. Unique per generator instance only.
///
/// ```
/// use mcp_authz_store::{CounterIds, IdGenerator};
/// let ids = CounterIds::new("fam");
/// assert_eq!(ids.next_id()?, "fam-1");
/// assert_eq!(ids.family_id()?.as_str(), "fam-2");
/// # Ok::<(), mcp_authz_store::StoreError>(())
/// ```
#[derive(Debug)]
pub struct CounterIds {
    prefix: String,
    next: AtomicU64,
}

impl CounterIds {
    /// A counter starting at 1. The prefix should be visible ASCII of at most 40 bytes.
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
            next: AtomicU64::new(1),
        }
    }
}

impl IdGenerator for CounterIds {
    fn next_id(&self) -> Result<String, StoreError> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        Ok(format!("{}-{n}", self.prefix))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn random_ids_are_hex_and_distinct() {
        let ids: HashSet<String> = (0..100).map(|_| RandomIds.next_id().unwrap()).collect();
        assert_eq!(ids.len(), 100);
        for id in &ids {
            assert_eq!(id.len(), 32);
            assert!(
                id.chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
            );
            assert!(FamilyId::parse(id).is_ok());
        }
    }

    #[test]
    fn ids_refuse_empty_long_and_spaces() {
        assert_eq!(KeyId::parse(""), Err(IdError::Empty));
        assert_eq!(
            KeyId::parse(&"k".repeat(129)),
            Err(IdError::TooLong { max: 128 })
        );
        assert_eq!(TokenId::parse("a\tb"), Err(IdError::InvalidChar('\t')));
        assert_eq!(Subject::parse("user-1").unwrap().to_string(), "user-1");
    }

    #[test]
    fn usernames_fold_case_and_refuse_others() {
        assert_eq!(
            Username::parse("BoB").unwrap(),
            Username::parse("bob").unwrap()
        );
        assert_eq!(Username::parse(""), Err(IdError::Empty));
        assert_eq!(Username::parse("bob!"), Err(IdError::InvalidChar('!')));
        assert_eq!(Username::parse("é"), Err(IdError::InvalidChar('é')));
    }

    proptest::proptest! {
        #[test]
        fn parsing_never_panics_and_round_trips(s in "\\PC{0,80}") {
            if let Ok(id) = FamilyId::parse(&s) {
                proptest::prop_assert_eq!(FamilyId::parse(id.as_str()), Ok(id.clone()));
            }
            if let Ok(name) = Username::parse(&s) {
                proptest::prop_assert_eq!(Username::parse(name.as_str()), Ok(name.clone()));
            }
        }
    }
}
