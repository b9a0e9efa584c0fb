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
use common::{ADMIN, Browser, Serve, oauth};
use mcp_authz_pkce::CodeVerifier;

const INSTANCES: usize = 3;

/// Starts instance `n` in its own directory (logs only) on the shared database.
fn instance(root: &Path, n: usize, store: &str, issuer: &str) -> Serve {
    let dir = root.join(format!("instance-{n}-{}", rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    // All test traffic comes from one address: the per-address limits would throttle the load
    // of the rolling restarts (they are what SC-1's shared limits are about, not this test).
    Serve::start(
        &dir.join("data"),
        &[
            "--store",
            store,
            "--issuer",
            issuer,
            "--register-rate-limit",
            "off",
            "--authorize-rate-limit",
            "off",
            "--token-rate-limit",
            "off",
        ],
    )
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
