//! Soak: mixed traffic against the `mcp-authz serve` binary for minutes, with latency percentiles,
//! statuses by kind and the server's memory over time (`LOAD_SOAK_MINUTES=<n>`,
//! `LOAD_SOAK_SERVE=<path to mcp-authz>`; run by `cargo xtask soak --minutes N`, which builds the
//! release binary first).
//!
//! Each worker is one public client with a refresh-token chain, looping over a fixed mix:
//! - 10 %: a full authorization (remembered consent, `302` with a code) and the code exchange;
//! - 30 %: a refresh-token rotation;
//! - 50 %: a bearer-checked MCP exchange at `/mcp`: `initialize`, then `DELETE` of the session;
//! - 10 %: bad input: a forged bearer token (`401` expected) and an unknown refresh token (`400`).
//!
//! The run fails (non-zero exit) on any `5xx`, any status other than the expected one for its kind,
//! resident memory still growing over the second half (more than 10 % + 8 MiB), or a token not
//! accounted for: every access token is accepted at `/mcp` while it is the worker's newest (an
//! `initialize` answered other than `200` fails the run), and at the end every worker's last refresh
//! token must still rotate.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use mcp_authz_metadata::ClientId;

use super::{
    ChildServer, connect, form, full_flow_for, register_public, remembered_session_as, send,
};

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"soak","version":"1"}}}"#;

/// The kinds of request the soak makes, each with the statuses it expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Authorize,
    CodeExchange,
    Refresh,
    McpInitialize,
    McpDelete,
    ForgedBearer,
    UnknownRefreshToken,
}

impl Kind {
    fn expected(self, status: u16) -> bool {
        match self {
            Kind::Authorize => status == 302,
            Kind::CodeExchange | Kind::Refresh | Kind::McpInitialize => status == 200,
            Kind::McpDelete => (200..300).contains(&status),
            Kind::ForgedBearer => status == 401,
            Kind::UnknownRefreshToken => status == 400,
        }
    }
}

/// One worker's observations: latencies (µs) and statuses by kind.
#[derive(Default)]
struct Tally {
    latencies: BTreeMap<Kind, Vec<u32>>,
    statuses: BTreeMap<(Kind, u16), u64>,
}

impl Tally {
    fn record(&mut self, kind: Kind, started: Instant, status: u16) {
        let micros = u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX);
        self.latencies.entry(kind).or_default().push(micros);
        *self.statuses.entry((kind, status)).or_default() += 1;
    }

    fn merge(&mut self, other: Tally) {
        for (kind, mut values) in other.latencies {
            self.latencies.entry(kind).or_default().append(&mut values);
        }
        for (key, n) in other.statuses {
            *self.statuses.entry(key).or_default() += n;
        }
    }
}

