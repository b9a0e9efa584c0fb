//! The report of `inspect`: typed rows, a human table and a stable JSON document.

use std::io::Write;

use serde::Serialize;

use crate::commands::client::printable;

/// The `format` member of the JSON document; bumped on any incompatible change.
pub(super) const FORMAT: &str = "mcp-authz-inspect/1";

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum Status {
    /// The requirement is met.
    Pass,
    /// A SHOULD is not met, or something clients may trip over.
    Warn,
    /// A MUST is not met: clients will fail or are put at risk.
    Fail,
    /// Not checked, because what it depends on failed.
    Skip,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Self::Pass => "PASS",
            Self::Warn => "WARN",
            Self::Fail => "FAIL",
            Self::Skip => "SKIP",
        }
    }
}

/// One row: a requirement ID of REQUIREMENTS.md, a stable key, the outcome and what was seen.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Check {
    /// The requirement ID, e.g. `RS-2`.
    pub(super) id: &'static str,
    /// A stable machine key of the check, e.g. `challenge-resource-metadata`.
    pub(super) key: &'static str,
    /// The outcome.
    pub(super) status: Status,
    /// What is checked, in words.
    pub(super) title: &'static str,
    /// What was seen.
    pub(super) detail: String,
}

/// How many checks ended each way.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub(super) struct Summary {
    pub(super) pass: usize,
    pub(super) warn: usize,
    pub(super) fail: usize,
    pub(super) skip: usize,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Report {
    /// [`FORMAT`].
    pub(super) format: &'static str,
    /// The URL as given.
    pub(super) server: String,
    /// Its canonical form (the `resource` clients use).
    pub(super) resource: String,
    /// Every check, in the order clients meet them.
    pub(super) checks: Vec<Check>,
    /// The counts.
    pub(super) summary: Summary,
}

impl Report {
    /// A report of `checks`, counted.
    pub(super) fn new(server: String, resource: String, checks: Vec<Check>) -> Self {
        let mut summary = Summary::default();
        for check in &checks {
            match check.status {
                Status::Pass => summary.pass += 1,
                Status::Warn => summary.warn += 1,
                Status::Fail => summary.fail += 1,
                Status::Skip => summary.skip += 1,
            }
        }
        Self {
            format: FORMAT,
            server,
            resource,
            checks,
            summary,
        }
    }

    /// Writes the JSON document.
    pub(super) fn write_json(&self, out: &mut impl Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, self)?;
        writeln!(out)
    }

    /// Writes the human table.
    pub(super) fn write_table(&self, out: &mut impl Write) -> std::io::Result<()> {
        writeln!(
            out,
            "MCP server {} (resource {})",
            self.server, self.resource
        )?;
        writeln!(out)?;
        let id_width = self
            .checks
            .iter()
            .map(|c| c.id.len())
            .max()
            .unwrap_or(2)
            .max(2);
        let title_width = self
            .checks
            .iter()
            .map(|c| c.title.chars().count())
            .max()
            .unwrap_or(5)
            .max(5);
        writeln!(
            out,
            "{:id_width$}  {:6}  {:title_width$}  DETAIL",
            "ID", "RESULT", "CHECK"
        )?;
        for check in &self.checks {
            writeln!(
                out,
                "{:id_width$}  {:6}  {:title_width$}  {}",
                check.id,
                check.status.label(),
                check.title,
                printable(&check.detail)
            )?;
        }
        let s = self.summary;
        writeln!(out)?;
        writeln!(out, "What an ID means: mcp-authz inspect --explain ID")?;
        writeln!(
            out,
            "{} passed, {} warnings, {} failed, {} skipped",
            s.pass, s.warn, s.fail, s.skip
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_neutralises_control_characters_and_json_keeps_the_text() {
        let report = Report::new(
            "https://mcp.example/mcp".to_owned(),
            "https://mcp.example/mcp".to_owned(),
            vec![Check {
                id: "RS-2",
                key: "challenge-bearer",
                status: Status::Fail,
                title: "t",
                detail: "evil\u{1b}[2Jtext".to_owned(),
            }],
        );
        let mut table = Vec::new();
        report.write_table(&mut table).unwrap();
        let table = String::from_utf8(table).unwrap();
        assert!(
            table.contains("RS-2  FAIL    t      evil?[2Jtext"),
            "{table}"
        );
        assert!(
            table.ends_with("0 passed, 0 warnings, 1 failed, 0 skipped\n"),
            "{table}"
        );
        let mut json = Vec::new();
        report.write_json(&mut json).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(value["format"], FORMAT);
        assert_eq!(value["checks"][0]["status"], "fail");
        assert_eq!(value["checks"][0]["detail"], "evil\u{1b}[2Jtext");
        assert_eq!(value["summary"]["fail"], 1);
    }
}
