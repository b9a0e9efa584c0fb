//! One module per subcommand; each writes its report to the given output.

pub(crate) mod admin;
pub(crate) mod call;
pub(crate) mod challenge;
mod client;
pub(crate) mod inspect;
pub(crate) mod login;
pub(crate) mod logout;
pub(crate) mod metadata;
pub(crate) mod pkce;
pub(crate) mod serve;
pub(crate) mod status;
pub(crate) mod tools;
