//! Recording audit events (REQUIREMENTS OB-1) and the security counters.
//!
//! Every event goes to the store ([`AuditStore`](mcp_authz_store::AuditStore)) and, with the same
//! fields, to `tracing` at INFO on target [`AUDIT_TARGET`]. An event is built from identifiers only
//! ([`AuditEvent`] has no field for a token, code, secret or password). A failure to store an event is
//! logged at WARN and never turns the request it describes into an error.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use mcp_authz_metadata::ClientId;
use mcp_authz_store::{AuditEvent, AuditKind, AuditOutcome, AuditReason, Clock, Store};

use crate::error::{EndpointError, InvalidClient, InvalidGrant, PolicyError};
use crate::respond::ClientAddr;
use crate::session::BoundedMap;

/// A peer's repeated rate-limit and lockout refusals are recorded once per this window: a flood of
/// refused requests must not become a flood of writes (the refusals are still counted).
const REPEAT_WINDOW: Duration = Duration::from_secs(60);

/// The most peers [`REPEAT_WINDOW`] remembers.
const REPEAT_CAPACITY: usize = 4096;

/// The `tracing` target of audit events.
pub const AUDIT_TARGET: &str = "mcp_authz::audit";

/// The peer address a transport put into `request`'s extensions, if any.
pub(crate) fn peer_of(request: &Request<Bytes>) -> Option<IpAddr> {
    request.extensions().get::<ClientAddr>().map(|addr| addr.0)
}

/// A reason from a label this crate chose (always valid; `None` never happens for them).
fn reason(label: &str) -> Option<AuditReason> {
    AuditReason::lossy(label)
}

/// The bounded label of an `invalid_grant` cause.
fn grant_label(cause: InvalidGrant) -> &'static str {
    match cause {
        InvalidGrant::UnknownCode => "unknown_code",
        InvalidGrant::CodeOfAnotherClient => "code_of_another_client",
        InvalidGrant::RedirectUriMismatch => "redirect_uri_mismatch",
        InvalidGrant::RedirectUriRequired => "redirect_uri_required",
        InvalidGrant::Pkce => "pkce_failed",
        InvalidGrant::CodeReplayed => "code_replayed",
        InvalidGrant::CodeExpired => "code_expired",
        InvalidGrant::UnknownRefreshToken => "unknown_refresh_token",
        InvalidGrant::RefreshTokenOfAnotherClient => "refresh_token_of_another_client",
        InvalidGrant::RefreshTokenReused => "refresh_token_reused",
        InvalidGrant::GrantRevoked => "grant_revoked",
        InvalidGrant::RefreshTokenExpired => "refresh_token_expired",
    }
}

/// The bounded label of a client authentication failure.
pub(crate) fn client_label(cause: &InvalidClient) -> &'static str {
    match cause {
        InvalidClient::Missing => "no_client_authentication",
        InvalidClient::Unknown => "unknown_client",
        InvalidClient::UnsupportedMethod => "unsupported_method",
        InvalidClient::WrongMethod => "wrong_method",
        InvalidClient::Failed => "wrong_credentials",
    }
}

/// The kind and bounded label of a refused request at an endpoint whose act is `act`, or `None` for
/// failures that are not a refusal (the store or the server failed: no security-relevant act).
/// Client authentication failures are recorded where the client is authenticated, so they give `None`
/// here too.
fn refusal(act: AuditKind, error: &EndpointError) -> Option<(AuditKind, &'static str)> {
    use EndpointError as E;
    Some(match error {
        E::Grant(InvalidGrant::CodeReplayed) => (AuditKind::CodeReplayed, "code_replayed"),
        E::Grant(InvalidGrant::RefreshTokenReused) => {
            (AuditKind::RefreshReused, "refresh_token_reused")
        }
        E::Grant(cause) => (act, grant_label(*cause)),
        E::RateLimited(_) => (AuditKind::RateLimited, "rate_limited"),
        E::Policy(
            PolicyError::UnservedResource
            | PolicyError::ResourceNotAllowed
            | PolicyError::ResourceNotGranted,
        ) => (act, "invalid_target"),
        E::Policy(_) => (act, "invalid_scope"),
        E::Unauthorized(_) => (act, "unauthorized_client"),
        E::UnsupportedGrantType => (act, "unsupported_grant_type"),
        E::TokenRequest(_) | E::TokenHintRequest(_) => (act, "invalid_request"),
        E::Registration(_) => (act, "invalid_client_metadata"),
        E::Page(_) | E::Redirect(_) => (act, "refused"),
        E::Client(_)
        | E::ClientCredentials(_)
        | E::NotFound(_)
        | E::MethodNotAllowed
        | E::BodyTooLarge
        | E::PasswordChecksBusy
        | E::Store(_)
        | E::Key(_)
        | E::SecretVerification
        | E::IssuedToken(_) => return None,
    })
}

/// Counters for monitoring (REQUIREMENTS OB-2), kept beside the events.
#[derive(Debug, Default)]
struct Counters {
    tokens_issued: AtomicU64,
    refresh_reuse: AtomicU64,
    /// Refused requests by bounded label (the labels of [`refusal`] and [`client_label`]): a closed
    /// set, so the map stays small.
    validation_failures: Mutex<BTreeMap<&'static str, u64>>,
}

/// Records audit events into the store and the log, and keeps the counters.
pub(crate) struct Auditor {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    counters: Counters,
    /// The (kind, peer) pairs of recently recorded rate-limit and lockout refusals.
    recent_refusals: BoundedMap<()>,
}

