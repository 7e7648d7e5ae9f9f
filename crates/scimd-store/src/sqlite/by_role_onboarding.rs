//! The SQLite shell's side of onboarding: for each method of `OnboardingStore`, where its
//! SQL (`roles::onboarding`) runs — a reader, or the writer thread (one closure: one
//! transaction).

use super::*;
use crate::onboarding::{ApiUserInvite, Decision, MessageRow, NewMessage, NewSubmission, OnboardingStore, Submission};
use crate::roles::onboarding as sql;

impl OnboardingStore for SqliteStore {
    fn set_api_user_invite(
        &self,
        tenant: TenantId,
        username: &str,
        email: Option<String>,
        invite: Option<(String, DateTime<Utc>)>,
    ) -> BoxFut<'_, StoreResult<()>> {
        let username = username.to_string();
        Box::pin(self.write(move |w| {
            let invite = invite.as_ref().map(|(h, e)| (h.as_str(), *e));
            ready(sql::set_api_user_invite(&Lite(w), tenant, &username, email.as_deref(), invite))
        }))
    }

    fn api_user_invitation(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<Option<ApiUserInvite>>> {
        let r = self.read_one(|c| ready(sql::api_user_invitation(&Lite(c), token_hash, now)));
        Box::pin(async move { r })
    }

    fn accept_api_user_invitation(
        &self,
        token_hash: &str,
        password_hash: String,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<Option<ApiUserInvite>>> {
        let token_hash = token_hash.to_string();
        Box::pin(
            self.write(move |w| ready(sql::accept_api_user_invitation(&Lite(w), &token_hash, &password_hash, now))),
        )
    }

    fn log_message(&self, message: NewMessage, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(self.write(move |w| ready(sql::log_message(&Lite(w), &message, now))))
    }

    fn messages(&self, tenant: TenantId, limit: i64) -> BoxFut<'_, StoreResult<Vec<MessageRow>>> {
        let r = self.read_one(|c| ready(sql::messages(&Lite(c), tenant, limit)));
        Box::pin(async move { r })
    }

    fn create_submission(
        &self,
        tenant: TenantId,
        submission: NewSubmission,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<Submission>> {
        Box::pin(self.write(move |w| {
            ready(sql::create_submission(&Lite(w), tenant, &submission, now))
                .and_then(|s| s.ok_or_else(|| StoreError::Internal("no submission returned".into())))
        }))
    }

    fn submissions(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Vec<Submission>>> {
        let r = self.read_one(|c| ready(sql::submissions(&Lite(c), tenant)));
        Box::pin(async move { r })
    }

    fn submission(&self, tenant: TenantId, id: i64) -> BoxFut<'_, StoreResult<Option<Submission>>> {
        let r = self.read_one(|c| ready(sql::submission_by_id(&Lite(c), tenant, id)));
        Box::pin(async move { r })
    }

    fn decide_submission(
        &self,
        tenant: TenantId,
        id: i64,
        decision: Decision,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<bool>> {
        Box::pin(self.write(move |w| ready(sql::decide_submission(&Lite(w), tenant, id, &decision, now))))
    }
}
