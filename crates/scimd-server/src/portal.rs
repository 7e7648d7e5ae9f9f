//! The web console's use cases (its pages are `http::portal`): who may sign in and how.
//! Operators see every tenant and sign in with a password and a TOTP second factor; a
//! tenant's system users see only their tenant and sign in with a password set through a
//! one-time invitation, or with their company's OpenID Connect provider. What they then do
//! goes through the same use cases as the command line and the admin API (`admin`).
//!
//! - `people`: operators, system users, invitations.
//! - `signin`: passwords (counted against guessing like the token endpoint's), the second
//!   factor, sessions (a new token at each step, revocable, idle and absolute expiry).
//! - `totp`: RFC 6238 codes and the enrolment QR code.
//! - `sso`: a tenant's single sign-on settings and the identity it admits.
//! - `team`: a tenant's system users as its people manage them.

mod people;
mod signin;
mod sso;
mod team;
mod totp;

pub use people::{InvitedUser, OperatorView, SystemUserView, check_new_password, normalized_email};
pub use signin::{PasswordStep, SecondFactor, SessionView, Signed};
pub use sso::{SsoAnswer, SsoStart, SsoView};
pub use team::TeamChange;
pub use totp::{Enrolment, code_at};

use std::sync::Arc;
use std::time::Duration;

use scimd_store::{Store, Tenant};

use crate::admin::{AdminError, AdminResult};
use crate::clock::Clock;
use crate::oauth::OAuth;
use crate::seal::Keyring;

/// How the portal runs.
#[derive(Debug, Clone)]
pub struct PortalSettings {
    /// A session unused this long ends.
    pub session_idle: Duration,
    /// A session ends this long after its sign-in, used or not.
    pub session_max: Duration,
    /// How long an invitation link works.
    pub invite_ttl: Duration,
    /// Where people reach the server (`https://host`), for the links in invitations;
    /// without it, the links are paths.
    pub public_origin: Option<String>,
    /// Whether an OpenID Connect issuer may be `http://` on a loopback address (tests).
    pub sso_allow_http_loopback: bool,
}

impl Default for PortalSettings {
    fn default() -> Self {
        PortalSettings {
            session_idle: Duration::from_secs(30 * 60),
            session_max: Duration::from_secs(12 * 3600),
            invite_ttl: Duration::from_secs(72 * 3600),
            public_origin: None,
            sso_allow_http_loopback: false,
        }
    }
}

/// The portal's use cases.
pub struct Portal {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    /// Counts sign-in attempts under the token endpoint's lockout rule; only a serving
    /// process signs people in (the command line makes operators and invitations).
    oauth: Option<Arc<OAuth>>,
    keyring: Arc<Keyring>,
    settings: PortalSettings,
    /// Single sign-on's client side; `None` when it could not be set up (no TLS roots).
    relying: Option<crate::oidc::Relying>,
    /// Seals a pending single sign-on in the browser's cookie (`secrets::portal_key`).
    sso_seal: tokio::sync::OnceCell<Keyring>,
}

impl Portal {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        keyring: Arc<Keyring>,
        settings: PortalSettings,
    ) -> Portal {
        let relying = match crate::oidc::Relying::new(settings.sso_allow_http_loopback) {
            Ok(r) => Some(r),
            Err(e) => {
                tracing::warn!(error = %e, "single sign-on is unavailable");
                None
            }
        };
        Portal { store, clock, oauth: None, keyring, settings, relying, sso_seal: Default::default() }
    }

    /// Signing in, with attempts counted by the authorization server's lockout.
    pub fn with_sign_in(self, oauth: Arc<OAuth>) -> Portal {
        Portal { oauth: Some(oauth), ..self }
    }

    fn lockout(&self) -> AdminResult<&OAuth> {
        self.oauth.as_deref().ok_or_else(|| AdminError::internal("signing in needs the server"))
    }

    pub fn settings(&self) -> &PortalSettings {
        &self.settings
    }

    /// Deletes sessions and invitations past their expiry; how many.
    pub async fn purge(&self) -> AdminResult<u64> {
        self.store.purge_portal(self.now()).await.map_err(AdminError::internal)
    }

    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }
}

/// How a one-time token (a session's, an invitation's) is stored: SHA-256, hex.
pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(crate::auth::hash_token(token))
}

/// The person signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Person {
    /// Sees and changes every tenant.
    Operator { id: i64, username: String },
    /// Sees and changes one tenant.
    SystemUser { id: i64, email: String, tenant: Tenant },
}

impl Person {
    /// How the audit trail names the person.
    pub fn audit_name(&self) -> String {
        match self {
            Person::Operator { username, .. } => format!("operator:{username}"),
            Person::SystemUser { email, .. } => format!("system-user:{email}"),
        }
    }

    /// The name shown on pages.
    pub fn display_name(&self) -> &str {
        match self {
            Person::Operator { username, .. } => username,
            Person::SystemUser { email, .. } => email,
        }
    }

    pub fn is_operator(&self) -> bool {
        matches!(self, Person::Operator { .. })
    }

    /// The one tenant a system user sees.
    pub fn own_tenant(&self) -> Option<&Tenant> {
        match self {
            Person::Operator { .. } => None,
            Person::SystemUser { tenant, .. } => Some(tenant),
        }
    }

    /// Whether the person may see and change `tenant` (by name). A system user asking for
    /// another tenant is told it does not exist, as if it did not: names are not revealed.
    pub fn may_open(&self, tenant: &str) -> AdminResult<()> {
        match self {
            Person::Operator { .. } => Ok(()),
            Person::SystemUser { tenant: own, .. } if own.name == tenant => Ok(()),
            Person::SystemUser { .. } => Err(AdminError::not_found(format!("no tenant named '{tenant}'"))),
        }
    }

    /// Refuses what only operators do.
    pub fn operator_only(&self) -> AdminResult<()> {
        if self.is_operator() {
            Ok(())
        } else {
            Err(AdminError { status: 403, message: "only operators can do this".into() })
        }
    }
}
