//! Authorization codes: stored by hash, spent exactly once (REQUIREMENTS AS-7, SEC-2).

use async_trait::async_trait;
use mcp_authz_metadata::{ClientId, RedirectUri, ResourceUri, Scope};
use mcp_authz_pkce::CodeChallenge;

use crate::{FamilyId, Grant, NewRefreshToken, NumericDate, SecretHash, StoreError, Subject};

/// An authorization code as stored: everything the token endpoint must check the exchange against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationCode {
    /// SHA-256 of the code (primary key). The code itself is never stored.
    pub hash: SecretHash,
    /// The client the code was issued to.
    pub client_id: ClientId,
    /// The redirect URI of the authorization request, which the token request must repeat.
    pub redirect_uri: RedirectUri,
    /// The PKCE S256 challenge (REQUIREMENTS AS-3).
    pub code_challenge: CodeChallenge,
    /// The resources (RFC 8707) the code was issued for (REQUIREMENTS AS-5).
    pub resources: Vec<ResourceUri>,
    /// The granted scope.
    pub scope: Scope,
    /// The user who authorized.
    pub subject: Subject,
    /// The grant (refresh-token family) the exchange creates, allocated at authorization time so that a
    /// replay names it.
    pub family_id: FamilyId,
    /// When the code was issued.
    pub issued_at: NumericDate,
    /// The code is not consumable at or after this time (≤ 60 s after issue by default, AS-7).
    pub expires_at: NumericDate,
    /// When the code was spent; `None` until then. Must be `None` on insert.
    pub consumed_at: Option<NumericDate>,
}

impl AuthorizationCode {
    /// The grant the exchange of this code creates at `now`: the code's client, user, scope and
    /// resources, under the family id allocated with the code, active until
    /// [`grant_expires_at`](CodeExchange::grant_expires_at). Every backend's `consume_code` builds
    /// its grant (and so its row) with this.
    pub fn grant(&self, exchange: &CodeExchange, now: NumericDate) -> Grant {
        Grant {
            id: self.family_id.clone(),
            client_id: self.client_id.clone(),
            subject: self.subject.clone(),
            scope: self.scope.clone(),
            resources: self.resources.clone(),
            created_at: now,
            expires_at: exchange.grant_expires_at,
            revoked: None,
        }
    }
}

/// What the exchange of a code creates, atomically with spending it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeExchange {
    /// Absolute end of life of the grant (refresh-token family) the exchange creates.
    pub grant_expires_at: NumericDate,
    /// The family's first refresh token, if one is issued (for example only with `offline_access`).
    pub refresh_token: Option<NewRefreshToken>,
}

/// The outcome of [`CodeStore::consume_code`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
// Returned once per token request and matched at once: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub enum CodeConsumption {
    /// This caller spent the code; no other caller ever will. The grant was created (with its first
    /// refresh token, if one was given).
    Consumed {
        /// The code, with `consumed_at` set.
        code: AuthorizationCode,
        /// The grant created from it.
        grant: Grant,
    },
    /// The code had been spent before: a replay. The store has revoked the grant created from it
    /// (reason [`CodeReplay`](crate::RevocationReason::CodeReplay)); the server should also revoke the
    /// access tokens it issued from that family and answer `invalid_grant`.
    AlreadyConsumed {
        /// The grant issued from the code, now revoked.
        family_id: FamilyId,
        /// The client the code was issued to.
        client_id: ClientId,
    },
    /// The code exists, unspent, but `now >= expires_at`. Nothing changed.
    Expired,
    /// No code with this hash (never issued, or purged).
    Unknown,
}

/// Storage of authorization codes.
///
/// **Concurrency.** `consume_code` is linearizable: however many callers present the same code at once,
/// **exactly one** gets [`CodeConsumption::Consumed`], and every other gets
/// [`CodeConsumption::AlreadyConsumed`]. The code is marked consumed, the grant is created and the first
/// refresh token is stored in one atomic step: either all happen or none (on any error nothing changed
/// and the code is still consumable). A replay revokes the grant in the same atomic step as it is
/// detected, and since the grant exists from the moment of consumption, no later step can resurrect it.
///
/// Precedence for a presented hash: unknown → `Unknown`; already consumed → `AlreadyConsumed` (even if
/// also expired: replay detection wins); `now >= expires_at` → `Expired`; else `Consumed`.
///
/// **SQL approach** (one transaction; `codes`, `grants` and `refresh_tokens` live in one database):
/// ```sql
/// UPDATE codes SET consumed_at = $now
///  WHERE hash = $1 AND consumed_at IS NULL AND expires_at > $now
///  RETURNING *;
/// -- one row: INSERT INTO grants (...) and, if given, INSERT INTO refresh_tokens (...); COMMIT.
/// -- no row:  SELECT consumed_at, expires_at, family_id, client_id FROM codes WHERE hash = $1;
/// --          if consumed: UPDATE grants SET revoked_at = $now, revoked_reason = 'code_replay'
/// --                       WHERE id = $family AND revoked_at IS NULL; COMMIT.
/// ```
/// On PostgreSQL (READ COMMITTED) the second concurrent `UPDATE` waits for the row lock of the first and
/// re-checks `consumed_at IS NULL`, finding it set. SQLite serializes writers (`BEGIN IMMEDIATE`).
///
/// **Errors.** Every method may fail with [`StoreError::Unavailable`] (503 + `Retry-After`, never
/// `invalid_grant`). `insert_code` gives [`StoreError::Conflict`] for a duplicate hash; `consume_code`
/// gives it for a duplicate refresh-token hash or family id, and then changes nothing.
#[async_trait]
pub trait CodeStore: Send + Sync {
    /// Stores a freshly issued code.
    async fn insert_code(&self, code: AuthorizationCode) -> Result<(), StoreError>;

    /// The code with this hash, consumed or not, without changing it (the token endpoint may check
    /// client, redirect URI and PKCE before spending it; those fields never change).
    async fn find_code(&self, hash: &SecretHash) -> Result<Option<AuthorizationCode>, StoreError>;

    /// Spends a code and creates its grant, atomically; see the trait docs for the guarantees.
    async fn consume_code(
        &self,
        hash: &SecretHash,
        exchange: CodeExchange,
        now: NumericDate,
    ) -> Result<CodeConsumption, StoreError>;
}
