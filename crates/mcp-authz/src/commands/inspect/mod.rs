//! `mcp-authz inspect <mcp-url>`: discovery against any MCP server, reported requirement by
//! requirement (IDs of REQUIREMENTS.md) as pass, warn, fail or skip. Exits non-zero when a check
//! fails.

mod checks;
mod report;

use std::io::Write;

use super::client::{http_client, parse_server_url, policy_for, probe, runtime};
use crate::error::CliError;

/// The options of `inspect`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct InspectArgs {
    /// The MCP server's URL, e.g. `https://mcp.example.com/mcp`.
    pub(crate) url: String,
    /// Print a machine-readable JSON document (format `mcp-authz-inspect/1`) instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
}

/// Runs the checks and prints the report.
pub(crate) fn run(args: &InspectArgs, out: &mut impl Write) -> Result<(), CliError> {
    let resource = parse_server_url(&args.url)?;
    let policy = policy_for(&resource);
    let http = http_client(&policy)?;
    let checks = runtime()?.block_on(async {
        let probe = probe(http.as_ref(), &policy, &resource).await?;
        Ok::<_, CliError>(
            checks::Inspector::new(http.as_ref(), &policy, &resource)
                .run(probe)
                .await,
        )
    })?;
    let report = report::Report::new(args.url.clone(), resource.to_string(), checks);
    if args.json {
        report.write_json(out)?;
    } else {
        report.write_table(out)?;
    }
    out.flush()?;
    match report.summary.fail {
        0 => Ok(()),
        failed => Err(CliError::Failed(format!(
            "inspect: {failed} of {} checks failed",
            report.checks.len()
        ))),
    }
}
