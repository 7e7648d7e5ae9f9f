//! Bringing a customer on, from the first credentials to production: the use cases
//! shared by `scimd onboard` / `scimd golive`, the admin API and the portal.
//!
//! - `invite`: what `onboard` makes and sends — the API system user and its one-time
//!   set-password link (by email), the OAuth client (its id by email, its secret by text
//!   message), the system users' signup links — and the links re-sent, revoked, used.
//! - `promote`: an integration tenant's production counterpart, made from its profile,
//!   places, operator-made groups and access links, with new credentials sent the same way.
//! - `golive`: a test run submitted, compared with what the audit trail saw in its window,
//!   approved (promotion) or rejected with feedback.
//! - `outbox`: delivering a message (SMTP relay, SMS gateway) and logging it without its
//!   secret; `messages`: the messages' texts.
//!
//! Links and secrets are made here, sent once and stored only hashed; without a relay or
//! gateway configured they are handed back to be shown to the operator.

mod golive;
mod invite;
pub mod messages;
mod outbox;
mod promote;

pub use golive::{Claim, CompareRow, Decided, Review, SubmissionView};
pub use invite::{ApiUserSent, ClientSent, OnboardOutcome, OnboardRequest, SystemUserSent};
pub use outbox::{Delivery, Outbox, Outgoing};
pub use promote::{Promoted, production_name};

use std::sync::Arc;
use std::time::Duration;

use scimd_store::{Stage, Store, Tenant};

use crate::admin::{Admin, AdminError, AdminResult};
use crate::clock::Clock;
use crate::portal::Portal;

/// Who the messages come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letterhead {
    /// The product name messages are signed with.
    pub product: String,
    /// Where recipients may write for help.
    pub support_email: Option<String>,
}

impl Default for Letterhead {
    fn default() -> Self {
        Letterhead { product: "scimd".into(), support_email: None }
    }
}

/// How onboarding runs.
#[derive(Debug, Clone)]
pub struct OnboardSettings {
    pub letterhead: Letterhead,
    /// How long a set-password link works.
    pub link_ttl: Duration,
    /// Where people reach the server (`https://host`), for links and the URLs in the
    /// client's email.
    pub origin: String,
    /// The token endpoint's path (`oauth.token_path`), where a tenant's profile names none.
    pub token_path: String,
}

/// The onboarding's use cases.
pub struct Onboarding {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    admin: Arc<Admin>,
    portal: Arc<Portal>,
    outbox: Outbox,
    settings: OnboardSettings,
}

impl Onboarding {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        admin: Arc<Admin>,
        portal: Arc<Portal>,
        outbox: Outbox,
        settings: OnboardSettings,
    ) -> Onboarding {
        Onboarding { store, clock, admin, portal, outbox, settings }
    }

    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    async fn tenant(&self, name: &str) -> AdminResult<Tenant> {
        self.admin.tenant(name).await
    }

    /// The name of the tenant of a credential.
    pub async fn tenant_name(&self, id: scimd_store::TenantId) -> AdminResult<String> {
        let t = self.store.tenant_by_id(id).await.map_err(AdminError::internal)?;
        t.map(|t| t.name).ok_or_else(|| AdminError::not_found("the credential's tenant no longer exists"))
    }

    /// The messages sent for a tenant, newest first (never their secrets).
    pub async fn messages(&self, tenant: &str, limit: i64) -> AdminResult<Vec<scimd_store::MessageRow>> {
        let t = self.tenant(tenant).await?;
        self.store.messages(t.id, limit.clamp(1, 1000)).await.map_err(AdminError::internal)
    }
}

/// The API system user's username for an email in a stage: the email itself in
/// production; tagged `+integration` before the `@` in integration. Usernames are unique
/// across tenants (a login names its user, and through it its tenant), and one customer's
/// integration and production tenants each have the user.
pub fn api_username(email: &str, stage: Stage) -> String {
    match (stage, email.split_once('@')) {
        (Stage::Integration, Some((local, domain))) => format!("{local}+integration@{domain}"),
        (Stage::Integration, None) => format!("{email}+integration"),
        (Stage::Production, _) => email.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_usernames_by_stage() {
        assert_eq!(api_username("svc@acme.test", Stage::Production), "svc@acme.test");
        assert_eq!(api_username("svc@acme.test", Stage::Integration), "svc+integration@acme.test");
    }
}