/// `mcp-authz serve` on a fresh data directory, the operator's rate limits off (one peer drives
/// every client on purpose); returns the child and the first user's password.
fn spawn_serve(binary: &Path, data: &Path) -> (ChildServer, String) {
    let log = data.with_extension("log");
    let mut child = Command::new(binary)
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .args([
            "--authorize-rate-limit",
            "off",
            "--token-rate-limit",
            "off",
            "--register-rate-limit",
            "off",
        ])
        .env("XDG_CONFIG_HOME", data.with_extension("config"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", binary.display()));
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| {
            panic!(
                "unexpected first line {line:?}: {}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        })
        .to_owned();
    let password = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .find_map(|l| {
            l.split_once("created user `admin` with password: ")
                .map(|(_, p)| p.trim().to_owned())
        })
        .expect("the first user's password line");
    let addr = base.trim_start_matches("http://").parse().unwrap();
    (ChildServer::from_child(child, addr), password)
}

/// A worker's own state: its client, session cookie, newest tokens.
struct Worker {
    client: ClientId,
    cookie: String,
    resource: String,
    refresh: String,
    access: String,
}

fn status_of(reply: &super::Reply) -> u16 {
    reply.status
}

async fn soak_worker(
    mut worker: Worker,
    addr: std::net::SocketAddr,
    stop: Arc<AtomicBool>,
    requests: Arc<AtomicU64>,
) -> (Worker, Tally) {
    let mut tally = Tally::default();
    let mut s = connect(addr).await;
    for op in 0u64.. {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        match op % 20 {
            0 | 1 => {
                let started = Instant::now();
                let tokens =
                    full_flow_for(&mut s, &worker.client, &worker.cookie, &worker.resource).await;
                // full_flow_for asserts the 302 and the 200; both are recorded at the flow's latency.
                tally.record(Kind::Authorize, started, 302);
                tally.record(Kind::CodeExchange, started, 200);
                worker.refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
                worker.access = tokens["access_token"].as_str().unwrap().to_owned();
                requests.fetch_add(2, Ordering::Relaxed);
            }
            2..=7 => {
                let started = Instant::now();
                let body = form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", worker.refresh.as_str()),
                    ("client_id", worker.client.as_str()),
                ]);
                let reply = send(&mut s, "POST", "/token", &[], body).await;
                tally.record(Kind::Refresh, started, status_of(&reply));
                if reply.status == 200 {
                    let json: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
                    worker.refresh = json["refresh_token"].as_str().unwrap().to_owned();
                    worker.access = json["access_token"].as_str().unwrap().to_owned();
                }
                requests.fetch_add(1, Ordering::Relaxed);
            }
            8..=17 => {
                let bearer = format!("Bearer {}", worker.access);
                let started = Instant::now();
                let reply = send_json(&mut s, "POST", "/mcp", &bearer, None, INITIALIZE).await;
                tally.record(Kind::McpInitialize, started, reply.0);
                if let Some(session) = reply.1 {
                    let started = Instant::now();
                    let deleted =
                        send_json(&mut s, "DELETE", "/mcp", &bearer, Some(&session), "").await;
                    tally.record(Kind::McpDelete, started, deleted.0);
                    requests.fetch_add(1, Ordering::Relaxed);
                }
                requests.fetch_add(1, Ordering::Relaxed);
            }
            18 => {
                let started = Instant::now();
                let forged = format!("Bearer {}x", worker.access);
                let reply = send_json(&mut s, "POST", "/mcp", &forged, None, INITIALIZE).await;
                tally.record(Kind::ForgedBearer, started, reply.0);
                requests.fetch_add(1, Ordering::Relaxed);
            }
            _ => {
                let started = Instant::now();
                let body = form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", "not-a-token-this-server-issued"),
                    ("client_id", worker.client.as_str()),
                ]);
                let reply = send(&mut s, "POST", "/token", &[], body).await;
                tally.record(Kind::UnknownRefreshToken, started, reply.status);
                requests.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    (worker, tally)
}

/// A JSON (MCP) request with a bearer token; the status and the `Mcp-Session-Id` answered, the
/// body drained.
async fn send_json(
    sender: &mut hyper::client::conn::http1::SendRequest<http_body_util::Full<bytes::Bytes>>,
    method: &str,
    path: &str,
    bearer: &str,
    session: Option<&str>,
    body: &str,
) -> (u16, Option<String>) {
    use http_body_util::BodyExt;
    let mut builder = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", "127.0.0.1")
        .header("authorization", bearer)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18");
    if !body.is_empty() {
        builder = builder.header("content-type", "application/json");
    }
    if let Some(session) = session {
        builder = builder.header("mcp-session-id", session);
    }
    sender.ready().await.unwrap();
    let response = sender
        .send_request(
            builder
                .body(http_body_util::Full::new(bytes::Bytes::from(
                    body.to_owned(),
                )))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status().as_u16();
    let session = response
        .headers()
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let _ = response.into_body().collect().await.unwrap();
    (status, session)
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    f64::from(sorted[index]) / 1000.0
}

fn rss_mib(server: &ChildServer) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid())).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap()
        / 1024.0
}

/// Runs the soak; returns `Err` with the reasons when it failed.
pub(crate) async fn soak(binary: PathBuf, minutes: f64, concurrency: usize) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let (server, password) = spawn_serve(&binary, &dir.path().join("data"));
    let resource = format!("{}/mcp", server.base);
    println!(
        "soak: {} against {} for {minutes} min, {concurrency} clients",
        binary.display(),
        server.base
    );
    let mut workers = Vec::new();
    let mut setup = connect(server.addr).await;
    for _ in 0..concurrency {
        let client = register_public(&server.base).await;
        let cookie =
            remembered_session_as(&server.base, &client, &resource, "admin", &password).await;
        let tokens = full_flow_for(&mut setup, &client, &cookie, &resource).await;
        workers.push(Worker {
            client,
            cookie,
            resource: resource.clone(),
            refresh: tokens["refresh_token"].as_str().unwrap().to_owned(),
            access: tokens["access_token"].as_str().unwrap().to_owned(),
        });
    }
    drop(setup);

    let stop = Arc::new(AtomicBool::new(false));
    let requests = Arc::new(AtomicU64::new(0));
    let handles: Vec<_> = workers
        .into_iter()
        .map(|w| tokio::spawn(soak_worker(w, server.addr, stop.clone(), requests.clone())))
        .collect();

    let duration = Duration::from_secs_f64(minutes * 60.0);
    let sample_every = Duration::from_secs(10).min(duration / 4);
    let started = Instant::now();
    let mut samples: Vec<(f64, f64)> = Vec::new();
    while started.elapsed() < duration {
        tokio::time::sleep(sample_every).await;
        let t = started.elapsed().as_secs_f64();
        let rss = rss_mib(&server);
        samples.push((t, rss));
        println!(
            "  t = {t:>6.0} s   RSS {rss:>6.1} MiB   {} requests",
            requests.load(Ordering::Relaxed)
        );
    }
    stop.store(true, Ordering::Relaxed);
    let mut tally = Tally::default();
    let mut finished = Vec::new();
    for handle in handles {
        let (worker, t) = handle.await.unwrap();
        tally.merge(t);
        finished.push(worker);
    }
    let elapsed = started.elapsed().as_secs_f64();

    let mut failures = Vec::new();
    // Every token accounted for: each chain's last refresh token still rotates.
    let mut s = connect(server.addr).await;
    for (i, worker) in finished.iter().enumerate() {
        let body = form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", worker.refresh.as_str()),
            ("client_id", worker.client.as_str()),
        ]);
        let reply = send(&mut s, "POST", "/token", &[], body).await;
        if reply.status != 200 {
            failures.push(format!(
                "worker {i}: its last refresh token was refused ({})",
                reply.status
            ));
        }
    }

    println!(
        "soak: {} requests in {elapsed:.0} s ({:.0} /s)",
        requests.load(Ordering::Relaxed),
        requests.load(Ordering::Relaxed) as f64 / elapsed
    );
    println!(
        "{:<22} {:>9} {:>9} {:>9} {:>9} {:>9}  statuses",
        "kind", "count", "p50 ms", "p90 ms", "p99 ms", "max ms"
    );
    for (kind, values) in &mut tally.latencies {
        values.sort_unstable();
        let statuses: Vec<String> = tally
            .statuses
            .iter()
            .filter(|((k, _), _)| k == kind)
            .map(|((_, status), n)| format!("{status}: {n}"))
            .collect();
        println!(
            "{:<22} {:>9} {:>9.2} {:>9.2} {:>9.2} {:>9.2}  {}",
            format!("{kind:?}"),
            values.len(),
            percentile(values, 0.50),
            percentile(values, 0.90),
            percentile(values, 0.99),
            percentile(values, 1.0),
            statuses.join(", ")
        );
    }
    for ((kind, status), n) in &tally.statuses {
        if *status >= 500 {
            failures.push(format!("{n} × {status} for {kind:?}"));
        } else if !kind.expected(*status) {
            failures.push(format!("{n} × unexpected {status} for {kind:?}"));
        }
    }
    // Memory: compare the middle sample with the last.
    if let (Some(&(t_mid, mid)), Some(&(t_end, end))) =
        (samples.get(samples.len() / 2), samples.last())
    {
        println!("memory: {mid:.1} MiB at {t_mid:.0} s, {end:.1} MiB at {t_end:.0} s");
        if end > mid * 1.10 + 8.0 {
            failures.push(format!(
                "resident memory still growing over the second half: {mid:.1} -> {end:.1} MiB"
            ));
        }
    }
    server.kill();
    if failures.is_empty() {
        println!("soak: passed");
        Ok(())
    } else {
        Err(failures.join("; "))
    }
}
