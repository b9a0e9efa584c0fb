//! The one error type of the command: each variant is a one-line message for the user; and the one
//! home of making server-controlled text safe to print on a terminal. The errors of the settings and of
//! the commands live here too, below everything that returns them.

mod admin;
mod settings;
mod tls;

pub(crate) use admin::AdminError;
pub(crate) use settings::SettingsError;
pub(crate) use tls::TlsError;

/// `text` with control characters (which a hostile server could use to rewrite the terminal: `ESC ]
/// 0 ; … BEL` retitles it, `ESC [ 2 J` clears it) replaced by `?`. Every line the client commands
/// print goes through this (or [`printable_text`]).
pub(crate) fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// Like [`printable`] for multi-line output (a tool's text): line feeds and tabs are kept, every
/// other control character (ESC, BEL, CR, ...) becomes `?`.
pub(crate) fn printable_text(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                '?'
            } else {
                c
            }
        })
        .collect()
}

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
    /// `--dev` was asked for on an address other people can reach.
    #[error("--dev is only allowed on a loopback address, not {0}")]
    DevNotLoopback(std::net::SocketAddr),
    /// The data directory could not be created or used.
    #[error("cannot use data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    /// The data directory or a database file in it lets the group or others in (SEC-14).
    #[error(
        "refusing {path}: its mode {mode:o} lets other users read or write the data directory, which holds the private signing keys; run `chmod go= {path}`, or pass --dangerous-allow-shared-data-dir"
    )]
    SharedDataDir { path: String, mode: u32 },
    /// An admin command found no database where `serve` would keep it.
    #[error(
        "no database at {path}: run `mcp-authz serve` once, or pass the server's --data-dir/--database/--store/--config"
    )]
    NoStore { path: String },
    /// The SQLite database file exists but cannot be written.
    #[error(
        "cannot write the database {path}: {source}; give the server's user write permission (e.g. `chmod u+w {path}`) or use another --data-dir"
    )]
    DatabaseNotWritable {
        path: String,
        source: std::io::Error,
    },
    /// The SQLite database could not be opened (missing permission, locked, too new).
    #[error("cannot open the SQLite store: {0}")]
    Sqlite(#[from] mcp_authz_store_sqlite::OpenError),
    /// The PostgreSQL database could not be reached or migrated.
    #[error("cannot open the PostgreSQL store: {0}")]
    Postgres(#[from] mcp_authz_store_postgres::ConnectError),
    /// A storage operation at start-up failed.
    #[error("storage: {0}")]
    Store(#[from] mcp_authz_store::StoreError),
    /// The authorization server configuration was refused.
    #[error("authorization server configuration: {0}")]
    ServerConfig(#[from] mcp_authz_server::ConfigError),
    /// The protected resource configuration was refused.
    #[error("protected resource configuration: {0}")]
    ResourceConfig(#[from] mcp_authz_resource::ConfigError),
    /// The first user could not be created.
    #[error("cannot create the first user: {0}")]
    CreateUser(#[from] mcp_authz_server::CreateUserError),
    /// Random bytes for the first password were unavailable.
    #[error("no operating system randomness: {0}")]
    Random(getrandom::Error),
    /// Listening on the address failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    /// The external authorization server's metadata could not be discovered.
    #[error("cannot discover the authorization server {issuer}: {reason}")]
    Discovery { issuer: String, reason: String },
    /// The settings (flags, environment, configuration file) were refused.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// TLS could not be set up from the certificate and key files.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// An admin command failed.
    #[error(transparent)]
    Admin(#[from] AdminError),
    /// The async runtime could not start, or serving failed.
    #[error("server: {0}")]
    Serve(std::io::Error),
    /// The client configuration directory (tokens, registrations) could not be created or used.
    #[error("cannot use configuration directory {path}: {source}")]
    ConfigDir {
        path: String,
        source: std::io::Error,
    },
    /// No configuration directory was given and none could be derived from the environment.
    #[error(
        "no configuration directory: set --config-dir or MCP_AUTHZ_CONFIG_DIR (neither XDG_CONFIG_HOME nor HOME is set)"
    )]
    NoConfigDir,
    /// Discovery, registration, authorization, a token request or the token store failed.
    #[error("{0}")]
    Client(#[from] mcp_authz_client::ClientError),
    /// An MCP request failed.
    #[error("{0}")]
    Mcp(#[from] mcp_authz_client::McpError),
    /// No usable stored grant for the MCP server: the user has to log in (again).
    #[error("not logged in to {resource}: run `mcp-authz login {resource}`")]
    NotLoggedIn { resource: String },
    /// The user pressed Ctrl-C; the text says what was left undone.
    #[error("interrupted: {0}")]
    Interrupted(String),
    /// The MCP server has no tool of that name.
    #[error("the MCP server at {resource} has no tool `{tool}`; its tools: {tools}")]
    UnknownTool {
        resource: String,
        tool: String,
        tools: String,
    },
    /// The authorization server no longer knows the client the stored grant was issued to (it was
    /// removed, or the server's database was reset); the grant and the registration were forgotten.
    #[error(
        "the authorization server no longer knows this client (invalid_client): the stale grant and registration were forgotten; run `mcp-authz login {resource}`"
    )]
    ClientGone { resource: String },
    /// The authorization server refused the stored grant (`invalid_grant`: revoked, or expired);
    /// it was forgotten.
    #[error(
        "the authorization server no longer accepts the stored grant (it was revoked or has expired) and it was forgotten; run `mcp-authz login {resource}`"
    )]
    GrantRefused { resource: String },
    /// The token file does not parse.
    #[error(
        "the token file {path} is corrupt ({reason}); run `mcp-authz login URL` to move it aside and sign in again"
    )]
    CorruptTokenFile { path: String, reason: String },
    /// The tool ran and reported an error.
    #[error("tool `{tool}` reported an error: {message}")]
    ToolFailed { tool: String, message: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_replaced_visibly() {
        assert_eq!(
            printable("a\u{1b}]0;t\u{7}b\u{1b}[2J\nc\u{9b}"),
            "a?]0;t?b?[2J?c?"
        );
        assert_eq!(printable_text("a\u{1b}[2J\nb\tc\r"), "a?[2J\nb\tc?");
    }
}
