//! One module per subcommand; each writes its report to the given output.

mod challenge;
mod metadata;
mod pkce;
mod serve;

use std::io::Write;

use crate::cli::Command;
use crate::error::CliError;

/// Runs one command, writing its report to `out`.
pub(crate) fn run(command: Command, out: &mut impl Write) -> Result<(), CliError> {
    match command {
        Command::Serve(args) => serve::run(args, out),
        Command::Pkce => pkce::run(out),
        Command::Challenge { value } => challenge::run(&value, out),
        Command::CheckAsMetadata { file, issuer } => metadata::check_as(&file, &issuer, out),
        Command::CheckResourceMetadata { file, resource } => {
            metadata::check_resource(&file, &resource, out)
        }
        Command::Canonical { uri } => metadata::canonical(&uri, out),
    }
}
