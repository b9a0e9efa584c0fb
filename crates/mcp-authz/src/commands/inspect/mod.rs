//! `mcp-authz inspect <mcp-url>`: discovery against any MCP server, reported requirement by
//! requirement (IDs of REQUIREMENTS.md) as pass, warn, fail or skip. Exits non-zero when a check
//! fails.

mod checks;
mod explain;
mod report;

use std::io::Write;

use super::client::{http_client, parse_server_url, policy_for, probe, runtime};
use crate::error::CliError;

/// The options of `inspect`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct InspectArgs {
    /// The MCP server's URL, e.g. `https://mcp.example.com/mcp`.
    #[arg(required_unless_present = "explain")]
    pub(crate) url: Option<String>,
    /// Print a machine-readable JSON document (format `mcp-authz-inspect/1`) instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
    /// Explain a requirement ID of the report (e.g. `RS-2`) instead of inspecting a server.
    #[arg(long, value_name = "ID", conflicts_with_all = ["url", "json"])]
    pub(crate) explain: Option<String>,
}

/// Runs the checks and prints the report.
pub(crate) fn run(args: &InspectArgs, out: &mut impl Write) -> Result<(), CliError> {
    if let Some(id) = &args.explain {
        return match explain::entry(id) {
            Some(text) => Ok(out.write_all(text.as_bytes())?),
            None => Err(CliError::InvalidArgument {
                what: "requirement ID",
                reason: format!(
                    "no requirement {id:?}; known IDs: {}",
                    explain::ids().collect::<Vec<_>>().join(" ")
                ),
            }),
        };
    }
    let url = args.url.clone().unwrap_or_default();
    let resource = parse_server_url(&url)?;
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
    let report = report::Report::new(url, resource.to_string(), checks);
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
