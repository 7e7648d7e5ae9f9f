//! `scimd group create|list|delete`: a tenant's groups made by the operator (for tenants
//! whose identity provider may not create them).

use clap::Subcommand;

use crate::admin::Admin;

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

/// `scimd group …`.
pub(super) async fn run(admin: &Admin, cmd: GroupCmd) -> Result<(), String> {
    match cmd {
        GroupCmd::Create { tenant, name, external_id, id } => {
            let (_, g) = admin.create_group(&tenant, &name, external_id.as_deref(), id.as_deref()).await?;
            println!("{}\t{}", g.id, g.display_name);
            Ok(())
        }
        GroupCmd::List { tenant } => {
            for g in admin.list_groups(&tenant).await? {
                println!("{}\t{}\t{}", g.id, g.display_name, g.external_id.as_deref().unwrap_or("-"));
            }
            Ok(())
        }
        GroupCmd::Delete { tenant, group } => {
            let (_, g) = admin.delete_group(&tenant, &group).await?;
            println!("group {} ({}) of tenant {tenant} deleted", g.id, g.display_name);
            Ok(())
        }
    }
}
