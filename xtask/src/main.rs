//! Project automation for mcp-authz, run as `cargo xtask <command>`.
//!
//! - `ci`: everything CI checks, in the order a developer would want to learn about failures:
//!   formatting, clippy (warnings denied), the whole test suite, rustdoc (warnings denied), then the MCP
//!   conformance suite against our client (`interop/conformance/run-client.sh`), then the TypeScript
//!   SDK interop check.
//! - `conformance`: only the conformance suite.
//! - `cycles`: module import cycles inside each crate (`use crate::`/`super::` edges between files;
//!   `cycles.rs`); also the second step of `ci`.
//! - `fuzz --smoke` (also part of `ci`, after rustdoc): every cargo-fuzz target for a few seconds;
//!   `fuzz --minutes N [target…]`: the long run (`fuzz.rs`, `fuzz/README.md`).
//! - `interop`: interoperability with the official TypeScript MCP SDK, both directions
//!   (`interop/typescript/run.sh`), the official Python MCP SDK, both directions
//!   (`interop/python/run.sh`), and rmcp's own OAuth client against `serve` (`interop/rmcp/run.sh`);
//!   also the last step of `ci`.
//! - `bench`: every benchmark of the workspace, then the generated tables of `docs/performance.md`
//!   rewritten from their results (`bench --only <text>`: only the steps whose arguments contain it;
//!   `bench --peers`: the server side by side with `oidc-provider`, ratios to the `peers` table).
//! - `soak-instances --minutes N`: three `serve` instances on one PostgreSQL database behind a
//!   round-robin balancer without stickiness, rolling restarts under load for N minutes
//!   (`crates/mcp-authz/tests/instances.rs`).
//! - `soak --minutes N`: the release `mcp-authz serve` under mixed traffic for N minutes (flows,
//!   refreshes, bearer checks at `/mcp`, bad input): latency percentiles, statuses by kind, memory over
//!   time; fails on any 5xx, unexpected status, memory growth or lost token
//!   (`crates/mcp-authz-server/benches/load/soak.rs`).
//!
//! With `CI=true` a missing prerequisite (npm, a database) is an error, never a skip.

