//! Side by side with a peer: the same scenarios against a fresh `mcp-authz` server child and a fresh
//! `oidc-provider` (Node) child, interleaved, ratios reported (`LOAD_PEERS=<dir>`; run by
//! `cargo xtask bench --peers`, which installs the peer from `peers/oidc-provider`).
//!
//! Both sides do the same work with a real store: every token kept in SQLite (ours: `SqliteStore`;
//! the peer: its adapter interface over `node:sqlite`, WAL, as configured in
//! `peers/oidc-provider/oidc-provider-server.mjs`). One difference is the peers' own design and is
//! kept: `oidc-provider` cannot introspect the JWT access tokens it issues ("Structured JWT Tokens
//! cannot be introspected"), so its introspection scenario runs against a second instance issuing
//! opaque tokens, which it looks up in its store; ours verifies its JWT and checks the store for
//! revocation.
//!
//! Rounds alternate which side runs first; each side's figure is the median of its rounds, and the
//! ratio is ours over the peer's. Ratios, not absolute figures, are what `docs/performance.md`
//! claims from this mode.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use super::{
    ChildServer, Measured, RESOURCE, form, full_flow, register_machine, register_public,
    remembered_session, run, send,
};

const SECTION: &str = "peers";
const COMMAND: &str = "cargo xtask bench --peers";
const SCOPE: &str = "tools:read";
const TARGET: &str = ">= 5x";

/// What the peer child printed: its address and the credentials the scenarios need.
#[derive(serde::Deserialize)]
struct PeerInfo {
    base: String,
    version: String,
    machine_authorization: String,
    public_client: String,
    refresh_tokens: Vec<String>,
}

/// Which of the two servers a run is against.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Ours,
    Peer,
}

/// The scenarios both servers run.
#[derive(Clone, Copy)]
enum Scenario {
    Metadata,
    Jwks,
    ClientCredentials,
    Introspection,
    RefreshRotation,
}

impl Scenario {
    const ALL: [Scenario; 5] = [
        Scenario::Metadata,
        Scenario::Jwks,
        Scenario::ClientCredentials,
        Scenario::Introspection,
        Scenario::RefreshRotation,
    ];

    fn name(self) -> &'static str {
        match self {
            Scenario::Metadata => "metadata document GET",
            Scenario::Jwks => "JWKS GET",
            Scenario::ClientCredentials => {
                "client_credentials with resource -> ES256 JWT (client_secret_basic)"
            }
            Scenario::Introspection => "introspection of an access token",
            Scenario::RefreshRotation => "refresh-token rotation, SQLite",
        }
    }
}

/// Spawns the peer: `node oidc-provider-server.mjs` from `dir`, with `format` access tokens.
fn spawn_peer(dir: &Path, format: &str, chains: usize) -> (ChildServer, PeerInfo) {
    let node = dir.join("node_modules/.bin/node");
    let mut child = Command::new(&node)
        .arg("--no-warnings")
        .arg(dir.join("oidc-provider-server.mjs"))
        .current_dir(dir)
        .env("PEER_RESOURCE", RESOURCE)
        .env("PEER_ACCESS_TOKEN_FORMAT", format)
        .env("PEER_REFRESH_CHAINS", chains.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e} (run cargo xtask bench --peers)", node.display()));
    let mut line = String::new();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    stdout.read_line(&mut line).unwrap();
    // Keep reading: a closed pipe would kill the peer at its next write (EPIPE).
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let info: PeerInfo = serde_json::from_str(
        line.trim()
            .strip_prefix("PEER ")
            .unwrap_or_else(|| panic!("unexpected peer output {line:?}")),
    )
    .unwrap();
    let addr = info.base.trim_start_matches("http://").parse().unwrap();
    let server = ChildServer::from_child(child, addr);
    (server, info)
}

/// One run of `scenario` against a fresh server of `side`; the rate and the server's CPU.
async fn once(
    scenario: Scenario,
    side: Side,
    dir: &Path,
    concurrency: usize,
    secs: u64,
) -> (Measured, Option<String>) {
    let label = format!(
        "{} [{}]",
        scenario.name(),
        if side == Side::Ours {
            "mcp-authz"
        } else {
            "oidc-provider"
        }
    );
    match side {
        Side::Ours => {
            let server = ChildServer::spawn("sqlite");
            let measured = ours(scenario, &server, &label, concurrency, secs).await;
            server.finish_quietly();
            (measured, None)
        }
        Side::Peer => {
            let format = match scenario {
                Scenario::Introspection => "opaque",
                _ => "jwt",
            };
            let (server, info) = spawn_peer(dir, format, concurrency);
            let version = info.version.clone();
            let measured = peer(scenario, &server, info, &label, concurrency, secs).await;
            server.finish_quietly();
            (measured, Some(version))
        }
    }
}

