//! The SQLite shell's side of the portal: for each method of `PortalStore`, where its SQL
//! (`roles::portal`) runs — a reader, or the writer thread (one closure: one transaction).

use super::*;
use crate::portal::{
    NewSession, Operator, PortalStore, Principal, SessionRow, SsoSettings, SystemUser, SystemUserChange,
};
use crate::roles::portal as sql;

impl PortalStore for SqliteStore {
    fn create_operator(
        &self,
        username: &str,
        password_hash: String,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<Operator>> {
        let username = username.to_string();
        Box::pin(self.write(move |w| ready(sql::create_operator(&Lite(w), &username, &password_hash, now))))
    }

    fn operator_by_name(&self, username: &str) -> BoxFut<'_, StoreResult<Option<Operator>>> {
        let username = username.to_string();
        let r = self.read_one(|c| ready(sql::operator_by_name(&Lite(c), &username)));
        Box::pin(async move { r })
    }

    fn operator(&self, id: i64) -> BoxFut<'_, StoreResult<Option<Operator>>> {
        let r = self.read_one(|c| ready(sql::operator_by_id(&Lite(c), id)));
        Box::pin(async move { r })
    }

    fn operators(&self) -> BoxFut<'_, StoreResult<Vec<Operator>>> {
        let r = self.read_one(|c| ready(sql::operators(&Lite(c))));
        Box::pin(async move { r })
    }

    fn set_operator_disabled(&self, username: &str, disabled: bool) -> BoxFut<'_, StoreResult<bool>> {
        let username = username.to_string();
        Box::pin(self.write(move |w| ready(sql::set_operator_disabled(&Lite(w), &username, disabled))))
    }

    fn set_operator_password(&self, username: &str, password_hash: String) -> BoxFut<'_, StoreResult<bool>> {
        let username = username.to_string();
        Box::pin(self.write(move |w| ready(sql::set_operator_password(&Lite(w), &username, &password_hash))))
    }

    fn set_operator_totp(
        &self,
        id: i64,
        seed: Option<String>,
        confirmed: bool,
        last_step: i64,
    ) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(
            self.write(move |w| ready(sql::set_operator_totp(&Lite(w), id, seed.as_deref(), confirmed, last_step))),
        )
    }

    fn use_totp_step(&self, id: i64, step: i64) -> BoxFut<'_, StoreResult<bool>> {
        Box::pin(self.write(move |w| ready(sql::use_totp_step(&Lite(w), id, step))))
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
        Box::pin(self.write(move |w| {
            ready(sql::create_system_user(
                &Lite(w),
                tenant,
                &email,
                invite.as_ref().map(|(h, e)| (h.as_str(), *e)),
                &created_by,
                now,
            ))
        }))
    }

    fn system_user(&self, id: i64) -> BoxFut<'_, StoreResult<Option<SystemUser>>> {
        let r = self.read_one(|c| ready(sql::system_user_by_id(&Lite(c), id)));
        Box::pin(async move { r })
    }

    fn system_user_by_email(&self, email: &str) -> BoxFut<'_, StoreResult<Option<SystemUser>>> {
        let email = email.to_string();
        let r = self.read_one(|c| ready(sql::system_user_by_email(&Lite(c), &email)));
        Box::pin(async move { r })
    }

    fn system_user_by_sso(&self, tenant: TenantId, subject: &str) -> BoxFut<'_, StoreResult<Option<SystemUser>>> {
        let subject = subject.to_string();
        let r = self.read_one(|c| ready(sql::system_user_by_sso(&Lite(c), tenant, &subject)));
        Box::pin(async move { r })
    }

    fn system_users(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Vec<SystemUser>>> {
        let r = self.read_one(|c| ready(sql::system_users(&Lite(c), tenant)));
        Box::pin(async move { r })
    }

    fn change_system_user(&self, tenant: TenantId, id: i64, change: SystemUserChange) -> BoxFut<'_, StoreResult<bool>> {
        Box::pin(self.write(move |w| ready(sql::change_system_user(&Lite(w), tenant, id, change))))
    }

    fn delete_system_user(&self, tenant: TenantId, id: i64) -> BoxFut<'_, StoreResult<bool>> {
        Box::pin(self.write(move |w| ready(sql::delete_system_user(&Lite(w), tenant, id))))
    }

    fn invitation(&self, token_hash: &str, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<Option<SystemUser>>> {
        let token_hash = token_hash.to_string();
        let r = self.read_one(|c| ready(sql::invitation(&Lite(c), &token_hash, now)));
        Box::pin(async move { r })
    }

    fn accept_invitation(
        &self,
        token_hash: &str,
        password_hash: String,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<Option<SystemUser>>> {
        let token_hash = token_hash.to_string();
        Box::pin(self.write(move |w| ready(sql::accept_invitation(&Lite(w), &token_hash, &password_hash, now))))
    }

    fn add_session(&self, session: NewSession, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(self.write(move |w| ready(sql::add_session(&Lite(w), &session, now))))
    }

    fn session(&self, id_hash: &str, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<Option<SessionRow>>> {
        let id_hash = id_hash.to_string();
        let r = self.read_one(|c| ready(sql::session_by_hash(&Lite(c), &id_hash, now)));
        Box::pin(async move { r })
    }

    fn rotate_session(&self, old_hash: &str, session: NewSession, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<bool>> {
        let old_hash = old_hash.to_string();
        Box::pin(self.write(move |w| ready(sql::rotate_session(&Lite(w), &old_hash, &session, now))))
    }

    fn touch_session(&self, id_hash: &str, now: DateTime<Utc>, expires: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        let id_hash = id_hash.to_string();
        Box::pin(self.write(move |w| ready(sql::touch_session(&Lite(w), &id_hash, now, expires))))
    }

    fn delete_session(&self, id_hash: &str) -> BoxFut<'_, StoreResult<bool>> {
        let id_hash = id_hash.to_string();
        Box::pin(self.write(move |w| ready(sql::delete_session(&Lite(w), &id_hash))))
    }

    fn sessions(&self, principal: Principal, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<Vec<SessionRow>>> {
        let r = self.read_one(|c| ready(sql::sessions(&Lite(c), principal, now)));
        Box::pin(async move { r })
    }

    fn delete_sessions(&self, principal: Principal, except: Option<String>) -> BoxFut<'_, StoreResult<u64>> {
        Box::pin(self.write(move |w| ready(sql::delete_sessions(&Lite(w), principal, except.as_deref()))))
    }

    fn purge_portal(&self, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<u64>> {
        Box::pin(self.write(move |w| ready(sql::purge(&Lite(w), now))))
    }

    fn set_sso(&self, tenant: TenantId, sso: Option<SsoSettings>, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(self.write(move |w| ready(sql::set_sso(&Lite(w), tenant, sso.as_ref(), now))))
    }

    fn sso(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Option<SsoSettings>>> {
        let r = self.read_one(|c| ready(sql::sso(&Lite(c), tenant)));
        Box::pin(async move { r })
    }
}
