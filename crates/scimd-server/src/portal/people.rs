//! Who may sign in to the portal: operators (made on the command line), a tenant's system
//! users (invited by an operator or by another system user of the tenant), their
//! invitations (a one-time link, kept as a hash, expiring), and the password rule.

use scimd_store::{StoreError, SystemUserChange, TenantId};
use serde::Serialize;

use super::Portal;
use crate::admin::{AdminError, AdminResult, hash, store_err};
use crate::auth::generate_token;

/// An operator as listed.
#[derive(Debug, Clone, Serialize)]
pub struct OperatorView {
    pub username: String,
    pub created: String,
    pub disabled: bool,
    /// Whether the second factor is set up.
    pub totp: bool,
}

/// A system user as listed.
#[derive(Debug, Clone, Serialize)]
pub struct SystemUserView {
    pub id: i64,
    pub email: String,
    pub tenant: String,
    pub created: String,
    pub created_by: Option<String>,
    pub disabled: bool,
    /// Whether a password is set (an invited user has none until the link is used).
    pub has_password: bool,
    /// When the pending invitation expires.
    pub invite_expires: Option<String>,
    pub sso: bool,
}

/// An invitation just made: its link is shown (or sent) once.
#[derive(Debug, Clone, Serialize)]
pub struct InvitedUser {
    pub email: String,
    pub tenant: String,
    pub invite_url: String,
    pub expires: String,
}

/// The password rule of the portal's people: 12 to 256 characters, not the email or
/// username itself, not one character repeated.
pub fn check_new_password(password: &str, login: &str) -> AdminResult<()> {
    let n = password.chars().count();
    if n < 12 {
        return Err(AdminError::invalid("the password must have at least 12 characters"));
    }
    if n > 256 {
        return Err(AdminError::invalid("the password must have at most 256 characters"));
    }
    if password.eq_ignore_ascii_case(login) {
        return Err(AdminError::invalid("the password cannot be your email or username"));
    }
    let first = password.chars().next();
    if password.chars().all(|c| Some(c) == first) {
        return Err(AdminError::invalid("the password cannot be one character repeated"));
    }
    Ok(())
}

/// An email as stored: trimmed, lowercased, one `@` with something on both sides.
pub fn normalized_email(email: &str) -> AdminResult<String> {
    let e = email.trim().to_lowercase();
    let valid = e.len() <= 254
        && e.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.contains('@'))
        && !e.chars().any(|c| c.is_whitespace() || c.is_control());
    if !valid {
        return Err(AdminError::invalid(format!("'{}' is not an email address", email.trim())));
    }
    Ok(e)
}

impl Portal {
    /// A new operator. The second factor is set up at the first sign-in.
    pub async fn create_operator(&self, username: &str, password: &str) -> AdminResult<OperatorView> {
        let username = username.trim();
        if username.is_empty() || username.len() > 100 || username.contains('@') || username.contains(':') {
            return Err(AdminError::invalid("an operator's username is 1 to 100 characters, without '@' or ':'"));
        }
        if scimd_core::user_name::first_refused(username).is_some() {
            return Err(AdminError::invalid("the username holds a character that could make it look like another"));
        }
        check_new_password(password, username)?;
        let op = self
            .store
            .create_operator(username, hash(password.to_string()).await?, self.now())
            .await
            .map_err(store_err(|| format!("the operator '{username}' already exists")))?;
        Ok(OperatorView { username: op.username, created: op.created, disabled: false, totp: false })
    }

    pub async fn list_operators(&self) -> AdminResult<Vec<OperatorView>> {
        let ops = self.store.operators().await.map_err(AdminError::internal)?;
        Ok(ops
            .into_iter()
            .map(|o| OperatorView {
                username: o.username,
                created: o.created,
                disabled: o.disabled,
                totp: o.totp_confirmed,
            })
            .collect())
    }

    /// Disables (ending its sessions) or enables an operator.
    pub async fn set_operator_disabled(&self, username: &str, disabled: bool) -> AdminResult<()> {
        match self.store.set_operator_disabled(username, disabled).await.map_err(AdminError::internal)? {
            true => Ok(()),
            false => Err(AdminError::not_found(format!("no operator named '{username}'"))),
        }
    }

