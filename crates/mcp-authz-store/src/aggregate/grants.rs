//! Grants and their refresh-token families: rotation with reuse detection (REQUIREMENTS AS-8) and
//! revocation (AS-7 replay, AS-15, by client, by user).

use async_trait::async_trait;
use mcp_authz_metadata::{ClientId, ResourceUri, Scope};

use crate::{FamilyId, NumericDate, SecretHash, StoreError, Subject};

/// Why a grant was revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RevocationReason {
    /// The code it was created from was presented again (REQUIREMENTS AS-7).
    CodeReplay,
    /// An already-rotated refresh token of the family was presented (REQUIREMENTS AS-8).
    RefreshTokenReuse,
    /// All grants of the client were revoked.
    Client,
    /// All grants of the user were revoked.
    Subject,
    /// Revoked on request (RFC 7009 revocation, a user or an operator).
    Requested,
}

impl RevocationReason {
    /// A stable text for storage: `code_replay`, `refresh_token_reuse`, `client`, `subject`, `requested`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CodeReplay => "code_replay",
            Self::RefreshTokenReuse => "refresh_token_reuse",
            Self::Client => "client",
            Self::Subject => "subject",
            Self::Requested => "requested",
        }
    }

    /// Parses [`as_str`](Self::as_str)'s text; `None` for anything else (a corrupt row).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "code_replay" => Self::CodeReplay,
            "refresh_token_reuse" => Self::RefreshTokenReuse,
            "client" => Self::Client,
            "subject" => Self::Subject,
            "requested" => Self::Requested,
            _ => return None,
        })
    }
}

/// When and why a grant was revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revocation {
    /// When.
    pub at: NumericDate,
    /// Why.
    pub reason: RevocationReason,
}

/// A grant: what one user authorized one client to do, created when its code is exchanged. Its id is
/// also the id of its refresh-token family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The grant / family id (primary key).
    pub id: FamilyId,
    /// The client.
    pub client_id: ClientId,
    /// The user.
    pub subject: Subject,
    /// The scope recorded for the family: the code's scope, then whatever the last rotation recorded
    /// (a refresh may narrow; the server enforces "never widen", the store records).
    pub scope: Scope,
    /// The resources (audiences) of the grant.
    pub resources: Vec<ResourceUri>,
    /// When the grant was created (code exchange).
    pub created_at: NumericDate,
    /// Absolute end of life: no refresh token of the family is usable at or after this time.
    pub expires_at: NumericDate,
    /// Set once revoked; never cleared.
    pub revoked: Option<Revocation>,
}

impl Grant {
    /// `true` when not revoked and `now < expires_at`.
    pub fn is_active(&self, now: NumericDate) -> bool {
        self.revoked.is_none() && now < self.expires_at
    }
}

/// A refresh token to store: its hash and expiry (it is issued at the operation's `now`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefreshToken {
    /// SHA-256 of the refresh token.
    pub hash: SecretHash,
    /// The token is unusable at or after this time.
    pub expires_at: NumericDate,
}

impl NewRefreshToken {
    /// The token as stored once issued at `now` into the family `family_id`: not rotated yet.
    pub fn issue(&self, family_id: FamilyId, now: NumericDate) -> RefreshToken {
        RefreshToken {
            hash: self.hash,
            family_id,
            issued_at: now,
            expires_at: self.expires_at,
            rotated_at: None,
        }
    }
}

/// A refresh token as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    /// SHA-256 of the token (primary key).
    pub hash: SecretHash,
    /// Its family.
    pub family_id: FamilyId,
    /// When it was issued.
    pub issued_at: NumericDate,
    /// When it expires.
    pub expires_at: NumericDate,
    /// When it was rotated (exchanged for its successor); presenting it afterwards is reuse.
    pub rotated_at: Option<NumericDate>,
}

impl RefreshToken {
    /// This token's state at `now`, given its grant, in [`RefreshStatus`]'s precedence order.
    pub fn status(&self, grant: &Grant, now: NumericDate) -> RefreshStatus {
        RefreshStatus::classify(
            self.rotated_at.is_some(),
            grant.revoked.is_some(),
            now >= self.expires_at || now >= grant.expires_at,
        )
    }
}

/// The state of a refresh token, in precedence order: a rotated token is reported as `Rotated` even if
/// its family is also revoked or expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RefreshStatus {
    /// Usable: not rotated, family not revoked, neither token nor family expired.
    Active,
    /// Already exchanged for a successor; presenting it is reuse.
    Rotated,
    /// Its family was revoked.
    Revoked,
    /// The token or its family expired.
    Expired,
}

