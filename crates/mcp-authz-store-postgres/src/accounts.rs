//! [`ClientStore`], [`ConsentStore`] and [`UserStore`]: one statement per operation, uniqueness by
//! primary keys and unique constraints.

use async_trait::async_trait;
use mcp_authz_metadata::{
    ApplicationType, ClientId, GrantType, RedirectUri, Scope, TokenEndpointAuthMethod,
};
use mcp_authz_store::{
    ClientKind, ClientRecord, ClientStore, Consent, ConsentStore, Entity, NumericDate,
    SecretHashString, StoreError, Subject, User, UserStore, Username,
};
use sqlx::postgres::PgRow;

use crate::PostgresStore;
use crate::decode::{column, opt_time, parsed, resources_of, scope_of, texts, time};
use crate::error::store_error;

const CLIENT_COLUMNS: &str = "client_id, kind, fetched_at, cache_expires_at, secret_hash, \
     secret_expires_at, redirect_uris, grant_types, token_endpoint_auth_method, application_type, \
     client_name, allowed_resources, allowed_scope, metadata_json, created_at";

const INSERT_CLIENT: &str = "INSERT INTO clients (client_id, kind, fetched_at, cache_expires_at, \
     secret_hash, secret_expires_at, redirect_uris, grant_types, token_endpoint_auth_method, \
     application_type, client_name, allowed_resources, allowed_scope, metadata_json, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";

const UPSERT_SUFFIX: &str = " ON CONFLICT (client_id) DO UPDATE SET kind = EXCLUDED.kind, \
     fetched_at = EXCLUDED.fetched_at, cache_expires_at = EXCLUDED.cache_expires_at, \
     secret_hash = EXCLUDED.secret_hash, secret_expires_at = EXCLUDED.secret_expires_at, \
     redirect_uris = EXCLUDED.redirect_uris, grant_types = EXCLUDED.grant_types, \
     token_endpoint_auth_method = EXCLUDED.token_endpoint_auth_method, \
     application_type = EXCLUDED.application_type, client_name = EXCLUDED.client_name, \
     allowed_resources = EXCLUDED.allowed_resources, allowed_scope = EXCLUDED.allowed_scope, \
     metadata_json = EXCLUDED.metadata_json, created_at = EXCLUDED.created_at";

const UPDATE_CLIENT: &str = "UPDATE clients SET kind = $2, fetched_at = $3, \
     cache_expires_at = $4, secret_hash = $5, secret_expires_at = $6, redirect_uris = $7, \
     grant_types = $8, token_endpoint_auth_method = $9, application_type = $10, \
     client_name = $11, allowed_resources = $12, allowed_scope = $13, metadata_json = $14, \
     created_at = $15 WHERE client_id = $1";

/// Runs one of the client statements above with the fifteen values of `client` bound in order.
async fn write_client(
    store: &PostgresStore,
    sql: &str,
    client: &ClientRecord,
) -> Result<u64, StoreError> {
    let (kind, fetched_at, cache_expires_at) = match &client.kind {
        ClientKind::MetadataDocument {
            fetched_at,
            expires_at,
        } => (
            "metadata_document",
            Some(fetched_at.as_i64()),
            Some(expires_at.as_i64()),
        ),
        ClientKind::PreRegistered => ("pre_registered", None, None),
        // `ClientKind` is non-exhaustive: a kind this build does not know is stored as dynamic.
        _ => ("dynamic", None, None),
    };
    let grant_types: Vec<&str> = client.grant_types.iter().map(GrantType::as_str).collect();
    let done = sqlx::query(sql)
        .bind(client.client_id.as_str())
        .bind(kind)
        .bind(fetched_at)
        .bind(cache_expires_at)
        .bind(client.secret_hash.as_ref().map(SecretHashString::secret))
        .bind(client.secret_expires_at.map(NumericDate::as_i64))
        .bind(texts(&client.redirect_uris))
        .bind(grant_types)
        .bind(client.token_endpoint_auth_method.as_str())
        .bind(client.application_type.as_str())
        .bind(client.client_name.as_deref())
        .bind(client.allowed_resources.as_deref().map(texts))
        .bind(client.allowed_scope.as_ref().map(Scope::to_string))
        .bind(client.metadata_json.as_str())
        .bind(client.created_at.as_i64())
        .execute(store.pool())
        .await
        .map_err(|err| store_error(&err, Entity::Client))?;
    Ok(done.rows_affected())
}

