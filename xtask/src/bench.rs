//! `cargo xtask bench`: runs every benchmark, then rewrites the generated tables of
//! `docs/performance.md` from their results, leaving the prose alone.
//!
//! # Where results come from
//! - **Custom harnesses** (load tests, store throughput) print one line per result:
//!   `PERF|<section>|<name>|<figure>|<target>|<command>`. Every other output line is passed through.
//! - **Criterion benchmarks** write `target/criterion/<id>/new/estimates.json`; after each step the
//!   estimates written during that step are read (median and its confidence interval), with the id
//!   from the neighbouring `benchmark.json`.
//!
//! # What is rewritten
//! Only the tables between `<!-- bench-table: <section> -->` and `<!-- /bench-table -->` markers. A
//! table has the columns `benchmark | figure | target / note | load | command`; a row is keyed by its
//! benchmark name. A result updates its row (the target is kept when the result gives none) or adds
//! one; rows without a result in this run (a benchmark that was skipped, filtered out or failed) are
//! kept unchanged, so a partial run never erases figures. The load column is the 1-minute load
//! average when the step started.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::SystemTime;

use crate::root;

/// One `cargo bench` invocation and the table its criterion results go to.
struct Step {
    /// The section of `docs/performance.md` criterion results of this step go to (custom harnesses
    /// name their own section in each `PERF` line).
    section: &'static str,
    /// `cargo bench` arguments.
    args: &'static [&'static str],
    /// A criterion benchmark (results in `target/criterion`), else a harness printing `PERF` lines.
    criterion: bool,
}

const CRITERION: &[&str] = &["--warm-up-time", "1", "--measurement-time", "3"];

/// Every benchmark of the workspace, grouped by table.
const STEPS: &[Step] = &[
    Step {
        section: "typed",
        args: &["-p", "mcp-authz-pkce"],
        criterion: true,
    },
    Step {
        section: "typed",
        args: &["-p", "mcp-authz-metadata"],
        criterion: true,
    },
    Step {
        section: "typed",
        args: &["-p", "mcp-authz-token"],
        criterion: true,
    },
    Step {
        section: "storage",
        args: &["-p", "mcp-authz-store", "--bench", "memory"],
        criterion: true,
    },
    Step {
        section: "storage",
        args: &["-p", "mcp-authz-store-sqlite"],
        criterion: false,
    },
    Step {
        section: "storage",
        args: &["-p", "mcp-authz-store-postgres"],
        criterion: false,
    },
    Step {
        section: "resource",
        args: &["-p", "mcp-authz-resource", "--bench", "validate"],
        criterion: true,
    },
    Step {
        section: "resource",
        args: &["-p", "mcp-authz-resource", "--bench", "load"],
        criterion: false,
    },
    Step {
        section: "server",
        args: &["-p", "mcp-authz-server", "--bench", "load"],
        criterion: false,
    },
];

/// One result: a row of a generated table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    pub(crate) section: String,
    pub(crate) name: String,
    pub(crate) figure: String,
    pub(crate) target: String,
    pub(crate) load: String,
    pub(crate) command: String,
}

/// The side-by-side step (`--peers`): the server's load harness against `oidc-provider`.
const PEERS: Step = Step {
    section: "peers",
    args: &["-p", "mcp-authz-server", "--bench", "load"],
    criterion: false,
};

/// Runs every step (or only those whose arguments contain `filter`, when `extra` starts with
/// `--only <text>`; or only the side-by-side comparison with `--peers`), then rewrites
/// `docs/performance.md`.
pub(crate) fn run(extra: &[String]) -> Result<(), String> {
    if let [flag, rest @ ..] = extra
        && flag == "--peers"
    {
        let dir = install_peer()?;
        let rows = run_step(&PEERS, rest, &[("LOAD_PEERS", dir.as_os_str())])?;
        return write_rows(&rows);
    }
    let (only, extra) = match extra {
        [flag, text, rest @ ..] if flag == "--only" => (Some(text.as_str()), rest),
        _ => (None, extra),
    };
    let mut rows = Vec::new();
    let mut failed = Vec::new();
    for step in STEPS {
        let label = step.args.join(" ");
        if only.is_some_and(|text| !label.contains(text)) {
            continue;
        }
        match run_step(step, extra, &[]) {
            Ok(mut found) => rows.append(&mut found),
            Err(message) => {
                eprintln!("xtask: bench {label} failed: {message}");
                failed.push(label);
            }
        }
    }
    write_rows(&rows)?;
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "benchmarks failed (their rows were kept): {}",
            failed.join("; ")
        ))
    }
}

