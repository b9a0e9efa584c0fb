//! Audit events: every security-relevant act, stored and retained (REQUIREMENTS OB-1).
//!
//! An [`AuditEvent`] says who (client, subject, username), what ([`AuditKind`], scope, resources),
//! when, from where (peer address) and the outcome and reason. It has no field that could hold a
//! token, code, secret or password: callers build it from identifiers only.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use async_trait::async_trait;
use mcp_authz_metadata::{ClientId, ResourceUri, Scope};

use crate::{NumericDate, StoreError, Subject, Username};

/// Defines a closed enum of wire names with `as_str`, `Display` and `FromStr`.
macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident, $error:literal { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),*];

            /// The stored and displayed name.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)*
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = AuditParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|value| value.as_str() == s)
                    .ok_or(AuditParseError::Unknown { what: $error })
            }
        }
    };
}

named_enum!(
    /// What happened. The set is closed: a new act is a new variant.
    ///
    /// ```
    /// use mcp_authz_store::AuditKind;
    /// assert_eq!("refresh_reused".parse::<AuditKind>(), Ok(AuditKind::RefreshReused));
    /// assert!("nonsense".parse::<AuditKind>().is_err());
    /// ```
    AuditKind, "audit event kind" {
        /// A client registered dynamically (RFC 7591).
        ClientRegistered = "client_registered",
        /// A Client ID Metadata Document was fetched for a client id not cached before.
        MetadataDocumentFetched = "metadata_document_fetched",
        /// A user signed in (outcome success) or gave wrong credentials (failure).
        SignIn = "sign_in",
        /// A user approved a client on the consent page.
        ConsentGiven = "consent_given",
        /// A user denied a client on the consent page.
        ConsentDenied = "consent_denied",
        /// A remembered consent was revoked (by the user or an operator).
        ConsentRevoked = "consent_revoked",
        /// An authorization code was issued to a client.
        CodeIssued = "code_issued",
        /// An authorization code was exchanged.
        CodeRedeemed = "code_redeemed",
        /// A spent authorization code was presented again: its grant was revoked (AS-7).
        CodeReplayed = "code_replayed",
        /// An access token (and maybe a refresh token) was issued.
        TokensIssued = "tokens_issued",
        /// A refresh token was rotated.
        RefreshRotated = "refresh_rotated",
        /// A rotated refresh token was presented again: its family was revoked (AS-8).
        RefreshReused = "refresh_reused",
        /// A token was revoked at the revocation endpoint (RFC 7009).
        TokenRevoked = "token_revoked",
        /// A token was introspected (RFC 7662).
        Introspection = "introspection",
        /// A token request was refused (`invalid_grant` and other validation failures).
        TokenRefused = "token_refused",
        /// A client failed to authenticate (`invalid_client`).
        ClientAuthFailed = "client_auth_failed",
        /// A rate limit refused a request.
        RateLimited = "rate_limited",
        /// A sign-in was refused by the lockout (SEC-19).
        LockedOut = "locked_out",
        /// An outbound fetch was refused by the SSRF guard (SEC-12).
        FetchRefused = "fetch_refused",
    }
);

named_enum!(
    /// Whether the act succeeded.
    AuditOutcome, "audit outcome" {
        /// The act took place.
        Success = "success",
        /// The act was refused or failed.
        Failure = "failure",
    }
);

/// Why an audit kind, outcome or reason was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuditParseError {
    /// Not one of the known names.
    #[error("unknown {what}")]
    Unknown {
        /// What was parsed.
        what: &'static str,
    },
    /// A reason that is empty, longer than [`AuditReason::MAX_LEN`] or has control characters.
    #[error("an audit reason is 1 to 256 bytes without control characters")]
    Reason,
}

/// Why an act failed (or which variant of it succeeded), in a few words the server chose, such as
/// `"code replayed"` or `"authorization_code"`. Never request data that could be a secret.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AuditReason(String);

impl AuditReason {
    /// The longest accepted reason, in bytes.
    pub const MAX_LEN: usize = 256;