/// A client from the fifteen columns of [`CLIENT_COLUMNS`].
fn client_at(row: &PgRow) -> Result<ClientRecord, StoreError> {
    const E: Entity = Entity::Client;
    let kind = match column::<&str>(row, 1, E)? {
        "dynamic" => ClientKind::Dynamic,
        "pre_registered" => ClientKind::PreRegistered,
        "metadata_document" => ClientKind::MetadataDocument {
            fetched_at: opt_time(row, 2, E)?
                .ok_or_else(|| StoreError::corrupt(E, "metadata document without fetch time"))?,
            expires_at: opt_time(row, 3, E)?
                .ok_or_else(|| StoreError::corrupt(E, "metadata document without expiry"))?,
        },
        _ => return Err(StoreError::corrupt(E, "unknown client kind")),
    };
    let redirect_uris = column::<Vec<String>>(row, 6, E)?
        .iter()
        .map(|uri| parsed(uri, RedirectUri::parse, E, "redirect uri"))
        .collect::<Result<_, _>>()?;
    let grant_types = column::<Vec<String>>(row, 7, E)?
        .iter()
        .map(|g| GrantType::from(g.as_str()))
        .collect();
    Ok(ClientRecord {
        client_id: parsed(column(row, 0, E)?, ClientId::parse, E, "client id")?,
        kind,
        secret_hash: column::<Option<&str>>(row, 4, E)?
            .map(|phc| parsed(phc, SecretHashString::parse, E, "secret hash"))
            .transpose()?,
        secret_expires_at: opt_time(row, 5, E)?,
        redirect_uris,
        grant_types,
        token_endpoint_auth_method: TokenEndpointAuthMethod::from(column::<&str>(row, 8, E)?),
        application_type: ApplicationType::from(column::<&str>(row, 9, E)?),
        client_name: column(row, 10, E)?,
        allowed_resources: column::<Option<Vec<String>>>(row, 11, E)?
            .map(|uris| resources_of(&uris, E))
            .transpose()?,
        allowed_scope: column::<Option<&str>>(row, 12, E)?
            .map(|s| scope_of(s, E))
            .transpose()?,
        metadata_json: column(row, 13, E)?,
        created_at: time(row, 14, E)?,
    })
}

#[async_trait]
impl ClientStore for PostgresStore {
    async fn insert_client(&self, client: ClientRecord) -> Result<(), StoreError> {
        self.bounded(async move { write_client(self, INSERT_CLIENT, &client).await.map(drop) })
            .await
    }

    async fn upsert_client(&self, client: ClientRecord) -> Result<(), StoreError> {
        self.bounded(async move {
            let sql = format!("{INSERT_CLIENT}{UPSERT_SUFFIX}");
            write_client(self, &sql, &client).await.map(drop)
        })
        .await
    }

    async fn update_client(&self, client: ClientRecord) -> Result<(), StoreError> {
        self.bounded(async move {
            match write_client(self, UPDATE_CLIENT, &client).await? {
                0 => Err(StoreError::NotFound {
                    entity: Entity::Client,
                }),
                _ => Ok(()),
            }
        })
        .await
    }

    async fn get_client(&self, client_id: &ClientId) -> Result<Option<ClientRecord>, StoreError> {
        self.bounded(async move {
            let row = sqlx::query(&format!(
                "SELECT {CLIENT_COLUMNS} FROM clients WHERE client_id = $1"
            ))
            .bind(client_id.as_str())
            .fetch_optional(self.pool())
            .await
            .map_err(|err| store_error(&err, Entity::Client))?;
            row.as_ref().map(client_at).transpose()
        })
        .await
    }

    async fn delete_client(&self, client_id: &ClientId) -> Result<bool, StoreError> {
        self.bounded(async move {
            let done = sqlx::query("DELETE FROM clients WHERE client_id = $1")
                .bind(client_id.as_str())
                .execute(self.pool())
                .await
                .map_err(|err| store_error(&err, Entity::Client))?;
            Ok(done.rows_affected() > 0)
        })
        .await
    }

