//! `mcp-authz`: the command-line face of the mcp-authz crates.
//!
//! `serve` runs an OAuth 2.1 authorization server with a demo protected MCP server on one listener
//! (state in a SQLite file or PostgreSQL; settings from flags, `MCP_AUTHZ_*` variables and a TOML file:
//! [`settings`]), optionally over TLS or as a resource server only. `clients`, `users`, `keys` and
//! `tokens` administer the same store ([`storage`]). `login`, `tools`, `call`, `status` and `logout`
//! are an MCP client with its tokens in the configuration directory; `inspect` checks a deployment
//! from outside; the other subcommands are offline diagnostics built on the typed crates — generate a
//! PKCE pair, explain a `WWW-Authenticate` challenge, validate metadata documents against the MCP
//! rules.
#![forbid(unsafe_code)]

mod cli;
mod commands;
mod data_dir;
mod demo;
mod error;
mod logging;
mod settings;
mod storage;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    // Structured logs on standard error; standard output stays for results. Nothing logs tokens.
    let format = match &cli.command {
        cli::Command::Serve(args) => commands::serve::log_format(args),
        _ => settings::LogFormat::Text,
    };
    let level = match &cli.command {
        cli::Command::Serve(args) => commands::serve::log_level(args),
        // Admin commands print their result, and a failure as one line of their own.
        cli::Command::Clients(_)
        | cli::Command::Users(_)
        | cli::Command::Keys(_)
        | cli::Command::Tokens(_)
        | cli::Command::Grants(_)
        | cli::Command::Consents(_) => tracing::Level::ERROR,
        // The client commands narrate on standard error themselves; only warnings join them.
        cli::Command::Login(_)
        | cli::Command::Call(_)
        | cli::Command::Tools(_)
        | cli::Command::Status(_)
        | cli::Command::Logout(_)
        | cli::Command::Inspect(_) => tracing::Level::WARN,
        _ => tracing::Level::INFO,
    };
    logging::init(level, format);
    let mut out = std::io::stdout().lock();
    match cli.command.run(&mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // Errors may carry server-controlled text: never a raw control character (SEC, terminal
            // escape injection).
            eprintln!("mcp-authz: {}", error::printable(&error.to_string()));
            match error {
                // 128 + SIGINT, as shells report a command stopped by Ctrl-C.
                error::CliError::Interrupted(_) => ExitCode::from(130),
                _ => ExitCode::FAILURE,
            }
        }
    }
}