impl RefreshStatus {
    /// The one precedence of the states (a backend that reads the facts as columns calls this
    /// directly; others call [`RefreshToken::status`]): `rotated` wins over `revoked` (the family),
    /// which wins over `expired` (the token or its family, `now >= expires_at`); otherwise `Active`.
    pub fn classify(rotated: bool, revoked: bool, expired: bool) -> Self {
        if rotated {
            Self::Rotated
        } else if revoked {
            Self::Revoked
        } else if expired {
            Self::Expired
        } else {
            Self::Active
        }
    }
}

/// A refresh token with its grant, as [`GrantStore::find_refresh_token`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshLookup {
    /// The token.
    pub token: RefreshToken,
    /// Its grant.
    pub grant: Grant,
    /// Its state at the `now` of the lookup.
    pub status: RefreshStatus,
}

/// The outcome of [`GrantStore::rotate_refresh_token`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
// Returned once per token request and matched at once: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub enum Rotation {
    /// This caller rotated the token; no other caller can rotate it again.
    Rotated {
        /// The grant, with the newly recorded scope.
        grant: Grant,
        /// The successor token as stored.
        token: RefreshToken,
    },
    /// The token had already been rotated: reuse. The store revoked the whole family in the same atomic
    /// step (reason [`RefreshTokenReuse`](RevocationReason::RefreshTokenReuse)), so the successor tokens
    /// are dead too. Answer `invalid_grant`.
    Reused {
        /// The revoked family.
        family_id: FamilyId,
    },
    /// The family was revoked (for another reason, or by an earlier reuse). Nothing changed.
    Revoked {
        /// The revoked family.
        family_id: FamilyId,
    },
    /// The token or its family expired. Nothing changed.
    Expired,
    /// No refresh token with this hash (never issued, or purged).
    Unknown,
    /// The token belongs to a grant of another client than the one
    /// [`rotate_client_refresh_token`](GrantStore::rotate_client_refresh_token) was given. Nothing
    /// changed: not even a rotated token presented by another client revokes its family.
    OtherClient,
}

impl Rotation {
    /// The outcome of presenting a token of family `family_id` whose state is `status`, when that
    /// state refuses rotation: `Rotated` is reuse ([`Reused`](Self::Reused): the backend revokes the
    /// family in the same atomic step), `Revoked` and `Expired` answer as such. `None` for `Active`:
    /// the backend rotates.
    pub fn refused(status: RefreshStatus, family_id: FamilyId) -> Option<Self> {
        match status {
            RefreshStatus::Rotated => Some(Self::Reused { family_id }),
            RefreshStatus::Revoked => Some(Self::Revoked { family_id }),
            RefreshStatus::Expired => Some(Self::Expired),
            RefreshStatus::Active => None,
        }
    }
}

/// How many records a bulk revocation affected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RevocationCounts {
    /// Grants newly revoked (already revoked ones are not counted).
    pub grants: u64,
    /// Unconsumed codes deleted, so they cannot create new grants.
    pub pending_codes: u64,
}

/// Storage of grants and refresh-token families.
///
/// Grants are created by [`CodeStore::consume_code`](crate::CodeStore::consume_code) (with the family's
/// first refresh token), atomically with spending the code.
///
/// **Concurrency.** `rotate_refresh_token` is linearizable: of any number of concurrent rotations of one
/// token, **exactly one** returns [`Rotation::Rotated`]; every later presentation of that token returns
/// [`Rotation::Reused`] and revokes the family, atomically with detecting it. So with 64 concurrent
/// rotations, one wins and the 63 others revoke the family, killing the winner's successor as well —
/// intended: concurrent use of one refresh token is indistinguishable from theft. Revocations are
/// idempotent and never undone; a revoked family stays revoked until purged.
///
/// Precedence for a presented token: unknown → `Unknown`; rotated → `Reused` (revokes); family revoked →
/// `Revoked`; token or family expired (`now >= expires_at`) → `Expired`; else `Rotated`.
///
/// **SQL approach** (one transaction):
/// ```sql
/// UPDATE refresh_tokens SET rotated_at = $now
///  WHERE hash = $old AND rotated_at IS NULL AND expires_at > $now
///    AND family_id IN (SELECT id FROM grants WHERE id = refresh_tokens.family_id
///                      AND revoked_at IS NULL AND expires_at > $now)
///  RETURNING family_id;
/// -- one row: INSERT INTO refresh_tokens (hash, family_id, issued_at, expires_at) VALUES ($new, …);
/// --          UPDATE grants SET scope = $scope WHERE id = $family RETURNING *; COMMIT.
/// -- no row:  SELECT rotated_at, expires_at, family_id FROM refresh_tokens WHERE hash = $old, and the
/// --          grant; if rotated: UPDATE grants SET revoked_at = $now, revoked_reason =
/// --          'refresh_token_reuse' WHERE id = $family AND revoked_at IS NULL; COMMIT.
/// ```
/// PostgreSQL's row lock makes the losing `UPDATE` re-check `rotated_at IS NULL` after the winner commits;
/// SQLite serializes writers. Bulk revocations are single `UPDATE grants SET revoked_at = $now … WHERE
/// client_id = $1 AND revoked_at IS NULL` statements plus `DELETE FROM codes WHERE client_id = $1 AND
/// consumed_at IS NULL`, in one transaction.
///
/// **Errors.** Every method may fail with [`StoreError::Unavailable`] (503 + `Retry-After`, never
/// `invalid_grant`: a client must not drop a good refresh token because the database blinked).
/// `rotate_refresh_token` gives [`StoreError::Conflict`] if the new hash already exists, and then changes
/// nothing.
#[async_trait]
pub trait GrantStore: Send + Sync {
    /// Exchanges `presented` for `next` and records `scope` on the family, atomically; see the trait
    /// docs for the guarantees.
    async fn rotate_refresh_token(
        &self,
        presented: &SecretHash,
        next: NewRefreshToken,
        scope: Scope,
        now: NumericDate,
    ) -> Result<Rotation, StoreError>;

