//! Codes, grants and refresh tokens, revoked access tokens: the [`MemoryStore`] implementations.

use async_trait::async_trait;
use mcp_authz_metadata::{ClientId, Scope};

use super::{Inner, MemoryStore, count};
use crate::{
    AuthorizationCode, CodeConsumption, CodeExchange, CodeStore, Entity, FamilyId, Grant,
    GrantStore, NewRefreshToken, NumericDate, RefreshLookup, RefreshStatus, Revocation,
    RevocationCounts, RevocationReason, RevokedTokenStore, Rotation, SecretHash, StoreError,
    Subject, TokenId,
};

impl Inner {
    /// Revokes a grant if it exists and is not revoked yet; `true` if this call revoked it.
    fn revoke(&mut self, family_id: &FamilyId, reason: RevocationReason, now: NumericDate) -> bool {
        match self.grants.get_mut(family_id) {
            Some(grant) if grant.revoked.is_none() => {
                grant.revoked = Some(Revocation { at: now, reason });
                true
            }
            _ => false,
        }
    }

    /// Revokes every active grant matching `matches` and deletes unconsumed codes matching `code_matches`.
    fn revoke_where(
        &mut self,
        matches: impl Fn(&Grant) -> bool,
        code_matches: impl Fn(&AuthorizationCode) -> bool,
        reason: RevocationReason,
        now: NumericDate,
    ) -> RevocationCounts {
        let mut counts = RevocationCounts::default();
        for grant in self.grants.values_mut() {
            if grant.revoked.is_none() && matches(grant) {
                grant.revoked = Some(Revocation { at: now, reason });
                counts.grants += 1;
            }
        }
        let before = self.codes.len();
        self.codes
            .retain(|_, code| code.consumed_at.is_some() || !code_matches(code));
        counts.pending_codes = count(before.saturating_sub(self.codes.len()));
        counts
    }
}

/// A refresh token whose grant is missing: the store's own invariant is broken.
fn orphan() -> StoreError {
    StoreError::corrupt(Entity::RefreshToken, "refresh token without its grant")
}

#[async_trait]
impl CodeStore for MemoryStore {
    async fn insert_code(&self, code: AuthorizationCode) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if inner.codes.contains_key(&code.hash) {
            return Err(StoreError::conflict(
                Entity::AuthorizationCode,
                "duplicate code hash",
            ));
        }
        inner.codes.insert(code.hash, Box::new(code));
        Ok(())
    }

    async fn find_code(&self, hash: &SecretHash) -> Result<Option<AuthorizationCode>, StoreError> {
        Ok(self
            .lock()
            .codes
            .get(hash)
            .map(|code| AuthorizationCode::clone(code)))
    }

    async fn consume_code(
        &self,
        hash: &SecretHash,
        exchange: CodeExchange,
        now: NumericDate,
    ) -> Result<CodeConsumption, StoreError> {
        let mut inner = self.lock();
        let Some(code) = inner.codes.get(hash) else {
            return Ok(CodeConsumption::Unknown);
        };
        if code.consumed_at.is_some() {
            let (family_id, client_id) = (code.family_id.clone(), code.client_id.clone());
            inner.revoke(&family_id, RevocationReason::CodeReplay, now);
            return Ok(CodeConsumption::AlreadyConsumed {
                family_id,
                client_id,
            });
        }
        if now >= code.expires_at {
            return Ok(CodeConsumption::Expired);
        }
        // Check every uniqueness rule before writing anything: all or nothing.
        if inner.grants.contains_key(&code.family_id) {
            return Err(StoreError::conflict(Entity::Grant, "duplicate family id"));
        }
        if let Some(refresh) = &exchange.refresh_token
            && inner.refresh_tokens.contains_key(&refresh.hash)
        {
            return Err(StoreError::conflict(
                Entity::RefreshToken,
                "duplicate refresh token hash",
            ));
        }
        let grant = code.grant(&exchange, now);
        if let Some(refresh) = exchange.refresh_token {
            let token = refresh.issue(grant.id.clone(), now);
            inner.refresh_tokens.insert(token.hash, token);
        }
        inner
            .grants
            .insert(grant.id.clone(), Box::new(grant.clone()));
        let code = match inner.codes.get_mut(hash) {
            Some(code) => {
                code.consumed_at = Some(now);
                AuthorizationCode::clone(code)
            }
            // Checked above, under the same lock.
            None => return Ok(CodeConsumption::Unknown),
        };
        Ok(CodeConsumption::Consumed { code, grant })
    }
}

