//! Onboarding: the [`OnboardingStore`] part of the store's contract and the types crossing
//! it (the SQL is in `roles::onboarding`): API system users' set-password links, the log
//! of messages sent, and the go-live submissions with their decisions.
//!
//! Link tokens are kept only as SHA-256 (hex), computed by the caller; a message is logged
//! with its secrets already replaced by the caller.

use chrono::{DateTime, Utc};

use crate::{BoxFut, StoreResult, TenantId};

/// An API system user's pending set-password link, found by its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiUserInvite {
    pub tenant: TenantId,
    pub username: String,
    pub email: Option<String>,
}

/// A message to log: sent, failed or printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub tenant: Option<TenantId>,
    /// `email` or `sms`.
    pub channel: String,
    pub kind: String,
    /// The address, or the mobile number masked.
    pub recipient: String,
    /// `sent`, `failed` or `printed`.
    pub outcome: String,
    pub detail: Option<String>,
    /// The text with its secrets and links replaced.
    pub text: String,
}

/// A message as logged.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MessageRow {
    pub id: i64,
    pub channel: String,
    pub kind: String,
    pub recipient: String,
    pub outcome: String,
    pub detail: Option<String>,
    pub text: String,
    pub sent: String,
}

/// A test run submitted for the go-live check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSubmission {
    /// The run's window, `[from, to)`, normalized UTC times.
    pub window_from: String,
    pub window_to: String,
    /// What the customer says its run did (JSON).
    pub claimed: String,
    /// `report` or `typed`.
    pub source: String,
    pub submitted_by: String,
}

/// A go-live submission and, once decided, its decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    pub id: i64,
    pub tenant: TenantId,
    pub window_from: String,
    pub window_to: String,
    pub claimed: String,
    pub source: String,
    pub submitted_by: String,
    pub submitted: String,
    /// `submitted`, `approved` or `rejected`.
    pub state: String,
    /// What the audit trail said of the window when it was decided (JSON).
    pub computed: Option<String>,
    pub decided_by: Option<String>,
    pub decided: Option<String>,
    pub feedback: Option<String>,
    /// The production tenant an approval made (or found).
    pub production: Option<TenantId>,
}

/// The operator's decision on a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub approved: bool,
    /// What the audit trail said of the window (JSON).
    pub computed: String,
    pub decided_by: String,
    pub feedback: Option<String>,
    pub production: Option<TenantId>,
}

pub trait OnboardingStore: Send + Sync {
    /// Sets (or with `None` revokes) an API system user's set-password link, and the
    /// email it goes to; `NotFound` if the tenant has no such user.
    fn set_api_user_invite(
        &self,
        tenant: TenantId,
        username: &str,
        email: Option<String>,
        invite: Option<(String, DateTime<Utc>)>,
    ) -> BoxFut<'_, StoreResult<()>>;
    /// The API system user an unexpired link is for.
    fn api_user_invitation(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<Option<ApiUserInvite>>>;
    /// Sets the password through an unexpired link, once, ending the user's logins made
    /// before (in one transaction); `None` if the link is used, expired or unknown.
    fn accept_api_user_invitation(
        &self,
        token_hash: &str,
        password_hash: String,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<Option<ApiUserInvite>>>;
    fn log_message(&self, message: NewMessage, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>>;
    /// A tenant's messages, newest first, at most `limit`.
    fn messages(&self, tenant: TenantId, limit: i64) -> BoxFut<'_, StoreResult<Vec<MessageRow>>>;
    fn create_submission(
        &self,
        tenant: TenantId,
        submission: NewSubmission,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<Submission>>;
    /// A tenant's submissions, newest first.
    fn submissions(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Vec<Submission>>>;
    fn submission(&self, tenant: TenantId, id: i64) -> BoxFut<'_, StoreResult<Option<Submission>>>;
    /// Records the decision on a submission still waiting for one; whether it was waiting
    /// (of two operators deciding at once, one wins).
    fn decide_submission(
        &self,
        tenant: TenantId,
        id: i64,
        decision: Decision,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<bool>>;
}
