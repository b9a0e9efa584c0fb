//! Command-line grammar.

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
