//! Why the settings (flags, environment, configuration file) could not be resolved.

/// Why the settings could not be resolved. One line each.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SettingsError {
    /// The configuration file could not be read.
    #[error("cannot read the configuration file {path}: {source}")]
    ReadFile {
        path: String,
        source: std::io::Error,
    },
    /// The configuration file is not valid.
    #[error("invalid configuration file {path}, line {line}: {message}")]
    File {
        path: String,
        line: usize,
        message: String,
    },
    /// A setting has an invalid value.
    #[error("invalid {what}: {reason}")]
    Invalid { what: &'static str, reason: String },
    /// Two settings exclude each other.
    #[error("{0}")]
    Conflict(&'static str),
    /// No data directory was given and none could be derived from the environment.
    #[error("no data directory: set --data-dir (neither XDG_DATA_HOME nor HOME is set)")]
    NoDataDir,
}
