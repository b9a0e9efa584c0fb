//! Loopback load: requests/s of a trivial endpoint behind `RequireBearerLayer` (JWT, verified-token
//! cache) against the same endpoint unprotected, with a hyper client at fixed concurrency. Both receive
//! the same requests, `Authorization: Bearer` header included, so the difference is the layer's work.
//!
//! `cargo bench -p mcp-authz-resource --bench load` (bounded: REQUESTS per run or SECONDS, whichever
//! comes first).
#![allow(
    missing_docs,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use mcp_authz_metadata::ResourceUri;
use mcp_authz_resource::{RequireBearerLayer, ResourceServer, ResourceServerConfig};

const REQUESTS: usize = 40_000;
const CONCURRENCY: usize = 32;
const SECONDS: u64 = 15;

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    base
}

async fn run(url: String, token: Option<String>) -> f64 {
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let deadline = Instant::now() + Duration::from_secs(SECONDS);
    let start = Instant::now();
    let per_task = REQUESTS / CONCURRENCY;
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let client = client.clone();
        let url = url.clone();
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            let mut done = 0usize;
            while done < per_task && Instant::now() < deadline {
                let mut request = http::Request::get(&url);
                if let Some(token) = &token {
                    request = request.header("authorization", format!("Bearer {token}"));
                }
                let response = client
                    .request(request.body(Empty::new()).expect("request"))
                    .await
                    .expect("response");
                assert_eq!(response.status(), 200);
                response.into_body().collect().await.expect("body");
                done += 1;
            }
            done
        }));
    }
    let mut total = 0;
    for task in tasks {
        total += task.await.expect("task");
    }
    total as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let fixture = common::fixture();
        let plain = serve(Router::new().route("/mcp", get(|| async { "ok" }))).await;
        let config = ResourceServerConfig::builder(ResourceUri::parse(common::RESOURCE).expect("resource"))
            .authorization_server(common::ISSUER.parse().expect("issuer"))
            .required_scope("mcp:tools".parse().expect("scope"))
            .build()
            .expect("config");
        let layer = RequireBearerLayer::new(ResourceServer::new(config, common::verifier(&fixture, 10_000)));
        let protected = serve(Router::new().route("/mcp", get(|| async { "ok" })).layer(layer)).await;

        // Warm up both.
        run(format!("{plain}/mcp"), Some(fixture.token.clone())).await;
        run(format!("{protected}/mcp"), Some(fixture.token.clone())).await;
        let mut unprotected = Vec::new();
        let mut guarded = Vec::new();
        for _ in 0..3 {
            unprotected.push(run(format!("{plain}/mcp"), Some(fixture.token.clone())).await);
            guarded.push(run(format!("{protected}/mcp"), Some(fixture.token.clone())).await);
        }
        let median = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let u = median(&mut unprotected);
        let p = median(&mut guarded);
        println!("loopback load, {CONCURRENCY} concurrent connections, up to {REQUESTS} requests per run, median of 3");
        println!("unprotected: {u:.0} req/s");
        println!("protected:   {p:.0} req/s");
        println!("ratio:       {:.1} %", 100.0 * p / u);
    });
}
