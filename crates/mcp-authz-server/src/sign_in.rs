//! Password sign-in with lockout, shared by the authorization flow's login form and the account
//! pages' (REQUIREMENTS AS-11, SEC-19).

use std::sync::Arc;
use std::time::Duration;

use mcp_authz_store::{NumericDate, Store, Subject};

use crate::error::{EndpointError, PageError};
use crate::lockout::Lockout;
use crate::users::{CheckError, LocalUsers, UserAuthenticator};

/// How the login forms check credentials.
pub(crate) enum Authenticator {
    /// The store's users, within the server's bound on password checks.
    Local(LocalUsers),
    /// The operator's [`UserAuthenticator`].
    Custom(Arc<dyn UserAuthenticator>),
}

impl Authenticator {
    async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<Subject>, EndpointError> {
        match self {
            Self::Local(users) => users.check(username, password).await.map_err(|e| match e {
                CheckError::Store(e) => e.into(),
                CheckError::Busy => PageError::PasswordChecksBusy.into(),
            }),
            Self::Custom(custom) => Ok(custom.authenticate(username, password).await?),
        }
    }
}

/// What a sign-in attempt came to.
pub(crate) enum Attempt {
    /// The credentials are right: this user.
    SignedIn(Subject),
    /// Wrong credentials (or a disabled user).
    Failed,
    /// Too many failures: this account may not be tried from this peer for this long (SEC-19).
    Locked(Duration),
}

/// The credential check and the failed-login lockout of one server.
pub(crate) struct PasswordSignIn {
    authenticator: Authenticator,
    /// Failed logins per address and account, and per account (SEC-19).
    lockout: Lockout,
}

impl PasswordSignIn {
    /// The sign-in over these parts.
    pub(crate) fn new(authenticator: Authenticator, lockout: Lockout) -> Self {
        Self {
            authenticator,
            lockout,
        }
    }

    /// Checks `username` and `password` from `peer` at `now`. A locked (address, account) or
    /// account gets no password check at all, whether the account exists or not (SEC-19); the
    /// attempt counts as a failure until it succeeds, so parallel guesses cannot all pass before
    /// the first failure is counted. A backend that cannot answer is no failure of the user (503);
    /// neither is a shared lockout store that cannot answer, which refuses the attempt (503) rather
    /// than let it through unlocked (SC-1).
    pub(crate) async fn attempt(
        &self,
        peer: &str,
        username: &str,
        password: &str,
        now: NumericDate,
    ) -> Result<Attempt, EndpointError> {
        if let Err(wait) = self.lockout.begin(peer, username, now).await? {
            return Ok(Attempt::Locked(wait));
        }
        let judged = self.authenticator.authenticate(username, password).await;
        if judged.is_err() {
            self.lockout.take_back(peer, username).await;
        }
        match judged? {
            Some(subject) => {
                self.lockout.success(peer, username, now).await;
                Ok(Attempt::SignedIn(subject))
            }
            None => Ok(Attempt::Failed),
        }
    }
}

/// `true` when `subject` is a local user the operator disabled (`mcp-authz users disable`): such a
/// session may not authorize or manage anything. Subjects of an upstream identity provider or a
/// custom authenticator are not in the store and are never disabled here.
pub(crate) async fn is_disabled(
    store: &Arc<dyn Store>,
    subject: &Subject,
) -> Result<bool, EndpointError> {
    Ok(store.get_user(subject).await?.is_some_and(|u| u.disabled))
}