async fn ours(
    scenario: Scenario,
    server: &ChildServer,
    label: &str,
    concurrency: usize,
    secs: u64,
) -> Measured {
    match scenario {
        Scenario::Metadata => {
            get(
                label,
                server,
                concurrency,
                secs,
                "/.well-known/oauth-authorization-server",
            )
            .await
        }
        Scenario::Jwks => get(label, server, concurrency, secs, "/jwks.json").await,
        Scenario::ClientCredentials => {
            let auth = register_machine(&server.base).await;
            client_credentials(label, server, concurrency, secs, "/token", auth).await
        }
        Scenario::Introspection => {
            let auth = register_machine(&server.base).await;
            let token = issue(server, &auth).await;
            introspect(label, server, concurrency, secs, "/introspect", auth, token).await
        }
        Scenario::RefreshRotation => {
            let client = register_public(&server.base).await;
            let cookie = remembered_session(&server.base, &client).await;
            let mut setup = super::connect(server.addr).await;
            let mut chains = Vec::new();
            for _ in 0..concurrency {
                let tokens = full_flow(&mut setup, &client, &cookie).await;
                chains.push(tokens["refresh_token"].as_str().unwrap().to_owned());
            }
            drop(setup);
            rotate(
                label,
                server,
                concurrency,
                secs,
                Arc::new(client.as_str().to_owned()),
                chains,
            )
            .await
        }
    }
}

async fn peer(
    scenario: Scenario,
    server: &ChildServer,
    info: PeerInfo,
    label: &str,
    concurrency: usize,
    secs: u64,
) -> Measured {
    match scenario {
        Scenario::Metadata => {
            get(
                label,
                server,
                concurrency,
                secs,
                "/.well-known/openid-configuration",
            )
            .await
        }
        Scenario::Jwks => get(label, server, concurrency, secs, "/jwks").await,
        Scenario::ClientCredentials => {
            client_credentials(
                label,
                server,
                concurrency,
                secs,
                "/token",
                info.machine_authorization,
            )
            .await
        }
        Scenario::Introspection => {
            let token = issue(server, &info.machine_authorization).await;
            introspect(
                label,
                server,
                concurrency,
                secs,
                "/token/introspection",
                info.machine_authorization,
                token,
            )
            .await
        }
        Scenario::RefreshRotation => {
            rotate(
                label,
                server,
                concurrency,
                secs,
                Arc::new(info.public_client),
                info.refresh_tokens,
            )
            .await
        }
    }
}

async fn get(
    label: &str,
    server: &ChildServer,
    concurrency: usize,
    secs: u64,
    path: &'static str,
) -> Measured {
    run(
        label,
        "",
        server,
        concurrency,
        secs,
        vec![(); concurrency],
        move |mut s, ()| async move {
            let reply = send(&mut s, "GET", path, &[], String::new()).await;
            assert_eq!(reply.status, 200, "GET {path}");
            (s, ())
        },
    )
    .await
}

fn client_credentials_body() -> String {
    form(&[
        ("grant_type", "client_credentials"),
        ("resource", RESOURCE),
        ("scope", SCOPE),
    ])
}

