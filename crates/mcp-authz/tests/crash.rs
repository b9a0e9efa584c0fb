//! Crash survival (issue #19): `mcp-authz serve` on SQLite is killed with SIGKILL while many clients
//! exchange authorization codes and rotate refresh tokens, then restarted on the same data directory.
//!
//! Checked after the restart:
//! - nothing acknowledged is lost: every refresh token a client received in a `200` still works, unless
//!   that client had a rotation in flight at the kill which the server committed without the answer
//!   reaching the client (then the store shows the token rotated and its family with one active
//!   successor: the rotation was atomic, not half done);
//! - every earlier refresh token of a family counts as reuse (`invalid_grant`, family revoked);
//! - every authorization code issued (the `302` reached the client) and not yet exchanged is still
//!   exchangeable;
//! - no family is left half-rotated (exactly one unrotated token per family) and the database passes
//!   `PRAGMA integrity_check`.
#![cfg(unix)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mcp_authz_pkce::CodeVerifier;
use mcp_authz_store::{Clock, GrantStore, RefreshStatus, SecretHash, SystemClock};

use common::oauth::{authorization_url, callback_listener, code_of, exchange, refresh, register};
use common::{Browser, Serve};

/// Concurrent clients, each a dynamically registered public client with its own worker.
const CLIENTS: usize = 12;
/// Acknowledged operations (refreshes and code exchanges) before the kill.
const ACKS_BEFORE_KILL: usize = 500;
/// Every this many operations a worker starts a new family with a code flow.
const NEW_FAMILY_EVERY: usize = 7;
/// Every this many code flows, the code is kept aside, unexchanged, for after the restart.
const PENDING_CODE_EVERY: usize = 3;
const DATABASE_FILE: &str = "mcp-authz.sqlite3";

/// One refresh-token family as its client knows it.
#[derive(Debug, Default, Clone)]
struct Family {
    /// The last refresh token received in a `200`.
    acked: String,
    /// The ones before it, oldest first.
    earlier: Vec<String>,
    /// A rotation of `acked` was sent and not answered when the server died.
    in_flight: bool,
}

/// A code the client received and did not exchange before the kill.
struct PendingCode {
    client_id: String,
    code: String,
    verifier: CodeVerifier,
}

/// What every worker learned, shared with the test.
#[derive(Default)]
struct Ledger {
    families: Vec<(String, Family)>,
    pending: Vec<PendingCode>,
}