    /// Parses a reason: 1 to [`MAX_LEN`](Self::MAX_LEN) bytes, no control characters.
    ///
    /// ```
    /// use mcp_authz_store::AuditReason;
    /// assert_eq!(AuditReason::parse("code replayed").unwrap().as_str(), "code replayed");
    /// assert!(AuditReason::parse("a\nb").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Self, AuditParseError> {
        if s.is_empty() || s.len() > Self::MAX_LEN || s.chars().any(char::is_control) {
            return Err(AuditParseError::Reason);
        }
        Ok(Self(s.to_owned()))
    }

    /// A reason from a message, cut to [`MAX_LEN`](Self::MAX_LEN) bytes (at a character boundary)
    /// with control characters replaced by spaces; `None` when nothing is left.
    pub fn lossy(s: &str) -> Option<Self> {
        let mut text = String::with_capacity(s.len().min(Self::MAX_LEN));
        for c in s.chars() {
            let c = if c.is_control() { ' ' } else { c };
            if text.len() + c.len_utf8() > Self::MAX_LEN {
                break;
            }
            text.push(c);
        }
        let text = text.trim();
        (!text.is_empty()).then(|| Self(text.to_owned()))
    }

    /// The reason's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AuditReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One security-relevant act (REQUIREMENTS OB-1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// When it happened.
    pub at: NumericDate,
    /// What happened.
    pub kind: AuditKind,
    /// Whether it succeeded.
    pub outcome: AuditOutcome,
    /// Why it failed, or which variant of the act it was.
    pub reason: Option<AuditReason>,
    /// The client involved, if known.
    pub client_id: Option<ClientId>,
    /// The user involved, if known.
    pub subject: Option<Subject>,
    /// The user's username, if known (a failed sign-in has the username typed, if it is one).
    pub username: Option<Username>,
    /// The scope involved (empty when none).
    pub scope: Scope,
    /// The resources involved (RFC 8707).
    pub resources: Vec<ResourceUri>,
    /// The address the request came from.
    pub peer: Option<IpAddr>,
}

impl AuditEvent {
    /// An event of `kind` with `outcome` at `at`, every other field empty.
    pub fn new(kind: AuditKind, outcome: AuditOutcome, at: NumericDate) -> Self {
        Self {
            at,
            kind,
            outcome,
            reason: None,
            client_id: None,
            subject: None,
            username: None,
            scope: Scope::new(),
            resources: Vec::new(),
            peer: None,
        }
    }
}

/// Which events [`AuditStore::audit_events`] returns: those matching every given field, where
/// `subject` and `username` together name one user: when both are set, an event with either matches
/// (a failed sign-in knows only the username typed, a token only the subject).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only events of this client.
    pub client_id: Option<ClientId>,
    /// Only events of this subject (or of `username`, when set too).
    pub subject: Option<Subject>,
    /// Only events with this username (or of `subject`, when set too).
    pub username: Option<Username>,
    /// Only events at or after this time.
    pub since: Option<NumericDate>,
    /// At most this many (the most recent ones).
    pub limit: u32,
}

impl Default for AuditQuery {
    /// Every event, at most the latest 1000.
    fn default() -> Self {
        Self {
            client_id: None,
            subject: None,
            username: None,
            since: None,
            limit: 1000,
        }
    }
}

impl AuditQuery {
    /// `true` when `event` matches every given field of this query (the limit aside).
    pub fn matches(&self, event: &AuditEvent) -> bool {
        fn same<T: PartialEq>(wanted: &Option<T>, got: &Option<T>) -> bool {
            wanted.is_none() || wanted == got
        }
        let user = match (&self.subject, &self.username) {
            (None, None) => true,
            (subject, username) => {
                (subject.is_some() && *subject == event.subject)
                    || (username.is_some() && *username == event.username)
            }
        };
        same(&self.client_id, &event.client_id)
            && user
            && self.since.is_none_or(|since| event.at >= since)
    }
}

/// Storage of audit events: append-only, queried by client, user and time, purged by age.
///
/// **Concurrency.** Each append is atomic; events appended by one caller are returned in the order
/// they were appended (events of the same second are ordered by insertion).
///
/// **SQL approach.** `audit_events (id autoincrement PRIMARY KEY, at, kind, outcome, reason,
/// client_id, subject, username, scope, resources, peer)` with an index on `at`; the query is
/// `SELECT … WHERE … ORDER BY id DESC LIMIT $n`, returned oldest first.
///
/// **Errors.** Every method may fail with [`StoreError::Unavailable`]; a stored value that does not
/// parse gives [`StoreError::Corrupt`].
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Stores an event.
    async fn append_audit_event(&self, event: AuditEvent) -> Result<(), StoreError>;

    /// The latest `query.limit` events matching `query`, oldest first.
    async fn audit_events(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>, StoreError>;

    /// Removes every event with `at < before` (the retention cutoff); how many.
    async fn purge_audit_events(&self, before: NumericDate) -> Result<u64, StoreError>;
}
