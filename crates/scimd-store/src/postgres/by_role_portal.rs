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
        Box::pin(async move {
            sql::create_operator(&Pg(&*self.write_conn().await?), &username, &password_hash, now)
                .await
                .map_err(retry::unknown_if_lost)
        })
    }

    fn operator_by_name(&self, username: &str) -> BoxFut<'_, StoreResult<Option<Operator>>> {
        let username = username.to_string();
        Box::pin(async move { read!(self, |db| sql::operator_by_name(db, &username)) })
    }

    fn operator(&self, id: i64) -> BoxFut<'_, StoreResult<Option<Operator>>> {
        Box::pin(async move { read!(self, |db| sql::operator_by_id(db, id)) })
    }

    fn operators(&self) -> BoxFut<'_, StoreResult<Vec<Operator>>> {
        Box::pin(async move { read!(self, |db| sql::operators(db)) })
    }

    fn set_operator_disabled(&self, username: &str, disabled: bool) -> BoxFut<'_, StoreResult<bool>> {
        let username = username.to_string();
        Box::pin(
            async move { transaction!(self, |tx| { sql::set_operator_disabled(&Pg(&tx), &username, disabled).await }) },
        )
    }

    fn set_operator_password(&self, username: &str, password_hash: String) -> BoxFut<'_, StoreResult<bool>> {
        let username = username.to_string();
        Box::pin(async move {
            transaction!(self, |tx| { sql::set_operator_password(&Pg(&tx), &username, &password_hash).await })
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
            sql::set_operator_totp(&Pg(&*self.write_conn().await?), id, seed.as_deref(), confirmed, last_step)
                .await
                .map_err(retry::unknown_if_lost)
        })
    }

    fn use_totp_step(&self, id: i64, step: i64) -> BoxFut<'_, StoreResult<bool>> {
        Box::pin(async move {
            sql::use_totp_step(&Pg(&*self.write_conn().await?), id, step).await.map_err(retry::unknown_if_lost)
        })
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
            .map_err(retry::unknown_if_lost)
        })
    }

    fn system_user(&self, id: i64) -> BoxFut<'_, StoreResult<Option<SystemUser>>> {
        Box::pin(async move { read!(self, |db| sql::system_user_by_id(db, id)) })
    }

    fn system_user_by_email(&self, email: &str) -> BoxFut<'_, StoreResult<Option<SystemUser>>> {
        let email = email.to_string();
        Box::pin(async move { read!(self, |db| sql::system_user_by_email(db, &email)) })
    }

    fn system_user_by_sso(&self, tenant: TenantId, subject: &str) -> BoxFut<'_, StoreResult<Option<SystemUser>>> {
        let subject = subject.to_string();
        Box::pin(async move { read!(self, |db| sql::system_user_by_sso(db, tenant, &subject)) })
    }

    fn system_users(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Vec<SystemUser>>> {
        Box::pin(async move { read!(self, |db| sql::system_users(db, tenant)) })
    }

    fn change_system_user(&self, tenant: TenantId, id: i64, change: SystemUserChange) -> BoxFut<'_, StoreResult<bool>> {
        Box::pin(async move {
            transaction!(self, |tx| { sql::change_system_user(&Pg(&tx), tenant, id, change.clone()).await })
        })
    }

    fn delete_system_user(&self, tenant: TenantId, id: i64) -> BoxFut<'_, StoreResult<bool>> {
        Box::pin(async move { transaction!(self, |tx| { sql::delete_system_user(&Pg(&tx), tenant, id).await }) })
    }

    fn invitation(&self, token_hash: &str, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<Option<SystemUser>>> {
        let token_hash = token_hash.to_string();
        Box::pin(async move { read!(self, |db| sql::invitation(db, &token_hash, now)) })
    }

    fn accept_invitation(
        &self,
        token_hash: &str,
        password_hash: String,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<Option<SystemUser>>> {
        let token_hash = token_hash.to_string();
        Box::pin(async move {
            sql::accept_invitation(&Pg(&*self.write_conn().await?), &token_hash, &password_hash, now)
                .await
                .map_err(retry::unknown_if_lost)
        })
    }

    fn add_session(&self, session: NewSession, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move {
            sql::add_session(&Pg(&*self.write_conn().await?), &session, now).await.map_err(retry::unknown_if_lost)
        })
    }

    fn session(&self, id_hash: &str, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<Option<SessionRow>>> {
        let id_hash = id_hash.to_string();
        Box::pin(async move { read!(self, |db| sql::session_by_hash(db, &id_hash, now)) })
    }

    fn rotate_session(&self, old_hash: &str, session: NewSession, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<bool>> {
        let old_hash = old_hash.to_string();
        Box::pin(
            async move { transaction!(self, |tx| { sql::rotate_session(&Pg(&tx), &old_hash, &session, now).await }) },
        )
    }

    fn touch_session(&self, id_hash: &str, now: DateTime<Utc>, expires: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        let id_hash = id_hash.to_string();
        Box::pin(async move {
            sql::touch_session(&Pg(&*self.write_conn().await?), &id_hash, now, expires)
                .await
                .map_err(retry::unknown_if_lost)
        })
    }

    fn delete_session(&self, id_hash: &str) -> BoxFut<'_, StoreResult<bool>> {
        let id_hash = id_hash.to_string();
        Box::pin(async move {
            sql::delete_session(&Pg(&*self.write_conn().await?), &id_hash).await.map_err(retry::unknown_if_lost)
        })
    }

    fn sessions(&self, principal: Principal, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<Vec<SessionRow>>> {
        Box::pin(async move { read!(self, |db| sql::sessions(db, principal, now)) })
    }

    fn delete_sessions(&self, principal: Principal, except: Option<String>) -> BoxFut<'_, StoreResult<u64>> {
        Box::pin(async move {
            sql::delete_sessions(&Pg(&*self.write_conn().await?), principal, except.as_deref())
                .await
                .map_err(retry::unknown_if_lost)
        })
    }

    fn purge_portal(&self, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<u64>> {
        Box::pin(async move { transaction!(self, |tx| { sql::purge(&Pg(&tx), now).await }) })
    }

    fn set_sso(&self, tenant: TenantId, sso: Option<SsoSettings>, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move {
            sql::set_sso(&Pg(&*self.write_conn().await?), tenant, sso.as_ref(), now)
                .await
                .map_err(retry::unknown_if_lost)
        })
    }

    fn sso(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Option<SsoSettings>>> {
        Box::pin(async move { read!(self, |db| sql::sso(db, tenant)) })
    }
}
