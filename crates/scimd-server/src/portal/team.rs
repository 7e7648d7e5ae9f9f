//! A tenant's system users as the tenant's people manage them in the portal: by their id
//! (an address never carries an email), and nobody disables or deletes themselves — they
//! would be locked out at once, with nobody perhaps left to let them back in. A system
//! user invites only people who have not signed in yet: a new link for someone who has
//! would let them set a colleague's password and act in their name; the operator may
//! (a forgotten password).

use super::{InvitedUser, Person, Portal, SystemUserView};
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
        if !by.is_operator() {
            let wanted = super::people::normalized_email(email)?;
            let users = self.list_system_users(tenant).await?;
            if users.iter().any(|u| u.email == wanted && (u.has_password || u.sso)) {
                return Err(AdminError::conflict(format!(
                    "{wanted} has signed in already: a new link would replace their password; the operator can send one"
                )));
            }
        }
        self.invite(tenant, email, &by.audit_name()).await
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
