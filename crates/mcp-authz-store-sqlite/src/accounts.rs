//! Consents, signing keys and users: the [`SqliteStore`] implementations of [`ConsentStore`],
//! [`KeyStore`] and [`UserStore`].

use async_trait::async_trait;
use mcp_authz_metadata::{ClientId, ResourceUri};
use mcp_authz_store::{
    Consent, ConsentStore, Entity, KeyAlgorithm, KeyId, KeyState, KeyStore, NumericDate,
    PrivateKeyMaterial, SecretHashString, SigningKey, StoreError, Subject, User, UserStore,
    Username,
};
use rusqlite::params;
use sqlx::sqlite::SqliteRow;

use crate::SqliteStore;
use crate::codec::{col, list, opt_time, parse_list, parsed, scope, time};
use crate::columns::Columns;
use crate::error::db;
use crate::statement::{execute, first_row};

/// A consent from `subject, client_id, scope, granted_at, resources`.
fn consent(row: &SqliteRow) -> Result<Consent, StoreError> {
    const E: Entity = Entity::Consent;
    Ok(Consent {
        subject: parsed(E, "subject", Subject::parse(col(row, 0, E)?))?,
        client_id: parsed(E, "client_id", ClientId::parse(col(row, 1, E)?))?,
        scope: scope(E, "scope", col(row, 2, E)?)?,
        granted_at: time(E, "granted_at", col(row, 3, E)?)?,
        resources: parse_list(E, "resources", col(row, 4, E)?, ResourceUri::parse)?
            .into_iter()
            .collect(),
    })
}

#[async_trait]
impl ConsentStore for SqliteStore {
    async fn put_consent(&self, consent: Consent) -> Result<(), StoreError> {
        let resources = list(
            Entity::Consent,
            consent.resources.iter().map(|r| r.as_str()),
        )?;
        self.write(move |conn| {
            execute(
                conn,
                Entity::Consent,
                "INSERT INTO consents (subject, client_id, scope, granted_at, resources) \
                 VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (subject, client_id) \
                 DO UPDATE SET scope = ?3, granted_at = ?4, resources = ?5",
                params![
                    consent.subject.as_str(),
                    consent.client_id.as_str(),
                    consent.scope.to_string(),
                    consent.granted_at.as_i64(),
                    resources,
                ],
            )
            .map(drop)
        })
        .await
    }

    async fn get_consent(
        &self,
        subject: &Subject,
        client_id: &ClientId,
    ) -> Result<Option<Consent>, StoreError> {
        let row = sqlx::query(
            "SELECT subject, client_id, scope, granted_at, resources FROM consents \
             WHERE subject = ?1 AND client_id = ?2",
        )
        .bind(subject.as_str())
        .bind(client_id.as_str())
        .fetch_optional(self.reader())
        .await
        .map_err(db(Entity::Consent))?;
        row.as_ref().map(consent).transpose()
    }

    async fn subject_consents(&self, subject: &Subject) -> Result<Vec<Consent>, StoreError> {
        let rows = sqlx::query(
            "SELECT subject, client_id, scope, granted_at, resources FROM consents \
             WHERE subject = ?1 ORDER BY client_id",
        )
        .bind(subject.as_str())
        .fetch_all(self.reader())
        .await
        .map_err(db(Entity::Consent))?;
        rows.iter().map(consent).collect()
    }

    async fn list_consents(
        &self,
        subject: Option<&Subject>,
        client_id: Option<&ClientId>,
    ) -> Result<Vec<Consent>, StoreError> {
        let rows = sqlx::query(
            "SELECT subject, client_id, scope, granted_at, resources FROM consents \
             WHERE (?1 IS NULL OR subject = ?1) AND (?2 IS NULL OR client_id = ?2) \
             ORDER BY subject, client_id",
        )
        .bind(subject.map(Subject::as_str))
        .bind(client_id.map(ClientId::as_str))
        .fetch_all(self.reader())
        .await
        .map_err(db(Entity::Consent))?;
        rows.iter().map(consent).collect()
    }

    async fn revoke_consent(
        &self,
        subject: &Subject,
        client_id: &ClientId,
    ) -> Result<bool, StoreError> {
        let (subject, client_id) = (subject.clone(), client_id.clone());
        self.write(move |conn| {
            let deleted = execute(
                conn,
                Entity::Consent,
                "DELETE FROM consents WHERE subject = ?1 AND client_id = ?2",
                params![subject.as_str(), client_id.as_str()],
            )?;
            Ok(deleted > 0)
        })
        .await
    }
}

