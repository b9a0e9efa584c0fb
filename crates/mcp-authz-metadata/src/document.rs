//! Reading a JSON metadata document: the size cap (REQUIREMENTS SEC-6), duplicate and type checks, and
//! the members this crate does not know, kept for re-serialisation (REQUIREMENTS TY-2).

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{DeserializeOwned, MapAccess, Visitor};
use serde_json::Value;

/// The largest document the `parse` functions accept: 64 KiB (REQUIREMENTS SEC-6). Use the
/// `parse_with_limit` functions for another limit.
pub const DEFAULT_MAX_DOCUMENT_SIZE: usize = 64 * 1024;

/// Members of a metadata document that this crate does not model, kept verbatim so that
/// `serialise(parse(x))` keeps every member (REQUIREMENTS TY-2).
pub type ExtraMembers = BTreeMap<String, Value>;

/// Why a JSON metadata document could not be read.
///
/// These are *syntactic* problems: the bytes are not a JSON object, or a member has the wrong type or an
/// invalid value. Whether a well-formed document is acceptable (its issuer, its endpoints, ...) is the job
/// of each document's `validate`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentError {
    /// The document is larger than the limit (REQUIREMENTS SEC-6). Checked before any parsing.
    #[error("document is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// The document's size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// Not well-formed JSON (including truncated input and trailing data after the value).
    #[error("document is not valid JSON (line {line}, column {column}): {description}")]
    Malformed {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What the JSON parser reported.
        description: String,
    },
    /// Well-formed JSON whose top-level value is not an object.
    #[error("document is not a JSON object")]
    NotAnObject,
    /// A member name that appears more than once (RFC 8259 §4 leaves the meaning undefined, so refuse).
    #[error("member {0:?} appears more than once")]
    DuplicateMember(String),
    /// A required member is absent (or `null`).
    #[error("required member {0:?} is missing")]
    MissingMember(&'static str),
    /// A known member has the wrong JSON type or an invalid value.
    #[error("member {member:?} is invalid: {description}")]
    InvalidMember {
        /// The member's name.
        member: &'static str,
        /// What is wrong with it.
        description: String,
    },
}

/// The members of a JSON object, taken out one by one as the typed document is built; whatever is left
/// becomes [`ExtraMembers`].
pub(crate) struct Members(BTreeMap<String, Value>);

impl Members {
    /// Reads `bytes` as a JSON object of unique members, refusing documents over `limit` bytes.
    pub(crate) fn from_slice(bytes: &[u8], limit: usize) -> Result<Self, DocumentError> {
        if bytes.len() > limit {
            return Err(DocumentError::TooLarge {
                size: bytes.len(),
                limit,
            });
        }
        let entries: Entries = serde_json::from_slice(bytes).map_err(|e| {
            if e.is_data() {
                DocumentError::NotAnObject
            } else {
                DocumentError::Malformed {
                    line: e.line(),
                    column: e.column(),
                    description: e.to_string(),
                }
            }
        })?;
        let mut map = BTreeMap::new();
        for (name, value) in entries.0 {
            if map.contains_key(&name) {
                return Err(DocumentError::DuplicateMember(name));
            }
            map.insert(name, value);
        }
        Ok(Self(map))
    }

    /// Takes an optional member. `null` counts as absent.
    pub(crate) fn optional<T: DeserializeOwned>(
        &mut self,
        member: &'static str,
    ) -> Result<Option<T>, DocumentError> {
        match self.0.remove(member) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => {
                T::deserialize(value)
                    .map(Some)
                    .map_err(|e| DocumentError::InvalidMember {
                        member,
                        description: e.to_string(),
                    })
            }
        }
    }

    /// Takes a required member.
    pub(crate) fn required<T: DeserializeOwned>(
        &mut self,
        member: &'static str,
    ) -> Result<T, DocumentError> {
        self.optional(member)?
            .ok_or(DocumentError::MissingMember(member))
    }

    /// The members nobody took.
    pub(crate) fn into_extra(self) -> ExtraMembers {
        self.0
    }
}

/// The members of a JSON object in document order, duplicates included (a map would hide them).
struct Entries(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Entries {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor;
        impl<'de> Visitor<'de> for EntriesVisitor {
            type Value = Entries;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(EntriesVisitor)
    }
}
