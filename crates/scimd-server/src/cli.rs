//! The `scimd` command line: the declaration ([`Cli`], [`Command`]), the configuration
//! it runs with ([`Cli::load_config`]: `--config`, `SCIMD_…__…`, flags such as
//! `--database`) and the dispatch ([`run`]) to one module per command group, each with
//! its clap types beside its code: `serve` (and `healthcheck`), `database` (opening it;
//! `migrate`), `tenant`, `token` (and `admin-token`), `client`, `api_user`, `keys`
//! (`signing-key`, `master-key`), `audit`, `group`, `user` (import), `places` (and
//! `access`), `portal` (`operator`, `system-user`), `events` (event streams, `tail`), `onboard` (`onboard`,
//! `tenant promote`, `golive`), `transfer` (`export`, `import`, `backup`, `restore`),
//! `config`, `sync` (the customer side). The
//! commands' logic lives in `admin`.
//! Output formats are relied on by scripts: `token create` prints the token alone on its
//! last line; lists are tab-separated.

pub mod api_user;
pub mod audit;
pub mod client;
pub mod config;
mod database;
pub mod events;
pub mod group;
pub mod keys;
pub mod onboard;
mod parse;
pub mod places;
pub mod portal;
pub mod serve;
pub mod sync;
pub mod tenant;
pub mod token;
pub mod transfer;
pub mod trust;
pub mod user;

pub use parse::parse;

use clap::{Parser, Subcommand};
use database::Database;

use crate::admin::Admin;
use crate::config::{Config, LogFormat, Synchronous};

#[derive(Debug, Parser)]
#[command(name = "scimd", version = crate::VERSION, about = "A SCIM 2.0 provisioning server")]
pub struct Cli {
    /// A TOML configuration file (`scimd config print-default` prints a commented one);
    /// environment variables (`SCIMD_SECTION__KEY`) and flags override it.
    #[arg(long, global = true, env = "SCIMD_CONFIG")]
    pub config: Option<String>,

    /// Database URL: `sqlite://PATH` (a plain path also works) or
    /// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE` (several scimd processes may share
    /// one PostgreSQL database). [config: database.url; default sqlite://scimd.db]
    #[arg(long, global = true, env = "SCIMD_DATABASE_URL")]
    pub database: Option<String>,

    /// A file holding the database URL (its password out of the command line and the
    /// environment); wins over `--database`. [config: database.url_file]
    #[arg(long, global = true, env = "SCIMD_DATABASE_URL_FILE")]
    pub database_url_file: Option<String>,

    /// SQLite durability: `normal` survives a crash of the process (kill -9);
    /// `full` also survives power loss, at the cost of an fsync per commit batch.
    /// [config: database.sqlite_synchronous; default normal]
    #[arg(long, global = true, env = "SCIMD_SQLITE_SYNCHRONOUS", value_enum)]
    pub sqlite_synchronous: Option<Synchronous>,

    /// MiB of the SQLite file read through a memory map (0 turns mapped reads off, e.g. on
    /// a network filesystem). [config: database.sqlite_mmap_mib; default 65536]
    #[arg(long, global = true, env = "SCIMD_SQLITE_MMAP_MIB")]
    pub sqlite_mmap_mib: Option<i64>,

    /// MiB of SQLite page cache per database connection. [config: database.sqlite_cache_mib; default 8]
    #[arg(long, global = true, env = "SCIMD_SQLITE_CACHE_MIB")]
    pub sqlite_cache_mib: Option<i64>,

    /// PostgreSQL connections per scimd process. [config: database.pg_pool; default 16]
    #[arg(long, global = true, env = "SCIMD_PG_POOL")]
    pub pg_pool: Option<usize>,

    /// A file holding the master key that seals the signing keys in the database (32
    /// random bytes, base64 or hex; `scimd master-key generate`). [config: secrets.master_key_file]
    #[arg(long, global = true, env = "SCIMD_MASTER_KEY_FILE")]
    pub master_key_file: Option<String>,

    /// During a master-key rotation, a file holding the key used before: it only reads,
    /// and `serve` re-seals everything under the current key at start.
    /// [config: secrets.previous_master_key_file]
    #[arg(long, global = true, env = "SCIMD_PREVIOUS_MASTER_KEY_FILE")]
    pub previous_master_key_file: Option<String>,