    /// A new password for an operator (its sessions end).
    pub async fn set_operator_password(&self, username: &str, password: &str) -> AdminResult<()> {
        check_new_password(password, username)?;
        let hashed = hash(password.to_string()).await?;
        match self.store.set_operator_password(username, hashed).await.map_err(AdminError::internal)? {
            true => Ok(()),
            false => Err(AdminError::not_found(format!("no operator named '{username}'"))),
        }
    }

    /// Forgets an operator's second factor (a lost phone): it is set up again at the next
    /// sign-in, after the password. Its sessions end.
    pub async fn reset_operator_totp(&self, username: &str) -> AdminResult<()> {
        let op = self
            .store
            .operator_by_name(username)
            .await
            .map_err(AdminError::internal)?
            .ok_or_else(|| AdminError::not_found(format!("no operator named '{username}'")))?;
        self.store.set_operator_totp(op.id, None, false, 0).await.map_err(AdminError::internal)?;
        let principal = scimd_store::Principal::Operator(op.id);
        self.store.delete_sessions(principal, None).await.map_err(AdminError::internal)?;
        Ok(())
    }

    /// Invites `email` to the tenant's portal: a new system user, or a new link for one
    /// who has not signed in yet (the old link stops working). `by`: who invites, as the
    /// audit trail names them.
    pub async fn invite(&self, tenant: &str, email: &str, by: &str) -> AdminResult<InvitedUser> {
        self.invite_checked(tenant, email, by, true).await
    }

    /// [`Portal::invite`]; unless `may_reset`, someone who has signed in already (with a
    /// password or SSO) is refused: a new link would replace their password.
    pub(crate) async fn invite_checked(
        &self,
        tenant: &str,
        email: &str,
        by: &str,
        may_reset: bool,
    ) -> AdminResult<InvitedUser> {
        let t = self.tenant(tenant).await?;
        let email = normalized_email(email)?;
        let token = generate_token();
        let token_hash = super::token_hash(&token);
        let expires = self.now() + chrono::Duration::from_std(self.settings.invite_ttl).unwrap_or_default();
        let invite = (token_hash, expires);
        match self.store.system_user_by_email(&email).await.map_err(AdminError::internal)? {
            Some(u) if u.tenant != t.id => {
                return Err(AdminError::conflict(format!(
                    "{email} is already a system user of another tenant: a person signs in to one tenant"
                )));
            }
            Some(u) if !may_reset && (u.password_hash.is_some() || u.sso_subject.is_some()) => {
                return Err(AdminError::conflict(format!(
                    "{email} has signed in already: a new link would replace their password; the operator can send one"
                )));
            }
            Some(u) => {
                let change = SystemUserChange { invite: Some(invite), ..Default::default() };
                self.store.change_system_user(t.id, u.id, change).await.map_err(AdminError::internal)?;
            }
            None => {
                self.store
                    .create_system_user(t.id, &email, Some(invite), by, self.now())
                    .await
                    .map_err(store_err(|| format!("{email} is already a system user")))?;
            }
        }
        Ok(InvitedUser {
            email,
            tenant: t.name,
            invite_url: format!("{}/portal/invite?token={token}", self.settings.public_origin.as_deref().unwrap_or("")),
            expires: scimd_store::normalized_time(expires),
        })
    }

    pub async fn list_system_users(&self, tenant: &str) -> AdminResult<Vec<SystemUserView>> {
        let t = self.tenant(tenant).await?;
        let users = self.store.system_users(t.id).await.map_err(AdminError::internal)?;
        Ok(users.into_iter().map(|u| view(u, &t.name)).collect())
    }

    /// Disables (ending their sessions) or enables a system user of the tenant.
    pub async fn set_system_user_disabled(&self, tenant: &str, email: &str, disabled: bool) -> AdminResult<()> {
        let (t, id) = self.system_user_id(tenant, email).await?;
        let change = SystemUserChange { disabled: Some(disabled), ..Default::default() };
        self.store.change_system_user(t, id, change).await.map_err(AdminError::internal)?;
        Ok(())
    }

