//! `scimd client create|set|list|secret`: OAuth clients of the built-in authorization
//! server, their token lifetimes, their secrets (shown once, stored only hashed) or the
//! keys they sign assertions with (`private_key_jwt`).

use clap::{Subcommand, ValueEnum};

use super::ttl_secs;
use crate::admin::Admin;

#[derive(Debug, Subcommand)]
pub enum ClientCmd {
    /// Create an OAuth client; prints its id and its secret (once; stored only hashed), or
    /// only its id for a `private-key-jwt` client (it has no secret).
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
        /// How it authenticates: `client-secret` (a generated secret), or `private-key-jwt`
        /// (assertions signed with its keys: give `--jwks`, `--jwks-uri` or `--trust`).
        #[arg(long, value_enum)]
        auth_method: Option<AuthMethodArg>,
        /// A file holding its public keys (a JSON Web Key Set), for `private-key-jwt`.
        #[arg(long, value_name = "FILE")]
        jwks: Option<std::path::PathBuf>,
        /// Where it publishes its key set (https), for `private-key-jwt`.
        #[arg(long, value_name = "URL")]
        jwks_uri: Option<String>,
        /// A federated trust of one of its tenants (`scimd trust add`): that issuer's
        /// tokens are its assertions (workload identity federation), for `private-key-jwt`.
        #[arg(long, value_name = "NAME")]
        trust: Option<String>,
        /// Print one JSON object: `{"client_id": …, "client_secret": …}`.
        #[arg(long)]
        json: bool,
    },
    /// List clients: client id, tenants, grants, scopes, access and refresh lifetimes (s),
    /// secrets as id:state (tab-separated; `--json`: one JSON object per line, with how
    /// it authenticates).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Change a client's token lifetimes or when its logins expire (its logins follow from
    /// their next refresh on), or how it authenticates (becoming `private-key-jwt` revokes
    /// its secrets).
    Set {
        client_id: String,
        /// How it authenticates: `client-secret` (a generated secret), or `private-key-jwt`
        /// (assertions signed with its keys: give `--jwks`, `--jwks-uri` or `--trust`).
        #[arg(long, value_enum)]
        auth_method: Option<AuthMethodArg>,
        /// A file holding its public keys (a JSON Web Key Set), for `private-key-jwt`.
        #[arg(long, value_name = "FILE")]
        jwks: Option<std::path::PathBuf>,
        /// Where it publishes its key set (https), for `private-key-jwt`.
        #[arg(long, value_name = "URL")]
        jwks_uri: Option<String>,
        /// A federated trust of one of its tenants (`scimd trust add`): that issuer's
        /// tokens are its assertions (workload identity federation), for `private-key-jwt`.
        #[arg(long, value_name = "NAME")]
        trust: Option<String>,

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

/// How a client authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuthMethodArg {
    #[value(name = "client-secret", alias = "client_secret")]
    ClientSecret,
    #[value(name = "private-key-jwt", alias = "private_key_jwt")]
    PrivateKeyJwt,
}

/// The keys named by the flags, if any (`--auth-method` alone included).
fn keys_spec(
    method: Option<AuthMethodArg>,
    jwks: Option<std::path::PathBuf>,
    jwks_uri: Option<String>,
    trust: Option<String>,
) -> Result<Option<crate::admin::ClientKeysSpec>, String> {
    let jwks = match jwks {
        Some(path) => Some(std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?),
        None => None,
    };
    let method = match method {
        Some(AuthMethodArg::ClientSecret) => "client_secret",
        Some(AuthMethodArg::PrivateKeyJwt) => "private_key_jwt",
        None if jwks.is_some() || jwks_uri.is_some() || trust.is_some() => {
            return Err("--jwks, --jwks-uri and --trust need --auth-method private-key-jwt".into());
        }
        None => return Ok(None),
    };
    Ok(Some(crate::admin::ClientKeysSpec { auth_method: method.into(), jwks, jwks_uri, trust }))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GrantArg {
    #[value(name = "client_credentials", alias = "client-credentials")]
    ClientCredentials,
    Password,
}

/// `scimd client …`.
pub(super) async fn run(admin: &Admin, cmd: ClientCmd) -> Result<(), String> {
    match cmd {
        ClientCmd::Create {
            tenants,
            grants,
            scopes,
            access_ttl,
            refresh_ttl,
            refresh_expiry,
            secret_expires_in,
            auth_method,
            jwks,
            jwks_uri,
            trust,
            json,
        } => {
            let spec = crate::admin::ClientSpec {
                keys: keys_spec(auth_method, jwks, jwks_uri, trust)?,
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
            if c.client_secret.is_empty() {
                if json {
                    println!("{}", serde_json::json!({"client_id": c.client_id}));
                } else {
                    println!(
                        "client {} for {}; it authenticates with private_key_jwt (no secret):",
                        c.client_id,
                        tenants.join(", ")
                    );
                    println!("{}", c.client_id);
                }
            } else if json {
                println!("{}", serde_json::json!({"client_id": c.client_id, "client_secret": c.client_secret}));
            } else {
                println!("client {} for {}; its secret, shown once:", c.client_id, tenants.join(", "));
                println!("{}", c.client_secret);
            }
            Ok(())
        }
        ClientCmd::Set { client_id, access_ttl, refresh_ttl, refresh_expiry, auth_method, jwks, jwks_uri, trust } => {
            if let Some(spec) = keys_spec(auth_method, jwks, jwks_uri, trust)? {
                let view = admin.set_client_keys(&client_id, spec).await?;
                println!("client {client_id} authenticates with {}", view.auth_method);
                if access_ttl.is_none() && refresh_ttl.is_none() && refresh_expiry.is_none() {
                    return Ok(());
                }
            }
            let change = crate::admin::ClientChange {
                access_ttl_secs: access_ttl.map(|d| ttl_secs(d, "--access-ttl")).transpose()?,
                refresh_ttl_secs: refresh_ttl.map(|d| ttl_secs(d, "--refresh-ttl")).transpose()?,
                refresh_expiry: refresh_expiry.map(RefreshExpiryArg::setting),
            };
            admin.update_client(&client_id, change).await?;
            println!("client {client_id} changed");
            Ok(())
        }
        ClientCmd::List { json } => {
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
        ClientCmd::Secret(SecretCmd::Add { client_id, expires_in, json }) => {
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
        ClientCmd::Secret(SecretCmd::Revoke { client_id, secret_id }) => {
            admin.revoke_secret(&client_id, secret_id).await?;
            println!("secret {secret_id} of client {client_id} revoked");
            Ok(())
        }
    }
}
