//! The `scimd` binary: parses the command line and hands over to [`scimd_server::cli`].

use clap::Parser;

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = scimd_server::cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("SCIMD_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    // The server gets a worker per core (or `--workers`); the operator commands are
    // short database transactions and need no more than one thread.
    let mut builder = match &cli.command {
        scimd_server::cli::Command::Serve(args) => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            if args.workers > 0 {
                b.worker_threads(args.workers);
            }
            b
        }
        scimd_server::cli::Command::Sync(_) => tokio::runtime::Builder::new_multi_thread(),
        _ => tokio::runtime::Builder::new_current_thread(),
    };
    let rt = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("scimd: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    if let scimd_server::cli::Command::Sync(args) = cli.command {
        // Its exit status tells scripts how the run went.
        return std::process::ExitCode::from(rt.block_on(scimd_server::cli::sync::sync(args)));
    }
    match rt.block_on(scimd_server::cli::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("scimd: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
