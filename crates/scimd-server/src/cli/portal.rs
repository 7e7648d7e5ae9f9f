//! `scimd operator …` and `scimd system-user …`: the people who sign in to the portal.
//! Operators are made here (their second factor is set up at their first sign-in);
//! system users are invited to one tenant, and set their password through the link.

use clap::Subcommand;

use crate::portal::Portal;

#[derive(Debug, Subcommand)]
pub enum OperatorCmd {
    /// Create an operator of the portal (sees every tenant). The password is read from
    /// standard input; the second factor is set up at the first sign-in.
    Create {
        #[arg(long)]
        username: String,
        /// Read the password from standard input (required: operators choose their own).
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the operators: username, created, second factor set up or not, active or
    /// disabled (tab-separated).
    List,
    /// Disable an operator: it can no longer sign in, and its sessions end.
    Disable { username: String },
    /// Enable a disabled operator again.
    Enable { username: String },
    /// Give an operator a new password (read from standard input); its sessions end.
    SetPassword {
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Forget an operator's second factor (a lost phone): set up again at the next sign-in.
    ResetTotp { username: String },
}

#[derive(Debug, Subcommand)]
pub enum SystemUserCmd {
    /// Invite a system user to a tenant's portal (or send a new link to one who has not
    /// signed in yet): prints the one-time link where they set their password.
    Invite {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        /// Print one JSON object: `{"email": …, "tenant": …, "invite_url": …, "expires": …}`.
        #[arg(long)]
        json: bool,
    },
    /// List a tenant's system users: email, created, state (`active`, `invited`, `sso`,
    /// `disabled`, `no-link`: neither a password nor a link that works; tab-separated).
    List {
        #[arg(long)]
        tenant: String,
    },
    /// Disable a system user: they can no longer sign in, and their sessions end.
    Disable {
        #[arg(long)]
        tenant: String,
        email: String,
    },
    /// Enable a disabled system user again.
    Enable {
        #[arg(long)]
        tenant: String,
        email: String,
    },
    /// Delete a system user.
    Delete {
        #[arg(long)]
        tenant: String,
        email: String,
    },
}

fn required_password(asked: bool) -> Result<String, String> {
    super::api_user::password_from_stdin(asked)?
        .ok_or_else(|| "give the password on standard input with --password-stdin".to_string())
}

/// `scimd operator …`.
pub(super) async fn operator(portal: &Portal, cmd: OperatorCmd) -> Result<(), String> {
    match cmd {
        OperatorCmd::Create { username, password_stdin } => {
            let op = portal.create_operator(&username, &required_password(password_stdin)?).await?;
            println!("operator {} created: the second factor is set up at the first sign-in", op.username);
        }
        OperatorCmd::List => {
            for o in portal.list_operators().await? {
                let totp = if o.totp { "totp" } else { "no-totp" };
                let state = if o.disabled { "disabled" } else { "active" };
                println!("{}\t{}\t{totp}\t{state}", o.username, o.created);
            }
        }
        OperatorCmd::Disable { username } => {
            portal.set_operator_disabled(&username, true).await?;
            println!("operator {username} disabled; its sessions ended");
        }
        OperatorCmd::Enable { username } => {
            portal.set_operator_disabled(&username, false).await?;
            println!("operator {username} enabled");
        }
        OperatorCmd::SetPassword { username, password_stdin } => {
            portal.set_operator_password(&username, &required_password(password_stdin)?).await?;
            println!("operator {username}: new password set; its sessions ended");
        }
        OperatorCmd::ResetTotp { username } => {
            portal.reset_operator_totp(&username).await?;
            println!("operator {username}: second factor forgotten, set up again at the next sign-in");
        }
    }
    Ok(())
}

/// `scimd system-user …`.
pub(super) async fn system_user(portal: &Portal, cmd: SystemUserCmd) -> Result<(), String> {
    match cmd {
        SystemUserCmd::Invite { tenant, email, json } => {
            let i = portal.invite(&tenant, &email, "operator").await?;
            if json {
                println!("{}", serde_json::to_string(&i).map_err(|e| e.to_string())?);
            } else {
                println!("{} invited to {}; the link works once, until {}:", i.email, i.tenant, i.expires);
                println!("{}", i.invite_url);
            }
        }
        SystemUserCmd::List { tenant } => {
            for u in portal.list_system_users(&tenant).await? {
                let state = match (u.disabled, u.has_password, u.sso) {
                    (true, _, _) => "disabled",
                    (false, true, _) => "active",
                    (false, false, true) => "sso",
                    (false, false, false) if u.invite_expires.is_some() => "invited",
                    // Its link was revoked (or has expired and was purged): invite again.
                    (false, false, false) => "no-link",
                };
                println!("{}\t{}\t{state}", u.email, u.created);
            }
        }
        SystemUserCmd::Disable { tenant, email } => {
            portal.set_system_user_disabled(&tenant, &email, true).await?;
            println!("{email} disabled; their sessions ended");
        }
        SystemUserCmd::Enable { tenant, email } => {
            portal.set_system_user_disabled(&tenant, &email, false).await?;
            println!("{email} enabled");
        }
        SystemUserCmd::Delete { tenant, email } => {
            portal.delete_system_user(&tenant, &email).await?;
            println!("{email} deleted");
        }
    }
    Ok(())
}
