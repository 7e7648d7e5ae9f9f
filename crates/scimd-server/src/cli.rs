//! The `scimd` command line: `serve`, and the operator commands that work directly on
//! the database (`tenant create|set|list`, `token create|list|revoke`, `client
//! create|list|secret`, `api-user create`). Every command
//! honours `--database` / `SCIMD_DATABASE_URL`. Output formats are relied on by scripts:
//! `token create` prints the token alone on its last line; lists are tab-separated.

use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};
use scimd_store::Store;
use scimd_store::sqlite::{SqliteOptions, SqliteStore, Synchronous};

use crate::clock::{Clock, SystemClock};
use crate::{AppState, HttpConfig, Service, ServiceConfig};

#[derive(Debug, Parser)]
#[command(name = "scimd", version, about = "A SCIM 2.0 provisioning server")]
pub struct Cli {
    /// Database URL: `sqlite://PATH` (a plain path also works).
    #[arg(long, global = true, env = "SCIMD_DATABASE_URL", default_value = "sqlite://scimd.db")]
    pub database: String,

    /// SQLite durability: `normal` survives a crash of the process (kill -9);
    /// `full` also survives power loss, at the cost of an fsync per commit batch.
    #[arg(long, global = true, env = "SCIMD_SQLITE_SYNCHRONOUS", value_enum, default_value = "normal")]
    pub sqlite_synchronous: SyncArg,

    /// MiB of the SQLite file read through a memory map (0 turns mapped reads off, e.g. on
    /// a network filesystem).
    #[arg(long, global = true, env = "SCIMD_SQLITE_MMAP_MIB", default_value_t = 65536)]
    pub sqlite_mmap_mib: i64,

