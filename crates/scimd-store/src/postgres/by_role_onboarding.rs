//! The PostgreSQL shell's side of onboarding: for each method of `OnboardingStore`, where
//! its SQL (`roles::onboarding`) runs — a pooled connection, a write connection, or a
//! transaction when it is more than one statement.

use super::*;
use crate::onboarding::{ApiUserInvite, Decision, MessageRow, NewMessage, NewSubmission, OnboardingStore, Submission};
use crate::roles::onboarding as sql;

impl OnboardingStore for PgStore {
    fn set_api_user_invite(
        &self,
        tenant: TenantId,
        username: &str,
        email: Option<String>,
        invite: Option<(String, DateTime<Utc>)>,
    ) -> BoxFut<'_, StoreResult<()>> {
        let username = username.to_string();
        Box::pin(async move {
            let invite = invite.as_ref().map(|(h, e)| (h.as_str(), *e));
            sql::set_api_user_invite(&Pg(&*self.write_conn().await?), tenant, &username, email.as_deref(), invite)
                .await
                .map_err(retry::unknown_if_lost)
        })
    }

    fn api_user_invitation(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<Option<ApiUserInvite>>> {
        let token_hash = token_hash.to_string();
        Box::pin(async move { read!(self, |db| sql::api_user_invitation(db, &token_hash, now)) })
    }

    fn accept_api_user_invitation(
        &self,
        token_hash: &str,
        password_hash: String,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<Option<ApiUserInvite>>> {
        let token_hash = token_hash.to_string();
        Box::pin(async move {
            transaction!(self, |tx| {
                sql::accept_api_user_invitation(&Pg(&tx), &token_hash, &password_hash, now).await
            })
        })
    }

    fn log_message(&self, message: NewMessage, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move {
            sql::log_message(&Pg(&*self.write_conn().await?), &message, now).await.map_err(retry::unknown_if_lost)
        })
    }

    fn messages(&self, tenant: TenantId, limit: i64) -> BoxFut<'_, StoreResult<Vec<MessageRow>>> {
        Box::pin(async move { read!(self, |db| sql::messages(db, tenant, limit)) })
    }

    fn create_submission(
        &self,
        tenant: TenantId,
        submission: NewSubmission,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<Submission>> {
        Box::pin(async move {
            sql::create_submission(&Pg(&*self.write_conn().await?), tenant, &submission, now)
                .await
                .map_err(retry::unknown_if_lost)?
                .ok_or_else(|| StoreError::Internal("no submission returned".into()))
        })
    }

    fn submissions(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Vec<Submission>>> {
        Box::pin(async move { read!(self, |db| sql::submissions(db, tenant)) })
    }

    fn submission(&self, tenant: TenantId, id: i64) -> BoxFut<'_, StoreResult<Option<Submission>>> {
        Box::pin(async move { read!(self, |db| sql::submission_by_id(db, tenant, id)) })
    }

    fn decide_submission(
        &self,
        tenant: TenantId,
        id: i64,
        decision: Decision,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<bool>> {
        Box::pin(async move {
            sql::decide_submission(&Pg(&*self.write_conn().await?), tenant, id, &decision, now)
                .await
                .map_err(retry::unknown_if_lost)
        })
    }
}
