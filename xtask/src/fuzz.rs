//! `cargo xtask fuzz`: the cargo-fuzz targets of `fuzz/` (one per parser family that sees untrusted
//! bytes; `fuzz/README.md`).
//!
//! - `fuzz --smoke` (part of `ci`): every target for a few seconds from the corpus and the seeds kept
//!   in the repository, new inputs written to a scratch directory under the target directory (the
//!   repository's files are read, never changed).
//! - `fuzz --minutes N [target…]`: the long run, N minutes per target from the corpus and the seeds
//!   (`fuzz/seeds/<target>`, the RFC examples, never rewritten), growing `fuzz/corpus/<target>`, then
//!   minimised with `cargo fuzz cmin`. A crash stops the run and leaves its input in
//!   `fuzz/artifacts/<target>/`; turn it into a regression test in the crate that owns the parser.
//!
//! cargo-fuzz needs nightly features: the stable toolchain runs it with `RUSTC_BOOTSTRAP=1`. It is
//! installed with `cargo install cargo-fuzz --locked` when missing.

use std::process::Command;

use crate::{bench::target_dir, root, run};

/// Every target, as named in `fuzz/Cargo.toml`.
const TARGETS: &[&str] = &[
    "www_authenticate",
    "bearer",
    "authorization_request",
    "token_endpoint_forms",
    "metadata_documents",
    "jwt_claims",
    "token_responses",
    "vocabulary",
    "jwk_set",
    "jws",
];
/// Seconds per target in the smoke run.
const SMOKE_SECONDS: u32 = 5;

/// `cargo xtask fuzz …`.
pub(crate) fn fuzz(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        Some("--smoke") => smoke(),
        Some("--minutes") => {
            let minutes: u32 = args
                .get(1)
                .and_then(|m| m.parse().ok())
                .filter(|m| *m > 0)
                .ok_or("usage: cargo xtask fuzz --minutes N [target…]")?;
            let chosen: Vec<&str> = match args.get(2..) {
                Some(names) if !names.is_empty() => {
                    for name in names {
                        if !TARGETS.contains(&name.as_str()) {
                            return Err(format!("unknown fuzz target {name:?} ({TARGETS:?})"));
                        }
                    }
                    names.iter().map(String::as_str).collect()
                }
                _ => TARGETS.to_vec(),
            };
            long_run(minutes, &chosen)
        }
        _ => Err("usage: cargo xtask fuzz --smoke | --minutes N [target…]".to_owned()),
    }
}

/// The fuzz crate's own target directory, under the workspace's.
fn fuzz_target_dir() -> String {
    target_dir().join("fuzz").display().to_string()
}

fn ensure_cargo_fuzz() -> Result<(), String> {
    let installed = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if installed {
        return Ok(());
    }
    run(
        "install cargo-fuzz",
        "cargo",
        &["install", "cargo-fuzz", "--locked"],
        &[],
    )
}

/// `cargo fuzz <subcommand> --fuzz-dir fuzz <args>` with the stable toolchain's nightly switch.
fn cargo_fuzz(step: &str, subcommand: &str, args: &[&str]) -> Result<(), String> {
    let target = fuzz_target_dir();
    let dir = root().join("fuzz").display().to_string();
    let mut full = vec!["fuzz", subcommand, "--fuzz-dir", &dir];
    full.extend_from_slice(args);
    run(
        step,
        "cargo",
        &full,
        &[("RUSTC_BOOTSTRAP", "1"), ("CARGO_TARGET_DIR", &target)],
    )
}

fn smoke() -> Result<(), String> {
    ensure_cargo_fuzz()?;
    cargo_fuzz("fuzz build", "build", &[])?;
    let scratch = target_dir().join("fuzz-smoke");
    let _ = std::fs::remove_dir_all(&scratch);
    for target in TARGETS {
        let new = scratch.join(target);
        std::fs::create_dir_all(&new).map_err(|e| format!("creating {}: {e}", new.display()))?;
        // The kept corpus and the seeds are read where they exist (a new target has no corpus yet).
        let mut dirs = vec![new.display().to_string()];
        for kept in [
            root().join("fuzz/corpus").join(target),
            root().join("fuzz/seeds").join(target),
        ] {
            if kept.is_dir() {
                dirs.push(kept.display().to_string());
            }
        }
        let time = format!("-max_total_time={SMOKE_SECONDS}");
        let mut args: Vec<&str> = vec![target];
        args.extend(dirs.iter().map(String::as_str));
        args.extend(["--", &time, "-rss_limit_mb=2048", "-print_final_stats=1"]);
        cargo_fuzz(&format!("fuzz {target} ({SMOKE_SECONDS} s)"), "run", &args)?;
    }
    Ok(())
}

fn long_run(minutes: u32, targets: &[&str]) -> Result<(), String> {
    ensure_cargo_fuzz()?;
    cargo_fuzz("fuzz build", "build", &[])?;
    for target in targets {
        let corpus = root().join("fuzz/corpus").join(target);
        std::fs::create_dir_all(&corpus)
            .map_err(|e| format!("creating {}: {e}", corpus.display()))?;
        let corpus = corpus.display().to_string();
        let seeds = root().join("fuzz/seeds").join(target).display().to_string();
        let time = format!("-max_total_time={}", u64::from(minutes) * 60);
        cargo_fuzz(
            &format!("fuzz {target} ({minutes} min)"),
            "run",
            &[
                target,
                &corpus,
                &seeds,
                "--",
                &time,
                "-rss_limit_mb=2048",
                "-print_final_stats=1",
            ],
        )?;
        cargo_fuzz(
            &format!("minimise the {target} corpus"),
            "cmin",
            &[target, &corpus],
        )?;
    }
    Ok(())
}