#[async_trait]
impl GrantStore for MemoryStore {
    async fn rotate_refresh_token(
        &self,
        presented: &SecretHash,
        next: NewRefreshToken,
        scope: Scope,
        now: NumericDate,
    ) -> Result<Rotation, StoreError> {
        let mut inner = self.lock();
        let Some(token) = inner.refresh_tokens.get(presented) else {
            return Ok(Rotation::Unknown);
        };
        let grant = inner.grants.get(&token.family_id).ok_or_else(orphan)?;
        let family_id = grant.id.clone();
        let status = token.status(grant, now);
        if let Some(refused) = Rotation::refused(status, family_id.clone()) {
            if status == RefreshStatus::Rotated {
                inner.revoke(&family_id, RevocationReason::RefreshTokenReuse, now);
            }
            return Ok(refused);
        }
        if inner.refresh_tokens.contains_key(&next.hash) {
            return Err(StoreError::conflict(
                Entity::RefreshToken,
                "duplicate refresh token hash",
            ));
        }
        let successor = next.issue(family_id.clone(), now);
        if let Some(old) = inner.refresh_tokens.get_mut(presented) {
            old.rotated_at = Some(now);
        }
        inner.refresh_tokens.insert(next.hash, successor.clone());
        let grant = inner.grants.get_mut(&family_id).ok_or_else(orphan)?;
        grant.scope = scope;
        Ok(Rotation::Rotated {
            grant: Grant::clone(grant),
            token: successor,
        })
    }

    async fn find_refresh_token(
        &self,
        hash: &SecretHash,
        now: NumericDate,
    ) -> Result<Option<RefreshLookup>, StoreError> {
        let inner = self.lock();
        let Some(token) = inner.refresh_tokens.get(hash) else {
            return Ok(None);
        };
        let grant = inner.grants.get(&token.family_id).ok_or_else(orphan)?;
        Ok(Some(RefreshLookup {
            status: token.status(grant, now),
            token: token.clone(),
            grant: Grant::clone(grant),
        }))
    }

    async fn get_grant(&self, family_id: &FamilyId) -> Result<Option<Grant>, StoreError> {
        Ok(self
            .lock()
            .grants
            .get(family_id)
            .map(|grant| Grant::clone(grant)))
    }

    async fn subject_grants(&self, subject: &Subject) -> Result<Vec<Grant>, StoreError> {
        let inner = self.lock();
        let mut grants: Vec<Grant> = inner
            .grants
            .values()
            .filter(|g| &g.subject == subject)
            .map(|g| Grant::clone(g))
            .collect();
        grants.sort_by(|a, b| {
            a.created_at
                .cmp(&b.created_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        Ok(grants)
    }

    async fn list_grants(
        &self,
        subject: Option<&Subject>,
        client_id: Option<&ClientId>,
    ) -> Result<Vec<Grant>, StoreError> {
        let inner = self.lock();
        let mut grants: Vec<Grant> = inner
            .grants
            .values()
            .filter(|g| subject.is_none_or(|s| &g.subject == s))
            .filter(|g| client_id.is_none_or(|c| &g.client_id == c))
            .map(|g| Grant::clone(g))
            .collect();
        grants.sort_by(|a, b| {
            a.created_at
                .cmp(&b.created_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        Ok(grants)
    }

    async fn family_last_used(
        &self,
        family_id: &FamilyId,
    ) -> Result<Option<NumericDate>, StoreError> {
        // A scan of every refresh token: the memory store keeps no index by family.
        Ok(self
            .lock()
            .refresh_tokens
            .values()
            .filter(|t| &t.family_id == family_id)
            .map(|t| t.issued_at)
            .max())
    }

    async fn revoke_grant(
        &self,
        family_id: &FamilyId,
        reason: RevocationReason,
        now: NumericDate,
    ) -> Result<bool, StoreError> {
        Ok(self.lock().revoke(family_id, reason, now))
    }

    async fn revoke_client_grants(
        &self,
        client_id: &ClientId,
        now: NumericDate,
    ) -> Result<RevocationCounts, StoreError> {
        Ok(self.lock().revoke_where(
            |grant| &grant.client_id == client_id,
            |code| &code.client_id == client_id,
            RevocationReason::Client,
            now,
        ))
    }

    async fn revoke_subject_grants(
        &self,
        subject: &Subject,
        now: NumericDate,
    ) -> Result<RevocationCounts, StoreError> {
        Ok(self.lock().revoke_where(
            |grant| &grant.subject == subject,
            |code| &code.subject == subject,
            RevocationReason::Subject,
            now,
        ))
    }
}

#[async_trait]
impl RevokedTokenStore for MemoryStore {
    async fn revoke_access_token(
        &self,
        jti: &TokenId,
        expires_at: NumericDate,
    ) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let entry = inner
            .revoked_access_tokens
            .entry(jti.clone())
            .or_insert(expires_at);
        *entry = (*entry).max(expires_at);
        Ok(())
    }

    async fn is_access_token_revoked(
        &self,
        jti: &TokenId,
        now: NumericDate,
    ) -> Result<bool, StoreError> {
        Ok(self
            .lock()
            .revoked_access_tokens
            .get(jti)
            .is_some_and(|expires_at| now < *expires_at))
    }
}
