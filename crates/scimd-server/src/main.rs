//! The `scimd` binary: parses the command line, loads the configuration, sets up logging
//! and the runtime, and hands over to [`scimd_server::cli`].

use scimd_server::cli::{Cli, Command};
use scimd_server::config::{Config, LogFormat};

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = match scimd_server::cli::parse() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("scimd: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    // `sync` is the customer's side: the server's configuration is not its business.
    let cfg = match &cli.command {
        Command::Sync(_) | Command::Completions { .. } => Ok(Config::default()),
        Command::Config(scimd_server::cli::config::ConfigCmd::PrintDefault) => Ok(Config::default()),
        _ => cli.load_config(),
    };
    let cfg = match cfg {
        Ok(c) => c,
        Err(e) => {
            eprintln!("scimd: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let _request_log = init_logging(&cfg, matches!(cli.command, Command::Serve(_)));
    if !matches!(cli.command, Command::Sync(_) | Command::Completions { .. }) {
        for name in Cli::unknown_variables(std::env::vars()) {
            tracing::warn!(variable = %name, "{name} is not a setting of scimd and is ignored (a flag's variable, or SCIMD_SECTION__KEY)");
        }
    }
    // The server gets a worker per core (or `server.workers`); the operator commands are
    // short database transactions and need no more than one thread.
    let mut builder = match &cli.command {
        Command::Serve(_) => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            if cfg.server.workers > 0 {
                b.worker_threads(cfg.server.workers);
            }
            b
        }
        Command::Sync(_) => tokio::runtime::Builder::new_multi_thread(),
        _ => tokio::runtime::Builder::new_current_thread(),
    };
    let rt = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("scimd: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(scimd_server::cli::run(cli, cfg)) {
        // `sync`'s status tells scripts how the run went; the other commands' is 0.
        Ok(status) => std::process::ExitCode::from(status),
        Err(e) => {
            eprintln!("scimd: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Logs go to standard error: human lines, or one JSON object per line. A server's request
/// lines take their own buffered path (`scimd_server::request_lines`) unless standard error
/// is a terminal (coloured lines); the guard flushes them when `main` returns.
fn init_logging(cfg: &Config, serving: bool) -> Option<scimd_server::request_lines::Guard> {
    let filter = tracing_subscriber::EnvFilter::try_new(&cfg.log.level).unwrap_or_else(|_| "info".into());
    use std::io::IsTerminal;
    let terminal = std::io::stderr().is_terminal();
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(terminal);
    let format = match cfg.log.format {
        LogFormat::Human => {
            builder.init();
            scimd_server::request_lines::Format::Human
        }
        LogFormat::Json => {
            builder.json().flatten_event(true).with_current_span(false).with_span_list(false).init();
            scimd_server::request_lines::Format::Json
        }
    };
    (serving && !terminal).then(|| scimd_server::request_lines::install(format))
}