    async fn list_clients(&self) -> Result<Vec<ClientRecord>, StoreError> {
        self.bounded(async move {
            let rows = sqlx::query(&format!(
                "SELECT {CLIENT_COLUMNS} FROM clients ORDER BY client_id"
            ))
            .fetch_all(self.pool())
            .await
            .map_err(|err| store_error(&err, Entity::Client))?;
            rows.iter().map(client_at).collect()
        })
        .await
    }
}

/// A consent from `subject, client_id, scope, granted_at, resources`.
fn consent_at(row: &PgRow) -> Result<Consent, StoreError> {
    const E: Entity = Entity::Consent;
    Ok(Consent {
        subject: parsed(column(row, 0, E)?, Subject::parse, E, "subject")?,
        client_id: parsed(column(row, 1, E)?, ClientId::parse, E, "client id")?,
        scope: scope_of(column(row, 2, E)?, E)?,
        granted_at: time(row, 3, E)?,
        resources: resources_of(&column::<Vec<String>>(row, 4, E)?, E)?
            .into_iter()
            .collect(),
    })
}

#[async_trait]
impl ConsentStore for PostgresStore {
    async fn put_consent(&self, consent: Consent) -> Result<(), StoreError> {
        self.bounded(async move {
            sqlx::query(
                "INSERT INTO consents (subject, client_id, scope, granted_at, resources) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (subject, client_id) \
             DO UPDATE SET scope = EXCLUDED.scope, granted_at = EXCLUDED.granted_at, \
             resources = EXCLUDED.resources",
            )
            .bind(consent.subject.as_str())
            .bind(consent.client_id.as_str())
            .bind(consent.scope.to_string())
            .bind(consent.granted_at.as_i64())
            .bind(
                consent
                    .resources
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>(),
            )
            .execute(self.pool())
            .await
            .map_err(|err| store_error(&err, Entity::Consent))?;
            Ok(())
        })
        .await
    }

    async fn get_consent(
        &self,
        subject: &Subject,
        client_id: &ClientId,
    ) -> Result<Option<Consent>, StoreError> {
        self.bounded(async move {
            let row = sqlx::query(
                "SELECT subject, client_id, scope, granted_at, resources FROM consents \
             WHERE subject = $1 AND client_id = $2",
            )
            .bind(subject.as_str())
            .bind(client_id.as_str())
            .fetch_optional(self.pool())
            .await
            .map_err(|err| store_error(&err, Entity::Consent))?;
            row.as_ref().map(consent_at).transpose()
        })
        .await
    }

    async fn subject_consents(&self, subject: &Subject) -> Result<Vec<Consent>, StoreError> {
        self.bounded(async move {
            let rows = sqlx::query(
                "SELECT subject, client_id, scope, granted_at, resources FROM consents \
             WHERE subject = $1 ORDER BY client_id",
            )
            .bind(subject.as_str())
            .fetch_all(self.pool())
            .await
            .map_err(|err| store_error(&err, Entity::Consent))?;
            rows.iter().map(consent_at).collect()
        })
        .await
    }

    async fn list_consents(
        &self,
        subject: Option<&Subject>,
        client_id: Option<&ClientId>,
    ) -> Result<Vec<Consent>, StoreError> {
        let rows = sqlx::query(
            "SELECT subject, client_id, scope, granted_at, resources FROM consents \
             WHERE ($1::text IS NULL OR subject = $1) AND ($2::text IS NULL OR client_id = $2) \
             ORDER BY subject, client_id",
        )
        .bind(subject.map(Subject::as_str))
        .bind(client_id.map(ClientId::as_str))
        .fetch_all(self.pool())
        .await
        .map_err(|err| store_error(&err, Entity::Consent))?;
        rows.iter().map(consent_at).collect()
    }

    async fn revoke_consent(
        &self,
        subject: &Subject,
        client_id: &ClientId,
    ) -> Result<bool, StoreError> {
        self.bounded(async move {
            let done = sqlx::query("DELETE FROM consents WHERE subject = $1 AND client_id = $2")
                .bind(subject.as_str())
                .bind(client_id.as_str())
                .execute(self.pool())
                .await
                .map_err(|err| store_error(&err, Entity::Consent))?;
            Ok(done.rows_affected() > 0)
        })
        .await
    }
}