    /// Log lines as `human` text or `json` objects. [config: log.format; default human]
    #[arg(long, global = true, env = "SCIMD_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,

    /// What is logged, as a tracing filter (`info`, `warn`, `info,scimd::request=off`).
    /// [config: log.level; default info]
    #[arg(long, global = true, env = "SCIMD_LOG")]
    pub log_level: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// The configuration this command line runs with: the file, the environment, the flags.
    pub fn load_config(&self) -> Result<Config, String> {
        let mut f = crate::config::Flags::default();
        f.set("database.url", self.database.clone());
        f.set("database.url_file", self.database_url_file.clone());
        f.set_name("database.sqlite_synchronous", self.sqlite_synchronous);
        f.set("database.sqlite_mmap_mib", self.sqlite_mmap_mib);
        f.set("database.sqlite_cache_mib", self.sqlite_cache_mib);
        f.set("database.pg_pool", self.pg_pool.map(|n| n as i64));
        f.set_name("log.format", self.log_format);
        f.set("log.level", self.log_level.clone());
        f.set("secrets.master_key_file", self.master_key_file.clone());
        f.set("secrets.previous_master_key_file", self.previous_master_key_file.clone());
        if let Command::Serve(a) = &self.command {
            a.flags(&mut f);
        }
        crate::config::load(self.config.as_deref(), std::env::vars(), &f)
    }

