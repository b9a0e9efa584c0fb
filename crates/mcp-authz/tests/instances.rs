//! Three `serve` instances on one PostgreSQL database behind a round-robin balancer without
//! stickiness (issue #18, REQUIREMENTS SC-1): every connection goes to the next instance, so each
//! step of a browser flow (authorize, login, consent) lands on another instance than the one
//! before; refresh rotation races across instances; and a rolling restart of every instance
//! while users sign in loses nothing. `cargo xtask soak-instances --minutes N` repeats the rolling
//! restarts under load for N minutes (`MCP_AUTHZ_INSTANCES_SOAK_MINUTES`).
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use common::pg::FreshDatabase;
use common::round_robin::RoundRobin;
use common::{ADMIN, Browser, Serve, hidden_inputs, oauth};
use mcp_authz_pkce::CodeVerifier;

const INSTANCES: usize = 3;

/// Starts instance `n` in its own directory (logs only) on the shared database.
fn instance(root: &Path, n: usize, store: &str, issuer: &str) -> Serve {
    // All test traffic comes from one address: the per-address limits would throttle the load
    // of the rolling restarts (they are what the lockout test below is about, not this one).
    instance_with(
        root,
        n,
        store,
        issuer,
        &[
            "--register-rate-limit",
            "off",
            "--authorize-rate-limit",
            "off",
            "--token-rate-limit",
            "off",
        ],
    )
}