    /// [`rotate_refresh_token`](Self::rotate_refresh_token) for the client `client_id`, keeping the
    /// family's recorded scope: the token request path when the request narrows neither scope nor
    /// resources.
    ///
    /// If the presented token exists but its grant belongs to another client, answers
    /// [`Rotation::OtherClient`] and changes nothing (whatever the token's state). Otherwise the
    /// outcome, its precedence and its guarantees are those of `rotate_refresh_token` with the
    /// family's current scope; `Rotated` carries the grant, so the caller needs no lookup before.
    ///
    /// The provided implementation looks the token up, then rotates: correct on any backend (the
    /// rotation itself is the linearization point). A backend may do both in one round trip, as the
    /// SQLite store does (the client check is part of the guarded `UPDATE`).
    async fn rotate_client_refresh_token(
        &self,
        presented: &SecretHash,
        client_id: &ClientId,
        next: NewRefreshToken,
        now: NumericDate,
    ) -> Result<Rotation, StoreError> {
        let Some(lookup) = self.find_refresh_token(presented, now).await? else {
            return Ok(Rotation::Unknown);
        };
        if lookup.grant.client_id != *client_id {
            return Ok(Rotation::OtherClient);
        }
        self.rotate_refresh_token(presented, next, lookup.grant.scope, now)
            .await
    }

    /// The refresh token with this hash, its grant and its status at `now`, without changing anything.
    async fn find_refresh_token(
        &self,
        hash: &SecretHash,
        now: NumericDate,
    ) -> Result<Option<RefreshLookup>, StoreError>;

    /// The grant with this id, revoked or not.
    async fn get_grant(&self, family_id: &FamilyId) -> Result<Option<Grant>, StoreError>;

    /// The grants of one user (for a "connected applications" page), oldest first.
    async fn subject_grants(&self, subject: &Subject) -> Result<Vec<Grant>, StoreError>;

    /// The grants of `subject` and/or of `client_id`, revoked or not, oldest first (`created_at`,
    /// then id); every grant when both are `None`. For operators (`mcp-authz grants list`).
    async fn list_grants(
        &self,
        subject: Option<&Subject>,
        client_id: Option<&ClientId>,
    ) -> Result<Vec<Grant>, StoreError>;

    /// When the grant's family last received a refresh token: the issue time of its newest stored
    /// refresh token, that is its last refresh, or its code exchange when it was never refreshed.
    /// `None` when the family has no stored refresh token (a client without the `refresh_token`
    /// grant, tokens purged, or no such grant). For the "connected applications" page ("last used").
    async fn family_last_used(
        &self,
        family_id: &FamilyId,
    ) -> Result<Option<NumericDate>, StoreError>;

    /// Revokes one grant and so its whole family; `true` if it was active and is now revoked, `false`
    /// if it was already revoked or does not exist.
    async fn revoke_grant(
        &self,
        family_id: &FamilyId,
        reason: RevocationReason,
        now: NumericDate,
    ) -> Result<bool, StoreError>;

    /// Revokes every grant of a client (reason [`Client`](RevocationReason::Client)) and deletes its
    /// unconsumed codes, atomically.
    async fn revoke_client_grants(
        &self,
        client_id: &ClientId,
        now: NumericDate,
    ) -> Result<RevocationCounts, StoreError>;

    /// Revokes every grant of a user (reason [`Subject`](RevocationReason::Subject)) and deletes the
    /// user's unconsumed codes, atomically.
    async fn revoke_subject_grants(
        &self,
        subject: &Subject,
        now: NumericDate,
    ) -> Result<RevocationCounts, StoreError>;
}