/// The columns [`key`] reads, in order.
macro_rules! key_columns {
    () => {
        "kid, algorithm, private_key, public_jwk_json, created_at, state, retired_until, activates_at"
    };
}

/// A signing key from a row of [`key_columns!`].
fn key(row: &SqliteRow) -> Result<SigningKey, StoreError> {
    const E: Entity = Entity::SigningKey;
    let retired_until = opt_time(E, "retired_until", col(row, 6, E)?)?;
    let state = match (col::<&str>(row, 5, E)?, retired_until) {
        ("published", None) => KeyState::Published,
        ("active", None) => KeyState::Active,
        ("retired", Some(until)) => KeyState::Retired { until },
        _ => return Err(StoreError::corrupt(E, "column state: invalid key state")),
    };
    Ok(SigningKey {
        kid: parsed(E, "kid", KeyId::parse(col(row, 0, E)?))?,
        algorithm: parsed(E, "algorithm", KeyAlgorithm::parse(col(row, 1, E)?))?,
        private_key: PrivateKeyMaterial::new(col::<Vec<u8>>(row, 2, E)?),
        public_jwk_json: col(row, 3, E)?,
        created_at: time(E, "created_at", col(row, 4, E)?)?,
        state,
        activates_at: opt_time(E, "activates_at", col(row, 7, E)?)?,
    })
}

#[async_trait]
impl KeyStore for SqliteStore {
    async fn insert_key(&self, key: SigningKey) -> Result<(), StoreError> {
        const E: Entity = Entity::SigningKey;
        let (state, until) = match key.state {
            KeyState::Published => ("published", None),
            KeyState::Active => ("active", None),
            KeyState::Retired { until } => ("retired", Some(until.as_i64())),
            _ => {
                return Err(StoreError::corrupt(
                    E,
                    "a key state this backend cannot store",
                ));
            }
        };
        // A duplicate kid violates the primary key, a second active key the `one_active_key` index:
        // both are unique violations, so `Conflict`.
        self.write(move |conn| {
            execute(
                conn,
                E,
                concat!(
                    "INSERT INTO signing_keys (",
                    key_columns!(),
                    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                ),
                params![
                    key.kid.as_str(),
                    key.algorithm.as_str(),
                    key.private_key.secret(),
                    key.public_jwk_json.as_str(),
                    key.created_at.as_i64(),
                    state,
                    until,
                    key.activates_at.map(|at| at.as_i64()),
                ],
            )
            .map(drop)
        })
        .await
    }

    async fn get_key(&self, kid: &KeyId) -> Result<Option<SigningKey>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            key_columns!(),
            " FROM signing_keys WHERE kid = ?1"
        ))
        .bind(kid.as_str())
        .fetch_optional(self.reader())
        .await
        .map_err(db(Entity::SigningKey))?;
        row.as_ref().map(key).transpose()
    }

    async fn active_key(&self) -> Result<Option<SigningKey>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            key_columns!(),
            " FROM signing_keys WHERE state = 'active'"
        ))
        .fetch_optional(self.reader())
        .await
        .map_err(db(Entity::SigningKey))?;
        row.as_ref().map(key).transpose()
    }

    async fn published_keys(&self, now: NumericDate) -> Result<Vec<SigningKey>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            key_columns!(),
            " FROM signing_keys WHERE state IN ('published', 'active') \
              OR (state = 'retired' AND retired_until > ?1) ORDER BY created_at, kid"
        ))
        .bind(now.as_i64())
        .fetch_all(self.reader())
        .await
        .map_err(db(Entity::SigningKey))?;
        rows.iter().map(key).collect()
    }

    async fn list_keys(&self) -> Result<Vec<SigningKey>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            key_columns!(),
            " FROM signing_keys ORDER BY created_at, kid"
        ))
        .fetch_all(self.reader())
        .await
        .map_err(db(Entity::SigningKey))?;
        rows.iter().map(key).collect()
    }

    async fn activate_key(
        &self,
        kid: &KeyId,
        retire_previous_until: NumericDate,
    ) -> Result<Option<KeyId>, StoreError> {
        const E: Entity = Entity::SigningKey;
        let kid = kid.clone();
        self.write(move |conn| {
            let state = first_row(
                conn,
                E,
                "SELECT state FROM signing_keys WHERE kid = ?1",
                params![kid.as_str()],
                |row| Ok(row.text(0, E)?.to_owned()),
            )?;
            match state.as_deref() {
                None => return Err(StoreError::NotFound { entity: E }),
                Some("active") => return Ok(None),
                Some("published") => {}
                Some(_) => {
                    return Err(StoreError::InvalidTransition {
                        entity: E,
                        description: "a retired key cannot become active again".to_owned(),
                    });
                }
            }
            let previous = first_row(
                conn,
                E,
                "UPDATE signing_keys SET state = 'retired', retired_until = ?1 \
                 WHERE state = 'active' RETURNING kid",
                params![retire_previous_until.as_i64()],
                |row| parsed(E, "kid", KeyId::parse(row.text(0, E)?)),
            )?;
            execute(
                conn,
                E,
                "UPDATE signing_keys SET state = 'active' WHERE kid = ?1 AND state = 'published'",
                params![kid.as_str()],
            )?;
            Ok(previous)
        })
        .await
    }
}

