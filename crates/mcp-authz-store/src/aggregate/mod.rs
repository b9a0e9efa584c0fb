//! One module per aggregate: its records, its outcomes and its storage trait.

mod attempts;
mod audit;
mod browser_states;
mod clients;
mod codes;
mod consents;
mod grants;
mod keys;
mod purge;
mod revoked;
mod store;
mod users;

pub use attempts::{AttemptCount, AttemptStore};
pub use audit::{
    AuditEvent, AuditKind, AuditOutcome, AuditParseError, AuditQuery, AuditReason, AuditStore,
};
pub use browser_states::{BrowserState, BrowserStateKind, BrowserStateStore};
pub use clients::{ClientKind, ClientRecord, ClientStore};
pub use codes::{AuthorizationCode, CodeConsumption, CodeExchange, CodeStore};
pub use consents::{Consent, ConsentStore};
pub use grants::{
    Grant, GrantStore, NewRefreshToken, RefreshLookup, RefreshStatus, RefreshToken, Revocation,
    RevocationCounts, RevocationReason, Rotation,
};
pub use keys::{KeyState, KeyStore, SigningKey};
pub use purge::{PurgeCounts, PurgeStore};
pub use revoked::RevokedTokenStore;
pub use store::Store;
pub use users::{User, UserStore};
