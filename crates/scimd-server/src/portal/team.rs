//! A tenant's system users as the tenant's people manage them in the portal: by their id
//! (an address never carries an email), and nobody disables or deletes themselves — they
//! would be locked out at once, with nobody perhaps left to let them back in. A system
//! user invites only people who have not signed in yet: a new link for someone who has
//! would let them set a colleague's password and act in their name; the operator may
//! (a forgotten password).

use super::{InvitedUser, Person, Portal, SystemUserView};
use scimd_store::SystemUserChange;

use crate::admin::{AdminError, AdminResult};

/// What is done to a system user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TeamChange {
    Disable,
    Enable,
    Delete,
}

impl Portal {
    /// Invites `email` to `tenant` on behalf of `by` (see the module's documentation).
    pub async fn invite_by(&self, by: &Person, tenant: &str, email: &str) -> AdminResult<InvitedUser> {
        self.invite_checked(tenant, email, &by.audit_name(), by.is_operator()).await
    }

    /// Applies `change` to the system user `id` of `tenant` on behalf of `by`; returns the
    /// user as it was.
    pub async fn change_system_user(
        &self,
        by: &Person,
        tenant: &str,
        id: i64,
        change: TeamChange,
    ) -> AdminResult<SystemUserView> {
        let t = self.tenant(tenant).await?;
        let u = self
            .store
            .system_user(id)
            .await
            .map_err(AdminError::internal)?
            .filter(|u| u.tenant == t.id)
            .ok_or_else(|| AdminError::not_found(format!("'{tenant}' has no system user {id}")))?;
        let me = matches!(by, Person::SystemUser { id: mine, .. } if *mine == u.id);
        if me && change != TeamChange::Enable {
            return Err(AdminError::conflict(
                "you cannot disable or delete yourself: another system user of the tenant, or the operator, can",
            ));
        }
        let disabled = |d: bool| SystemUserChange { disabled: Some(d), ..Default::default() };
        match change {
            TeamChange::Disable => self.store.change_system_user(t.id, u.id, disabled(true)).await,
            TeamChange::Enable => self.store.change_system_user(t.id, u.id, disabled(false)).await,
            TeamChange::Delete => self.store.delete_system_user(t.id, u.id).await,
        }
        .map_err(AdminError::internal)?;
        Ok(super::people::view(u, &t.name))
    }
}