impl Auditor {
    /// An auditor over `store`, timing events with `clock`.
    pub(crate) fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            counters: Counters::default(),
            recent_refusals: BoundedMap::new(REPEAT_CAPACITY),
        }
    }

    /// An event of `kind` and `outcome` now, from `request`'s peer.
    pub(crate) fn event(
        &self,
        kind: AuditKind,
        outcome: AuditOutcome,
        request: &Request<Bytes>,
    ) -> AuditEvent {
        self.event_from(kind, outcome, peer_of(request))
    }

    /// An event of `kind` and `outcome` now, from `peer`.
    pub(crate) fn event_from(
        &self,
        kind: AuditKind,
        outcome: AuditOutcome,
        peer: Option<IpAddr>,
    ) -> AuditEvent {
        let mut event = AuditEvent::new(kind, outcome, self.clock.now());
        event.peer = peer;
        event
    }

    /// Stores `event` and logs it; a store failure is logged, never returned. A rate-limit or
    /// lockout refusal of a peer already recorded within [`REPEAT_WINDOW`] is not recorded again.
    pub(crate) async fn record(&self, event: AuditEvent) {
        if matches!(event.kind, AuditKind::RateLimited | AuditKind::LockedOut) {
            let key = format!(
                "{}|{}",
                event.kind,
                event.peer.map(|p| p.to_string()).unwrap_or_default()
            );
            if self.recent_refusals.get(&key).is_some() {
                return;
            }
            self.recent_refusals.insert(key, (), REPEAT_WINDOW);
        }
        match event.kind {
            AuditKind::TokensIssued if event.outcome == AuditOutcome::Success => {
                self.counters.tokens_issued.fetch_add(1, Ordering::Relaxed);
            }
            AuditKind::RefreshReused => {
                self.counters.refresh_reuse.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
        log(&event);
        let kind = event.kind;
        if let Err(error) = self.store.append_audit_event(event).await {
            tracing::warn!(%error, kind = %kind, "audit event not stored");
        }
    }

    /// Records the refusal `error` of a request to the endpoint whose act is `act` (nothing for
    /// server failures), with the client if known, and counts it by reason.
    pub(crate) async fn refused(
        &self,
        act: AuditKind,
        request: &Request<Bytes>,
        client_id: Option<&ClientId>,
        error: &EndpointError,
    ) {
        let Some((kind, label)) = refusal(act, error) else {
            return;
        };
        self.count_failure(label);
        let mut event = self.event(kind, AuditOutcome::Failure, request);
        event.reason = reason(label);
        event.client_id = client_id.cloned();
        self.record(event).await;
    }

    /// Records a failed client authentication (with the client id the request claimed, if any).
    pub(crate) async fn client_auth_failed(
        &self,
        request: &Request<Bytes>,
        client_id: Option<&ClientId>,
        label: &'static str,
    ) {
        self.count_failure(label);
        let mut event = self.event(AuditKind::ClientAuthFailed, AuditOutcome::Failure, request);
        event.reason = reason(label);
        event.client_id = client_id.cloned();
        self.record(event).await;
    }

    /// Counts a refusal by its bounded `label`.
    pub(crate) fn count_failure(&self, label: &'static str) {
        let mut failures = self
            .counters
            .validation_failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *failures.entry(label).or_default() += 1;
    }

    /// Access tokens issued since the server was created.
    pub(crate) fn tokens_issued(&self) -> u64 {
        self.counters.tokens_issued.load(Ordering::Relaxed)
    }

    /// Reused refresh tokens detected (families revoked) since the server was created.
    pub(crate) fn refresh_reuse_detected(&self) -> u64 {
        self.counters.refresh_reuse.load(Ordering::Relaxed)
    }

    /// Refused requests (validation failures) by reason since the server was created, ordered by reason.
    pub(crate) fn validation_failures(&self) -> Vec<(&'static str, u64)> {
        self.counters
            .validation_failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(label, n)| (*label, *n))
            .collect()
    }
}

/// Writes `event` to `tracing` on [`AUDIT_TARGET`] at INFO.
fn log(event: &AuditEvent) {
    let resources: Vec<&str> = event.resources.iter().map(|r| r.as_str()).collect();
    let scope = event.scope.to_string();
    tracing::info!(
        target: AUDIT_TARGET,
        at = event.at.as_secs(),
        kind = event.kind.as_str(),
        outcome = event.outcome.as_str(),
        reason = event.reason.as_ref().map(AuditReason::as_str),
        client_id = event.client_id.as_ref().map(ClientId::as_str),
        subject = event.subject.as_ref().map(|s| s.as_str()),
        username = event.username.as_ref().map(|u| u.as_str()),
        scope = (!scope.is_empty()).then_some(scope.as_str()),
        resources = (!resources.is_empty()).then(|| resources.join(" ")),
        peer = event.peer.map(|peer| peer.to_string()),
        "audit"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_replay_and_reuse_and_skip_server_failures() {
        let act = AuditKind::TokensIssued;
        assert_eq!(
            refusal(act, &InvalidGrant::CodeReplayed.into()),
            Some((AuditKind::CodeReplayed, "code_replayed"))
        );
        assert_eq!(
            refusal(act, &InvalidGrant::RefreshTokenReused.into()),
            Some((AuditKind::RefreshReused, "refresh_token_reused"))
        );
        assert_eq!(
            refusal(act, &InvalidGrant::Pkce.into()),
            Some((act, "pkce_failed"))
        );
        assert_eq!(refusal(act, &EndpointError::randomness()), None);
        assert_eq!(refusal(act, &InvalidClient::Failed.into()), None);
    }
}
