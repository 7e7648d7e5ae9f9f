//! Reading the command line into [`Cli`]: clap's parse, with the server's settings kept
//! out of `scimd sync`. The server's flags are global (every operator command reaches
//! the database), but `sync` is the customer's side and talks to a server over HTTP only:
//! its help shows only what a client needs, and a server flag given to it is refused
//! rather than silently ignored.

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches};

use super::Cli;

/// The command line, parsed. Help and version requests and clap's own errors exit here,
/// as `Cli::parse` would; a server flag given to `sync` is an error.
pub fn parse() -> Result<Cli, String> {
    let cmd = Cli::command();
    let server_flags: Vec<clap::Arg> = cmd.get_arguments().filter(|a| a.is_global_set()).cloned().collect();
    // A subcommand that already has an argument of a global's name keeps its own: these
    // hidden copies stand in for the globals clap would otherwise show in `sync --help`.
    let cmd = cmd.mut_subcommand("sync", |sync| sync.args(server_flags.iter().map(|a| a.clone().hide(true))));
    let server_flags: Vec<String> = server_flags.iter().map(|a| a.get_id().to_string()).collect();
    let matches = cmd.get_matches();
    let given = |m: &clap::ArgMatches, id: &str| m.value_source(id) == Some(ValueSource::CommandLine);
    if let Some(sync) = matches.subcommand_matches("sync")
        && let Some(id) = server_flags.iter().find(|id| given(sync, id) || given(&matches, id))
    {
        return Err(format!(
            "--{} is a setting of the server; `scimd sync` only talks to a SCIM server over HTTP \
             (`scimd sync --help` lists its options)",
            id.replace('_', "-")
        ));
    }
    Cli::from_arg_matches(&matches).map_err(|e| e.to_string())
}