    /// MiB of SQLite page cache per database connection.
    #[arg(long, global = true, env = "SCIMD_SQLITE_CACHE_MIB", default_value_t = 8)]
    pub sqlite_cache_mib: i64,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SyncArg {
    Normal,
    Full,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the SCIM server.
    Serve(ServeArgs),
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
    /// Manage a client's secrets (rotate without downtime: add, switch, revoke the old).
    #[command(subcommand)]
    Secret(SecretCmd),
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
    /// Enable a disabled API system user again.
    Enable {
        #[arg(long)]
        tenant: String,
        username: String,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "SCIMD_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Public base URL of the SCIM API (e.g. `https://scim.example.com/scim/v2`), used in
    /// `meta.location` and `Location`; derived from the Host header when unset.
    #[arg(long, env = "SCIMD_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Page size when a list request gives no `count`.
    #[arg(long, env = "SCIMD_DEFAULT_PAGE_SIZE", default_value_t = 100)]
    pub default_page_size: u64,
    /// Largest page a list request may ask for.
    #[arg(long, env = "SCIMD_MAX_PAGE_SIZE", default_value_t = 1000)]
    pub max_page_size: u64,
    /// Largest request body, in bytes.
    #[arg(long, env = "SCIMD_MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Threads serving requests (0: one per CPU core). Database reads run on them; writes
    /// run on one writer thread of their own. Fewer than the cores leaves them to other
    /// programs on the machine.
    #[arg(long, env = "SCIMD_WORKERS", default_value_t = 0)]
    pub workers: usize,
    /// Issuer (`iss`) of access tokens and of the authorization-server metadata, e.g.
    /// `https://scim.example.com`; derived from the Host header when unset.
    #[arg(long, env = "SCIMD_ISSUER")]
    pub issuer: Option<String>,
    /// Path of the OAuth 2.0 token endpoint.
    #[arg(long, env = "SCIMD_TOKEN_PATH", default_value = "/oauth2/token")]
    pub token_path: String,
    /// Consecutive failed logins of a client id or API username before it is locked out.
    #[arg(long, env = "SCIMD_LOCKOUT_THRESHOLD", default_value_t = 5)]
    pub lockout_threshold: i64,
    /// How long a lockout lasts.
    #[arg(long, env = "SCIMD_LOCKOUT", value_parser = humantime::parse_duration, default_value = "5m")]
    pub lockout: std::time::Duration,
}

#[derive(Debug, Subcommand)]
pub enum TenantCmd {
    /// Create a tenant (with the SCIM feature, unless `--without-scim`).
    Create {
        name: String,
        /// Create it without SCIM access (turn it on later with `tenant set`).
        #[arg(long)]
        without_scim: bool,
    },
    /// Change a tenant's settings.
    Set {
        name: String,
        /// The SCIM provisioning feature: a tenant without it gets 403 on every SCIM request.
        #[arg(long, value_enum)]
        scim: OnOff,
    },
    /// List tenants: id, name, created, SCIM on/off (tab-separated).
    List,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
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

/// The SQLite path of a database URL.
pub fn sqlite_path(url: &str) -> Result<String, String> {
    if let Some(p) = url.strip_prefix("sqlite://") {
        return Ok(p.to_string());
    }
    if let Some(p) = url.strip_prefix("sqlite:") {
        return Ok(p.to_string());
    }
    if url.contains("://") {
        return Err(format!("unsupported database URL '{url}': use sqlite://PATH"));
    }
    Ok(url.to_string())
}

fn open_store(cli: &Cli) -> Result<Arc<SqliteStore>, String> {
    let path = sqlite_path(&cli.database)?;
    let synchronous = match cli.sqlite_synchronous {
        SyncArg::Normal => Synchronous::Normal,
        SyncArg::Full => Synchronous::Full,
    };
    SqliteStore::open(
        &path,
        SqliteOptions {
            synchronous,
            mmap_bytes: cli.sqlite_mmap_mib.max(0) << 20,
            cache_kib: cli.sqlite_cache_mib.max(1) << 10,
        },
    )
    .map(Arc::new)
    .map_err(|e| format!("cannot open database '{path}': {e}"))
}

/// Scope tokens (RFC 6749 §3.3): printable ASCII except space, `"` and `\\`.
fn scope_tokens(args: &[String]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for s in args.iter().flat_map(|a| a.split_whitespace()) {
        if !s.bytes().all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b)) {
            return Err(format!("'{s}' is not a valid scope"));
        }
        if !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
    }
    if out.is_empty() {
        return Err("a client needs at least one scope".into());
    }
    Ok(out)
}

fn ttl_secs(d: std::time::Duration, what: &str) -> Result<i64, String> {
    match i64::try_from(d.as_secs()) {
        Ok(s) if s > 0 => Ok(s),
        _ => Err(format!("{what} must be at least one second")),
    }
}

/// The tenant of that name, or the error an operator sees.
async fn tenant_named(store: &SqliteStore, name: &str) -> Result<scimd_store::Tenant, String> {
    store.tenant_by_name(name).await.map_err(|e| e.to_string())?.ok_or_else(|| format!("no tenant named '{name}'"))
}

/// Runs the command line; returns the process exit code.
pub async fn run(cli: Cli) -> Result<(), String> {
    let store = open_store(&cli)?;
    let clock = SystemClock;
    match cli.command {
        Command::Serve(args) => {
            let mut config = ServiceConfig::default();
            config.page.default_count = args.default_page_size;
            config.page.max_count = args.max_page_size;
            config.spc.filter_max_results = args.max_page_size;
            let oauth_config = crate::oauth::OAuthConfig {
                issuer: args.issuer.map(|i| i.trim_end_matches('/').to_string()),
                token_path: args.token_path,
                lockout_threshold: args.lockout_threshold.max(1),
                lockout_secs: ttl_secs(args.lockout, "--lockout")?,
                ..crate::oauth::OAuthConfig::default()
            };
            if !oauth_config.token_path.starts_with('/') || oauth_config.token_path.starts_with("/scim/") {
                return Err("--token-path must start with '/' and lie outside /scim/".into());
            }
            let clock: Arc<dyn Clock> = Arc::new(clock);
            let oauth = crate::oauth::OAuth::new(store.clone(), clock.clone(), oauth_config)
                .await
                .map_err(|e| format!("cannot start the authorization server: {e:?}"))?;
            let service = Service::new(store.clone(), clock, config);
            let state = AppState {
                service: Arc::new(service),
                oauth: Arc::new(oauth),
                http: Arc::new(HttpConfig { max_body_bytes: args.max_body_bytes, public_url: args.public_url }),
            };
            let listener = tokio::net::TcpListener::bind(&args.listen)
                .await
                .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            tracing::info!(%addr, database = %cli.database, "scimd listening on {addr}");
            crate::serve(listener, state, shutdown_signal()).await.map_err(|e| e.to_string())?;
            tracing::info!("scimd stopped");
            store.close();
            Ok(())
        }
        Command::Tenant(TenantCmd::Create { name, without_scim }) => {
            let name = name.trim().to_string();
            if name.is_empty() {
                return Err("a tenant name cannot be empty".into());
            }
            let t = store.create_tenant(&name, !without_scim, clock.now()).await.map_err(|e| match e {
                scimd_store::StoreError::Conflict(_) => format!("tenant '{name}' already exists"),
                e => e.to_string(),
            })?;
            println!("created tenant {} (id {}){}", t.name, t.id.0, if without_scim { " without SCIM" } else { "" });
            Ok(())
        }
        Command::Tenant(TenantCmd::Set { name, scim }) => {
            let t = tenant_named(store.as_ref(), &name).await?;
            let on = matches!(scim, OnOff::On);
            store.set_scim_enabled(t.id, on).await.map_err(|e| e.to_string())?;
            println!("tenant {}: SCIM {}", t.name, if on { "on" } else { "off" });
            Ok(())
        }
        Command::Tenant(TenantCmd::List) => {
            for t in store.list_tenants().await.map_err(|e| e.to_string())? {
                println!("{}\t{}\t{}\t{}", t.id.0, t.name, t.created, if t.scim_enabled { "scim" } else { "no-scim" });
            }
            Ok(())
        }
        Command::Token(TokenCmd::Create { tenant, expires_in_days }) => {
            let t = tenant_named(store.as_ref(), &tenant).await?;
            let token = crate::auth::generate_token();
            let now = clock.now();
            let expires = expires_in_days.map(|d| now + chrono::TimeDelta::days(d.into()));
            let id = store
                .create_token(t.id, crate::auth::hash_token(&token), now, expires)
                .await
                .map_err(|e| e.to_string())?;
            match expires {
                Some(e) => println!("token {id} for tenant {} (expires {}); shown once:", t.name, e.to_rfc3339()),
                None => println!("token {id} for tenant {} (no expiry); shown once:", t.name),
            }
            println!("{token}");
            Ok(())
        }
        Command::Client(ClientCmd::Create {
            tenants,
            grants,
            scopes,
            access_ttl,
            refresh_ttl,
            secret_expires_in,
            json,
        }) => {
            let mut tenant_ids = Vec::new();
            for name in &tenants {
                tenant_ids.push(tenant_named(store.as_ref(), name).await?.id);
            }
            let mut grant_types: Vec<String> = Vec::new();
            for g in &grants {
                let names: &[&str] = match g {
                    GrantArg::ClientCredentials => &["client_credentials"],
                    GrantArg::Password => &["password", "refresh_token"],
                };
                for n in names {
                    if !grant_types.iter().any(|x| x == n) {
                        grant_types.push(n.to_string());
                    }
                }
            }
            let now = clock.now();
            let secret_expires = match secret_expires_in {
                Some(d) => Some(now + chrono::TimeDelta::seconds(ttl_secs(d, "--secret-expires-in")?)),
                None => None,
            };
            let client_id = uuid::Uuid::new_v4().to_string();
            let secret = crate::auth::generate_client_secret();
            let client = scimd_store::NewClient {
                client_id: client_id.clone(),
                secret_hash: crate::auth::hash_secret(&secret)?,
                secret_expires,
                grant_types,
                scopes: scope_tokens(&scopes)?,
                access_ttl_secs: ttl_secs(access_ttl, "--access-ttl")?,
                refresh_ttl_secs: ttl_secs(refresh_ttl, "--refresh-ttl")?,
                tenants: tenant_ids,
            };
            store.create_client(client, now).await.map_err(|e| e.to_string())?;
            if json {
                println!("{}", serde_json::json!({"client_id": client_id, "client_secret": secret}));
            } else {
                println!("client {client_id} for {}; its secret, shown once:", tenants.join(", "));
                println!("{secret}");
            }
            Ok(())
        }
        Command::Client(ClientCmd::List { json }) => {
            let now = scimd_store::normalized_time(clock.now());
            for c in store.list_clients().await.map_err(|e| e.to_string())? {
                if json {
                    let secrets: Vec<_> = c
                        .secrets
                        .iter()
                        .map(|s| serde_json::json!({"id": s.id, "created": s.created, "expires": s.expires, "state": s.state(&now)}))
                        .collect();
                    println!(
                        "{}",
                        serde_json::json!({"client_id": c.client_id, "tenants": c.tenants, "grant_types": c.grant_types,
                            "scopes": c.scopes, "access_ttl": c.access_ttl_secs, "refresh_ttl": c.refresh_ttl_secs,
                            "created": c.created, "secrets": secrets})
                    );
                } else {
                    let secrets: Vec<String> =
                        c.secrets.iter().map(|s| format!("{}:{}", s.id, s.state(&now))).collect();
                    println!(
                        "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                        c.client_id,
                        c.tenants.join(","),
                        c.grant_types.join(" "),
                        c.scopes.join(" "),
                        c.access_ttl_secs,
                        c.refresh_ttl_secs,
                        secrets.join(",")
                    );
                }
            }
            Ok(())
        }
        Command::Client(ClientCmd::Secret(SecretCmd::Add { client_id, expires_in, json })) => {
            let now = clock.now();
            let expires = match expires_in {
                Some(d) => Some(now + chrono::TimeDelta::seconds(ttl_secs(d, "--expires-in")?)),
                None => None,
            };
            let secret = crate::auth::generate_client_secret();
            let id = store
                .add_client_secret(&client_id, crate::auth::hash_secret(&secret)?, expires, now)
                .await
                .map_err(|e| match e {
                    scimd_store::StoreError::NotFound => format!("no client '{client_id}'"),
                    e => e.to_string(),
                })?;
            if json {
                println!("{}", serde_json::json!({"client_id": client_id, "secret_id": id, "client_secret": secret}));
            } else {
                println!("secret {id} of client {client_id}, shown once:");
                println!("{secret}");
            }
            Ok(())
        }
        Command::Client(ClientCmd::Secret(SecretCmd::Revoke { client_id, secret_id })) => {
            store.revoke_client_secret(&client_id, secret_id, clock.now()).await.map_err(|e| match e {
                scimd_store::StoreError::NotFound => format!("client '{client_id}' has no secret {secret_id}"),
                e => e.to_string(),
            })?;
            println!("secret {secret_id} of client {client_id} revoked");
            Ok(())
        }
        Command::ApiUser(ApiUserCmd::Create { tenant, username, password_stdin, json }) => {
            let t = tenant_named(store.as_ref(), &tenant).await?;
            let username = username.trim().to_string();
            if username.is_empty() || username.contains(':') {
                return Err("a username cannot be empty or contain ':'".into());
            }
            let password = if password_stdin {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line).map_err(|e| format!("cannot read the password: {e}"))?;
                let p = line.trim_end_matches(['\r', '\n']).to_string();
                if p.chars().count() < 12 {
                    return Err("the password must have at least 12 characters".into());
                }
                p
            } else {
                crate::auth::generate_password()
            };
            let hash = crate::auth::hash_secret(&password)?;
            store.create_api_user(t.id, &username, hash, clock.now()).await.map_err(|e| match e {
                scimd_store::StoreError::Conflict(_) => format!("the username '{username}' is taken"),
                e => e.to_string(),
            })?;
            if json {
                println!("{}", serde_json::json!({"username": username, "password": password}));
            } else {
                println!("API user {username} of tenant {}; its password, shown once:", t.name);
                println!("{password}");
            }
            Ok(())
        }
        Command::ApiUser(ApiUserCmd::List { tenant }) => {
            let t = tenant_named(store.as_ref(), &tenant).await?;
            for u in store.list_api_users(t.id).await.map_err(|e| e.to_string())? {
                let state = u.disabled.map_or("active".to_string(), |d| format!("disabled {d}"));
                println!("{}\t{}\t{state}", u.username, u.created);
            }
            Ok(())
        }
        Command::ApiUser(cmd @ (ApiUserCmd::Disable { .. } | ApiUserCmd::Enable { .. })) => {
            let (disable, tenant, username) = match cmd {
                ApiUserCmd::Disable { tenant, username } => (true, tenant, username),
                ApiUserCmd::Enable { tenant, username } => (false, tenant, username),
                _ => unreachable!("matched above"),
            };
            let t = tenant_named(store.as_ref(), &tenant).await?;
            store.set_api_user_disabled(t.id, &username, disable, clock.now()).await.map_err(|e| match e {
                scimd_store::StoreError::NotFound => format!("tenant '{}' has no API user '{username}'", t.name),
                e => e.to_string(),
            })?;
            println!("API user {username} of tenant {} {}", t.name, if disable { "disabled" } else { "enabled" });
            Ok(())
        }
        Command::SigningKey(SigningKeyCmd::List) => {
            for k in store.signing_keys().await.map_err(|e| e.to_string())? {
                println!("{}\t{}", k.kid, k.created);
            }
            Ok(())
        }
        Command::SigningKey(SigningKeyCmd::Rotate) => {
            let kid =
                crate::oauth::OAuth::rotate_key(store.as_ref(), clock.now()).await.map_err(|e| format!("{e:?}"))?;
            println!("signing key {kid} signs from now on");
            Ok(())
        }
        Command::SigningKey(SigningKeyCmd::Retire { kid }) => {
            let keys = store.signing_keys().await.map_err(|e| e.to_string())?;
            if keys.len() == 1 && keys[0].kid == kid {
                return Err("this is the only signing key: rotate first, then retire it".into());
            }
            store.retire_signing_key(&kid, clock.now()).await.map_err(|e| match e {
                scimd_store::StoreError::NotFound => format!("no active signing key '{kid}'"),
                e => e.to_string(),
            })?;
            println!("signing key {kid} retired");
            Ok(())
        }
        Command::AdminToken(AdminTokenCmd::Create { expires_in_days }) => {
            let token = crate::auth::generate_token();
            let now = clock.now();
            let expires = expires_in_days.map(|d| now + chrono::TimeDelta::days(i64::from(d)));
            let id = store
                .create_admin_token(crate::auth::hash_token(&token), now, expires)
                .await
                .map_err(|e| e.to_string())?;
            println!("operator token {id} for the admin API, shown once:");
            println!("{token}");
            Ok(())
        }
        Command::Token(TokenCmd::List { tenant }) => {
            let t = tenant_named(store.as_ref(), &tenant).await?;
            let now = scimd_store::normalized_time(clock.now());
            for tok in store.list_tokens(t.id).await.map_err(|e| e.to_string())? {
                let state = match &tok.revoked {
                    Some(r) => format!("revoked {r}"),
                    None => tok.state(&now).to_string(),
                };
                println!("{}\t{}\t{}\t{state}", tok.id, tok.created, tok.expires.as_deref().unwrap_or("-"));
            }
            Ok(())
        }
        Command::Token(TokenCmd::Revoke { tenant, id }) => {
            let t = tenant_named(store.as_ref(), &tenant).await?;
            store.revoke_token(t.id, id, clock.now()).await.map_err(|e| match e {
                scimd_store::StoreError::NotFound => format!("tenant '{}' has no token {id}", t.name),
                e => e.to_string(),
            })?;
            println!("token {id} of tenant {} revoked", t.name);
            Ok(())
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