/// One access token for the machine client (for the introspection scenario).
async fn issue(server: &ChildServer, auth: &str) -> String {
    let mut s = super::connect(server.addr).await;
    let reply = send(
        &mut s,
        "POST",
        "/token",
        &[("authorization", auth)],
        client_credentials_body(),
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let json: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    json["access_token"].as_str().unwrap().to_owned()
}

async fn client_credentials(
    label: &str,
    server: &ChildServer,
    concurrency: usize,
    secs: u64,
    path: &'static str,
    auth: String,
) -> Measured {
    let auth = Arc::new(auth);
    run(
        label,
        "",
        server,
        concurrency,
        secs,
        vec![(); concurrency],
        move |mut s, ()| {
            let auth = auth.clone();
            async move {
                let reply = send(
                    &mut s,
                    "POST",
                    path,
                    &[("authorization", auth.as_str())],
                    client_credentials_body(),
                )
                .await;
                assert_eq!(reply.status, 200, "{:?}", reply.body);
                (s, ())
            }
        },
    )
    .await
}

async fn introspect(
    label: &str,
    server: &ChildServer,
    concurrency: usize,
    secs: u64,
    path: &'static str,
    auth: String,
    token: String,
) -> Measured {
    let auth = Arc::new(auth);
    let body = Arc::new(form(&[("token", token.as_str())]));
    run(
        label,
        "",
        server,
        concurrency,
        secs,
        vec![(); concurrency],
        move |mut s, ()| {
            let auth = auth.clone();
            let body = body.clone();
            async move {
                let reply = send(
                    &mut s,
                    "POST",
                    path,
                    &[("authorization", auth.as_str())],
                    body.as_str().to_owned(),
                )
                .await;
                assert_eq!(reply.status, 200, "{:?}", reply.body);
                let json: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
                assert_eq!(json["active"], true, "{json}");
                (s, ())
            }
        },
    )
    .await
}

async fn rotate(
    label: &str,
    server: &ChildServer,
    concurrency: usize,
    secs: u64,
    client: Arc<String>,
    chains: Vec<String>,
) -> Measured {
    assert!(
        chains.len() >= concurrency,
        "{} refresh-token chains",
        chains.len()
    );
    run(
        label,
        "",
        server,
        concurrency,
        secs,
        chains,
        move |mut s, token: String| {
            let client = client.clone();
            async move {
                let body = form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", token.as_str()),
                    ("client_id", client.as_str()),
                ]);
                let reply = send(&mut s, "POST", "/token", &[], body).await;
                assert_eq!(reply.status, 200, "{:?}", reply.body);
                let json: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
                (s, json["refresh_token"].as_str().unwrap().to_owned())
            }
        },
    )
    .await
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// Every scenario, `rounds` times per side, interleaved; one `PERF` line per scenario.
pub(crate) async fn compare(dir: PathBuf, concurrency: usize, secs: u64, rounds: usize) {
    println!(
        "peers: mcp-authz vs oidc-provider ({}), {rounds} interleaved rounds per scenario",
        dir.display()
    );
    let mut version = String::from("?");
    // As in the other modes, `LOAD_ONLY=<text>` runs only the scenarios whose name contains it.
    let only = std::env::var("LOAD_ONLY").unwrap_or_default();
    for scenario in Scenario::ALL {
        if !scenario.name().contains(only.as_str()) {
            continue;
        }
        let (mut ours_runs, mut peer_runs) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            let order = if round % 2 == 0 {
                [Side::Ours, Side::Peer]
            } else {
                [Side::Peer, Side::Ours]
            };
            for side in order {
                let (measured, peer_version) = once(scenario, side, &dir, concurrency, secs).await;
                if let Some(v) = peer_version {
                    version = v;
                }
                match side {
                    Side::Ours => ours_runs.push(measured),
                    Side::Peer => peer_runs.push(measured),
                }
            }
        }
        let ours_rate = median(ours_runs.iter().map(|m| m.rate).collect());
        let peer_rate = median(peer_runs.iter().map(|m| m.rate).collect());
        let ours_cpu = median(ours_runs.iter().map(|m| m.cpu_us).collect());
        let peer_cpu = median(peer_runs.iter().map(|m| m.cpu_us).collect());
        let ratio = ours_rate / peer_rate;
        println!(
            "{:<52} {ratio:>6.1}x  (mcp-authz {} /s, {ours_cpu:.0} µs CPU; oidc-provider {version} {} /s, {peer_cpu:.0} µs CPU)",
            scenario.name(),
            super::thousands(ours_rate),
            super::thousands(peer_rate),
        );
        println!(
            "PERF|{SECTION}|{}|{ratio:.1}x (mcp-authz {} /s, {ours_cpu:.0} µs server CPU per request; oidc-provider {version} {} /s, {peer_cpu:.0} µs)|{TARGET}|{COMMAND}",
            scenario.name(),
            super::thousands(ours_rate),
            super::thousands(peer_rate),
        );
    }
}
