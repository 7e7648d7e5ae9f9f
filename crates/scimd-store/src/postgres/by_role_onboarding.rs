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
            sql::set_api_user_invite(&Pg(&*self.write_conn().await?), tenant, &username, email.as_deref(), invite).await
        })
    }

    fn api_user_invitation(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<Option<ApiUserInvite>>> {
        let token_hash = token_hash.to_string();
        Box::pin(async move { sql::api_user_invitation(&Pg(&*self.conn().await?), &token_hash, now).await })
    }

    fn accept_api_user_invitation(
        &self,
        token_hash: &str,
        password_hash: String,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<Option<ApiUserInvite>>> {
        let token_hash = token_hash.to_string();
        Box::pin(async move {
            let mut c = self.write_conn().await?;
            let tx = c.transaction().await.map_err(pg)?;
            let out = sql::accept_api_user_invitation(&Pg(&tx), &token_hash, &password_hash, now).await?;
            tx.commit().await.map_err(pg)?;
            Ok(out)
        })
    }

    fn log_message(&self, message: NewMessage, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move { sql::log_message(&Pg(&*self.write_conn().await?), &message, now).await })
    }

    fn messages(&self, tenant: TenantId, limit: i64) -> BoxFut<'_, StoreResult<Vec<MessageRow>>> {
        Box::pin(async move { sql::messages(&Pg(&*self.conn().await?), tenant, limit).await })
    }

    fn create_submission(
        &self,
        tenant: TenantId,
        submission: NewSubmission,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<Submission>> {
        Box::pin(async move {
            sql::create_submission(&Pg(&*self.write_conn().await?), tenant, &submission, now)
                .await?
                .ok_or_else(|| StoreError::Internal("no submission returned".into()))
        })
    }

    fn submissions(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Vec<Submission>>> {
        Box::pin(async move { sql::submissions(&Pg(&*self.conn().await?), tenant).await })
    }

    fn submission(&self, tenant: TenantId, id: i64) -> BoxFut<'_, StoreResult<Option<Submission>>> {
        Box::pin(async move { sql::submission_by_id(&Pg(&*self.conn().await?), tenant, id).await })
    }

    fn decide_submission(
        &self,
        tenant: TenantId,
        id: i64,
        decision: Decision,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<bool>> {
        Box::pin(
            async move { sql::decide_submission(&Pg(&*self.write_conn().await?), tenant, id, &decision, now).await },
        )
    }
}
