//! What `onboard` makes and sends: the API system user with its one-time set-password
//! link, the OAuth client (id by email, secret by text message), the system users'
//! signup links; the links re-sent, revoked and used. Running it again makes nothing
//! twice: it sends a new link, and a new secret for the client it made before.

use chrono::TimeDelta;
use scimd_store::{Contacts, Tenant};
use serde::Serialize;

use super::messages::{self, ClientFacts};
use super::{Delivery, Onboarding, Outgoing, api_username};
use crate::admin::{AdminError, AdminResult, Caller, Change, Reach};
use crate::auth::{generate_password, generate_token};
use crate::portal::{check_new_password, normalized_email, token_hash};

/// What the operator gives: who receives what. Absent contacts are the tenant's stored ones.
#[derive(Debug, Clone, Default)]
pub struct OnboardRequest {
    pub tenant: String,
    /// The API system user's email: its set-password link and the client id go there.
    pub api_user_email: Option<String>,
    /// The mobile number the client secret is texted to.
    pub secret_mobile: Option<String>,
    /// The people who get the website: each receives a signup link.
    pub system_user_emails: Vec<String>,
    /// Who onboards, as the audit trail and the portal name them (`operator:olga`).
    pub by: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApiUserSent {
    pub username: String,
    pub email: String,
    /// Whether the user was made now (else it had been, and gets a new link).
    pub created: bool,
    pub expires: String,
    pub delivery: Delivery,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClientSent {
    pub client_id: String,
    /// Whether the client was made now (else it got a new secret; its others stay valid).
    pub created: bool,
    /// The client id's email, when there is an address to send it to.
    pub id_delivery: Option<Delivery>,
    pub secret_delivery: Delivery,
}

#[derive(Debug, Clone, Serialize)]
pub struct SystemUserSent {
    pub email: String,
    /// Sent, or why not (someone who has signed in already keeps their password).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OnboardOutcome {
    pub tenant: String,
    pub stage: scimd_store::Stage,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_user: Option<ApiUserSent>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientSent>,
    pub system_users: Vec<SystemUserSent>,
}

impl Onboarding {
    /// Makes what the tenant is missing and sends each credential its way.
    pub async fn onboard(&self, req: OnboardRequest, caller: Caller<'_>) -> AdminResult<OnboardOutcome> {
        let t = self.tenant(&req.tenant).await?;
        let email = req.api_user_email.as_deref().map(normalized_email).transpose()?;
        let mobile = match req.secret_mobile.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
            Some(m) => Some(crate::sms::e164_mobile(m).map_err(AdminError::invalid)?),
            None => None,
        };
        let people = req.system_user_emails.iter().map(|e| normalized_email(e)).collect::<AdminResult<Vec<_>>>()?;
        let contacts =
            Contacts { email: email.or(t.contacts.email.clone()), mobile: mobile.or(t.contacts.mobile.clone()) };
        if contacts != t.contacts {
            self.store.set_tenant_contacts(t.id, contacts.clone()).await.map_err(AdminError::internal)?;
        }
        let outcome = self.send_credentials(&t, &contacts, &people, &req.by).await?;
        let change = Change { op: "onboard", rtype: "Tenant", id: &t.name, status: 200, command: "scimd onboard" };
        self.admin.audit_change(&t, caller, change).await;
        Ok(outcome)
    }

    /// The credentials for `contacts` and the signup links for `people`, made and sent.
    pub(super) async fn send_credentials(
        &self,
        t: &Tenant,
        contacts: &Contacts,
        people: &[String],
        by: &str,
    ) -> AdminResult<OnboardOutcome> {
        let api_user = match &contacts.email {
            Some(email) => Some(self.api_user(t, email).await?),
            None => None,
        };
        let client = match (&contacts.email, &contacts.mobile) {
            (None, None) => None,
            _ => Some(self.client(t, contacts, api_user.is_some()).await?),
        };
        let mut system_users = Vec::new();
        for email in people {
            system_users.push(self.system_user(t, email, by).await?);
        }
        Ok(OnboardOutcome { tenant: t.name.clone(), stage: t.stage, api_user, client, system_users })
    }

    async fn api_user(&self, t: &Tenant, email: &str) -> AdminResult<ApiUserSent> {
        let username = api_username(email, t.stage);
        let users = self.store.list_api_users(t.id).await.map_err(AdminError::internal)?;
        let created = !users.iter().any(|u| u.username == username);
        if created {
            // Nobody knows this password: the user signs in once its own is set.
            self.admin.create_api_user(&t.name, &username, Some(generate_password())).await?;
        }
        let (expires, delivery) = self.send_api_user_link(t, &username, email).await?;
        Ok(ApiUserSent { username, email: email.to_string(), created, expires, delivery })
    }

    /// A new set-password link for the API system user (the one before stops working),
    /// emailed to `email`.
    async fn send_api_user_link(&self, t: &Tenant, username: &str, email: &str) -> AdminResult<(String, Delivery)> {
        let token = generate_token();
        let expires = self.now() + TimeDelta::from_std(self.settings.link_ttl).unwrap_or(TimeDelta::hours(72));
        let invite = Some((token_hash(&token), expires));
        self.store
            .set_api_user_invite(t.id, username, Some(email.to_string()), invite)
            .await
            .map_err(crate::admin::store_err(|| format!("tenant '{}' has no API user '{username}'", t.name)))?;
        let link = format!("{}/portal/set-password?token={token}", self.settings.origin);
        let shown = expires.format("%Y-%m-%d %H:%M").to_string();
        let h = &self.settings.letterhead;
        let text = messages::api_user_password(h, &t.name, username, &shown, &link);
        let logged = messages::api_user_password(h, &t.name, username, &shown, "[link]").body;
        let m = Outgoing {
            tenant: t.id,
            kind: "api-user-password",
            subject: text.subject,
            text: text.body,
            logged,
            secret: Some(&link),
        };
        Ok((scimd_store::normalized_time(expires), self.outbox.email(email, m).await))
    }

    /// The tenant's own client: made with the grant its onboarding needs, or (made
    /// before) given a new secret.
    async fn client(&self, t: &Tenant, contacts: &Contacts, password_grant: bool) -> AdminResult<ClientSent> {
        let own = self.admin.tenant_clients(&t.name, Reach::OwnTenant).await?;
        let (client_id, secret, grants, created) = match own.iter().rev().find(|c| !c.shared) {
            Some(c) => {
                let s = self.admin.add_secret(&c.view.client_id, None).await?;
                (s.client_id, s.client_secret, c.view.grant_types.join(" "), false)
            }
            None => {
                let grant = if password_grant { "password" } else { "client_credentials" };
                let c = self.admin.create_tenant_client(&t.name, &[grant.to_string()], "scim", None).await?;
                let grants = if password_grant { "password refresh_token" } else { "client_credentials" };
                (c.client_id, c.client_secret, grants.to_string(), true)
            }
        };
        let h = &self.settings.letterhead;
        let secret_delivery = match &contacts.mobile {
            Some(mobile) => {
                let m = Outgoing {
                    tenant: t.id,
                    kind: "client-secret",
                    subject: String::new(),
                    text: messages::client_secret(h, &t.name, &secret),
                    logged: messages::client_secret(h, &t.name, "[secret]"),
                    secret: Some(&secret),
                };
                self.outbox.sms(mobile, m).await
            }
            None => {
                Delivery { channel: "sms", to: String::new(), outcome: "printed", reason: None, secret: Some(secret) }
            }
        };
        let id_delivery = match &contacts.email {
            Some(email) => {
                let connection = self.admin.connection(&t.name).await?;
                let origin = &self.settings.origin;
                let token_path = connection.token_path.as_deref().unwrap_or(&self.settings.token_path);
                let secret_to = match &contacts.mobile {
                    Some(m) => crate::sms::masked(m),
                    None => "you by the operator".to_string(),
                };
                let facts = ClientFacts {
                    tenant: &t.name,
                    client_id: &client_id,
                    grants: &grants,
                    scim_url: &format!("{origin}{}", connection.base_path),
                    token_url: &format!("{origin}{token_path}"),
                    secret_to: &secret_to,
                };
                let text = messages::client_id(h, &facts);
                let m = Outgoing {
                    tenant: t.id,
                    kind: "client-id",
                    subject: text.subject,
                    logged: text.body.clone(),
                    text: text.body,
                    secret: None,
                };
                Some(self.outbox.email(email, m).await)
            }
            None => None,
        };
        Ok(ClientSent { client_id, created, id_delivery, secret_delivery })
    }

    async fn system_user(&self, t: &Tenant, email: &str, by: &str) -> AdminResult<SystemUserSent> {
        let invited = match self.portal.invite_checked(&t.name, email, by, false).await {
            Ok(i) => i,
            Err(e) if e.status == 409 => {
                return Ok(SystemUserSent { email: email.to_string(), delivery: None, skipped: Some(e.message) });
            }
            Err(e) => return Err(e),
        };
        let shown = chrono::DateTime::parse_from_rfc3339(&invited.expires)
            .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or(invited.expires.clone());
        let h = &self.settings.letterhead;
        let text = messages::system_user_invite(h, &t.name, &shown, &invited.invite_url);
        let m = Outgoing {
            tenant: t.id,
            kind: "system-user-invite",
            subject: text.subject,
            text: text.body,
            logged: messages::system_user_invite(h, &t.name, &shown, "[link]").body,
            secret: Some(&invited.invite_url),
        };
        let delivery = self.outbox.email(email, m).await;
        Ok(SystemUserSent { email: invited.email, delivery: Some(delivery), skipped: None })
    }

    /// Sends the API system user a new set-password link (the one before stops working).
    pub async fn resend_api_user_link(&self, tenant: &str, username: &str) -> AdminResult<ApiUserSent> {
        let t = self.tenant(tenant).await?;
        let users = self.store.list_api_users(t.id).await.map_err(AdminError::internal)?;
        let u = users
            .iter()
            .find(|u| u.username == username)
            .ok_or_else(|| AdminError::not_found(format!("tenant '{tenant}' has no API user '{username}'")))?;
        let email = u.email.clone().or(t.contacts.email.clone()).ok_or_else(|| {
            AdminError::invalid(format!("no email is known for '{username}': onboard it with --api-user-email"))
        })?;
        let (expires, delivery) = self.send_api_user_link(&t, username, &email).await?;
        Ok(ApiUserSent { username: username.to_string(), email, created: false, expires, delivery })
    }

    /// Makes the API system user's pending link stop working.
    pub async fn revoke_api_user_link(&self, tenant: &str, username: &str) -> AdminResult<()> {
        let t = self.tenant(tenant).await?;
        self.store
            .set_api_user_invite(t.id, username, None, None)
            .await
            .map_err(crate::admin::store_err(|| format!("tenant '{tenant}' has no API user '{username}'")))
    }

    /// Makes a system user's pending signup link stop working.
    pub async fn revoke_invitation(&self, tenant: &str, email: &str) -> AdminResult<()> {
        self.portal.revoke_invitation(tenant, email).await
    }

    /// The username an unexpired set-password link is for (all its page shows).
    pub async fn api_user_link(&self, token: &str) -> AdminResult<Option<String>> {
        let found = self.store.api_user_invitation(&token_hash(token), self.now()).await;
        Ok(found.map_err(AdminError::internal)?.map(|i| i.username))
    }

    /// Sets the API system user's password through its link, once; the username.
    pub async fn set_api_user_password(&self, token: &str, password: &str) -> AdminResult<String> {
        let gone = || AdminError::not_found("this link was used already or has expired: ask for a new one");
        let username = self.api_user_link(token).await?.ok_or_else(gone)?;
        check_new_password(password, &username)?;
        let hashed = crate::admin::hash(password.to_string()).await?;
        let accepted = self.store.accept_api_user_invitation(&token_hash(token), hashed, self.now()).await;
        accepted.map_err(AdminError::internal)?.map(|i| i.username).ok_or_else(gone)
    }
}
