//! The `scimd` command line: `serve` (in `serve`, with `healthcheck`), the operator
//! commands that work directly on the database (`tenant create|set|list`, `token
//! create|list|revoke`, `client create|list|secret`, `api-user create`, …), `config
//! print-default|show` and `completions`. Every command runs with the configuration
//! (`--config`, `SCIMD_…__…`, flags such as `--database`). Output formats are relied on by
//! scripts: `token create` prints the token alone on its last line; lists are tab-separated.
//!
//! Longer than the 800 lines a file should have: it is the command-line declaration (clap
//! derives) and its dispatch; the commands' logic lives in `admin`. Splitting it by concern
//! comes with the store written once and the server split by concern (the next
//! restructuring).

mod parse;
mod places;
mod serve;
pub mod sync;

pub use parse::parse;

use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};
use scimd_store::Store;
use scimd_store::postgres::{PgOptions, PgStore};
use scimd_store::sqlite::{SqliteOptions, SqliteStore, Synchronous as SqlSync};

use crate::clock::{Clock, SystemClock};
use crate::config::{Config, Details, LogFormat, Synchronous, is_postgres, redacted_url, sqlite_path};

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
            f.set("server.listen", a.listen.clone());
            f.set("server.public_url", a.public_url.clone());
            f.set("server.trust_forwarded_headers", a.trust_forwarded_headers);
            f.set("server.workers", a.workers.map(|n| n as i64));
            f.set("server.default_page_size", a.default_page_size.map(|n| n as i64));
            f.set("server.max_page_size", a.max_page_size.map(|n| n as i64));
            f.set("server.max_body_bytes", a.max_body_bytes.map(|n| n as i64));
            f.set_duration("server.shutdown_grace", a.shutdown_grace);
            f.set("server.admin_token_file", a.admin_token_file.clone());
            f.set("limits.tenant_rate", a.tenant_rate.map(i64::from));
            f.set("limits.client_rate", a.client_rate.map(i64::from));
            f.set("limits.max_concurrent_requests", a.max_concurrent_requests.map(|n| n as i64));
            f.set_duration("limits.request_timeout", a.request_timeout);
            f.set("limits.max_connections", a.max_connections.map(|n| n as i64));
            f.set_duration("limits.header_timeout", a.header_timeout);
            f.set_duration("limits.idle_timeout", a.idle_timeout);
            f.set("oauth.issuer", a.issuer.clone());
            f.set("oauth.token_path", a.token_path.clone());
            f.set("oauth.lockout_threshold", a.lockout_threshold);
            f.set("oauth.lockout_threshold_total", a.lockout_threshold_total);
            f.set_duration("oauth.lockout", a.lockout);
            f.set_duration("oauth.key_reload", a.key_reload);
            f.set_duration("oauth.refresh_grace", a.refresh_grace);
            f.set_name("audit.details", a.audit_details);
            f.set("audit.days", a.audit_days);
            f.set("metrics.listen", a.metrics_listen.clone());
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
    Serve(ServeArgs),
    /// Create or upgrade the database schema, then exit (`serve` does it too, at start;
    /// with PostgreSQL, replicas starting together wait for each other's migration).
    Migrate,
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(TenantCmd),
    /// Manage bearer tokens.
    #[command(subcommand)]
    Token(TokenCmd),
    /// Manage OAuth clients of the built-in authorization server.
    #[command(subcommand)]
    Client(ClientCmd),
    /// Manage API system users (service accounts that log in with the password grant).
    #[command(subcommand)]
    ApiUser(ApiUserCmd),
    /// Manage the keys that sign access tokens.
    #[command(subcommand)]
    SigningKey(SigningKeyCmd),
    /// Manage operator tokens of the admin API.
    #[command(subcommand)]
    AdminToken(AdminTokenCmd),
    /// The master key that seals the signing keys in the database.
    #[command(subcommand)]
    MasterKey(MasterKeyCmd),
    /// Read the audit trail: events, their payloads, the go-live summary, the error log.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Manage a tenant's places (locations, sections, locker banks, lockers) and location rules.
    #[command(subcommand)]
    Places(places::PlacesCmd),
    /// Manage which groups may use which locker banks, and ask who may use what.
    #[command(subcommand)]
    Access(places::AccessCmd),
    /// Manage a tenant's groups as the operator (for tenants whose identity provider may
    /// not create them, such as the locker preset's).
    #[command(subcommand)]
    Group(GroupCmd),
    /// Import a tenant's existing users, with their ids (a product moving to scimd).
    #[command(subcommand)]
    User(UserCmd),
    /// Make a SCIM server's users agree with a source of users (the customer side).
    Sync(sync::SyncArgs),
    /// The configuration: print the commented default, or show the effective one.
    #[command(subcommand)]
    Config(ConfigCmd),
    /// Ask a running scimd whether it is ready (for container probes): exit 0 if
    /// `/readyz` answers 200, else 1.
    Healthcheck(HealthcheckArgs),
    /// Print a shell completion script (`scimd completions bash > /etc/bash_completion.d/scimd`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
