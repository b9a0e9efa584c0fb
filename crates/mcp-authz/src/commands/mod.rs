//! One module per subcommand; each writes its report to the given output.

pub(crate) mod admin;
pub(crate) mod call;
mod challenge;
mod client;
pub(crate) mod inspect;
pub(crate) mod login;
mod metadata;
mod pkce;
pub(crate) mod serve;

use std::io::Write;

use crate::cli::Command;
use crate::error::CliError;

/// Runs one command, writing its report to `out`.
pub(crate) fn run(command: Command, out: &mut impl Write) -> Result<(), CliError> {
    match command {
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
        Command::Inspect(args) => inspect::run(&args, out),
        Command::Clients(args) => admin::clients(args, out),
        Command::Users(args) => admin::users(args, out),
        Command::Keys(args) => admin::keys(args, out),
        Command::Tokens(args) => admin::tokens(args, out),
    }
}
