//! The umbrella trait.

use crate::{
    AuditStore, ClientStore, CodeStore, ConsentStore, GrantStore, KeyStore, PurgeStore,
    RevokedTokenStore, UserStore,
};

/// Every storage trait at once: what a backend implements and what the server holds as
/// `Arc<dyn Store>`. Implemented automatically for any type that implements all the parts.
///
/// All parts of one backend share one database: [`CodeStore::consume_code`] writes grants and refresh
/// tokens, [`GrantStore::revoke_client_grants`] deletes codes.
///
/// `Arc<dyn Store>` upcasts to `Arc<dyn CodeStore>` and the other parts.
pub trait Store:
    ClientStore
    + CodeStore
    + GrantStore
    + RevokedTokenStore
    + ConsentStore
    + KeyStore
    + UserStore
    + PurgeStore
    + AuditStore
    + Send
    + Sync
{
}

impl<T> Store for T where
    T: ClientStore
        + CodeStore
        + GrantStore
        + RevokedTokenStore
        + ConsentStore
        + KeyStore
        + UserStore
        + PurgeStore
        + AuditStore
        + Send
        + Sync
        + ?Sized
{
}