/// Rewrites the generated tables of `docs/performance.md` with `rows`.
fn write_rows(rows: &[Row]) -> Result<(), String> {
    let path = root().join("docs/performance.md");
    let doc = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let updated = rewrite(&doc, rows)?;
    if updated != doc {
        std::fs::write(&path, updated).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    eprintln!(
        "xtask: {} results written to {}",
        rows.len(),
        path.display()
    );
    Ok(())
}

/// Installs the pinned peer (`peers/oidc-provider`: oidc-provider and Node 22, `npm ci`) when
/// missing; returns its directory.
fn install_peer() -> Result<PathBuf, String> {
    let dir = root().join("peers/oidc-provider");
    let installed = dir.join("node_modules/.bin/node").exists()
        && dir.join("node_modules/oidc-provider/package.json").exists();
    if !installed {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .map_err(|e| format!("npm ci in {}: {e} (is npm installed?)", dir.display()))?;
        if !status.success() {
            return Err(format!("npm ci in {}: {status}", dir.display()));
        }
    }
    Ok(dir)
}

/// Runs one `cargo bench` step with `env`, passing its output through, and returns its results.
fn run_step(
    step: &Step,
    extra: &[String],
    env: &[(&str, &std::ffi::OsStr)],
) -> Result<Vec<Row>, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut args: Vec<String> = std::iter::once("bench")
        .chain(step.args.iter().copied())
        .map(str::to_owned)
        .collect();
    let criterion = step.criterion;
    if criterion || !extra.is_empty() {
        args.push("--".to_owned());
        if criterion {
            args.extend(CRITERION.iter().map(|a| (*a).to_owned()));
        }
        args.extend(extra.iter().cloned());
    }
    let command = format!("cargo {}", args.join(" "));
    eprintln!("xtask: == {command}");
    let load = load_average();
    let started = SystemTime::now();
    let mut child = Command::new(cargo)
        .args(&args)
        .envs(env.iter().copied())
        .current_dir(root())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start cargo: {e}"))?;
    let mut rows = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(|e| e.to_string())?;
            match parse_perf(&line, &load) {
                Some(row) => rows.push(row),
                None => println!("{line}"),
            }
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("{command}: {status}"));
    }
    if criterion {
        let dir = target_dir().join("criterion");
        for (name, figure) in criterion_results(&dir, started) {
            rows.push(Row {
                section: step.section.to_owned(),
                name: format!("`{name}`"),
                figure,
                target: String::new(),
                load: load.clone(),
                command: format!("`{command}`"),
            });
        }
    }
    Ok(rows)
}

/// `PERF|<section>|<name>|<figure>|<target>|<command>` as a row; `None` for any other line.
pub(crate) fn parse_perf(line: &str, load: &str) -> Option<Row> {
    let rest = line.trim_end().strip_prefix("PERF|")?;
    let mut parts = rest.splitn(5, '|');
    let (section, name, figure, target, command) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if section.is_empty() || name.is_empty() || command.contains('|') {
        return None;
    }
    Some(Row {
        section: section.to_owned(),
        name: name.to_owned(),
        figure: format!("**{figure}**"),
        target: target.to_owned(),
        load: load.to_owned(),
        command: format!("`{command}`"),
    })
}

/// The 1-minute load average now, or `?`.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}

/// The Cargo target directory.
pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// Every criterion estimate under `dir` written at or after `since`: (benchmark id, figure).
fn criterion_results(dir: &Path, since: SystemTime) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let is_new_estimate = path.file_name().is_some_and(|n| n == "estimates.json")
                && path
                    .parent()
                    .and_then(Path::file_name)
                    .is_some_and(|n| n == "new");
            let fresh = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|modified| modified >= since);
            if !(is_new_estimate && fresh) {
                continue;
            }
            let benchmark = path.with_file_name("benchmark.json");
            let (Ok(estimates), Ok(benchmark)) = (
                std::fs::read_to_string(&path),
                std::fs::read_to_string(&benchmark),
            ) else {
                continue;
            };
            if let Some(result) = criterion_figure(&estimates, &benchmark) {
                found.push(result);
            }
        }
    }
    found.sort();
    found
}

/// The benchmark id and `[low **median** high]` from criterion's `benchmark.json` and
/// `estimates.json`.
pub(crate) fn criterion_figure(estimates: &str, benchmark: &str) -> Option<(String, String)> {
    let estimates: serde_json::Value = serde_json::from_str(estimates).ok()?;
    let benchmark: serde_json::Value = serde_json::from_str(benchmark).ok()?;
    let id = benchmark.get("full_id")?.as_str()?.to_owned();
    let median = estimates.get("median")?;
    let point = median.get("point_estimate")?.as_f64()?;
    let interval = median.get("confidence_interval")?;
    let low = interval.get("lower_bound")?.as_f64()?;
    let high = interval.get("upper_bound")?.as_f64()?;
    Some((
        id,
        format!(
            "[{} **{}** {}]",
            duration(low),
            duration(point),
            duration(high)
        ),
    ))
}

