//! `scimd token create|list|revoke` (a tenant's long-lived bearer tokens) and `scimd
//! admin-token create` (operator tokens of the admin API). A created token is printed
//! once, alone on the last line, for scripts.

use clap::Subcommand;

use crate::admin::Admin;

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

#[derive(Debug, Subcommand)]
pub enum AdminTokenCmd {
    /// Create an operator token; prints it once, alone on the last line.
    Create {
        /// Lifetime in days; without it the token does not expire.
        #[arg(long)]
        expires_in_days: Option<u32>,
    },
}

/// `scimd token …`.
pub(super) async fn run(admin: &Admin, cmd: TokenCmd) -> Result<(), String> {
    match cmd {
        TokenCmd::Create { tenant, expires_in_days } => {
            let t = admin.create_token(&tenant, expires_in_days).await?;
            match &t.expires {
                Some(e) => println!("token {} for tenant {tenant} (expires {e}); shown once:", t.id),
                None => println!("token {} for tenant {tenant} (no expiry); shown once:", t.id),
            }
            println!("{}", t.token);
            Ok(())
        }
        TokenCmd::List { tenant } => {
            for tok in admin.list_tokens(&tenant).await? {
                let state = match &tok.revoked {
                    Some(r) => format!("revoked {r}"),
                    None => tok.state.to_string(),
                };
                println!("{}\t{}\t{}\t{state}", tok.id, tok.created, tok.expires.as_deref().unwrap_or("-"));
            }
            Ok(())
        }
        TokenCmd::Revoke { tenant, id } => {
            admin.revoke_token(&tenant, id).await?;
            println!("token {id} of tenant {tenant} revoked");
            Ok(())
        }
    }
}

/// `scimd admin-token …`.
pub(super) async fn admin_token(admin: &Admin, cmd: AdminTokenCmd) -> Result<(), String> {
    match cmd {
        AdminTokenCmd::Create { expires_in_days } => {
            let t = admin.create_admin_token(expires_in_days).await?;
            println!("operator token {} for the admin API, shown once:", t.id);
            println!("{}", t.token);
            Ok(())
        }
    }
}
