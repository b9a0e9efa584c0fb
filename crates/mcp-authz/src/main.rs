//! `mcp-authz`: the command-line face of the mcp-authz crates.
//!
//! Today it offers offline diagnostics built on the typed crates — generate a PKCE pair, explain a
//! `WWW-Authenticate` challenge, validate metadata documents against the MCP rules. `serve`, `login`,
//! `call` and `inspect` join as the server, resource and client crates land.
#![forbid(unsafe_code)]

mod cli;
mod commands;
mod error;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let mut out = std::io::stdout().lock();
    match commands::run(cli.command, &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mcp-authz: {error}");
            ExitCode::FAILURE
        }
    }
}