/// [`instance`] with `extra` arguments.
fn instance_with(root: &Path, n: usize, store: &str, issuer: &str, extra: &[&str]) -> Serve {
    let dir = root.join(format!("instance-{n}-{}", rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut args = vec!["--store", store, "--issuer", issuer];
    args.extend_from_slice(extra);
    Serve::start(&dir.join("data"), &args)
}

/// A distinct directory name per start (a restarted instance keeps its old log).
fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn addr_of(serve: &Serve) -> SocketAddr {
    serve.addr().parse().unwrap()
}

/// One user's authorization through the balancer: register, sign in, consent, exchange, refresh
/// twice; every request on a new connection. The last refresh token.
async fn full_flow(issuer: &str, password: &str) -> (String, String, String) {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let redirect = oauth::callback_listener().await;
    let client_id = oauth::register(&http, issuer, &redirect).await;
    let verifier = CodeVerifier::generate().unwrap();
    let (callback, consent) = Browser::without_keep_alive()
        .authorize(
            &oauth::authorization_url(issuer, &client_id, &redirect, &verifier),
            ADMIN,
            password,
        )
        .await;
    assert!(consent.contains("approve"), "{consent}");
    let (status, tokens) = oauth::exchange(
        &http,
        issuer,
        &client_id,
        &redirect,
        &oauth::code_of(&callback),
        &verifier,
    )
    .await
    .unwrap();
    assert_eq!(status, 200, "{tokens}");
    let mut refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let mut access = tokens["access_token"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        let (status, body) = oauth::refresh(&http, issuer, &client_id, &refresh)
            .await
            .unwrap();
        assert_eq!(status, 200, "{body}");
        refresh = body["refresh_token"].as_str().unwrap().to_owned();
        access = body["access_token"].as_str().unwrap().to_owned();
    }
    (client_id, refresh, access)
}

#[tokio::test(flavor = "multi_thread")]
async fn three_instances_behind_a_round_robin_balancer_need_no_sticky_sessions() {
    let Some(database) = FreshDatabase::create("instances").await else {
        return;
    };
    let store = database.url_via(None).to_string();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let root = tempfile::tempdir().unwrap();
    // One after the other: the first creates the schema, the signing key and the first user.
    let mut instances: Vec<Serve> = (0..INSTANCES)
        .map(|n| instance(root.path(), n, &store, &issuer))
        .collect();
    let password = instances[0].admin_password();
    let balancer = RoundRobin::start(listener, INSTANCES);
    for (n, serve) in instances.iter().enumerate() {
        balancer.set(n, addr_of(serve));
    }

    // Browser flows whose steps land on different instances.
    for _ in 0..INSTANCES {
        full_flow(&issuer, &password).await;
    }
    let served = balancer.served();
    assert!(served.iter().all(|n| *n >= 5), "{served:?}");

    // The access token works at every instance's MCP endpoint.
    let (client_id, refresh, access) = full_flow(&issuer, &password).await;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    for _ in 0..INSTANCES {
        let response = http
            .post(format!("{issuer}/mcp"))
            .bearer_auth(&access)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }

    // The same refresh token at three instances at once: rotated exactly once (AS-8).
    let racers: Vec<_> = (0..INSTANCES)
        .map(|_| {
            let (http, issuer, client_id, refresh) = (
                http.clone(),
                issuer.clone(),
                client_id.clone(),
                refresh.clone(),
            );
            tokio::spawn(async move {
                oauth::refresh(&http, &issuer, &client_id, &refresh)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for racer in racers {
        let (status, body) = racer.await.unwrap();
        if status != 200 {
            assert_eq!(body["error"], "invalid_grant", "{body}");
        }
        statuses.push(status);
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );

    // Rolling restart under load: users keep signing in and refreshing (two at a time) while each
    // instance in turn is drained, stopped, and started again on a new port.
    let soak = std::env::var("MCP_AUTHZ_INSTANCES_SOAK_MINUTES")
        .ok()
        .and_then(|m| m.parse::<f64>().ok())
        .map(|m| std::time::Duration::from_secs_f64(m * 60.0));
    let started = std::time::Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let completed = Arc::new(AtomicUsize::new(0));
    let load: Vec<_> = (0..2)
        .map(|_| {
            let (stop, issuer, password) = (stop.clone(), issuer.clone(), password.clone());
            let completed = completed.clone();
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    full_flow(&issuer, &password).await;
                    completed.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    // Until `n` more flows completed (a hang guard, not a timing assertion).
    let flows_go_on = |n: usize| {
        let completed = completed.clone();
        async move {
            let target = completed.load(Ordering::Relaxed) + n;
            let waited = std::time::Instant::now();
            while completed.load(Ordering::Relaxed) < target {
                assert!(waited.elapsed().as_secs() < 120, "the flows stalled");
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
    };
    let mut restarts = 0;
    loop {
        for n in 0..INSTANCES {
            balancer.drain(n);
            // The balancer's deregistration delay: connections it handed to this instance just
            // before draining are answered before the stop (docs/deployment.md, rolling restarts).
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            let stopped = instances.remove(n);
            assert!(stopped.stop(), "instance {n} stopped cleanly");
            // Users carry on with one instance down.
            flows_go_on(2).await;
            let restarted = instance(root.path(), n, &store, &issuer);
            balancer.set(n, addr_of(&restarted));
            instances.insert(n, restarted);
            restarts += 1;
            flows_go_on(2).await;
        }
        if soak.is_none_or(|minutes| started.elapsed() >= minutes) {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }
    let flows = completed.load(Ordering::Relaxed);
    eprintln!(
        "{restarts} restarts, {flows} complete flows under load in {:?}",
        started.elapsed()
    );
    eprintln!("connections per instance: {:?}", balancer.served());
    drop(instances);
    database.drop_now().await;
}

/// The default per-account limit of failed logins (`LoginLockout::default`, SEC-19).
const ACCOUNT_FAILURES: usize = 20;

/// One sign-in on the account page through the balancer, as a browser at `address` (forwarded by
/// the trusted balancer): the status of the form's answer.
async fn account_sign_in(issuer: &str, address: &str, password: &str) -> u16 {
    let browser = Browser::without_keep_alive();
    let page = browser
        .http()
        .get(format!("{issuer}/account/applications"))
        .header("x-forwarded-for", address)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    let mut form = hidden_inputs(&page);
    assert!(form.iter().any(|(name, _)| name == "csrf"), "{page}");
    form.push(("username".to_owned(), ADMIN.to_owned()));
    form.push(("password".to_owned(), password.to_owned()));
    browser
        .http()
        .post(format!("{issuer}/account/signin"))
        .header("x-forwarded-for", address)
        .form(&form)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Password guesses for one account spread over three instances, each from another address, lock
/// the account after the account limit in total, not three times it (SC-1, SEC-19): the instances
/// count failures in the shared PostgreSQL store. With per-instance counting each instance would
/// have seen a third of the guesses, and the next ones would still be checked.
#[tokio::test(flavor = "multi_thread")]
async fn guesses_spread_over_instances_lock_the_account_after_the_limit_in_total() {
    let Some(database) = FreshDatabase::create("lockout").await else {
        return;
    };
    let store = database.url_via(None).to_string();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let root = tempfile::tempdir().unwrap();
    // The balancer connects from 127.0.0.1 and passes the client's `X-Forwarded-For` on.
    let trusted = ["--trusted-proxy", "127.0.0.1"];
    let instances: Vec<Serve> = (0..INSTANCES)
        .map(|n| instance_with(root.path(), n, &store, &issuer, &trusted))
        .collect();
    let password = instances[0].admin_password();
    let balancer = RoundRobin::start(listener, INSTANCES);
    for (n, serve) in instances.iter().enumerate() {
        balancer.set(n, addr_of(serve));
    }

    for i in 0..ACCOUNT_FAILURES {
        let status = account_sign_in(&issuer, &format!("198.51.100.{i}"), "wrong guess").await;
        assert_eq!(status, 303, "guess {i} was judged (a failed sign-in)");
    }
    let served = balancer.served();
    assert!(
        served
            .iter()
            .all(|n| *n >= 2 * ACCOUNT_FAILURES / INSTANCES),
        "{served:?}"
    );
    // Locked on every instance, for every new address, even with the right password.
    for i in 0..INSTANCES {
        let guess = account_sign_in(&issuer, &format!("203.0.113.{i}"), "one more guess").await;
        assert_eq!(guess, 429, "instance answer {i} after the limit in total");
    }
    let right = account_sign_in(&issuer, "203.0.113.99", &password).await;
    assert_eq!(right, 429, "the lock holds for the right password too");
    let counters = instances
        .iter()
        .map(|serve| serve.log())
        .filter(|log| log.contains("reach the lockout threshold across instances"))
        .count();
    assert_eq!(
        counters, 1,
        "exactly one instance saw the shared count reach the limit"
    );
    drop(instances);
    database.drop_now().await;
}
