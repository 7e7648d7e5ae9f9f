//! `scimd api-user create|list|disable|enable|set-password`: a tenant's API system users
//! (service accounts of the password grant). A password is read from standard input or
//! generated, and printed once.

use clap::Subcommand;

use crate::admin::Admin;

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

/// `scimd api-user …`.
pub(super) async fn run(admin: &Admin, cmd: ApiUserCmd) -> Result<(), String> {
    match cmd {
        ApiUserCmd::Create { tenant, username, password_stdin, json } => {
            let u = admin.create_api_user(&tenant, &username, password_from_stdin(password_stdin)?).await?;
            if json {
                println!("{}", serde_json::json!({"username": u.username, "password": u.password}));
            } else {
                println!("API user {} of tenant {tenant}; its password, shown once:", u.username);
                println!("{}", u.password);
            }
            Ok(())
        }
        ApiUserCmd::SetPassword { tenant, username, password_stdin, json } => {
            let u = admin.set_api_user_password(&tenant, &username, password_from_stdin(password_stdin)?).await?;
            if json {
                println!("{}", serde_json::json!({"username": u.username, "password": u.password}));
            } else {
                println!("API user {} of tenant {tenant}: new password (its logins ended), shown once:", u.username);
                println!("{}", u.password);
            }
            Ok(())
        }
        ApiUserCmd::List { tenant } => {
            for u in admin.list_api_users(&tenant).await? {
                let state = u.disabled.map_or("active".to_string(), |d| format!("disabled {d}"));
                println!("{}\t{}\t{state}", u.username, u.created);
            }
            Ok(())
        }
        ApiUserCmd::Disable { tenant, username } => {
            admin.set_api_user_disabled(&tenant, &username, true).await?;
            println!("API user {username} of tenant {tenant} disabled");
            Ok(())
        }
        ApiUserCmd::Enable { tenant, username } => {
            admin.set_api_user_disabled(&tenant, &username, false).await?;
            println!("API user {username} of tenant {tenant} enabled");
            Ok(())
        }
    }
}

/// A password from the first line of standard input, when asked for.
pub(super) fn password_from_stdin(asked: bool) -> Result<Option<String>, String> {
    if !asked {
        return Ok(None);
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).map_err(|e| format!("cannot read the password: {e}"))?;
    Ok(Some(line.trim_end_matches(['\r', '\n']).to_string()))
}
