//! The one error type of the command: each variant is a one-line message for the user.

/// Why a command failed. Printed as one line, never with a backtrace.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// A file or standard input could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    /// Writing the result failed (e.g. a closed pipe).
    #[error("cannot write output: {0}")]
    Write(#[from] std::io::Error),
    /// An argument was not a valid value of its kind.
    #[error("invalid {what}: {reason}")]
    InvalidArgument { what: &'static str, reason: String },
    /// The input was checked and found wanting; the report was printed.
    #[error("{0}")]
    Failed(String),
}
