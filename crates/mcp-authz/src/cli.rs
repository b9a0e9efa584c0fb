//! Command-line grammar, and the dispatch of a parsed command to its module. Each command owns its
//! arguments (`commands::*`); the groups commands share sit below them (`settings`).

use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::commands::{
    admin, call, challenge, inspect, login, logout, metadata, pkce, serve, status, tools,
};
use crate::error::CliError;

/// mcp-authz: OAuth 2.1 authorization for the Model Context Protocol.
#[derive(Debug, Parser)]
#[command(name = "mcp-authz", version, about = ABOUT, long_about = None, after_help = AFTER_HELP)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The one-line description of the program.
const ABOUT: &str = "OAuth 2.1 authorization for the Model Context Protocol: run an authorization \
                     server, sign in to MCP servers and call their tools, and check deployments";

/// The command groups, below the command list.
const AFTER_HELP: &str = "\
Run a server:        serve; clients, users, grants, consents, keys, tokens administer its store;
                     audit lists its events
Use an MCP server:   login URL, tools URL, call URL TOOL, status, logout URL
Check and explain:   inspect URL, challenge, check-as-metadata, check-resource-metadata, canonical, pkce
Shell completions:   completions bash|zsh|fish|elvish|powershell

Walkthrough: `mcp-authz serve`, then `mcp-authz login http://127.0.0.1:8400/mcp`.";

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run an authorization server with a demo protected MCP server at `/mcp`, on one listener.
    Serve(Box<serve::ServeArgs>),
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
    Login(login::LoginArgs),
    /// Call a tool of an MCP server with the stored tokens (refreshed, or stepped up in the browser,
    /// as the server demands) and print its result.
    Call(call::CallArgs),
    /// List the tools of an MCP server (with the stored tokens) and the scope each needs.
    Tools(tools::ToolsArgs),
    /// Show the MCP servers logged in to: authorization server, scope, expiry, clients (no secrets).
    Status(status::StatusArgs),
    /// Revoke the stored tokens for an MCP server at its authorization server and forget them.
    Logout(logout::LogoutArgs),
    /// Print a shell completion script, e.g. `mcp-authz completions bash > ~/.local/share/bash-completion/completions/mcp-authz`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Check an MCP server's authorization discovery from outside, requirement by requirement.
    Inspect(inspect::InspectArgs),
    /// Manage the clients in the store `serve` uses (same --config, --data-dir, --store).
    Clients(admin::ClientsArgs),
    /// Manage the local users who sign in on the login page: add, passwd, disable, enable, export,
    /// remove.
    Users(admin::UsersArgs),
    /// List and revoke the grants users gave clients (their refresh-token families).
    Grants(admin::GrantsArgs),
    /// List and forget the consents users remembered for clients.
    Consents(admin::ConsentsArgs),
    /// List and rotate the signing keys.
    Keys(admin::KeysArgs),
    /// Revoke tokens: one by value, or every grant of a client or a user.
    Tokens(admin::TokensArgs),
    /// List audit events (sign-ins, consents, tokens, refusals): by --client, --user, --since.
    Audit(admin::AuditArgs),
    /// Print the canonical form of an MCP server URI (RFC 8707 §2, MCP "Canonical Server URI") and the
    /// well-known URLs a client tries for it.
    Canonical {
        /// The MCP server's URL.
        uri: String,
    },
}

impl Command {
    /// Runs the command, writing its report to `out`.
    pub(crate) fn run(self, out: &mut impl Write) -> Result<(), CliError> {
        match self {
            Command::Serve(args) => serve::run(*args, out),
            Command::Pkce => pkce::run(out),
            Command::Challenge { value } => challenge::run(&value, out),
            Command::CheckAsMetadata { file, issuer } => metadata::check_as(&file, &issuer, out),
            Command::CheckResourceMetadata { file, resource } => {
                metadata::check_resource(&file, &resource, out)
            }
            Command::Canonical { uri } => metadata::canonical(&uri, out),
            Command::Login(args) => login::run(&args, out),
            Command::Call(args) => call::run(&args, out),
            Command::Tools(args) => tools::run(&args, out),
            Command::Status(args) => status::run(&args, out),
            Command::Logout(args) => logout::run(&args, out),
            Command::Completions { shell } => {
                let mut command = <Cli as clap::CommandFactory>::command();
                clap_complete::generate(shell, &mut command, "mcp-authz", out);
                Ok(())
            }
            Command::Inspect(args) => inspect::run(&args, out),
            Command::Clients(args) => admin::clients(args, out),
            Command::Users(args) => admin::users(args, out),
            Command::Grants(args) => admin::grants(args, out),
            Command::Consents(args) => admin::consents(args, out),
            Command::Keys(args) => admin::keys(args, out),
            Command::Tokens(args) => admin::tokens(args, out),
            Command::Audit(args) => admin::audit(args, out),
        }
    }
}