mod bench;
mod cycles;
mod fuzz;
mod matrix;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("conformance") => conformance(),
        Some("interop") => interop(),
        Some("cycles") => cycles::cycles(),
        Some("fuzz") => fuzz::fuzz(args.get(1..).unwrap_or_default()),
        Some("bench") => bench(args.get(1..).unwrap_or_default()),
        Some("soak") => soak(args.get(1..).unwrap_or_default()),
        Some("soak-instances") => soak_instances(args.get(1..).unwrap_or_default()),
        _ => {
            eprintln!(
                "usage: cargo xtask <ci|conformance|interop|cycles|fuzz --smoke|fuzz --minutes N [target…]|bench [--only <text>|--peers] [bench args]|soak --minutes N|soak-instances --minutes N>"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `true` when running under CI, where a missing prerequisite must fail the run.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// The workspace root (the parent of this crate's directory).
fn root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// Runs a command in the workspace root, failing with a message naming the step.
fn run(step: &str, program: &str, args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
    eprintln!("xtask: == {step}: {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(root())
        .status()
        .map_err(|e| format!("{step}: could not start {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{step} failed ({status})"))
    }
}

fn cargo(step: &str, args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    run(step, &cargo, args, env)
}

fn ci() -> Result<(), String> {
    cargo("format", &["fmt", "--all", "--", "--check"], &[])?;
    cycles::cycles()?;
    cargo(
        "clippy",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ],
        &[],
    )?;
    cargo("test", &["test", "--workspace", "--all-features"], &[])?;
    for store in ["sqlite", "postgres"] {
        cargo(
            &format!("test (server on {store})"),
            &[
                "test",
                "-p",
                "mcp-authz-server",
                "--all-features",
                "--tests",
            ],
            &[("MCP_AUTHZ_TEST_STORE", store)],
        )?;
    }
    cargo(
        "doc",
        &["doc", "--workspace", "--no-deps", "--all-features"],
        &[("RUSTDOCFLAGS", "-D warnings")],
    )?;
    fuzz::fuzz(&["--smoke".to_owned()])?;
    conformance()?;
    interop()?;
    eprintln!("xtask: ci passed");
    Ok(())
}

/// Installs the pinned conformance suite and Node 22 (`npm ci`) when missing, then runs it.
fn conformance() -> Result<(), String> {
    let dir = root().join("interop/conformance");
    if !dir.join("node_modules/.bin/node").exists() {
        let npm_available = Command::new("npm")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !npm_available {
            let message = "npm is not installed: the MCP conformance suite cannot run";
            if in_ci() {
                return Err(message.to_owned());
            }
            eprintln!("xtask: *** SKIPPED conformance: {message} (CI=true makes this an error)");
            return Ok(());
        }
        run(
            "install conformance suite",
            "npm",
            &[
                "ci",
                "--prefix",
                "interop/conformance",
                "--no-audit",
                "--no-fund",
            ],
            &[],
        )?;
    }
    run(
        "conformance (client, auth)",
        "bash",
        &["interop/conformance/run-client.sh"],
        &[],
    )?;
    run(
        "conformance (authorization server)",
        "bash",
        &["interop/conformance/run-server.sh"],
        &[],
    )
}

/// Every interop check (TypeScript SDK, Python SDK, rmcp), then the matrix of docs/conformance.md
/// rewritten from what they report (`matrix.rs`).
fn interop() -> Result<(), String> {
    matrix::clear()?;
    interop_typescript()?;
    interop_python()?;
    run(
        "interop (rmcp OAuth client)",
        "bash",
        &["interop/rmcp/run.sh"],
        &[],
    )?;
    matrix::rewrite()
}

/// Installs the pinned TypeScript MCP SDK and Node 22 (`npm ci`) when missing, then runs both
/// directions of its interop check.
fn interop_typescript() -> Result<(), String> {
    let dir = root().join("interop/typescript");
    let installed = dir.join("node_modules/.bin/node").exists()
        && dir
            .join("node_modules/@modelcontextprotocol/sdk/dist/esm/examples/server/simpleStreamableHttp.js")
            .exists()
        && dir
            .join("node_modules/@modelcontextprotocol/client/package.json")
            .exists();
    if !installed {
        let npm_available = Command::new("npm")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !npm_available {
            let message = "npm is not installed: the TypeScript SDK interop check cannot run";
            if in_ci() {
                return Err(message.to_owned());
            }
            eprintln!("xtask: *** SKIPPED interop: {message} (CI=true makes this an error)");
            return Ok(());
        }
        run(
            "install TypeScript SDK",
            "npm",
            &[
                "ci",
                "--prefix",
                "interop/typescript",
                "--no-audit",
                "--no-fund",
            ],
            &[],
        )?;
    }
    run(
        "interop (TypeScript SDK)",
        "bash",
        &["interop/typescript/run.sh"],
        &[],
    )
}

/// The official Python MCP SDK, both directions (`interop/python/run.sh`, which installs the pinned
/// packages into a virtual environment under the target directory).
fn interop_python() -> Result<(), String> {
    let python_available = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !python_available {
        let message = "python3 is not installed: the Python SDK interop check cannot run";
        if in_ci() {
            return Err(message.to_owned());
        }
        eprintln!("xtask: *** SKIPPED Python interop: {message} (CI=true makes this an error)");
        return Ok(());
    }
    run(
        "interop (Python SDK)",
        "bash",
        &["interop/python/run.sh"],
        &[],
    )
}

/// Every benchmark, then `docs/performance.md`'s generated tables rewritten (see `bench.rs`).
fn bench(extra: &[String]) -> Result<(), String> {
    bench::run(extra)
}

/// `soak-instances --minutes N`: three `serve` instances on one PostgreSQL database behind a
/// round-robin balancer, rolling restarts under load for N minutes
/// (`crates/mcp-authz/tests/instances.rs`).
fn soak_instances(args: &[String]) -> Result<(), String> {
    let minutes = match args {
        [flag, n] if flag == "--minutes" && n.parse::<f64>().is_ok_and(|m| m > 0.0) => n.clone(),
        _ => return Err("usage: cargo xtask soak-instances --minutes N".to_owned()),
    };
    cargo(
        "soak the instances",
        &[
            "test",
            "-p",
            "mcp-authz",
            "--test",
            "instances",
            "--",
            "--nocapture",
        ],
        &[("MCP_AUTHZ_INSTANCES_SOAK_MINUTES", minutes.as_str())],
    )
}

/// `soak --minutes N`: builds the release binary, then runs the load harness's soak mode against it.
fn soak(args: &[String]) -> Result<(), String> {
    let minutes = match args {
        [flag, n] if flag == "--minutes" && n.parse::<f64>().is_ok_and(|m| m > 0.0) => n.clone(),
        _ => return Err("usage: cargo xtask soak --minutes N".to_owned()),
    };
    cargo(
        "build the release binary",
        &["build", "--release", "-p", "mcp-authz"],
        &[],
    )?;
    let binary = bench::target_dir().join("release/mcp-authz");
    // Absolute: the harness runs in the server crate's directory.
    let binary = std::fs::canonicalize(&binary)
        .map_err(|e| format!("{}: {e}", binary.display()))?
        .to_string_lossy()
        .into_owned();
    cargo(
        "soak",
        &["bench", "-p", "mcp-authz-server", "--bench", "load"],
        &[
            ("LOAD_SOAK_MINUTES", minutes.as_str()),
            ("LOAD_SOAK_SERVE", binary.as_str()),
        ],
    )
}
