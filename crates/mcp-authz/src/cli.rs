//! Command-line grammar.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// mcp-authz: OAuth 2.1 authorization for the Model Context Protocol.
#[derive(Debug, Parser)]
#[command(name = "mcp-authz", version, about, long_about = None)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run an authorization server with a demo protected MCP server at `/mcp`, on one listener.
    Serve(Box<ServeArgs>),
    /// Generate a PKCE code verifier and its S256 challenge (RFC 7636), e.g. for testing with curl.
    Pkce,
    /// Parse a WWW-Authenticate header value and explain its Bearer challenge (RFC 6750, RFC 9728).
    Challenge {
        /// The header value, e.g. `Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource"`.
        value: String,
    },
    /// Validate an authorization server metadata document (RFC 8414) by MCP's rules.
    CheckAsMetadata {
        /// The JSON document; `-` reads standard input.
        file: PathBuf,
        /// The issuer the document was discovered for; `issuer` must equal it exactly.
        #[arg(long)]
        issuer: String,
    },
    /// Validate a protected resource metadata document (RFC 9728) by MCP's rules.
    CheckResourceMetadata {
        /// The JSON document; `-` reads standard input.
        file: PathBuf,
        /// The MCP server's URL; the document's `resource` must equal its canonical form.
        #[arg(long)]
        resource: String,
    },
    /// Sign in to an MCP server: discovery, registration, the browser step and the token exchange;
    /// the tokens are stored in the configuration directory.
    Login(crate::commands::login::LoginArgs),
    /// Call a tool of an MCP server with the stored tokens (refreshed, or stepped up in the browser,
    /// as the server demands) and print its result.
    Call(crate::commands::call::CallArgs),
    /// Check an MCP server's authorization discovery from outside, requirement by requirement.
    Inspect(crate::commands::inspect::InspectArgs),
    /// Manage the clients in the store `serve` uses (same --config, --data-dir, --store).
    Clients(crate::commands::admin::ClientsArgs),
    /// Manage the local users who sign in on the login page.
    Users(crate::commands::admin::UsersArgs),
    /// List and rotate the signing keys.
    Keys(crate::commands::admin::KeysArgs),
    /// Revoke tokens: one by value, or every grant of a client or a user.
    Tokens(crate::commands::admin::TokensArgs),
    /// Print the canonical form of an MCP server URI (RFC 8707 §2, MCP "Canonical Server URI") and the
    /// well-known URLs a client tries for it.
    Canonical {
        /// The MCP server's URL.
        uri: String,
    },
}

