//! `mcp-authz`: the command-line face of the mcp-authz crates.
//!
//! `serve` runs an OAuth 2.1 authorization server with a demo protected MCP server on one listener
//! (state in a SQLite file or PostgreSQL). The other subcommands are offline diagnostics built on the
//! typed crates — generate a PKCE pair, explain a `WWW-Authenticate` challenge, validate metadata
//! documents against the MCP rules.
#![forbid(unsafe_code)]

mod cli;
mod commands;
mod demo;
mod error;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    // Structured logs on standard error; standard output stays for results. Nothing logs tokens.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let mut out = std::io::stdout().lock();
    match commands::run(cli.command, &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mcp-authz: {error}");
            ExitCode::FAILURE
        }
    }
}
