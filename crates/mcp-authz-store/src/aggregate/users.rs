//! Users of the built-in local user store (the server's login page).

use async_trait::async_trait;

use crate::{NumericDate, SecretHashString, StoreError, Subject, Username};

/// A local user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The stable user id, used as the token subject (primary key).
    pub id: Subject,
    /// The login name, unique (case-folded by [`Username`]).
    pub username: Username,
    /// The password hash (PHC string); the password is never stored.
    pub password_hash: SecretHashString,
    /// When the user was created.
    pub created_at: NumericDate,
    /// A disabled user cannot log in; their grants are revoked separately
    /// ([`GrantStore::revoke_subject_grants`](crate::GrantStore::revoke_subject_grants)).
    pub disabled: bool,
}

/// Storage of local users.
///
/// **Concurrency.** Each operation is atomic. `insert_user` is the uniqueness point for both the id and
/// the username: of two concurrent inserts with the same username exactly one succeeds, the other gets
/// [`StoreError::Conflict`].
///
/// **SQL approach.** `users (id PRIMARY KEY, username UNIQUE, password_hash, created_at, disabled)`;
/// unique violations map to `Conflict`, an `UPDATE` touching no row to `NotFound`.
///
/// **Errors.** Every method may fail with [`StoreError::Unavailable`]; the login page answers 503 and
/// never "wrong password" in that case.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Stores a new user; [`StoreError::Conflict`] on a duplicate id or username.
    async fn insert_user(&self, user: User) -> Result<(), StoreError>;

    /// The user with this id.
    async fn get_user(&self, id: &Subject) -> Result<Option<User>, StoreError>;

    /// The user with this username.
    async fn find_user_by_username(&self, username: &Username) -> Result<Option<User>, StoreError>;

    /// Disables or re-enables a user; [`StoreError::NotFound`] if there is none.
    async fn set_user_disabled(&self, id: &Subject, disabled: bool) -> Result<(), StoreError>;

    /// Replaces a user's password hash; [`StoreError::NotFound`] if there is none.
    async fn set_password_hash(
        &self,
        id: &Subject,
        password_hash: SecretHashString,
    ) -> Result<(), StoreError>;

    /// Every user, ordered by username: for operators.
    async fn list_users(&self) -> Result<Vec<User>, StoreError>;

    /// Removes a user; `false` if there was none. Their grants and consents stay: revoke them with
    /// [`GrantStore::revoke_subject_grants`](crate::GrantStore::revoke_subject_grants).
    async fn delete_user(&self, id: &Subject) -> Result<bool, StoreError>;
}
