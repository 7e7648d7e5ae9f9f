//! A tenant's system users as the tenant's people manage them in the portal: by their id
//! (an address never carries an email), and nobody disables or deletes themselves — they
//! would be locked out at once, with nobody perhaps left to let them back in.

use super::{Person, Portal, SystemUserView};
use crate::admin::{AdminError, AdminResult};

/// What is done to a system user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TeamChange {
    Disable,
    Enable,
    Delete,
}

impl Portal {
    /// Applies `change` to the system user `id` of `tenant` on behalf of `by`; returns the
    /// user as it was.
    pub async fn change_system_user(
        &self,
        by: &Person,
        tenant: &str,
        id: i64,
        change: TeamChange,
    ) -> AdminResult<SystemUserView> {
        let users = self.list_system_users(tenant).await?;
        let u = users
            .into_iter()
            .find(|u| u.id == id)
            .ok_or_else(|| AdminError::not_found(format!("'{tenant}' has no system user {id}")))?;
        let me = matches!(by, Person::SystemUser { id: mine, .. } if *mine == u.id);
        if me && change != TeamChange::Enable {
            return Err(AdminError::conflict(
                "you cannot disable or delete yourself: another system user of the tenant, or the operator, can",
            ));
        }
        match change {
            TeamChange::Disable => self.set_system_user_disabled(tenant, &u.email, true).await?,
            TeamChange::Enable => self.set_system_user_disabled(tenant, &u.email, false).await?,
            TeamChange::Delete => self.delete_system_user(tenant, &u.email).await?,
        }
        Ok(u)
    }
}