/// Nanoseconds in the unit criterion would print.
pub(crate) fn duration(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.2} ns")
    } else if ns < 1e6 {
        format!("{:.2} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

const BEGIN: &str = "<!-- bench-table: ";
const END: &str = "<!-- /bench-table -->";
const HEADER: &str =
    "| benchmark | figure | target / note | load | command |\n|---|---|---|---|---|\n";

/// `doc` with each marked table merged with the `rows` of its section. Fails on an unterminated
/// marker; sections without a table in `doc` are reported and skipped.
pub(crate) fn rewrite(doc: &str, rows: &[Row]) -> Result<String, String> {
    let mut out = String::with_capacity(doc.len() + 1024);
    let mut rest = doc;
    let mut seen = Vec::new();
    while let Some(start) = find_line(rest, BEGIN) {
        let (before, from_marker) = rest.split_at(start);
        out.push_str(before);
        let line_end = from_marker
            .find('\n')
            .ok_or("a bench-table marker without a newline")?;
        let (marker, body_and_rest) = from_marker.split_at(line_end + 1);
        let section = marker
            .trim()
            .strip_prefix(BEGIN)
            .and_then(|s| s.strip_suffix("-->"))
            .map(str::trim)
            .ok_or_else(|| format!("malformed marker {marker:?}"))?;
        let end = find_line(body_and_rest, END)
            .ok_or_else(|| format!("bench-table {section} is not closed by {END}"))?;
        let (body, after) = body_and_rest.split_at(end);
        out.push_str(marker);
        let section_rows: Vec<&Row> = rows.iter().filter(|r| r.section == section).collect();
        out.push_str(&merge(body, &section_rows));
        seen.push(section.to_owned());
        rest = after;
    }
    out.push_str(rest);
    for row in rows {
        if !seen.contains(&row.section) {
            eprintln!(
                "xtask: no bench-table for section {:?}: {} not written",
                row.section, row.name
            );
        }
    }
    Ok(out)
}

/// Where the first line starting with `marker` starts in `text` (markers quoted in prose, not at
/// the start of a line, are not markers).
fn find_line(text: &str, marker: &str) -> Option<usize> {
    if text.starts_with(marker) {
        return Some(0);
    }
    text.find(&format!("\n{marker}")).map(|i| i + 1)
}

/// The rows of a generated table (`body`, header included), updated with `results`.
fn merge(body: &str, results: &[&Row]) -> String {
    // Existing rows in order, keyed by name; `order` keeps the document's order.
    let mut order: Vec<String> = Vec::new();
    let mut table: BTreeMap<String, [String; 4]> = BTreeMap::new();
    for line in body.lines().skip(2) {
        let cells = cells(line);
        if let [name, figure, target, load, command] = cells.as_slice() {
            if !table.contains_key(name) {
                order.push(name.clone());
            }
            table.insert(
                name.clone(),
                [
                    figure.clone(),
                    target.clone(),
                    load.clone(),
                    command.clone(),
                ],
            );
        }
    }
    for row in results {
        let entry = table.entry(row.name.clone()).or_insert_with(|| {
            order.push(row.name.clone());
            Default::default()
        });
        let [figure, target, load, command] = entry;
        *figure = row.figure.clone();
        if !row.target.is_empty() {
            *target = row.target.clone();
        }
        *load = row.load.clone();
        *command = row.command.clone();
    }
    let mut out = String::from(HEADER);
    for name in order {
        if let Some([figure, target, load, command]) = table.get(&name) {
            out.push_str(&format!(
                "| {name} | {figure} | {target} | {load} | {command} |\n"
            ));
        }
    }
    out
}

/// The cells of a Markdown table row (`| a | b |`), trimmed; empty for other lines.
fn cells(line: &str) -> Vec<String> {
    let line = line.trim();
    let Some(inner) = line.strip_prefix('|').and_then(|l| l.strip_suffix('|')) else {
        return Vec::new();
    };
    inner.split('|').map(|c| c.trim().to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(section: &str, name: &str, figure: &str, target: &str) -> Row {
        Row {
            section: section.to_owned(),
            name: name.to_owned(),
            figure: figure.to_owned(),
            target: target.to_owned(),
            load: "0.50".to_owned(),
            command: "`cargo bench`".to_owned(),
        }
    }

    #[test]
    fn perf_lines_parse_and_other_lines_do_not() {
        let line =
            "PERF|server|refresh rotation|5,123 /s|>= 5,000 /s|cargo bench -p x --bench load";
        let parsed = parse_perf(line, "1.20").unwrap();
        assert_eq!(
            parsed,
            Row {
                section: "server".into(),
                name: "refresh rotation".into(),
                figure: "**5,123 /s**".into(),
                target: ">= 5,000 /s".into(),
                load: "1.20".into(),
                command: "`cargo bench -p x --bench load`".into(),
            }
        );
        assert_eq!(parse_perf("refresh rotation 5123 /s", "1"), None);
        assert_eq!(parse_perf("PERF|server|only three|fields", "1"), None);
        assert_eq!(parse_perf("PERF||name|f|t|c", "1"), None);
    }

    #[test]
    fn criterion_estimates_become_a_figure() {
        let estimates = r#"{"mean":{"point_estimate":2.0},"median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":164.66,"upper_bound":180.51},"point_estimate":172.18,"standard_error":1.0}}"#;
        let benchmark =
            r#"{"group_id":"pkce","function_id":"verify_s256","full_id":"pkce/verify_s256"}"#;
        assert_eq!(
            criterion_figure(estimates, benchmark),
            Some((
                "pkce/verify_s256".to_owned(),
                "[164.66 ns **172.18 ns** 180.51 ns]".to_owned()
            ))
        );
        assert_eq!(criterion_figure("{}", benchmark), None);
        assert_eq!(duration(1_500.0), "1.50 µs");
        assert_eq!(duration(668_000.0), "668.00 µs");
        assert_eq!(duration(2_500_000.0), "2.50 ms");
    }

    #[test]
    fn rewrite_updates_adds_and_keeps_rows_and_leaves_prose_alone() {
        let doc = "# Performance\n\nProse before.\n\n\
            <!-- bench-table: server -->\n\
            | benchmark | figure | target / note | load | command |\n|---|---|---|---|---|\n\
            | metadata | **60,000 /s** | >= 30,000 /s | 2.1 | `old` |\n\
            | skipped | **1 /s** | | 2.1 | `old` |\n\
            <!-- /bench-table -->\n\nProse between.\n\n\
            <!-- bench-table: typed -->\n\
            | benchmark | figure | target / note | load | command |\n|---|---|---|---|---|\n\
            <!-- /bench-table -->\nProse after.\n";
        let rows = vec![
            row("server", "metadata", "**70,000 /s**", ""),
            row("server", "refresh", "**5,100 /s**", ">= 5,000 /s"),
            row("typed", "`pkce/verify_s256`", "[1 **2** 3]", ""),
            row("nowhere", "lost", "x", ""),
        ];
        let out = rewrite(doc, &rows).unwrap();
        let expected = "# Performance\n\nProse before.\n\n\
            <!-- bench-table: server -->\n\
            | benchmark | figure | target / note | load | command |\n|---|---|---|---|---|\n\
            | metadata | **70,000 /s** | >= 30,000 /s | 0.50 | `cargo bench` |\n\
            | skipped | **1 /s** |  | 2.1 | `old` |\n\
            | refresh | **5,100 /s** | >= 5,000 /s | 0.50 | `cargo bench` |\n\
            <!-- /bench-table -->\n\nProse between.\n\n\
            <!-- bench-table: typed -->\n\
            | benchmark | figure | target / note | load | command |\n|---|---|---|---|---|\n\
            | `pkce/verify_s256` | [1 **2** 3] |  | 0.50 | `cargo bench` |\n\
            <!-- /bench-table -->\nProse after.\n";
        assert_eq!(out, expected);
        // Idempotent: the same results again change nothing.
        assert_eq!(rewrite(&out, &rows).unwrap(), out);
        // No results: the document is unchanged but for normalized tables.
        assert_eq!(rewrite(&out, &[]).unwrap(), out);
    }

    #[test]
    fn markers_quoted_in_prose_are_not_markers() {
        let doc = "Tables sit between `<!-- bench-table: … -->` markers.\n\
            <!-- bench-table: server -->\n<!-- /bench-table -->\n";
        let out = rewrite(doc, &[row("server", "x", "**1 /s**", "")]).unwrap();
        assert!(out.starts_with("Tables sit between `<!-- bench-table: … -->` markers.\n"));
        assert!(out.contains("| x | **1 /s** |  | 0.50 | `cargo bench` |\n<!-- /bench-table -->"));
    }

    #[test]
    fn unterminated_table_is_an_error() {
        let doc = "<!-- bench-table: server -->\n| a |\n";
        assert!(rewrite(doc, &[]).is_err());
    }
}