/// One client's load until the server dies or `stop` is set: code flows (a new family, sometimes a code
/// kept aside) and refresh rotations of its newest family, recorded in `ledger` as they are answered.
#[allow(clippy::too_many_arguments)]
async fn worker(
    base: String,
    redirect: String,
    client_id: String,
    browser: Arc<Browser>,
    ledger: Arc<Mutex<Ledger>>,
    acks: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
) {
    let http = reqwest::Client::new();
    let mut newest: Option<usize> = None;
    let mut flows = 0usize;
    for op in 0usize.. {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        if newest.is_none() || op.is_multiple_of(NEW_FAMILY_EVERY) {
            let verifier = CodeVerifier::generate().unwrap();
            let url = authorization_url(&base, &client_id, &redirect, &verifier);
            // The browser session remembers the consent: the authorization answers 302 at once.
            let Ok(response) = browser.http().get(&url).send().await else {
                return; // the server died
            };
            assert_eq!(response.status(), 302, "authorization before the kill");
            let callback = response.headers()["location"].to_str().unwrap().to_owned();
            let code = code_of(&callback);
            flows += 1;
            if flows.is_multiple_of(PENDING_CODE_EVERY) {
                ledger.lock().unwrap().pending.push(PendingCode {
                    client_id: client_id.clone(),
                    code,
                    verifier,
                });
                acks.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let Some((status, body)) =
                exchange(&http, &base, &client_id, &redirect, &code, &verifier).await
            else {
                return;
            };
            assert_eq!(status, 200, "code exchange before the kill: {body}");
            let mut ledger = ledger.lock().unwrap();
            ledger.families.push((
                client_id.clone(),
                Family {
                    acked: body["refresh_token"].as_str().unwrap().to_owned(),
                    ..Family::default()
                },
            ));
            newest = Some(ledger.families.len() - 1);
            acks.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let index = newest.unwrap();
        let current = {
            let mut ledger = ledger.lock().unwrap();
            let family = &mut ledger.families[index].1;
            family.in_flight = true;
            family.acked.clone()
        };
        let Some((status, body)) = refresh(&http, &base, &client_id, &current).await else {
            return; // in flight at the kill
        };
        assert_eq!(status, 200, "refresh before the kill: {body}");
        let mut ledger = ledger.lock().unwrap();
        let family = &mut ledger.families[index].1;
        family.earlier.push(std::mem::take(&mut family.acked));
        family.acked = body["refresh_token"].as_str().unwrap().to_owned();
        family.in_flight = false;
        acks.fetch_add(1, Ordering::Relaxed);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_load_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // The operator lifts the rate limits: this is one peer driving many clients on purpose.
    let limits = [
        "--authorize-rate-limit",
        "off",
        "--token-rate-limit",
        "off",
        "--register-rate-limit",
        "off",
    ];
    let serve = Serve::start(&data, &limits);
    let base = serve.base.clone();
    let addr = serve.addr();
    let password = serve.admin_password();
    let redirect = callback_listener().await;
    let http = reqwest::Client::new();

    // Each client is registered and approved once (the consent is remembered for the session).
    let browser = Arc::new(Browser::new());
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let client_id = register(&http, &base, &redirect).await;
        let verifier = CodeVerifier::generate().unwrap();
        browser
            .authorize(
                &authorization_url(&base, &client_id, &redirect, &verifier),
                "admin",
                &password,
            )
            .await;
        clients.push(client_id);
    }

    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let acks = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = clients
        .iter()
        .map(|client_id| {
            tokio::spawn(worker(
                base.clone(),
                redirect.clone(),
                client_id.clone(),
                browser.clone(),
                ledger.clone(),
                acks.clone(),
                stop.clone(),
            ))
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    while acks.load(Ordering::Relaxed) < ACKS_BEFORE_KILL {
        assert!(
            Instant::now() < deadline,
            "only {} acknowledgements",
            acks.load(Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    // SIGKILL in the middle of the load; the workers see the connection fail and stop.
    let status = serve.kill();
    assert_eq!(
        status.signal(),
        Some(9),
        "serve must die by SIGKILL: {status:?}"
    );
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.unwrap();
    }
    let ledger = Arc::try_unwrap(ledger).ok().unwrap().into_inner().unwrap();
    let in_flight = ledger.families.iter().filter(|(_, f)| f.in_flight).count();
    assert!(
        !ledger.families.is_empty() && !ledger.pending.is_empty(),
        "load too short to test anything"
    );

    // The store as the crash left it, before any server touches it again.
    let database = data.join(DATABASE_FILE);
    let mut rotated_by_the_kill = BTreeMap::new();
    {
        let store = mcp_authz_store_sqlite::SqliteStore::open(&database)
            .await
            .unwrap();
        let now = SystemClock.now();
        for (i, (_, family)) in ledger.families.iter().enumerate() {
            let lookup = store
                .find_refresh_token(&SecretHash::of(&family.acked), now)
                .await
                .unwrap()
                .unwrap_or_else(|| {
                    panic!("acknowledged refresh token of family {i} lost in the crash")
                });
            match lookup.status {
                RefreshStatus::Active => {}
                RefreshStatus::Rotated if family.in_flight => {
                    rotated_by_the_kill.insert(i, lookup.token.family_id);
                }
                other => panic!(
                    "family {i}: acknowledged token is {other:?} (in flight: {})",
                    family.in_flight
                ),
            }
        }
        drop(store);
        let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!(
            "sqlite://{}",
            database.display()
        ))
        .await
        .unwrap();
        let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(integrity, "ok");
        // No half-rotated family: each has exactly one token not rotated.
        let unrotated: Vec<(String, i64)> = sqlx::query_as(
            "SELECT family_id, SUM(rotated_at IS NULL) FROM refresh_tokens GROUP BY family_id",
        )
        .fetch_all(&mut conn)
        .await
        .unwrap();
        assert!(
            unrotated.iter().all(|(_, n)| *n == 1),
            "families with other than one unrotated token: {unrotated:?}"
        );
    }

    // Restarted on the same address (the same issuer) and data; a new HTTP client, with no pooled
    // connection to the dead process.
    let serve = Serve::start_on(&data, &addr, &limits);
    let http = reqwest::Client::new();
    let mut survived = 0;
    for (i, (client_id, family)) in ledger.families.iter().enumerate() {
        let (status, body) = refresh(&http, &serve.base, client_id, &family.acked)
            .await
            .unwrap();
        if rotated_by_the_kill.contains_key(&i) {
            // Committed but never answered: presenting it now is reuse.
            assert_eq!(
                (status, body["error"].as_str()),
                (400, Some("invalid_grant")),
                "family {i}"
            );
            continue;
        }
        assert_eq!(
            status, 200,
            "family {i}: the acknowledged token after the restart: {body}"
        );
        survived += 1;
        let newest = body["refresh_token"].as_str().unwrap().to_owned();
        if let Some(earlier) = family.earlier.last() {
            let (status, body) = refresh(&http, &serve.base, client_id, earlier)
                .await
                .unwrap();
            assert_eq!(
                (status, body["error"].as_str()),
                (400, Some("invalid_grant")),
                "family {i}: an earlier token is reuse"
            );
            // Reuse revoked the family: its newest token is dead too.
            let (status, _) = refresh(&http, &serve.base, client_id, &newest)
                .await
                .unwrap();
            assert_eq!(status, 400, "family {i}: reuse must revoke the family");
        }
    }
    for (i, pending) in ledger.pending.iter().enumerate() {
        let (status, body) = exchange(
            &http,
            &serve.base,
            &pending.client_id,
            &redirect,
            &pending.code,
            &pending.verifier,
        )
        .await
        .unwrap();
        assert_eq!(status, 200, "code {i} issued before the kill: {body}");
    }
    eprintln!(
        "crash: {} families ({survived} refreshed after the restart, {} rotated by a request in flight at the kill, {in_flight} in flight), {} pending codes exchanged",
        ledger.families.len(),
        rotated_by_the_kill.len(),
        ledger.pending.len()
    );
    assert!(serve.stop());
}
