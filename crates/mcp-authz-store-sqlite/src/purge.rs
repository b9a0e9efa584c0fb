//! Expiry cleanup: the [`SqliteStore`] implementation of [`PurgeStore`].

use async_trait::async_trait;
use mcp_authz_store::{Entity, NumericDate, PurgeCounts, PurgeStore, StoreError};

use crate::SqliteStore;
use crate::statement::execute;

#[async_trait]
impl PurgeStore for SqliteStore {
    /// One transaction of per-table `DELETE … WHERE expires_at <= ?` statements. Refresh tokens of a
    /// purged grant are deleted (and counted) before the grant, so the `ON DELETE CASCADE` of the
    /// foreign key never has to act.
    async fn purge_expired(&self, now: NumericDate) -> Result<PurgeCounts, StoreError> {
        let now = now.as_i64();
        self.write(move |conn| {
            let run = |sql: &str, entity: Entity| execute(conn, entity, sql, [now]);
            Ok(PurgeCounts {
                codes: run(
                    "DELETE FROM codes WHERE expires_at <= ?1",
                    Entity::AuthorizationCode,
                )?,
                refresh_tokens: run(
                    "DELETE FROM refresh_tokens WHERE expires_at <= ?1 \
                     OR family_id IN (SELECT id FROM grants WHERE expires_at <= ?1)",
                    Entity::RefreshToken,
                )?,
                grants: run("DELETE FROM grants WHERE expires_at <= ?1", Entity::Grant)?,
                revoked_access_tokens: run(
                    "DELETE FROM revoked_access_tokens WHERE expires_at <= ?1",
                    Entity::AccessToken,
                )?,
                metadata_document_clients: run(
                    "DELETE FROM clients \
                     WHERE kind = 'metadata_document' AND cache_expires_at <= ?1",
                    Entity::Client,
                )?,
                signing_keys: run(
                    "DELETE FROM signing_keys WHERE state = 'retired' AND retired_until <= ?1",
                    Entity::SigningKey,
                )?,
            })
        })
        .await
    }
}
