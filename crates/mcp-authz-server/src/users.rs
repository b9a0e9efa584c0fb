//! User authentication: a trait, and the built-in local users of the store (REQUIREMENTS AS-11).

use std::sync::Arc;

use async_trait::async_trait;
use mcp_authz_store::{
    IdGenerator, NumericDate, SecretHashString, Store, StoreError, Subject, User, Username,
};

use crate::password_checks::{PasswordCheckLimits, PasswordChecks};
use crate::secrets::HashError;

/// How the login page checks a username and password.
///
/// The built-in [`LocalUsers`] checks the store's users; an upstream identity provider (an LDAP
/// directory, a corporate IdP's credential check) plugs in by implementing this trait and passing it
/// to [`ServerConfigBuilder::authenticator`](crate::ServerConfigBuilder::authenticator).
#[async_trait]
pub trait UserAuthenticator: Send + Sync {
    /// The subject of the user, `Ok(None)` for wrong credentials or a disabled user. A backend that
    /// cannot answer returns [`StoreError::Unavailable`] (the page answers 503, never "wrong password").
    async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<Subject>, StoreError>;
}

/// A redirect-based upstream identity provider (an OpenID Connect or SAML IdP, a corporate SSO) that
/// the login page offers next to (or instead of) the password form.
///
/// The browser is sent to [`login_url`](Self::login_url); the provider must come back to `callback`
/// with the `state` query parameter unchanged, and [`complete`](Self::complete) turns that callback
/// into a subject (for OpenID Connect: exchange the code, validate the ID token). The server binds
/// `state` to the browser session and the pending authorization request.
#[async_trait]
pub trait UpstreamIdentityProvider: Send + Sync {
    /// The name on the login page's button ("Sign in with …").
    fn display_name(&self) -> &str;

    /// Where to send the browser: must carry `state` back to `callback`.
    fn login_url(&self, callback: &url::Url, state: &str) -> url::Url;

    /// The authenticated subject from the callback's query string, `Ok(None)` when the upstream
    /// refused or the response does not verify.
    async fn complete(
        &self,
        callback: &url::Url,
        query: &str,
    ) -> Result<Option<Subject>, StoreError>;
}

/// The local users of the store, with Argon2id password hashes.
///
/// Password checks and hashes run within a bound on concurrent Argon2 work (see
/// [`ServerConfigBuilder::max_concurrent_password_checks`](crate::ServerConfigBuilder::max_concurrent_password_checks)):
/// the server's own users ([`AuthorizationServer::local_users`](crate::AuthorizationServer::local_users))
/// share the server's bound; [`LocalUsers::new`] has a bound of its own with the default limits.
#[derive(Clone)]
pub struct LocalUsers {
    store: Arc<dyn Store>,
    checks: Arc<PasswordChecks>,
}

/// Why [`LocalUsers::check`] did not judge the credentials.
#[derive(Debug)]
pub(crate) enum CheckError {
    /// The store failed.
    Store(StoreError),
    /// Too many password checks are running or waiting: no turn for this one.
    Busy,
}

impl std::fmt::Debug for LocalUsers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LocalUsers")
    }
}

/// Why a local user could not be created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CreateUserError {
    /// The username is not valid.
    #[error("invalid username: {0}")]
    Username(mcp_authz_store::IdError),
    /// Hashing failed.
    #[error(transparent)]
    Hash(#[from] HashError),
    /// The store refused (for example a duplicate username: [`StoreError::Conflict`]).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl LocalUsers {
    /// The users of `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self::with_checks(store, PasswordChecks::new(PasswordCheckLimits::default()))
    }

    /// The users of `store`, checked within `checks` (the server's bound).
    pub(crate) fn with_checks(store: Arc<dyn Store>, checks: Arc<PasswordChecks>) -> Self {
        Self { store, checks }
    }

    /// Creates a user with an Argon2id hash of `password` and a fresh subject from `ids`.
    pub async fn create_user(
        &self,
        ids: &dyn IdGenerator,
        username: &str,
        password: &str,
        now: NumericDate,
    ) -> Result<User, CreateUserError> {
        let username = Username::parse(username).map_err(CreateUserError::Username)?;
        let password_hash = self.checks.hash(password).await?;
        let user = User {
            id: ids.subject()?,
            username,
            password_hash,
            created_at: now,
            disabled: false,
        };
        self.store.insert_user(user.clone()).await?;
        Ok(user)
    }
}

/// A fixed Argon2id hash checked for unknown users, so that timing does not reveal which names exist.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2xBvQf1ZQG6lG3vDq3Yxw3kGkJcH3Tq6v2kQ0m1c0W0";

impl LocalUsers {
    /// [`UserAuthenticator::authenticate`], telling a refusal for overload ([`CheckError::Busy`])
    /// from a store failure.
    pub(crate) async fn check(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<Subject>, CheckError> {
        let user = match Username::parse(username) {
            Ok(name) => self
                .store
                .find_user_by_username(&name)
                .await
                .map_err(CheckError::Store)?,
            Err(_) => None,
        };
        let stored = match &user {
            Some(user) => user.password_hash.clone(),
            None => SecretHashString::parse(DUMMY_HASH).map_err(|e| {
                CheckError::Store(StoreError::corrupt(mcp_authz_store::Entity::User, e))
            })?,
        };
        let ok = match self.checks.verify(password, &stored).await {
            Ok(ok) => ok,
            Err(HashError::Busy) => return Err(CheckError::Busy),
            Err(e) => {
                return Err(CheckError::Store(StoreError::Unavailable {
                    description: e.to_string(),
                }));
            }
        };
        Ok(match user {
            Some(user) if ok && !user.disabled => Some(user.id),
            _ => None,
        })
    }
}

#[async_trait]
impl UserAuthenticator for LocalUsers {
    /// Too many concurrent password checks answer [`StoreError::Unavailable`].
    async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<Subject>, StoreError> {
        self.check(username, password).await.map_err(|e| match e {
            CheckError::Store(e) => e,
            CheckError::Busy => StoreError::Unavailable {
                description: HashError::Busy.to_string(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::verify_secret;

    #[test]
    fn the_dummy_hash_is_a_real_argon2id_hash() {
        // Unknown users must cost a full Argon2 verification, so the hash has to parse.
        let hash = argon2::password_hash::PasswordHash::new(DUMMY_HASH).unwrap();
        assert_eq!(hash.algorithm.as_str(), "argon2id");
        let stored = SecretHashString::parse(DUMMY_HASH).unwrap();
        assert!(!verify_secret("anything", &stored));
    }
}