    /// `SCIMD_…` variables in `env` that scimd does not read (a misspelt flat variable is
    /// otherwise silently ignored): neither a flag's, nor a `SCIMD_…__…` key (those are
    /// checked as configuration), nor one of the few read directly.
    pub fn unknown_variables(env: impl IntoIterator<Item = (String, String)>) -> Vec<String> {
        fn envs(c: &clap::Command, into: &mut std::collections::HashSet<String>) {
            for a in c.get_arguments() {
                if let Some(e) = a.get_env() {
                    into.insert(e.to_string_lossy().into_owned());
                }
            }
            for sub in c.get_subcommands() {
                envs(sub, into);
            }
        }
        let mut known: std::collections::HashSet<String> =
            ["SCIMD_SYNC_TOKEN", "SCIMD_SYNC_CLIENT_SECRET", "SCIMD_SYNC_PASSWORD", "SCIMD_BUILD_COMMIT"]
                .into_iter()
                .map(str::to_string)
                .collect();
        envs(&<Cli as clap::CommandFactory>::command(), &mut known);
        let mut unknown: Vec<String> = env
            .into_iter()
            .map(|(k, _)| k)
            .filter(|k| k.starts_with("SCIMD_") && !k.contains("__") && !known.contains(k))
            .collect();
        unknown.sort();
        unknown
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the SCIM server.
    Serve(serve::ServeArgs),
    /// Create or upgrade the database schema, then exit (`serve` does it too, at start;
    /// with PostgreSQL, replicas starting together wait for each other's migration).
    Migrate,
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(tenant::TenantCmd),
    /// Manage bearer tokens.
    #[command(subcommand)]
    Token(token::TokenCmd),
    /// Manage OAuth clients of the built-in authorization server.
    #[command(subcommand)]
    Client(client::ClientCmd),
    /// Manage tenants' federated trusts: identity providers whose signed tokens a tenant
    /// accepts (JWT bearer grant, clients' assertions).
    #[command(subcommand)]
    Trust(trust::TrustCmd),
    /// Manage API system users (service accounts that log in with the password grant).
    #[command(subcommand)]
    ApiUser(api_user::ApiUserCmd),
    /// Manage the portal's operators (password and second factor; every tenant).
    #[command(subcommand)]
    Operator(portal::OperatorCmd),
    /// Manage a tenant's system users (people who sign in to the portal for one tenant).
    #[command(subcommand)]
    SystemUser(portal::SystemUserCmd),
    /// Manage the keys that sign access tokens.
    #[command(subcommand)]
    SigningKey(keys::SigningKeyCmd),
    /// Manage operator tokens of the admin API.
    #[command(subcommand)]
    AdminToken(token::AdminTokenCmd),
    /// The master key that seals the signing keys in the database.
    #[command(subcommand)]
    MasterKey(keys::MasterKeyCmd),
    /// Read the audit trail: events, their payloads, the go-live summary, the error log.
    #[command(subcommand)]
    Audit(audit::AuditCmd),
    /// Manage a tenant's places (locations, sections, locker banks, lockers) and location rules.
    #[command(subcommand)]
    Places(places::PlacesCmd),
    /// Manage which groups may use which locker banks, and ask who may use what.
    #[command(subcommand)]
    Access(places::AccessCmd),
    /// Manage a tenant's groups as the operator (for tenants whose identity provider may
    /// not create them, such as the locker preset's).
    #[command(subcommand)]
    Group(group::GroupCmd),
    /// Import a tenant's existing users, with their ids (a product moving to scimd).
    #[command(subcommand)]
    User(user::UserCmd),
    /// Manage a tenant's event streams, and watch the events it records.
    #[command(subcommand)]
    Events(events::EventsCmd),
    /// Bring a customer on: its credentials made and sent (email, text message), its
    /// set-password links re-sent or revoked, the messages sent.
    Onboard(onboard::OnboardArgs),
    /// The go-live check: a test run submitted (the customer), reviewed, approved or
    /// rejected (the operator).
    #[command(subcommand)]
    Golive(onboard::GoliveCmd),
    /// Make a SCIM server's users agree with a source of users (the customer side).
    Sync(sync::SyncArgs),
    /// Write the database's data, or some tenants', to one file (JSON Lines with a count
    /// and digest per kind of row), to import into another database (SQLite or PostgreSQL).
    Export(transfer::ExportArgs),
    /// Read an export into this database: checked whole first, written in batches, then
    /// read back and compared with the file.
    Import(transfer::ImportArgs),
    /// Copy a SQLite database and its audit journal while the server runs (a consistent
    /// snapshot of each).
    Backup(transfer::BackupArgs),
    /// Put a SQLite backup in place of the database (the server stopped).
    Restore(transfer::RestoreArgs),
    /// The configuration: print the commented default, or show the effective one.
    #[command(subcommand)]
    Config(config::ConfigCmd),
    /// Ask a running scimd whether it is ready (for container probes): exit 0 if
    /// `/readyz` answers 200, else 1.
    Healthcheck(serve::HealthcheckArgs),
    /// Print a shell completion script (`scimd completions bash > /etc/bash_completion.d/scimd`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Runs the command line with its configuration (see [`Cli::load_config`]). `Ok` carries
/// the exit status: `sync`'s tells scripts how the run went; every other command's is 0.
pub async fn run(cli: Cli, cfg: Config) -> Result<u8, String> {
    let db = || Database::open(&cfg);
    match cli.command {
        Command::Sync(args) => return Ok(sync::sync(args).await),
        Command::Golive(onboard::GoliveCmd::Submit(args)) => return Ok(onboard::submit(args).await),
        Command::Golive(cmd) => onboard::golive(&onboarding(&cfg, db().await?)?, cmd).await?,
        Command::Onboard(args) => onboard::onboard(&onboarding(&cfg, db().await?)?, args).await?,
        Command::Tenant(tenant::TenantCmd::Promote { name, production }) => {
            onboard::promote(&onboarding(&cfg, db().await?)?, &name, production.as_deref()).await?
        }
        Command::Config(cmd) => config::run(cmd, &cfg)?,
        Command::Completions { shell } => completions(shell),
        Command::Healthcheck(args) => serve::healthcheck(&cfg, args).await?,
        Command::MasterKey(cmd) => keys::master_key(cmd, &cfg).await?,
        Command::Serve(_) => {
            // Held while serving: a restore or import waits for no server.
            let _lock = database::serving_lock(&cfg)?;
            serve::serve(&cfg, db().await?).await?
        }
        Command::Export(args) => transfer::export(&cfg, args).await?,
        Command::Import(args) => transfer::import(&cfg, args).await?,
        Command::Backup(args) => transfer::backup(&cfg, args)?,
        Command::Restore(args) => transfer::restore(&cfg, args)?,
        Command::Migrate => database::migrate(&cfg, &db().await?).await?,
        Command::Tenant(cmd) => tenant::run(&db().await?.admin, cmd).await?,
        Command::Token(cmd) => token::run(&db().await?.admin, cmd).await?,
        Command::AdminToken(cmd) => token::admin_token(&db().await?.admin, cmd).await?,
        Command::Client(cmd) => client::run(&db().await?.admin, cmd).await?,
        Command::ApiUser(cmd) => api_user::run(&db().await?.admin, cmd).await?,
        Command::Trust(cmd) => trust::run(&db().await?.admin, cmd).await?,
        Command::Operator(cmd) => portal::operator(&portal(&cfg, db().await?), cmd).await?,
        Command::SystemUser(cmd) => portal::system_user(&portal(&cfg, db().await?), cmd).await?,
        Command::SigningKey(cmd) => keys::signing_key(&db().await?.admin, cmd).await?,
        Command::Audit(cmd) => audit::run(&db().await?.admin, cmd).await?,
        Command::Places(cmd) => places::places(&db().await?.admin, cmd).await?,
        Command::Access(cmd) => places::access(&db().await?.admin, cmd).await?,
        Command::Group(cmd) => group::run(&db().await?.admin, cmd).await?,
        Command::User(cmd) => user::run(&db().await?.admin, cmd).await?,
        Command::Events(cmd) => events::run(&db().await?.admin, cmd, &cfg).await?,
    }
    Ok(0)
}

/// The portal's settings from the configuration.
pub(crate) fn portal_settings(cfg: &Config) -> crate::portal::PortalSettings {
    // Invitation links point at the public URL; without one, at the listening address.
    let origin = match &cfg.server.public_url {
        Some(u) => scimd_core::profile::public_root(u).to_string(),
        None => format!("http://{}", cfg.server.listen.replace("0.0.0.0", "localhost")),
    };
    let p = &cfg.portal;
    crate::portal::PortalSettings {
        session_idle: p.session_idle,
        session_max: p.session_max,
        invite_ttl: p.invite_ttl,
        public_origin: Some(origin),
        sso_allow_http_loopback: false,
    }
}

/// The portal's use cases over an open database (no signing in: that needs the server).
fn portal(cfg: &Config, db: Database) -> crate::portal::Portal {
    crate::portal::Portal::new(db.store, db.clock, db.keyring, portal_settings(cfg))
}

/// The onboarding's use cases as the configuration says (its email relay, SMS gateway,
/// product name).
pub(crate) fn onboarding_for(
    cfg: &Config,
    store: std::sync::Arc<dyn scimd_store::Store>,
    clock: std::sync::Arc<dyn crate::clock::Clock>,
    admin: std::sync::Arc<crate::admin::Admin>,
    portal: std::sync::Arc<crate::portal::Portal>,
) -> Result<crate::onboard::Onboarding, String> {
    let mailer = cfg.smtp_settings()?.map(|s| crate::mail::Mailer::new(&s)).transpose().map_err(|e| e.to_string())?;
    let sms = cfg.sms_settings()?.map(|s| crate::sms::SmsGateway::new(&s)).transpose().map_err(|e| e.to_string())?;
    let outbox = crate::onboard::Outbox::new(mailer, sms, store.clone(), clock.clone());
    let settings = crate::onboard::OnboardSettings {
        letterhead: crate::onboard::Letterhead {
            product: cfg.onboarding.product_name.clone(),
            support_email: cfg.onboarding.support_email.clone(),
        },
        link_ttl: cfg.portal.invite_ttl,
        origin: portal_settings(cfg).public_origin.unwrap_or_default(),
        token_path: cfg.oauth.token_path.clone(),
    };
    Ok(crate::onboard::Onboarding::new(store, clock, admin, portal, outbox, settings))
}

/// The onboarding's use cases over an open database.
fn onboarding(cfg: &Config, db: Database) -> Result<crate::onboard::Onboarding, String> {
    let (store, clock) = (db.store.clone(), db.clock.clone());
    let admin = std::sync::Arc::new(Admin::new(store.clone(), clock.clone()).with_keyring(db.keyring.clone()));
    let portal = std::sync::Arc::new(portal(cfg, db));
    onboarding_for(cfg, store, clock, admin, portal)
}

/// `scimd completions SHELL`: the shell's completion script, from the declaration.
fn completions(shell: clap_complete::Shell) {
    clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "scimd", &mut std::io::stdout());
}

/// A duration flag in whole seconds: at least one, else an error naming `what`.
fn ttl_secs(d: std::time::Duration, what: &str) -> Result<i64, String> {
    match i64::try_from(d.as_secs()) {
        Ok(s) if s > 0 => Ok(s),
        _ => Err(format!("{what} must be at least one second")),
    }
}