/// The columns [`user`] reads, in order.
macro_rules! user_columns {
    () => {
        "id, username, password_hash, created_at, disabled"
    };
}

/// A user from a row of [`user_columns!`].
fn user(row: &SqliteRow) -> Result<User, StoreError> {
    const E: Entity = Entity::User;
    Ok(User {
        id: parsed(E, "id", Subject::parse(col(row, 0, E)?))?,
        username: parsed(E, "username", Username::parse(col(row, 1, E)?))?,
        password_hash: parsed(E, "password_hash", SecretHashString::parse(col(row, 2, E)?))?,
        created_at: time(E, "created_at", col(row, 3, E)?)?,
        disabled: col(row, 4, E)?,
    })
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn insert_user(&self, user: User) -> Result<(), StoreError> {
        self.write(move |conn| {
            execute(
                conn,
                Entity::User,
                concat!(
                    "INSERT INTO users (",
                    user_columns!(),
                    ") VALUES (?1, ?2, ?3, ?4, ?5)"
                ),
                params![
                    user.id.as_str(),
                    user.username.as_str(),
                    user.password_hash.secret(),
                    user.created_at.as_i64(),
                    user.disabled,
                ],
            )
            .map(drop)
        })
        .await
    }

    async fn get_user(&self, id: &Subject) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE id = ?1"
        ))
        .bind(id.as_str())
        .fetch_optional(self.reader())
        .await
        .map_err(db(Entity::User))?;
        row.as_ref().map(user).transpose()
    }

    async fn find_user_by_username(&self, username: &Username) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE username = ?1"
        ))
        .bind(username.as_str())
        .fetch_optional(self.reader())
        .await
        .map_err(db(Entity::User))?;
        row.as_ref().map(user).transpose()
    }

    async fn set_user_disabled(&self, id: &Subject, disabled: bool) -> Result<(), StoreError> {
        let id = id.clone();
        self.write(move |conn| {
            let changed = execute(
                conn,
                Entity::User,
                "UPDATE users SET disabled = ?1 WHERE id = ?2",
                params![disabled, id.as_str()],
            )?;
            if changed == 0 {
                return Err(StoreError::NotFound {
                    entity: Entity::User,
                });
            }
            Ok(())
        })
        .await
    }

    async fn set_password_hash(
        &self,
        id: &Subject,
        password_hash: SecretHashString,
    ) -> Result<(), StoreError> {
        let id = id.clone();
        self.write(move |conn| {
            let changed = execute(
                conn,
                Entity::User,
                "UPDATE users SET password_hash = ?1 WHERE id = ?2",
                params![password_hash.secret(), id.as_str()],
            )?;
            if changed == 0 {
                return Err(StoreError::NotFound {
                    entity: Entity::User,
                });
            }
            Ok(())
        })
        .await
    }

    async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users ORDER BY username"
        ))
        .fetch_all(self.reader())
        .await
        .map_err(db(Entity::User))?;
        rows.iter().map(user).collect()
    }

    async fn delete_user(&self, id: &Subject) -> Result<bool, StoreError> {
        let id = id.clone();
        self.write(move |conn| {
            let deleted = execute(
                conn,
                Entity::User,
                "DELETE FROM users WHERE id = ?1",
                params![id.as_str()],
            )?;
            Ok(deleted > 0)
        })
        .await
    }
}
