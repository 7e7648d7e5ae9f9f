//! The PostgreSQL shell's side of the portal: for each method of `PortalStore`, where its
//! SQL (`roles::portal`) runs — a pooled connection, a write connection, or a transaction
//! when it is more than one statement.

use super::*;
use crate::portal::{
    NewSession, Operator, PortalStore, Principal, SessionRow, SsoSettings, SystemUser, SystemUserChange,
};
use crate::roles::portal as sql;

impl PortalStore for PgStore {
    fn create_operator(
        &self,
        username: &str,
        password_hash: String,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<Operator>> {
        let username = username.to_string();
        Box::pin(
            async move { sql::create_operator(&Pg(&*self.write_conn().await?), &username, &password_hash, now).await },
        )
    }

    fn operator_by_name(&self, username: &str) -> BoxFut<'_, StoreResult<Option<Operator>>> {
        let username = username.to_string();
        Box::pin(async move { sql::operator_by_name(&Pg(&*self.conn().await?), &username).await })
    }

    fn operator(&self, id: i64) -> BoxFut<'_, StoreResult<Option<Operator>>> {
        Box::pin(async move { sql::operator_by_id(&Pg(&*self.conn().await?), id).await })
    }

    fn operators(&self) -> BoxFut<'_, StoreResult<Vec<Operator>>> {
        Box::pin(async move { sql::operators(&Pg(&*self.conn().await?)).await })
    }

    fn set_operator_disabled(&self, username: &str, disabled: bool) -> BoxFut<'_, StoreResult<bool>> {
        let username = username.to_string();
        Box::pin(async move {
            let mut c = self.conn().await?;
            let tx = c.transaction().await.map_err(pg)?;
            let out = sql::set_operator_disabled(&Pg(&tx), &username, disabled).await?;
            tx.commit().await.map_err(pg)?;
            Ok(out)
        })
    }

    fn set_operator_password(&self, username: &str, password_hash: String) -> BoxFut<'_, StoreResult<bool>> {
        let username = username.to_string();
        Box::pin(async move {
            let mut c = self.conn().await?;
            let tx = c.transaction().await.map_err(pg)?;
            let out = sql::set_operator_password(&Pg(&tx), &username, &password_hash).await?;
            tx.commit().await.map_err(pg)?;
            Ok(out)
        })
    }

    fn set_operator_totp(
        &self,
        id: i64,
        seed: Option<String>,
        confirmed: bool,
        last_step: i64,
    ) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move {
            sql::set_operator_totp(&Pg(&*self.write_conn().await?), id, seed.as_deref(), confirmed, last_step).await
        })
    }

    fn use_totp_step(&self, id: i64, step: i64) -> BoxFut<'_, StoreResult<bool>> {
        Box::pin(async move { sql::use_totp_step(&Pg(&*self.write_conn().await?), id, step).await })
    }

    fn create_system_user(
        &self,
        tenant: TenantId,
        email: &str,
        invite: Option<(String, DateTime<Utc>)>,
        created_by: &str,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<SystemUser>> {
        let email = email.to_string();
        let created_by = created_by.to_string();
        Box::pin(async move {
            sql::create_system_user(
                &Pg(&*self.write_conn().await?),
                tenant,
                &email,
                invite.as_ref().map(|(h, e)| (h.as_str(), *e)),
                &created_by,
                now,
            )
            .await
        })
    }

    fn system_user(&self, id: i64) -> BoxFut<'_, StoreResult<Option<SystemUser>>> {
        Box::pin(async move { sql::system_user_by_id(&Pg(&*self.conn().await?), id).await })
    }

    fn system_user_by_email(&self, email: &str) -> BoxFut<'_, StoreResult<Option<SystemUser>>> {
        let email = email.to_string();
        Box::pin(async move { sql::system_user_by_email(&Pg(&*self.conn().await?), &email).await })
    }

    fn system_user_by_sso(&self, tenant: TenantId, subject: &str) -> BoxFut<'_, StoreResult<Option<SystemUser>>> {
        let subject = subject.to_string();
        Box::pin(async move { sql::system_user_by_sso(&Pg(&*self.conn().await?), tenant, &subject).await })
    }

    fn system_users(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Vec<SystemUser>>> {
        Box::pin(async move { sql::system_users(&Pg(&*self.conn().await?), tenant).await })
    }

    fn change_system_user(&self, tenant: TenantId, id: i64, change: SystemUserChange) -> BoxFut<'_, StoreResult<bool>> {
        Box::pin(async move {
            let mut c = self.conn().await?;
            let tx = c.transaction().await.map_err(pg)?;
            let out = sql::change_system_user(&Pg(&tx), tenant, id, change).await?;
            tx.commit().await.map_err(pg)?;
            Ok(out)
        })
    }

    fn delete_system_user(&self, tenant: TenantId, id: i64) -> BoxFut<'_, StoreResult<bool>> {
        Box::pin(async move {
            let mut c = self.conn().await?;
            let tx = c.transaction().await.map_err(pg)?;
            let out = sql::delete_system_user(&Pg(&tx), tenant, id).await?;
            tx.commit().await.map_err(pg)?;
            Ok(out)
        })
    }

    fn invitation(&self, token_hash: &str, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<Option<SystemUser>>> {
        let token_hash = token_hash.to_string();
        Box::pin(async move { sql::invitation(&Pg(&*self.conn().await?), &token_hash, now).await })
    }

    fn accept_invitation(
        &self,
        token_hash: &str,
        password_hash: String,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<Option<SystemUser>>> {
        let token_hash = token_hash.to_string();
        Box::pin(async move {
            sql::accept_invitation(&Pg(&*self.write_conn().await?), &token_hash, &password_hash, now).await
        })
    }

    fn add_session(&self, session: NewSession, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move { sql::add_session(&Pg(&*self.write_conn().await?), &session, now).await })
    }

    fn session(&self, id_hash: &str, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<Option<SessionRow>>> {
        let id_hash = id_hash.to_string();
        Box::pin(async move { sql::session_by_hash(&Pg(&*self.conn().await?), &id_hash, now).await })
    }

    fn rotate_session(&self, old_hash: &str, session: NewSession, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<bool>> {
        let old_hash = old_hash.to_string();
        Box::pin(async move {
            let mut c = self.conn().await?;
            let tx = c.transaction().await.map_err(pg)?;
            let out = sql::rotate_session(&Pg(&tx), &old_hash, &session, now).await?;
            tx.commit().await.map_err(pg)?;
            Ok(out)
        })
    }

    fn touch_session(&self, id_hash: &str, now: DateTime<Utc>, expires: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        let id_hash = id_hash.to_string();
        Box::pin(async move { sql::touch_session(&Pg(&*self.write_conn().await?), &id_hash, now, expires).await })
    }

    fn delete_session(&self, id_hash: &str) -> BoxFut<'_, StoreResult<bool>> {
        let id_hash = id_hash.to_string();
        Box::pin(async move { sql::delete_session(&Pg(&*self.write_conn().await?), &id_hash).await })
    }

    fn sessions(&self, principal: Principal, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<Vec<SessionRow>>> {
        Box::pin(async move { sql::sessions(&Pg(&*self.conn().await?), principal, now).await })
    }

    fn delete_sessions(&self, principal: Principal, except: Option<String>) -> BoxFut<'_, StoreResult<u64>> {
        Box::pin(
            async move { sql::delete_sessions(&Pg(&*self.write_conn().await?), principal, except.as_deref()).await },
        )
    }

    fn purge_portal(&self, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<u64>> {
        Box::pin(async move {
            let mut c = self.conn().await?;
            let tx = c.transaction().await.map_err(pg)?;
            let out = sql::purge(&Pg(&tx), now).await?;
            tx.commit().await.map_err(pg)?;
            Ok(out)
        })
    }

    fn set_sso(&self, tenant: TenantId, sso: Option<SsoSettings>, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move { sql::set_sso(&Pg(&*self.write_conn().await?), tenant, sso.as_ref(), now).await })
    }

    fn sso(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Option<SsoSettings>>> {
        Box::pin(async move { sql::sso(&Pg(&*self.conn().await?), tenant).await })
    }
}
