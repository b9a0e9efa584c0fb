//! The process's log subscriber: lines on standard error (standard output stays for results), as
//! text or JSON, at the chosen level, with the MCP library's (rmcp) per-request chatter kept for
//! `debug`. Nothing logs a token, code or secret.

use tracing::Level;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::settings::LogFormat;

/// Crates whose INFO lines are per-request detail, not operator news: shown at `debug` and `trace`,
/// and only their warnings and errors otherwise.
const CHATTY: &[&str] = &["rmcp"];

/// The filter: `level` for everything, except the [`CHATTY`] crates, which are capped at WARN
/// unless `level` is DEBUG or TRACE.
fn targets(level: Level) -> Targets {
    let chatty = if level == Level::DEBUG || level == Level::TRACE || level == Level::ERROR {
        level
    } else {
        Level::WARN
    };
    CHATTY
        .iter()
        .fold(Targets::new().with_default(level), |targets, target| {
            targets.with_target(*target, chatty)
        })
}

/// Installs the subscriber.
pub(crate) fn init(level: Level, format: LogFormat) {
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let registry = tracing_subscriber::registry().with(targets(level));
    match format {
        LogFormat::Text => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(ansi),
            )
            .init(),
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_writer(std::io::stderr),
            )
            .init(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enabled(targets: &Targets, target: &str, level: Level) -> bool {
        targets.would_enable(target, &level)
    }

    #[test]
    fn the_mcp_library_speaks_at_debug_only() {
        let info = targets(Level::INFO);
        assert!(enabled(&info, "mcp_authz::access", Level::INFO));
        assert!(!enabled(&info, "rmcp::transport", Level::INFO));
        assert!(enabled(&info, "rmcp::transport", Level::WARN));
        let debug = targets(Level::DEBUG);
        assert!(enabled(&debug, "rmcp::transport", Level::DEBUG));
        let error = targets(Level::ERROR);
        assert!(!enabled(&error, "rmcp", Level::WARN));
    }
}
