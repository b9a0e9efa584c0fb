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
    Serve(ServeArgs),
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
    /// Print the canonical form of an MCP server URI (RFC 8707 §2, MCP "Canonical Server URI") and the
    /// well-known URLs a client tries for it.
    Canonical {
        /// The MCP server's URL.
        uri: String,
    },
}

/// The options of `serve`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ServeArgs {
    /// The address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8400")]
    pub(crate) bind: SocketAddr,
    /// The public URL of the authorization server (the issuer). Default: `http://<bound address>`.
    #[arg(long)]
    pub(crate) issuer: Option<String>,
    /// The directory of the SQLite database. Default: `$XDG_DATA_HOME/mcp-authz`, else
    /// `~/.local/share/mcp-authz`.
    #[arg(long, conflicts_with = "store")]
    pub(crate) data_dir: Option<PathBuf>,
    /// A PostgreSQL URL (`postgres://...`) for state shared between instances, instead of SQLite.
    #[arg(long)]
    pub(crate) store: Option<String>,
    /// DANGEROUS, local development only: approve every authorization request at once as a demo
    /// user, without login or consent. Refused unless bound to a loopback address.
    #[arg(long)]
    pub(crate) dev: bool,
}
