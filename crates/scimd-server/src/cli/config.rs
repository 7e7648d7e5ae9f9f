//! `scimd config print-default|show`: the commented default configuration, and the one
//! scimd would run with (secrets hidden).

use clap::Subcommand;

use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum ConfigCmd {
    /// Print a commented configuration file with every setting at its default.
    PrintDefault,
    /// Print the configuration scimd would run with (file, environment and flags
    /// applied; secrets hidden). Fails, naming the key, if it is not valid.
    Show,
}

/// `scimd config …` (no database).
pub(super) fn run(cmd: ConfigCmd, cfg: &Config) -> Result<(), String> {
    match cmd {
        ConfigCmd::PrintDefault => print!("{}", crate::config::DEFAULT_TOML),
        ConfigCmd::Show => print!("{}", cfg.to_redacted_toml()),
    }
    Ok(())
}
