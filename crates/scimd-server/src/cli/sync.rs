//! `scimd sync`: the customer-side sync client on the command line — arguments,
//! secrets read from files or the environment (never from the command line), Ctrl-C,
//! the dry run's listing, the report file and the exit code. The work is in
//! [`scimd_sync`]. Customers script it: the flags and the report's fields are kept stable.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Args, ValueEnum};
use scimd_sync::auth::{ClientAuth, Credentials};
use scimd_sync::plan::{MatchKey, Unknown};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum MatchArg {
    #[value(name = "userName", alias = "username")]
    UserName,
    #[value(name = "externalId", alias = "externalid")]
    ExternalId,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum UnknownArg {
    Delete,
    Deactivate,
    Report,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ClientAuthArg {
    Basic,
    Form,
}

/// Make a SCIM server's users agree with a source (CSV or JSON Lines), then report.
///
/// Exit status: 0 when every operation succeeded, 1 when some failed or the target
/// refused some, 2 when the run could not start or stopped on a failure, 130 when
/// interrupted (Ctrl-C). Secrets come from files (`--token-file`, `--client-secret-file`,
/// `--password-file`) or the environment (`SCIMD_SYNC_TOKEN`, `SCIMD_SYNC_CLIENT_SECRET`,
/// `SCIMD_SYNC_PASSWORD`), never from the command line.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The source: a CSV file with a header row (default columns userName, givenName,
    /// familyName, email, active, externalId), or JSON Lines (`.jsonl`) of SCIM users.
    #[arg(long)]
    pub source: PathBuf,
    /// A CSV mapping file: `{"columns": {"Column": "scim.path", …}}` (paths such as
    /// `userName`, `name.givenName`, `emails[type eq "work"].value`, `urn:…:attr`).
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// The SCIM base URL of the target, e.g. `https://host/scim/v2`.
    #[arg(long)]
    pub target: String,
    #[command(flatten)]
    pub auth: AuthArgs,
    /// How source and target users are paired.
    #[arg(long = "match", value_enum, default_value = "userName")]
    pub match_key: MatchArg,
    /// What to do with target users the source does not have.
    #[arg(long, value_enum, default_value = "report")]
    pub unknown: UnknownArg,
    /// Print the plan with per-user diffs; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write the run's report (JSON) there.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Per-request timeout.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub timeout: std::time::Duration,
    /// No progress output (the summary is still printed).
    #[arg(long)]
    pub quiet: bool,
}

/// How a customer-side command authenticates to the server: a bearer token, or OAuth 2.0
/// (client credentials, or the password grant with an API system user).
#[derive(Debug, Args)]
pub struct AuthArgs {
    /// A file holding a bearer token.
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// OAuth 2.0 client id (client credentials; with --username, the password grant).
    #[arg(long)]
    pub client_id: Option<String>,
    /// A file holding the client secret.
    #[arg(long)]
    pub client_secret_file: Option<PathBuf>,
    /// The API system user, for the password grant.
    #[arg(long)]
    pub username: Option<String>,
    /// A file holding the API system user's password.
    #[arg(long)]
    pub password_file: Option<PathBuf>,
    /// The token endpoint, e.g. `https://host/oauth2/token`.
    #[arg(long)]
    pub token_url: Option<String>,
    /// How the client authenticates to the token endpoint.
    #[arg(long, value_enum, default_value = "basic")]
    pub client_auth: ClientAuthArg,
    /// Scopes to ask for (space-separated).
    #[arg(long)]
    pub scope: Option<String>,
}

/// A secret from a file (trimmed) or else an environment variable.
fn secret(file: &Option<PathBuf>, env: &str, what: &str) -> Result<Option<String>, String> {
    if let Some(f) = file {
        let s = std::fs::read_to_string(f).map_err(|e| format!("cannot read the {what} file {}: {e}", f.display()))?;
        let s = s.trim().to_string();
        if s.is_empty() {
            return Err(format!("the {what} file {} is empty", f.display()));
        }
        return Ok(Some(s));
    }
    Ok(std::env::var(env).ok().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()))
}

pub(super) fn credentials(a: &AuthArgs) -> Result<Credentials, String> {
    let client_auth = match a.client_auth {
        ClientAuthArg::Basic => ClientAuth::Basic,
        ClientAuthArg::Form => ClientAuth::Form,
    };
    if let Some(client_id) = &a.client_id {
        let client_secret = secret(&a.client_secret_file, "SCIMD_SYNC_CLIENT_SECRET", "client secret")?
            .ok_or("--client-id needs --client-secret-file (or SCIMD_SYNC_CLIENT_SECRET)")?;
        let token_url = a.token_url.clone().ok_or("--client-id needs --token-url")?;
        let (client_id, scope) = (client_id.clone(), a.scope.clone());
        return Ok(match &a.username {
            Some(username) => Credentials::Password {
                token_url,
                client_id,
                client_secret,
                client_auth,
                scope,
                username: username.clone(),
                password: secret(&a.password_file, "SCIMD_SYNC_PASSWORD", "password")?
                    .ok_or("--username needs --password-file (or SCIMD_SYNC_PASSWORD)")?,
            },
            None => Credentials::ClientCredentials { token_url, client_id, client_secret, client_auth, scope },
        });
    }
    if a.username.is_some() {
        return Err("--username (the password grant) needs --client-id".into());
    }
    match secret(&a.token_file, "SCIMD_SYNC_TOKEN", "token")? {
        Some(t) => Ok(Credentials::Bearer(t)),
        None => {
            Err("no credentials: give --token-file, or --client-id with --client-secret-file and --token-url".into())
        }
    }
}

/// Runs `scimd sync`; returns the exit status.
pub async fn sync(a: SyncArgs) -> u8 {
    let creds = match credentials(&a.auth) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("scimd sync: {e}");
            return 2;
        }
    };
    let cancel = Arc::new(AtomicBool::new(false));
    let on_signal = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("scimd sync: interrupted: finishing the requests in flight…");
            on_signal.store(true, Ordering::Relaxed);
        }
    });
    let options = scimd_sync::Options {
        source: a.source.clone(),
        mapping: a.mapping.clone(),
        target: a.target.clone(),
        credentials: creds,
        match_key: match a.match_key {
            MatchArg::UserName => MatchKey::UserName,
            MatchArg::ExternalId => MatchKey::ExternalId,
        },
        unknown: match a.unknown {
            UnknownArg::Delete => Unknown::Delete,
            UnknownArg::Deactivate => Unknown::Deactivate,
            UnknownArg::Report => Unknown::Report,
        },
        dry_run: a.dry_run,
        concurrency: a.concurrency.clamp(1, 256),
        cancel: cancel.clone(),
        terminal: std::io::stderr().is_terminal(),
        quiet: a.quiet,
        timeout: a.timeout,
    };
    let (report, plan) = match scimd_sync::run(options).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("scimd sync: {e}");
            return 2;
        }
    };
    if a.dry_run {
        for line in scimd_sync::describe(&plan) {
            println!("{line}");
        }
    }
    print!("{}", report.summary());
    if let Some(path) = &a.report {
        let text = serde_json::to_string_pretty(&report).unwrap_or_default();
        if let Err(e) = std::fs::write(path, text + "\n") {
            eprintln!("scimd sync: cannot write the report {}: {e}", path.display());
            return 2;
        }
    }
    if cancel.load(Ordering::Relaxed) {
        130
    } else if report.interrupted {
        2
    } else if report.error_count > 0 || !report.not_permitted.is_empty() {
        1
    } else {
        0
    }
}