/// A user from `id, username, password_hash, created_at, disabled`.
fn user_at(row: &PgRow) -> Result<User, StoreError> {
    const E: Entity = Entity::User;
    Ok(User {
        id: parsed(column(row, 0, E)?, Subject::parse, E, "user id")?,
        username: parsed(column(row, 1, E)?, Username::parse, E, "username")?,
        password_hash: parsed(
            column(row, 2, E)?,
            SecretHashString::parse,
            E,
            "password hash",
        )?,
        created_at: time(row, 3, E)?,
        disabled: column(row, 4, E)?,
    })
}

impl PostgresStore {
    /// Runs an `UPDATE users … WHERE id = $1` with one more bound value; `NotFound` if no row.
    async fn update_user<T>(&self, sql: &str, id: &Subject, value: T) -> Result<(), StoreError>
    where
        T: for<'q> sqlx::Encode<'q, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send,
    {
        let done = sqlx::query(sql)
            .bind(id.as_str())
            .bind(value)
            .execute(self.pool())
            .await
            .map_err(|err| store_error(&err, Entity::User))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound {
                entity: Entity::User,
            });
        }
        Ok(())
    }
}

#[async_trait]
impl UserStore for PostgresStore {
    async fn insert_user(&self, user: User) -> Result<(), StoreError> {
        self.bounded(async move {
            sqlx::query(
                "INSERT INTO users (id, username, password_hash, created_at, disabled) \
             VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(user.id.as_str())
            .bind(user.username.as_str())
            .bind(user.password_hash.secret())
            .bind(user.created_at.as_i64())
            .bind(user.disabled)
            .execute(self.pool())
            .await
            .map_err(|err| store_error(&err, Entity::User))?;
            Ok(())
        })
        .await
    }

    async fn get_user(&self, id: &Subject) -> Result<Option<User>, StoreError> {
        self.bounded(async move {
            let row = sqlx::query(
                "SELECT id, username, password_hash, created_at, disabled FROM users WHERE id = $1",
            )
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await
            .map_err(|err| store_error(&err, Entity::User))?;
            row.as_ref().map(user_at).transpose()
        })
        .await
    }

    async fn find_user_by_username(&self, username: &Username) -> Result<Option<User>, StoreError> {
        self.bounded(async move {
            let row = sqlx::query(
                "SELECT id, username, password_hash, created_at, disabled FROM users \
             WHERE username = $1",
            )
            .bind(username.as_str())
            .fetch_optional(self.pool())
            .await
            .map_err(|err| store_error(&err, Entity::User))?;
            row.as_ref().map(user_at).transpose()
        })
        .await
    }

    async fn set_user_disabled(&self, id: &Subject, disabled: bool) -> Result<(), StoreError> {
        self.bounded(async move {
            self.update_user("UPDATE users SET disabled = $2 WHERE id = $1", id, disabled)
                .await
        })
        .await
    }

    async fn set_password_hash(
        &self,
        id: &Subject,
        password_hash: SecretHashString,
    ) -> Result<(), StoreError> {
        self.bounded(async move {
            self.update_user(
                "UPDATE users SET password_hash = $2 WHERE id = $1",
                id,
                password_hash.secret().to_owned(),
            )
            .await
        })
        .await
    }

    async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        self.bounded(async move {
            let rows = sqlx::query(
                "SELECT id, username, password_hash, created_at, disabled FROM users \
             ORDER BY username",
            )
            .fetch_all(self.pool())
            .await
            .map_err(|err| store_error(&err, Entity::User))?;
            rows.iter().map(user_at).collect()
        })
        .await
    }

    async fn delete_user(&self, id: &Subject) -> Result<bool, StoreError> {
        self.bounded(async move {
            let done = sqlx::query("DELETE FROM users WHERE id = $1")
                .bind(id.as_str())
                .execute(self.pool())
                .await
                .map_err(|err| store_error(&err, Entity::User))?;
            Ok(done.rows_affected() > 0)
        })
        .await
    }
}
