//! The portal's people and sessions: the [`PortalStore`] part of the store's contract and
//! the types crossing it (the SQL is in `roles::portal`).
//!
//! Operators see every tenant; system users see one. Passwords are argon2 hashes, TOTP
//! seeds and SSO client secrets are sealed by the caller, invitation and session tokens
//! are kept only as SHA-256 (hex). Every statement here is one statement, except a
//! session's rotation (the old row deleted and the new one written together).

use chrono::{DateTime, Utc};

use crate::{BoxFut, StoreResult, TenantId};

/// A person who runs the server (every tenant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    /// The TOTP seed, sealed.
    pub totp_seed: Option<String>,
    /// Whether a first code from the seed was entered (until then the seed is shown).
    pub totp_confirmed: bool,
    /// The last TOTP time step accepted.
    pub totp_last_step: i64,
    pub disabled: bool,
    pub created: String,
}

/// A tenant's system user: one of its customer's admins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemUser {
    pub id: i64,
    pub tenant: TenantId,
    /// Lowercased.
    pub email: String,
    pub password_hash: Option<String>,
    /// When the pending invitation expires, if one is pending.
    pub invite_expires: Option<String>,
    /// `issuer subject` of the SSO identity that signed in as this user.
    pub sso_subject: Option<String>,
    pub disabled: bool,
    pub created_by: Option<String>,
    pub created: String,
}

/// A change to a system user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SystemUserChange {
    /// A new invitation: its token's hash and expiry (replacing a pending one).
    pub invite: Option<(String, DateTime<Utc>)>,
    /// Revokes the pending invitation: its link stops working.
    pub revoke_invite: bool,
    /// Disabling also ends the user's sessions.
    pub disabled: Option<bool>,
    pub sso_subject: Option<String>,
}

/// Who a session belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Principal {
    Operator(i64),
    SystemUser(i64),
}

/// How far a session's sign-in has gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStage {
    /// The password was right; the second factor is still to come.
    SecondFactor,
    SignedIn,
}

impl SessionStage {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStage::SecondFactor => "second_factor",
            SessionStage::SignedIn => "signed_in",
        }
    }

    pub fn parse(s: &str) -> Option<SessionStage> {
        match s {
            "second_factor" => Some(SessionStage::SecondFactor),
            "signed_in" => Some(SessionStage::SignedIn),
            _ => None,
        }
    }
}

/// A session to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// SHA-256 (hex) of the cookie's token.
    pub id_hash: String,
    pub principal: Principal,
    pub stage: SessionStage,
    pub csrf: String,
    pub expires: DateTime<Utc>,
    pub address: Option<String>,
    pub user_agent: Option<String>,
}

/// A stored session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub id_hash: String,
    pub principal: Principal,
    pub stage: SessionStage,
    pub csrf: String,
    pub created: String,
    pub last_seen: String,
    pub expires: String,
    pub address: Option<String>,
    pub user_agent: Option<String>,
}

/// A tenant's single sign-on settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SsoSettings {
    pub issuer: String,
    pub client_id: String,
    /// Sealed; none for a public client.
    pub client_secret: Option<String>,
    pub allowed_domains: Vec<String>,
    pub allowed_groups: Vec<String>,
}

/// The portal's people, invitations, sessions and SSO settings.
pub trait PortalStore {
    /// A new operator; a taken username is a `Conflict`.
    fn create_operator(
        &self,
        username: &str,
        password_hash: String,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<Operator>>;
    fn operator_by_name(&self, username: &str) -> BoxFut<'_, StoreResult<Option<Operator>>>;
    fn operator(&self, id: i64) -> BoxFut<'_, StoreResult<Option<Operator>>>;
    fn operators(&self) -> BoxFut<'_, StoreResult<Vec<Operator>>>;
    /// Disables (ending its sessions) or enables an operator; `false` when there is none.
    fn set_operator_disabled(&self, username: &str, disabled: bool) -> BoxFut<'_, StoreResult<bool>>;
    /// A new password (its sessions end); `false` when there is no such operator.
    fn set_operator_password(&self, username: &str, password_hash: String) -> BoxFut<'_, StoreResult<bool>>;
    /// Sets (or clears) the operator's TOTP seed, confirmed or not, and the last step used.
    fn set_operator_totp(
        &self,
        id: i64,
        seed: Option<String>,
        confirmed: bool,
        last_step: i64,
    ) -> BoxFut<'_, StoreResult<()>>;
    /// Records `step` as the last TOTP step used, if it is later than the last one
    /// recorded: `false` when it is not (a code used again).
    fn use_totp_step(&self, id: i64, step: i64) -> BoxFut<'_, StoreResult<bool>>;

    /// A new system user of the tenant, with a pending invitation; a taken email (in any
    /// tenant) is a `Conflict`.
    fn create_system_user(
        &self,
        tenant: TenantId,
        email: &str,
        invite: Option<(String, DateTime<Utc>)>,
        created_by: &str,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<SystemUser>>;
    fn system_user(&self, id: i64) -> BoxFut<'_, StoreResult<Option<SystemUser>>>;
    fn system_user_by_email(&self, email: &str) -> BoxFut<'_, StoreResult<Option<SystemUser>>>;
    fn system_user_by_sso(&self, tenant: TenantId, subject: &str) -> BoxFut<'_, StoreResult<Option<SystemUser>>>;
    fn system_users(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Vec<SystemUser>>>;
    /// Applies the change; `false` when there is no such user of the tenant.
    fn change_system_user(&self, tenant: TenantId, id: i64, change: SystemUserChange) -> BoxFut<'_, StoreResult<bool>>;
    fn delete_system_user(&self, tenant: TenantId, id: i64) -> BoxFut<'_, StoreResult<bool>>;
    /// The system user a pending, unexpired invitation is for.
    fn invitation(&self, token_hash: &str, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<Option<SystemUser>>>;
    /// Accepts an invitation once: sets the password and drops the invitation, in one
    /// statement. `None` when it is unknown, used or expired.
    fn accept_invitation(
        &self,
        token_hash: &str,
        password_hash: String,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<Option<SystemUser>>>;

    fn add_session(&self, session: NewSession, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>>;
    /// A session that has not expired at `now`.
    fn session(&self, id_hash: &str, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<Option<SessionRow>>>;
    /// Replaces a session by a new one (a new token at each step of a sign-in), in one
    /// transaction; `false` (and nothing written) when the old one is gone.
    fn rotate_session(&self, old_hash: &str, session: NewSession, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<bool>>;
    /// Notes the session was used at `now`, and its new expiry.
    fn touch_session(&self, id_hash: &str, now: DateTime<Utc>, expires: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>>;
    fn delete_session(&self, id_hash: &str) -> BoxFut<'_, StoreResult<bool>>;
    /// The principal's unexpired sessions, newest first.
    fn sessions(&self, principal: Principal, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<Vec<SessionRow>>>;
    /// Ends the principal's sessions but `except`; how many ended.
    fn delete_sessions(&self, principal: Principal, except: Option<String>) -> BoxFut<'_, StoreResult<u64>>;
    /// Deletes sessions expired at `now` and drops invitations expired then; how many rows.
    fn purge_portal(&self, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<u64>>;

    /// Sets or (with `None`) removes the tenant's single sign-on.
    fn set_sso(&self, tenant: TenantId, sso: Option<SsoSettings>, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>>;
    fn sso(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Option<SsoSettings>>>;
}