pub enum GroupCmd {
    /// Create a group; prints its id and displayName (tab-separated). A second group of
    /// the same displayName is refused.
    Create {
        #[arg(long)]
        tenant: String,
        /// Its displayName.
        name: String,
        #[arg(long)]
        external_id: Option<String>,
        /// Its id (the one the product knows it by: up to 128 printable ASCII characters,
        /// no '/', '?', '#', '%', '\' or '"'); generated when not given. An id the tenant
        /// uses already, for a user or a group, is refused.
        #[arg(long)]
        id: Option<String>,
    },
    /// List a tenant's groups: id, displayName, externalId or - (tab-separated).
    List {
        #[arg(long)]
        tenant: String,
    },
    /// Delete a group (by id or displayName); its memberships and access links go with it.
    Delete {
        #[arg(long)]
        tenant: String,
        group: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Import users that exist in the product already, keeping their ids, whatever the
    /// tenant's profile lets its identity provider do (each user is checked against the
    /// tenant's schemas and rules as a POST would be). All or nothing: a refused row is
    /// printed with its line and the reason, and nothing is imported. An id the tenant
    /// has already is refused (an import creates, it does not update). Passwords are
    /// stored hashed. Each user created has an audit event (operation `import`).
    Import {
        /// The tenant the users are imported into.
        #[arg(long)]
        tenant: String,
        /// A CSV file with a header row (columns `id`, `password`, SCIM attribute paths
        /// such as `name.givenName` or `emails[type eq "work"].value`, or the short names
        /// userName, givenName, familyName, email, active, externalId), or JSON Lines
        /// (`.jsonl`) of SCIM users with their `id`.
        file: std::path::PathBuf,
        /// `csv` or `jsonl`; by default from the file's extension (`.csv`; `.jsonl`,
        /// `.ndjson`, `.json`).
        #[arg(long)]
        format: Option<String>,
        /// Check every row and print what would be refused; import nothing.
        #[arg(long)]
        check: bool,
        /// Print the report as one JSON object.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCmd {
    /// Print a commented configuration file with every setting at its default.
    PrintDefault,
    /// Print the configuration scimd would run with (file, environment and flags
    /// applied; secrets hidden). Fails, naming the key, if it is not valid.
    Show,
}

#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// The server's base URL (default: from `server.listen`, or `metrics.listen` when set).
    #[arg(long)]
    pub url: Option<String>,
    /// Ask `/healthz` (the process answers) instead of `/readyz` (it can serve).
    #[arg(long)]
    pub live: bool,
    /// Give up on one attempt after this long.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "5s")]
    pub timeout: std::time::Duration,
    /// Keep asking, twice a second, for up to this long (a server starting up).
    #[arg(long, value_parser = humantime::parse_duration)]
    pub wait: Option<std::time::Duration>,
}

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// A tenant's events, newest first: id, time, request id, client, method and path, op,
    /// status, scimType, duration, resource id (tab-separated; `--json`: JSON lines).
    Events {
        #[arg(long, required_unless_present = "no_tenant")]
        tenant: Option<String>,
        /// The events no tenant could be attributed to instead: requests without a
        /// credential, or with one that names no tenant.
        #[arg(long, conflicts_with = "tenant")]
        no_tenant: bool,
        /// From this time (RFC 3339, inclusive).
        #[arg(long)]
        from: Option<String>,
        /// Until this time (RFC 3339, exclusive).
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        client: Option<String>,
        #[arg(long)]
        status: Option<u16>,
        /// create, replace, patch, delete, read, list, search, token, …
        #[arg(long)]
        op: Option<String>,
        /// Only events older than this event id (the next page).
        #[arg(long)]
        before: Option<i64>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// One event's redacted request and response (JSON).
    Event {
        #[arg(long, required_unless_present = "no_tenant")]
        tenant: Option<String>,
        /// An event no tenant could be attributed to.
        #[arg(long, conflicts_with = "tenant")]
        no_tenant: bool,
        id: i64,
    },
    /// The go-live check: what the tenant's callers did between two times.
    Summary {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        /// One JSON object (keys include created, updated, deactivated, deleted, errors).
        #[arg(long)]
        json: bool,
    },
    /// Internal errors, newest first: id, time, request id, method and path, detail.
    Errors {
        /// Only those of this tenant's requests.
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SigningKeyCmd {
    /// List the active keys: kid, created (newest first; the first one signs).
    List,
    /// Add a key that signs from now on (running servers pick it up within 30 s); the
    /// old keys keep verifying until retired.
    Rotate,
    /// Retire a key: tokens it signed stop being accepted.
    Retire { kid: String },
}

#[derive(Debug, Subcommand)]
pub enum MasterKeyCmd {
    /// Print a new random master key (base64), to be saved in the file that
    /// `--master-key-file` names.
    Generate,
    /// Seal every secret of the database under the current master key: those in clear
    /// and those sealed under `--previous-master-key-file` (`serve` does it too, at start).
    Reseal,
}

#[derive(Debug, Subcommand)]
pub enum AdminTokenCmd {
    /// Create an operator token; prints it once, alone on the last line.
    Create {
        /// Lifetime in days; without it the token does not expire.
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClientCmd {
    /// Create an OAuth client; prints its id and its secret (once; stored only hashed).
    Create {
        /// A tenant the client may reach (repeat for several).
        #[arg(long = "tenant", required = true)]
        tenants: Vec<String>,
        /// A grant type it may use (repeat for several; `password` implies `refresh_token`).
        #[arg(long = "grant", value_enum, default_value = "client-credentials")]
        grants: Vec<GrantArg>,
        /// Scopes it may ask for (repeat, or space-separated).
        #[arg(long = "scope", default_value = "scim")]
        scopes: Vec<String>,
        /// Lifetime of its access tokens (`20m`, `1h`, …).
        #[arg(long, value_parser = humantime::parse_duration, default_value = "1h")]
        access_ttl: std::time::Duration,
        /// Lifetime of its refresh tokens.
        #[arg(long, value_parser = humantime::parse_duration, default_value = "30d")]
        refresh_ttl: std::time::Duration,
        /// When its logins expire: `sliding` (one refresh lifetime after each refresh),
        /// `absolute` (one refresh lifetime after the login, however often refreshed) or
        /// `profile` (as the profile of the login's tenant says; sliding unless it says).
        #[arg(long, value_enum, default_value = "profile")]
        refresh_expiry: RefreshExpiryArg,
        /// The secret expires after this long (default: never).
        #[arg(long, value_parser = humantime::parse_duration)]
        secret_expires_in: Option<std::time::Duration>,
        /// Print one JSON object: `{"client_id": …, "client_secret": …}`.
        #[arg(long)]
        json: bool,
    },
    /// List clients: client id, tenants, grants, scopes, access and refresh lifetimes (s),
    /// secrets as id:state (tab-separated; `--json`: one JSON object per line).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Change a client's token lifetimes or when its logins expire; its logins follow from
    /// their next refresh on.
    Set {
        client_id: String,
        /// Lifetime of its access tokens (`20m`, `1h`, …).
        #[arg(long, value_parser = humantime::parse_duration)]
        access_ttl: Option<std::time::Duration>,
        /// Lifetime of its refresh tokens.
        #[arg(long, value_parser = humantime::parse_duration)]
        refresh_ttl: Option<std::time::Duration>,
        /// When its logins expire: `sliding`, `absolute` or `profile` (see `client create`).
        #[arg(long, value_enum)]
        refresh_expiry: Option<RefreshExpiryArg>,
    },
    /// Manage a client's secrets (rotate without downtime: add, switch, revoke the old).
    #[command(subcommand)]
    Secret(SecretCmd),
}

/// When a client's logins expire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RefreshExpiryArg {
    Sliding,
    Absolute,
    /// As the profile of the login's tenant says.
    Profile,
}

impl RefreshExpiryArg {
    fn setting(self) -> Option<scimd_store::RefreshExpiry> {
        match self {
            RefreshExpiryArg::Sliding => Some(scimd_store::RefreshExpiry::Sliding),
            RefreshExpiryArg::Absolute => Some(scimd_store::RefreshExpiry::Absolute),
            RefreshExpiryArg::Profile => None,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum SecretCmd {
    /// Add a secret; the existing ones stay valid. Prints it once.
    Add {
        client_id: String,
        /// The secret expires after this long (default: never).
        #[arg(long, value_parser = humantime::parse_duration)]
        expires_in: Option<std::time::Duration>,
        /// Print one JSON object: `{"client_id": …, "secret_id": …, "client_secret": …}`.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a secret by its id.
    Revoke { client_id: String, secret_id: i64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GrantArg {
    #[value(name = "client_credentials", alias = "client-credentials")]
    ClientCredentials,
    Password,
}

#[derive(Debug, Subcommand)]
pub enum ApiUserCmd {
    /// Create an API system user of a tenant; prints the username and password (once).
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        username: String,
        /// Read the password from standard input (else one is generated).
        #[arg(long)]
        password_stdin: bool,
        /// Print one JSON object: `{"username": …, "password": …}`.
        #[arg(long)]
        json: bool,
    },
    /// List a tenant's API system users: username, created, active or disabled (tab-separated).
    List {
        #[arg(long)]
        tenant: String,
    },
    /// Disable an API system user: it can no longer log in, and its refresh tokens stop working.
    Disable {
        #[arg(long)]
        tenant: String,
        username: String,
    },
    /// Give an API system user a new password (printed once) and end every login made
    /// with the old one.
    SetPassword {
        #[arg(long)]
        tenant: String,
        username: String,
        /// Read the password from standard input (else one is generated).
        #[arg(long)]
        password_stdin: bool,
        /// Print one JSON object: `{"username": …, "password": …}`.
        #[arg(long)]
        json: bool,
    },
    /// Enable a disabled API system user again.
    Enable {
        #[arg(long)]
        tenant: String,
        username: String,
    },
}

/// Flags of `serve`; each overrides its configuration key (shown in brackets with its
/// default; `scimd config print-default` explains them all).
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on. [server.listen; 127.0.0.1:8080]
    #[arg(long, env = "SCIMD_LISTEN")]
    pub listen: Option<String>,
    /// Public base URL of the SCIM API (e.g. `https://scim.example.com/scim/v2`), used in
    /// `meta.location` and `Location`; derived from the Host header when unset. [server.public_url]
    #[arg(long, env = "SCIMD_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Read `X-Forwarded-Proto` (when `--public-url` is unset): only behind a proxy that
    /// sets it on every request. [server.trust_forwarded_headers; false]
    #[arg(long, env = "SCIMD_TRUST_FORWARDED_HEADERS", num_args = 0..=1, default_missing_value = "true")]
    pub trust_forwarded_headers: Option<bool>,
    /// Page size when a list request gives no `count`. [server.default_page_size; 100]
    #[arg(long, env = "SCIMD_DEFAULT_PAGE_SIZE")]
    pub default_page_size: Option<u64>,
    /// Largest page a list request may ask for. [server.max_page_size; 1000]
    #[arg(long, env = "SCIMD_MAX_PAGE_SIZE")]
    pub max_page_size: Option<u64>,
    /// Largest request body, in bytes. [server.max_body_bytes; 1048576]
    #[arg(long, env = "SCIMD_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// How long SIGTERM waits for requests in flight before exiting anyway.
    /// [server.shutdown_grace; 30s]
    #[arg(long, env = "SCIMD_SHUTDOWN_GRACE", value_parser = humantime::parse_duration)]
    pub shutdown_grace: Option<std::time::Duration>,
    /// Requests per second one tenant may make, in a burst of as many (0: no limit); more
    /// get 429 with Retry-After. Per process. [limits.tenant_rate; 0]
    #[arg(long, env = "SCIMD_TENANT_RATE")]
    pub tenant_rate: Option<u32>,
    /// Requests per second one client (OAuth client or long-lived token) may make (0: no
    /// limit). [limits.client_rate; 0]
    #[arg(long, env = "SCIMD_CLIENT_RATE")]
    pub client_rate: Option<u32>,
    /// Requests handled at once; more get 503 at once. [limits.max_concurrent_requests; 1024]
    #[arg(long, env = "SCIMD_MAX_CONCURRENT_REQUESTS")]
    pub max_concurrent_requests: Option<usize>,
    /// Longest a request may take; longer gets 503. [limits.request_timeout; 60s]
    #[arg(long, env = "SCIMD_REQUEST_TIMEOUT", value_parser = humantime::parse_duration)]
    pub request_timeout: Option<std::time::Duration>,
    /// Connections open at once; more wait to be accepted until one closes.
    /// [limits.max_connections; 4096]
    #[arg(long, env = "SCIMD_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Longest wait for a request's headers, from the connection's opening (or the first
    /// byte of a later request); then the connection is closed. [limits.header_timeout; 10s]
    #[arg(long, env = "SCIMD_HEADER_TIMEOUT", value_parser = humantime::parse_duration)]
    pub header_timeout: Option<std::time::Duration>,
    /// Longest a keep-alive connection stays open without a request. [limits.idle_timeout; 60s]
    #[arg(long, env = "SCIMD_IDLE_TIMEOUT", value_parser = humantime::parse_duration)]
    pub idle_timeout: Option<std::time::Duration>,
    /// Threads serving requests (0: one per CPU core). Database reads run on them; writes
    /// run on one writer thread of their own. Fewer than the cores leaves them to other
    /// programs on the machine. [server.workers; 0]
    #[arg(long, env = "SCIMD_WORKERS")]
    pub workers: Option<usize>,
    /// Issuer (`iss`) of access tokens and of the authorization-server metadata, e.g.
    /// `https://scim.example.com`; when unset, the public URL's origin, else derived from
    /// the Host header. [oauth.issuer]
    #[arg(long, env = "SCIMD_ISSUER")]
    pub issuer: Option<String>,
    /// Path of the OAuth 2.0 token endpoint. [oauth.token_path; /oauth2/token]
    #[arg(long, env = "SCIMD_TOKEN_PATH")]
    pub token_path: Option<String>,
    /// Failed logins of a client id or API username from one address before that address
    /// is locked out for it. [oauth.lockout_threshold; 5]
    #[arg(long, env = "SCIMD_LOCKOUT_THRESHOLD")]
    pub lockout_threshold: Option<i64>,
    /// Failed logins of a client id or API username from all addresses together before it
    /// is locked out for everyone. [oauth.lockout_threshold_total; 50]
    #[arg(long, env = "SCIMD_LOCKOUT_THRESHOLD_TOTAL")]
    pub lockout_threshold_total: Option<i64>,
    /// How long a lockout lasts. [oauth.lockout; 5m]
    #[arg(long, env = "SCIMD_LOCKOUT", value_parser = humantime::parse_duration)]
    pub lockout: Option<std::time::Duration>,
    /// How often signing keys are reloaded from the database: the longest a key retired
    /// through another replica (or the command line) keeps verifying tokens here. A new
    /// key is picked up at once (an unknown `kid` reloads them). [oauth.key_reload; 30s]
    #[arg(long, env = "SCIMD_KEY_RELOAD", value_parser = humantime::parse_duration)]
    pub key_reload: Option<std::time::Duration>,
    /// How long a spent refresh token may be presented again and get the same new pair (a
    /// client retrying a refresh whose response it lost) before a reuse counts as theft and
    /// revokes the login; 0s: never. [oauth.refresh_grace; 10s]
    #[arg(long, env = "SCIMD_REFRESH_GRACE", value_parser = humantime::parse_duration)]
    pub refresh_grace: Option<std::time::Duration>,
    /// A file holding an operator token for the admin API (`/admin/v1`) and `/metrics`,
    /// besides those created by `scimd admin-token create`. A file, so the token is not in
    /// `ps` output. [server.admin_token_file]
    #[arg(long, env = "SCIMD_ADMIN_TOKEN_FILE")]
    pub admin_token_file: Option<String>,
    /// Keep payloads (redacted) of requests with no known tenant (failed authentication,
    /// token and admin requests); tenants have their own setting (`tenant set`).
    /// [audit.details; changes]
    #[arg(long, env = "SCIMD_AUDIT_DETAILS", value_enum)]
    pub audit_details: Option<Details>,
    /// Days events with no tenant, and the error log, are kept. [audit.days; 90]
    #[arg(long, env = "SCIMD_AUDIT_DAYS")]
    pub audit_days: Option<i64>,
    /// A separate address for `/metrics` and the health checks (open to whoever reaches
    /// it); without it `/metrics` is on `--listen` and needs an operator token. [metrics.listen]
    #[arg(long, env = "SCIMD_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum TenantCmd {
    /// Create a tenant (with the SCIM feature, unless `--without-scim`).
    Create {
        name: String,
        /// Create it without SCIM access (turn it on later with `tenant set`).
        #[arg(long)]
        without_scim: bool,
        /// Start from a preset's profile (examples/presets/): the product it reproduces.
        #[arg(long, ignore_case = true, value_parser = preset_names())]
        preset: Option<String>,
    },
    /// Change a tenant's settings.
    Set {
        name: String,
        /// The SCIM provisioning feature: a tenant without it gets 403 on every SCIM request.
        #[arg(long, value_enum)]
        scim: Option<OnOff>,
        /// Which requests' payloads (redacted) the audit trail keeps: `changes` (every
        /// request but successful reads), `all`, or `off`.
        #[arg(long, value_enum)]
        audit_details: Option<Details>,
        /// Days the tenant's audit events are kept.
        #[arg(long)]
        audit_events_days: Option<i64>,
        /// Days the tenant's payloads are kept (at most the events' days).
        #[arg(long)]
        audit_details_days: Option<i64>,
        /// The tenant's profile, from a JSON file (`-` for standard input); see the
        /// README's "Tenant profiles". `--profile default` goes back to the default.
        #[arg(long, conflicts_with = "preset")]
        profile: Option<String>,
        /// Replace the tenant's profile with a preset's (examples/presets/): the product
        /// it reproduces.
        #[arg(long, ignore_case = true, value_parser = preset_names())]
        preset: Option<String>,
    },
    /// Print a tenant's profile (JSON, every setting spelled out).
    Profile { name: String },
    /// List tenants: id, name, created, SCIM on/off, the preset its profile came from or
    /// `-` (tab-separated).
    List,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

#[derive(Debug, Subcommand)]
pub enum TokenCmd {
    /// Create a bearer token for a tenant; prints it once, alone on the last line.
    Create {
        #[arg(long)]
        tenant: String,
        /// Lifetime in days; without it the token does not expire.
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
    /// List a tenant's tokens: id, created, expires (or -), active/expired/revoked
    /// (tab-separated). Token values are never shown again.
    List {
        #[arg(long)]
        tenant: String,
    },
    /// Revoke a token by its id (a running server stops accepting it within seconds).
    Revoke {
        #[arg(long)]
        tenant: String,
        id: i64,
    },
}

async fn open_store(db: &crate::config::DatabaseConfig) -> Result<Arc<dyn Store>, String> {
    if is_postgres(&db.url) {
        let store = PgStore::connect(&db.url, PgOptions { pool_size: db.pg_pool.max(2) })
            .await
            .map_err(|e| format!("cannot open database '{}': {e}", redacted_url(&db.url)))?;
        return Ok(Arc::new(store));
    }
    let path = sqlite_path(&db.url)?;
    let synchronous = match db.sqlite_synchronous {
        crate::config::Synchronous::Normal => SqlSync::Normal,
        crate::config::Synchronous::Full => SqlSync::Full,
    };
    SqliteStore::open(
        &path,
        SqliteOptions {
            synchronous,
            mmap_bytes: db.sqlite_mmap_mib.max(0) << 20,
            cache_kib: db.sqlite_cache_mib.max(1) << 10,
        },
    )
    .map(|s| Arc::new(s) as Arc<dyn Store>)
    .map_err(|e| format!("cannot open database '{path}': {e}"))
}

fn ttl_secs(d: std::time::Duration, what: &str) -> Result<i64, String> {
    match i64::try_from(d.as_secs()) {
        Ok(s) if s > 0 => Ok(s),
        _ => Err(format!("{what} must be at least one second")),
    }
}

/// Runs the command line with its configuration (see [`Cli::load_config`]).
pub async fn run(cli: Cli, cfg: Config) -> Result<(), String> {
    match cli.command {
        Command::Sync(args) => {
            // The customer's side, with no database of its own (`main` runs it for its exit status).
            return match sync::sync(args).await {
                0 => Ok(()),
                code => Err(format!("sync finished with status {code}")),
            };
        }
        Command::Config(ConfigCmd::PrintDefault) => {
            print!("{}", crate::config::DEFAULT_TOML);
            return Ok(());
        }
        Command::Config(ConfigCmd::Show) => {
            print!("{}", cfg.to_redacted_toml());
            return Ok(());
        }
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "scimd",
                &mut std::io::stdout(),
            );
            return Ok(());
        }
        Command::Healthcheck(args) => return serve::healthcheck(&cfg, args).await,
        Command::MasterKey(MasterKeyCmd::Generate) => {
            println!("{}", crate::seal::MasterKey::generate_text());
            return Ok(());
        }
        _ => {}
    }
    let keyring = Arc::new(cfg.secrets.keyring()?);
    let store = open_store(&cfg.database).await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let admin = crate::admin::Admin::new(store.clone(), clock.clone()).with_keyring(keyring.clone());
    match cli.command {
        Command::Serve(_) => serve::serve(&cfg, store, clock, admin, keyring).await,
        Command::MasterKey(MasterKeyCmd::Reseal) => {
            if !keyring.is_configured() {
                return Err("no master key to seal with: give --master-key-file (secrets.master_key_file)".into());
            }
            let r = crate::seal::reseal_all(&*store, &keyring).await?;
            println!(
                "sealed under master key {}: {} secret(s) that were in clear, {} that were under a previous key",
                keyring.current_id().unwrap_or_default(),
                r.sealed,
                r.rekeyed
            );
            Ok(())
        }
        Command::Migrate => {
            store.ready().await.map_err(|e| e.to_string())?;
            println!("database {} is at the current schema", redacted_url(&cfg.database.url));
            let issues = store.user_name_issues().await.map_err(|e| e.to_string())?;
            if !issues.is_empty() {
                println!(
                    "{} user(s) need you since the userName rule changed (listed here until renamed or deleted):",
                    issues.len()
                );
                for i in issues {
                    println!("tenant {}\tuser {}\tuserName {:?}\t{}", i.tenant, i.user_id, i.user_name, i.problem);
                }
            }
            Ok(())
        }
        Command::Tenant(TenantCmd::Create { name, without_scim, preset }) => {
            let t = match &preset {
                Some(p) => admin.create_tenant_with_preset(&name, !without_scim, p).await?,
                None => admin.create_tenant(&name, !without_scim).await?,
            };
            println!(
                "created tenant {} (id {}){}{}",
                t.name,
                t.id,
                if without_scim { " without SCIM" } else { "" },
                preset.map(|p| format!(" with the {p} preset")).unwrap_or_default()
            );
            Ok(())
        }
        Command::Tenant(TenantCmd::Profile { name }) => {
            println!("{}", serde_json::to_string_pretty(&admin.profile(&name).await?).map_err(|e| e.to_string())?);
            Ok(())
        }
        Command::Tenant(TenantCmd::Set {
            name,
            scim,
            audit_details,
            audit_events_days,
            audit_details_days,
            profile,
            preset,
        }) => {
            if scim.is_none()
                && audit_details.is_none()
                && audit_events_days.is_none()
                && audit_details_days.is_none()
                && profile.is_none()
                && preset.is_none()
            {
                return Err(
                    "nothing to set: give --scim, --audit-details, --audit-events-days, --audit-details-days, \
                            --profile or --preset"
                        .into(),
                );
            }
            if let Some(preset) = preset {
                admin.set_preset(&name, &preset).await?;
                println!("tenant {name}: profile of the {} preset", preset.to_ascii_lowercase());
            }
            if let Some(source) = profile {
                let value = if source == "default" {
                    None
                } else {
                    let text = if source == "-" {
                        std::io::read_to_string(std::io::stdin())
                            .map_err(|e| format!("cannot read the profile: {e}"))?
                    } else {
                        std::fs::read_to_string(&source).map_err(|e| format!("cannot read {source}: {e}"))?
                    };
                    Some(serde_json::from_str::<serde_json::Value>(&text).map_err(|e| format!("{source}: {e}"))?)
                };
                admin.set_profile(&name, value.as_ref()).await?;
                println!("tenant {name}: profile {}", if value.is_some() { "set" } else { "back to the default" });
            }
            if let Some(scim) = scim {
                let on = scim == OnOff::On;
                admin.set_scim(&name, on).await?;
                println!("tenant {name}: SCIM {}", if on { "on" } else { "off" });
            }
            if audit_details.is_some() || audit_events_days.is_some() || audit_details_days.is_some() {
                let t = admin
                    .set_audit(&name, audit_details.map(Details::level), audit_events_days, audit_details_days)
                    .await?;
                println!(
                    "tenant {name}: audit payloads of {} requests, events kept {} days, payloads {} days",
                    match t.audit_details {
                        scimd_store::DetailsLevel::Off => "no",
                        scimd_store::DetailsLevel::Changes => "changing and failed",
                        scimd_store::DetailsLevel::All => "all",
                    },
                    t.audit_events_days,
                    t.audit_details_days
                );
            }
            Ok(())
        }
        Command::Sync(_)
        | Command::Config(_)
        | Command::Completions { .. }
        | Command::Healthcheck(_)
        | Command::MasterKey(MasterKeyCmd::Generate) => {
            unreachable!("handled above")
        }
        Command::Places(cmd) => places::places(&admin, cmd).await,
        Command::Access(cmd) => places::access(&admin, cmd).await,
        Command::Group(GroupCmd::Create { tenant, name, external_id, id }) => {
            let (_, g) = admin.create_group(&tenant, &name, external_id.as_deref(), id.as_deref()).await?;
            println!("{}\t{}", g.id, g.display_name);
            Ok(())
        }
        Command::User(UserCmd::Import { tenant, file, format, check, json }) => {
            import_users(&admin, &tenant, &file, format.as_deref(), check, json).await
        }
        Command::Group(GroupCmd::List { tenant }) => {
            for g in admin.list_groups(&tenant).await? {
                println!("{}\t{}\t{}", g.id, g.display_name, g.external_id.as_deref().unwrap_or("-"));
            }
            Ok(())
        }
        Command::Group(GroupCmd::Delete { tenant, group }) => {
            let (_, g) = admin.delete_group(&tenant, &group).await?;
            println!("group {} ({}) of tenant {tenant} deleted", g.id, g.display_name);
            Ok(())
        }
        Command::Audit(AuditCmd::Events {
            tenant,
            no_tenant: _,
            from,
            to,
            client,
            status,
            op,
            before,
            limit,
            json,
        }) => {
            let f = crate::admin::EventFilter { from, to, client, status, op, before, limit: Some(limit) };
            for e in admin.audit_events(tenant.as_deref(), f).await? {
                if json {
                    println!("{}", serde_json::to_string(&e).map_err(|e| e.to_string())?);
                } else {
                    println!(
                        "{}\t{}\t{}\t{}\t{} {}\t{}\t{}\t{}\t{:.1}ms\t{}",
                        e.id,
                        e.time,
                        e.request_id,
                        e.client.as_deref().unwrap_or("-"),
                        e.method,
                        e.path,
                        e.op,
                        e.status,
                        e.scim_type.as_deref().unwrap_or("-"),
                        e.duration_ms,
                        e.resource_id.as_deref().unwrap_or("-"),
                    );
                }
            }
            Ok(())
        }
        Command::Audit(AuditCmd::Event { tenant, no_tenant: _, id }) => {
            let d = admin.audit_event_details(tenant.as_deref(), id).await?;
            println!("{}", serde_json::to_string(&d).map_err(|e| e.to_string())?);
            Ok(())
        }
        Command::Audit(AuditCmd::Summary { tenant, from, to, json }) => {
            let s = admin.audit_summary(&tenant, &from, &to).await?;
            if json {
                println!("{s}");
            } else {
                println!("tenant {tenant}, {} to {}", s["from"], s["to"]);
                println!(
                    "first event {}, last event {}, {} requests",
                    s["first_event"], s["last_event"], s["requests"]
                );
                for (label, key) in [("users", "users"), ("groups", "groups")] {
                    let t = &s[key];
                    println!(
                        "{label}: {} created, {} updated ({} deactivated), {} deleted, {} reads",
                        t["created"], t["updated"], t["deactivated"], t["deleted"], t["reads"]
                    );
                }
                println!("errors: {} {}", s["error_count"], s["errors"]);
            }
            Ok(())
        }
        Command::Audit(AuditCmd::Errors { tenant, from, to, limit, json }) => {
            for e in admin.errors(tenant.as_deref(), from.as_deref(), to.as_deref(), limit).await? {
                if json {
                    println!("{}", serde_json::to_string(&e).map_err(|e| e.to_string())?);
                } else {
                    println!("{}\t{}\t{}\t{} {}\t{}", e.id, e.time, e.request_id, e.method, e.path, e.detail);
                }
            }
            Ok(())
        }
        Command::Tenant(TenantCmd::List) => {
            for t in admin.list_tenants().await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    t.id,
                    t.name,
                    t.created,
                    if t.scim_enabled { "scim" } else { "no-scim" },
                    t.preset.as_deref().unwrap_or("-")
                );
            }
            Ok(())
        }
        Command::Token(TokenCmd::Create { tenant, expires_in_days }) => {
            let t = admin.create_token(&tenant, expires_in_days).await?;
            match &t.expires {
                Some(e) => println!("token {} for tenant {tenant} (expires {e}); shown once:", t.id),
                None => println!("token {} for tenant {tenant} (no expiry); shown once:", t.id),
            }
            println!("{}", t.token);
            Ok(())
        }
        Command::Token(TokenCmd::List { tenant }) => {
            for tok in admin.list_tokens(&tenant).await? {
                let state = match &tok.revoked {
                    Some(r) => format!("revoked {r}"),
                    None => tok.state.to_string(),
                };
                println!("{}\t{}\t{}\t{state}", tok.id, tok.created, tok.expires.as_deref().unwrap_or("-"));
            }
            Ok(())
        }
        Command::Token(TokenCmd::Revoke { tenant, id }) => {
            admin.revoke_token(&tenant, id).await?;
            println!("token {id} of tenant {tenant} revoked");
            Ok(())
        }
        Command::Client(ClientCmd::Create {
            tenants,
            grants,
            scopes,
            access_ttl,
            refresh_ttl,
            refresh_expiry,
            secret_expires_in,
            json,
        }) => {
            let spec = crate::admin::ClientSpec {
                tenants: tenants.clone(),
                grants: grants
                    .iter()
                    .map(|g| match g {
                        GrantArg::ClientCredentials => "client_credentials".to_string(),
                        GrantArg::Password => "password".to_string(),
                    })
                    .collect(),
                scopes,
                access_ttl_secs: ttl_secs(access_ttl, "--access-ttl")?,
                refresh_ttl_secs: ttl_secs(refresh_ttl, "--refresh-ttl")?,
                refresh_expiry: refresh_expiry.setting(),
                secret_expires_secs: secret_expires_in.map(|d| ttl_secs(d, "--secret-expires-in")).transpose()?,
            };
            let c = admin.create_client(spec).await?;
            if json {
                println!("{}", serde_json::json!({"client_id": c.client_id, "client_secret": c.client_secret}));
            } else {
                println!("client {} for {}; its secret, shown once:", c.client_id, tenants.join(", "));
                println!("{}", c.client_secret);
            }
            Ok(())
        }
        Command::Client(ClientCmd::Set { client_id, access_ttl, refresh_ttl, refresh_expiry }) => {
            let change = crate::admin::ClientChange {
                access_ttl_secs: access_ttl.map(|d| ttl_secs(d, "--access-ttl")).transpose()?,
                refresh_ttl_secs: refresh_ttl.map(|d| ttl_secs(d, "--refresh-ttl")).transpose()?,
                refresh_expiry: refresh_expiry.map(RefreshExpiryArg::setting),
            };
            admin.update_client(&client_id, change).await?;
            println!("client {client_id} changed");
            Ok(())
        }
        Command::Client(ClientCmd::List { json }) => {
            for c in admin.list_clients().await? {
                if json {
                    println!("{}", serde_json::to_string(&c).map_err(|e| e.to_string())?);
                } else {
                    let secrets: Vec<String> = c.secrets.iter().map(|s| format!("{}:{}", s.id, s.state)).collect();
                    println!(
                        "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                        c.client_id,
                        c.tenants.join(","),
                        c.grant_types.join(" "),
                        c.scopes.join(" "),
                        c.access_ttl,
                        c.refresh_ttl,
                        secrets.join(",")
                    );
                }
            }
            Ok(())
        }
        Command::Client(ClientCmd::Secret(SecretCmd::Add { client_id, expires_in, json })) => {
            let expires = expires_in.map(|d| ttl_secs(d, "--expires-in")).transpose()?;
            let c = admin.add_secret(&client_id, expires).await?;
            if json {
                println!("{}", serde_json::to_string(&c).map_err(|e| e.to_string())?);
            } else {
                println!("secret {} of client {client_id}, shown once:", c.secret_id);
                println!("{}", c.client_secret);
            }
            Ok(())
        }
        Command::Client(ClientCmd::Secret(SecretCmd::Revoke { client_id, secret_id })) => {
            admin.revoke_secret(&client_id, secret_id).await?;
            println!("secret {secret_id} of client {client_id} revoked");
            Ok(())
        }
        Command::ApiUser(ApiUserCmd::Create { tenant, username, password_stdin, json }) => {
            let u = admin.create_api_user(&tenant, &username, password_from_stdin(password_stdin)?).await?;
            if json {
                println!("{}", serde_json::json!({"username": u.username, "password": u.password}));
            } else {
                println!("API user {} of tenant {tenant}; its password, shown once:", u.username);
                println!("{}", u.password);
            }
            Ok(())
        }
        Command::ApiUser(ApiUserCmd::SetPassword { tenant, username, password_stdin, json }) => {
            let u = admin.set_api_user_password(&tenant, &username, password_from_stdin(password_stdin)?).await?;
            if json {
                println!("{}", serde_json::json!({"username": u.username, "password": u.password}));
            } else {
                println!("API user {} of tenant {tenant}: new password (its logins ended), shown once:", u.username);
                println!("{}", u.password);
            }
            Ok(())
        }
        Command::ApiUser(ApiUserCmd::List { tenant }) => {
            for u in admin.list_api_users(&tenant).await? {
                let state = u.disabled.map_or("active".to_string(), |d| format!("disabled {d}"));
                println!("{}\t{}\t{state}", u.username, u.created);
            }
            Ok(())
        }
        Command::ApiUser(ApiUserCmd::Disable { tenant, username }) => {
            admin.set_api_user_disabled(&tenant, &username, true).await?;
            println!("API user {username} of tenant {tenant} disabled");
            Ok(())
        }
        Command::ApiUser(ApiUserCmd::Enable { tenant, username }) => {
            admin.set_api_user_disabled(&tenant, &username, false).await?;
            println!("API user {username} of tenant {tenant} enabled");
            Ok(())
        }
        Command::SigningKey(SigningKeyCmd::List) => {
            for k in admin.signing_keys().await? {
                println!("{}\t{}", k.kid, k.created);
            }
            Ok(())
        }
        Command::SigningKey(SigningKeyCmd::Rotate) => {
            let k = admin.rotate_signing_key().await?;
            println!("signing key {} signs from now on", k.kid);
            Ok(())
        }
        Command::SigningKey(SigningKeyCmd::Retire { kid }) => {
            admin.retire_signing_key(&kid).await?;
            println!("signing key {kid} retired");
            Ok(())
        }
        Command::AdminToken(AdminTokenCmd::Create { expires_in_days }) => {
            let t = admin.create_admin_token(expires_in_days).await?;
            println!("operator token {} for the admin API, shown once:", t.id);
            println!("{}", t.token);
            Ok(())
        }
    }
}

/// A password from the first line of standard input, when asked for.
fn password_from_stdin(asked: bool) -> Result<Option<String>, String> {
    if !asked {
        return Ok(None);
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).map_err(|e| format!("cannot read the password: {e}"))?;
    Ok(Some(line.trim_end_matches(['\r', '\n']).to_string()))
}

/// `scimd user import`: reads the file, imports it, prints the report.
async fn import_users(
    admin: &crate::admin::Admin,
    tenant: &str,
    file: &std::path::Path,
    format: Option<&str>,
    check: bool,
    json: bool,
) -> Result<(), String> {
    use crate::admin::ImportFormat;
    let format = match format {
        Some(f) => ImportFormat::parse(f).ok_or_else(|| format!("unknown format '{f}': use csv or jsonl"))?,
        None => file
            .extension()
            .and_then(|e| e.to_str())
            .and_then(ImportFormat::parse)
            .ok_or_else(|| format!("{}: say --format csv or --format jsonl", file.display()))?,
    };
    let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let (_, r) = admin.import_users(tenant, format, &text, check, crate::admin::ImportOrigin::CommandLine).await?;
    if json {
        println!("{}", serde_json::to_string(&r).map_err(|e| e.to_string())?);
    } else {
        for e in &r.errors {
            let id = e.id.as_deref().map(|i| format!(" (id {i})")).unwrap_or_default();
            eprintln!("{}: line {}{id}: {}", file.display(), e.line, e.reason);
        }
        if r.more_errors > 0 {
            eprintln!("{}: {} more rows refused", file.display(), r.more_errors);
        }
    }
    if r.refused() > 0 {
        return Err(format!("{} of {} users refused: nothing was imported", r.refused(), r.rows));
    }
    if !json {
        match check {
            true => println!("{} users of {} can be imported into tenant {tenant}", r.rows, file.display()),
            false => println!("imported {} users into tenant {tenant}", r.imported),
        }
    }
    Ok(())
}

/// Every built-in preset's name, so that `--help` lists them all and a misspelt one is
/// refused with the list.
fn preset_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(crate::presets::PRESETS.iter().map(|(name, _)| *name))
}