    /// Makes a system user's pending invitation link stop working (the person stays, and
    /// can be invited again).
    pub async fn revoke_invitation(&self, tenant: &str, email: &str) -> AdminResult<()> {
        let (t, id) = self.system_user_id(tenant, email).await?;
        let change = SystemUserChange { revoke_invite: true, ..Default::default() };
        self.store.change_system_user(t, id, change).await.map_err(AdminError::internal)?;
        Ok(())
    }

    pub async fn delete_system_user(&self, tenant: &str, email: &str) -> AdminResult<()> {
        let (t, id) = self.system_user_id(tenant, email).await?;
        self.store.delete_system_user(t, id).await.map_err(AdminError::internal)?;
        Ok(())
    }

    async fn system_user_id(&self, tenant: &str, email: &str) -> AdminResult<(TenantId, i64)> {
        let t = self.tenant(tenant).await?;
        let email = email.trim().to_lowercase();
        match self.store.system_user_by_email(&email).await.map_err(AdminError::internal)? {
            Some(u) if u.tenant == t.id => Ok((t.id, u.id)),
            _ => Err(AdminError::not_found(format!("{email} is not a system user of '{}'", t.name))),
        }
    }

    /// The email and tenant an unexpired invitation link is for.
    pub async fn invitation(&self, token: &str) -> AdminResult<Option<(String, String)>> {
        let hash = super::token_hash(token);
        let Some(u) = self.store.invitation(&hash, self.now()).await.map_err(AdminError::internal)? else {
            return Ok(None);
        };
        let tenant = self.store.tenant_by_id(u.tenant).await.map_err(AdminError::internal)?;
        Ok(tenant.map(|t| (u.email, t.name)))
    }

    /// Sets the password through an invitation link, once. The email is returned; the
    /// person then signs in.
    pub async fn accept_invitation(&self, token: &str, password: &str) -> AdminResult<String> {
        let gone = || AdminError::not_found("this invitation link was used already or has expired: ask for a new one");
        let hash_ = super::token_hash(token);
        let u = self.store.invitation(&hash_, self.now()).await.map_err(AdminError::internal)?.ok_or_else(gone)?;
        check_new_password(password, &u.email)?;
        let hashed = hash(password.to_string()).await?;
        match self.store.accept_invitation(&hash_, hashed, self.now()).await {
            Ok(Some(u)) => Ok(u.email),
            Ok(None) => Err(gone()),
            Err(StoreError::NotFound) => Err(gone()),
            Err(e) => Err(AdminError::internal(e)),
        }
    }

    pub(super) async fn tenant(&self, name: &str) -> AdminResult<scimd_store::Tenant> {
        crate::admin::tenant_named(&*self.store, name).await
    }
}

/// A system user as listed, of the tenant named `tenant`.
pub(super) fn view(u: scimd_store::SystemUser, tenant: &str) -> SystemUserView {
    SystemUserView {
        id: u.id,
        email: u.email,
        tenant: tenant.to_string(),
        created: u.created,
        created_by: u.created_by,
        disabled: u.disabled,
        has_password: u.password_hash.is_some(),
        invite_expires: u.invite_expires,
        sso: u.sso_subject.is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_rule() {
        assert!(check_new_password("short", "a@b.c").is_err());
        assert!(check_new_password("aaaaaaaaaaaaaa", "a@b.c").is_err());
        assert!(check_new_password("Jane@Acme.test", "jane@acme.test").is_err());
        assert!(check_new_password(&"x1".repeat(129), "a@b.c").is_err());
        assert!(check_new_password("correct horse battery", "a@b.c").is_ok());
    }

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(normalized_email(" Jane@Acme.TEST ").unwrap(), "jane@acme.test");
        for bad in ["jane", "@acme.test", "jane@acme", "ja ne@acme.test", "a@b@c.test"] {
            assert!(normalized_email(bad).is_err(), "{bad}");
        }
    }
}