/// The options of `serve`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_long_help = crate::settings::PRECEDENCE_HELP)]
pub(crate) struct ServeArgs {
    /// The configuration file and the store.
    #[command(flatten)]
    pub(crate) storage: StoreArgs,
    /// The address to listen on (port 0 picks a free port). Default: 127.0.0.1:8400.
    #[arg(long, env = "MCP_AUTHZ_BIND")]
    pub(crate) bind: Option<SocketAddr>,
    /// The public URL of the authorization server (the issuer). Default: `http://<bound address>`
    /// (`https://` with --tls-cert).
    #[arg(long, env = "MCP_AUTHZ_ISSUER")]
    pub(crate) issuer: Option<String>,
    /// DANGEROUS, local development only: approve every authorization request at once as a demo
    /// user, without login or consent. Refused unless bound to a loopback address.
    #[arg(long, env = "MCP_AUTHZ_DEV", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", value_parser = clap::builder::BoolishValueParser::new())]
    pub(crate) dev: Option<bool>,
    /// Serve https with this PEM certificate chain (leaf first); needs --tls-key.
    #[arg(long, env = "MCP_AUTHZ_TLS_CERT", value_name = "PEM")]
    pub(crate) tls_cert: Option<PathBuf>,
    /// The PEM private key (PKCS#8, PKCS#1 or SEC1) of --tls-cert.
    #[arg(long, env = "MCP_AUTHZ_TLS_KEY", value_name = "PEM")]
    pub(crate) tls_key: Option<PathBuf>,
    /// Resource-server-only mode: serve only the demo MCP server at /mcp, accepting tokens of this
    /// external authorization server (its issuer URL); no local store.
    #[arg(long, env = "MCP_AUTHZ_AUTHORIZATION_SERVER", value_name = "URL")]
    pub(crate) authorization_server: Option<String>,
    /// Another protected resource to issue tokens for, e.g. a resource-server-only `serve`:
    /// `URL[=SCOPE,SCOPE...]` (default scopes: the demo server's). Repeatable; the variable takes a
    /// space-separated list.
    #[arg(
        long = "resource",
        env = "MCP_AUTHZ_RESOURCES",
        value_name = "URL[=SCOPES]",
        value_delimiter = ' '
    )]
    pub(crate) resources: Vec<String>,
    /// Access-token lifetime in seconds (default 600, at most 3600). Short lifetimes are for
    /// exercising refresh in tests and demos.
    #[arg(long, env = "MCP_AUTHZ_ACCESS_TOKEN_TTL", value_name = "SECONDS")]
    pub(crate) access_token_ttl: Option<u64>,
    /// The algorithm of the signing keys the server creates (its first key, and rotations). Existing
    /// keys keep theirs: after a change, `keys rotate` switches. Default: es256.
    #[arg(long, env = "MCP_AUTHZ_SIGNING_ALG", value_enum)]
    pub(crate) signing_alg: Option<crate::settings::SigningAlg>,
    /// Seconds a connection may take to send a complete request head (and, on https, to finish the
    /// TLS handshake); an idle keep-alive connection is closed after as long. Default: 10.
    #[arg(long, env = "MCP_AUTHZ_HEADER_TIMEOUT", value_name = "SECONDS")]
    pub(crate) header_timeout: Option<u64>,
    /// Seconds a request body may take to arrive once the server reads it; a stalled body gets 400.
    /// Default: 30.
    #[arg(long, env = "MCP_AUTHZ_BODY_TIMEOUT", value_name = "SECONDS")]
    pub(crate) body_timeout: Option<u64>,
    /// The most connections served at once; further ones wait in the listen queue. Default: 1024.
    #[arg(long, env = "MCP_AUTHZ_MAX_CONNECTIONS", value_name = "N")]
    pub(crate) max_connections: Option<usize>,
    /// Seconds open connections may take to finish after SIGINT or SIGTERM before they are closed.
    /// Default: 10.
    #[arg(long, env = "MCP_AUTHZ_SHUTDOWN_TIMEOUT", value_name = "SECONDS")]
    pub(crate) shutdown_timeout: Option<u64>,
    /// Rate limit of the authorization endpoint and its login and consent pages, per client address:
    /// `N/s` or `N/min`, optionally `:BURST` (e.g. 20/s:40), or `off`. Default: 20/s:40.
    #[arg(long, env = "MCP_AUTHZ_AUTHORIZE_RATE_LIMIT", value_name = "RATE")]
    pub(crate) authorize_rate_limit: Option<String>,
    /// Rate limit of the token, revocation and introspection endpoints, per authenticated client and,
    /// for unauthenticated or failed requests, per address (same form). Default: 50/s:100.
    #[arg(long, env = "MCP_AUTHZ_TOKEN_RATE_LIMIT", value_name = "RATE")]
    pub(crate) token_rate_limit: Option<String>,
    /// Rate limit of dynamic client registration, per client address (same form). Default: 1/s:10.
    #[arg(long, env = "MCP_AUTHZ_REGISTER_RATE_LIMIT", value_name = "RATE")]
    pub(crate) register_rate_limit: Option<String>,
    /// How much to log (to standard error). Default: info.
    #[arg(long, env = "MCP_AUTHZ_LOG_LEVEL", value_enum)]
    pub(crate) log_level: Option<crate::settings::LogLevel>,
    /// DANGEROUS, interoperability tests only: fetch Client ID Metadata Documents from loopback and
    /// private addresses too (the SSRF guard refuses them otherwise), trusting the PEM certificates in
    /// this file besides the web PKI roots. Documents still need https. Refused unless bound to a
    /// loopback address.
    #[arg(long, value_name = "PEM")]
    pub(crate) dangerous_allow_loopback_cimd: Option<PathBuf>,
}

/// Where the configuration and the state are: shared by `serve` and the admin commands.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct StoreArgs {
    /// The configuration file (TOML). Default: `$XDG_CONFIG_HOME/mcp-authz/config.toml`, else
    /// `~/.config/mcp-authz/config.toml`, when it exists.
    #[arg(long, env = "MCP_AUTHZ_CONFIG", value_name = "PATH", global = true)]
    pub(crate) config: Option<PathBuf>,
    /// The directory of the SQLite database. Default: `$XDG_DATA_HOME/mcp-authz`, else
    /// `~/.local/share/mcp-authz`.
    #[arg(long, env = "MCP_AUTHZ_DATA_DIR", value_name = "DIR", global = true)]
    pub(crate) data_dir: Option<PathBuf>,
    /// A PostgreSQL URL (`postgres://...`) for state shared between instances, instead of SQLite.
    #[arg(
        long,
        env = "MCP_AUTHZ_STORE",
        value_name = "URL",
        hide_env_values = true,
        global = true
    )]
    pub(crate) store: Option<String>,
    /// DANGEROUS: accept a data directory or database files that the group or others may read or
    /// write. They hold the private signing keys, so by default such a directory is refused; a new
    /// one is created mode 0700, its files 0600.
    #[arg(long, env = "MCP_AUTHZ_DANGEROUS_ALLOW_SHARED_DATA_DIR", global = true)]
    pub(crate) dangerous_allow_shared_data_dir: bool,
}
