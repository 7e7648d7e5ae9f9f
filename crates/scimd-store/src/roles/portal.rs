//! The portal's people, invitations, sessions and SSO settings, written once for both
//! databases (see `db`).

use chrono::{DateTime, Utc};

use crate::db::{Db, Row};
use crate::portal::{
    NewSession, Operator, Principal, SessionRow, SessionStage, SsoSettings, SystemUser, SystemUserChange,
};
use crate::{StoreError, StoreResult, TenantId, normalized_time};

const OPERATOR_COLUMNS: &str =
    "id, username, password_hash, totp_seed, totp_confirmed, totp_last_step, disabled, created";

fn operator(r: &impl Row) -> StoreResult<Operator> {
    Ok(Operator {
        id: r.get(0)?,
        username: r.get(1)?,
        password_hash: r.get(2)?,
        totp_seed: r.get(3)?,
        totp_confirmed: r.get(4)?,
        totp_last_step: r.get(5)?,
        disabled: r.get(6)?,
        created: r.get(7)?,
    })
}

const USER_COLUMNS: &str =
    "id, tenant_id, email, password_hash, invite_expires, sso_subject, disabled, created_by, created";

fn system_user(r: &impl Row) -> StoreResult<SystemUser> {
    Ok(SystemUser {
        id: r.get(0)?,
        tenant: TenantId(r.get(1)?),
        email: r.get(2)?,
        password_hash: r.get(3)?,
        invite_expires: r.get(4)?,
        sso_subject: r.get(5)?,
        disabled: r.get(6)?,
        created_by: r.get(7)?,
        created: r.get(8)?,
    })
}

pub(crate) async fn create_operator(
    db: &impl Db,
    username: &str,
    password_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<Operator> {
    let sql = format!(
        "INSERT INTO portal_operators (username, password_hash, created) VALUES (?, ?, ?) RETURNING {OPERATOR_COLUMNS}"
    );
    let row = db.query_opt(&sql, &[&username, &password_hash, &normalized_time(now)], |r| operator(r)).await?;
    row.ok_or_else(|| StoreError::Internal("no operator returned".into()))
}

pub(crate) async fn operator_by_name(db: &impl Db, username: &str) -> StoreResult<Option<Operator>> {
    db.query_opt(&format!("SELECT {OPERATOR_COLUMNS} FROM portal_operators WHERE username = ?"), &[&username], |r| {
        operator(r)
    })
    .await
}

pub(crate) async fn operator_by_id(db: &impl Db, id: i64) -> StoreResult<Option<Operator>> {
    db.query_opt(&format!("SELECT {OPERATOR_COLUMNS} FROM portal_operators WHERE id = ?"), &[&id], |r| operator(r))
        .await
}

pub(crate) async fn operators(db: &impl Db) -> StoreResult<Vec<Operator>> {
    db.query(&format!("SELECT {OPERATOR_COLUMNS} FROM portal_operators ORDER BY username"), &[], |r| operator(r)).await
}

pub(crate) async fn set_operator_disabled(db: &impl Db, username: &str, disabled: bool) -> StoreResult<bool> {
    let id: Option<i64> = db
        .query_opt(
            "UPDATE portal_operators SET disabled = ? WHERE username = ? RETURNING id",
            &[&disabled, &username],
            |r| r.get(0),
        )
        .await?;
    if let (Some(id), true) = (id, disabled) {
        db.execute("DELETE FROM portal_sessions WHERE operator_id = ?", &[&id]).await?;
    }
    Ok(id.is_some())
}

pub(crate) async fn set_operator_password(db: &impl Db, username: &str, hash: &str) -> StoreResult<bool> {
    let id: Option<i64> = db
        .query_opt(
            "UPDATE portal_operators SET password_hash = ? WHERE username = ? RETURNING id",
            &[&hash, &username],
            |r| r.get(0),
        )
        .await?;
    if let Some(id) = id {
        db.execute("DELETE FROM portal_sessions WHERE operator_id = ?", &[&id]).await?;
    }
    Ok(id.is_some())
}

pub(crate) async fn set_operator_totp(
    db: &impl Db,
    id: i64,
    seed: Option<&str>,
    confirmed: bool,
    last_step: i64,
) -> StoreResult<()> {
    let sql = "UPDATE portal_operators SET totp_seed = ?, totp_confirmed = ?, totp_last_step = ? WHERE id = ?";
    db.execute(sql, &[&seed, &confirmed, &last_step, &id]).await?;
    Ok(())
}

pub(crate) async fn use_totp_step(db: &impl Db, id: i64, step: i64) -> StoreResult<bool> {
    let sql = "UPDATE portal_operators SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?";
    Ok(db.execute(sql, &[&step, &id, &step]).await? == 1)
}

pub(crate) async fn create_system_user(
    db: &impl Db,
    tenant: TenantId,
    email: &str,
    invite: Option<(&str, DateTime<Utc>)>,
    created_by: &str,
    now: DateTime<Utc>,
) -> StoreResult<SystemUser> {
    let (hash, expires) = match invite {
        Some((h, e)) => (Some(h), Some(normalized_time(e))),
        None => (None, None),
    };
    let sql = format!(
        "INSERT INTO portal_users (tenant_id, email, invite_hash, invite_expires, created_by, created) \
         VALUES (?, ?, ?, ?, ?, ?) RETURNING {USER_COLUMNS}"
    );
    let row = db
        .query_opt(&sql, &[&tenant.0, &email, &hash, &expires, &created_by, &normalized_time(now)], |r| system_user(r))
        .await?;
    row.ok_or_else(|| StoreError::Internal("no system user returned".into()))
}

async fn system_user_where(
    db: &impl Db,
    cond: &str,
    params: &[&dyn crate::db::Param],
) -> StoreResult<Option<SystemUser>> {
    db.query_opt(&format!("SELECT {USER_COLUMNS} FROM portal_users WHERE {cond}"), params, |r| system_user(r)).await
}

pub(crate) async fn system_user_by_id(db: &impl Db, id: i64) -> StoreResult<Option<SystemUser>> {
    system_user_where(db, "id = ?", &[&id]).await
}

pub(crate) async fn system_user_by_email(db: &impl Db, email: &str) -> StoreResult<Option<SystemUser>> {
    system_user_where(db, "email = ?", &[&email]).await
}

pub(crate) async fn system_user_by_sso(
    db: &impl Db,
    tenant: TenantId,
    subject: &str,
) -> StoreResult<Option<SystemUser>> {
    system_user_where(db, "tenant_id = ? AND sso_subject = ?", &[&tenant.0, &subject]).await
}

/// A pending invitation: its token's hash, unexpired at the time given, of a user not disabled.
const PENDING_INVITATION: &str = "invite_hash = ? AND invite_expires > ? AND disabled = ?";

pub(crate) async fn invitation(db: &impl Db, token_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<SystemUser>> {
    system_user_where(db, PENDING_INVITATION, &[&token_hash, &normalized_time(now), &false]).await
}

pub(crate) async fn system_users(db: &impl Db, tenant: TenantId) -> StoreResult<Vec<SystemUser>> {
    let sql = format!("SELECT {USER_COLUMNS} FROM portal_users WHERE tenant_id = ? ORDER BY email");
    db.query(&sql, &[&tenant.0], |r| system_user(r)).await
}

pub(crate) async fn change_system_user(
    db: &impl Db,
    tenant: TenantId,
    id: i64,
    c: SystemUserChange,
) -> StoreResult<bool> {
    let found = db
        .query_opt("SELECT id FROM portal_users WHERE tenant_id = ? AND id = ?", &[&tenant.0, &id], |r| r.get::<i64>(0))
        .await?;
    if found.is_none() {
        return Ok(false);
    }
    if let Some((hash, expires)) = &c.invite {
        let sql = "UPDATE portal_users SET invite_hash = ?, invite_expires = ? WHERE id = ?";
        db.execute(sql, &[hash, &normalized_time(*expires), &id]).await?;
    }
    if c.revoke_invite {
        let sql = "UPDATE portal_users SET invite_hash = NULL, invite_expires = NULL WHERE id = ?";
        db.execute(sql, &[&id]).await?;
    }
    if let Some(disabled) = c.disabled {
        db.execute("UPDATE portal_users SET disabled = ? WHERE id = ?", &[&disabled, &id]).await?;
    }
    if let Some(subject) = &c.sso_subject {
        db.execute("UPDATE portal_users SET sso_subject = ? WHERE id = ?", &[subject, &id]).await?;
    }
    if c.disabled == Some(true) {
        db.execute("DELETE FROM portal_sessions WHERE user_id = ?", &[&id]).await?;
    }
    Ok(true)
}

pub(crate) async fn delete_system_user(db: &impl Db, tenant: TenantId, id: i64) -> StoreResult<bool> {
    db.execute("DELETE FROM portal_sessions WHERE user_id = ? AND user_id IN (SELECT id FROM portal_users WHERE tenant_id = ?)", &[&id, &tenant.0]).await?;
    Ok(db.execute("DELETE FROM portal_users WHERE tenant_id = ? AND id = ?", &[&tenant.0, &id]).await? == 1)
}

pub(crate) async fn accept_invitation(
    db: &impl Db,
    token_hash: &str,
    password_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<SystemUser>> {
    let sql = format!(
        "UPDATE portal_users SET password_hash = ?, invite_hash = NULL, invite_expires = NULL \
         WHERE {PENDING_INVITATION} RETURNING {USER_COLUMNS}"
    );
    db.query_opt(&sql, &[&password_hash, &token_hash, &normalized_time(now), &false], |r| system_user(r)).await
}

const SESSION: &str = "SELECT id_hash, operator_id, user_id, stage, csrf, created, last_seen, expires, address, user_agent FROM portal_sessions";

fn session(r: &impl Row) -> StoreResult<SessionRow> {
    let principal = match (r.get::<Option<i64>>(1)?, r.get::<Option<i64>>(2)?) {
        (Some(id), _) => Principal::Operator(id),
        (None, Some(id)) => Principal::SystemUser(id),
        (None, None) => return Err(StoreError::Internal("a session without a principal".into())),
    };
    let stage: String = r.get(3)?;
    Ok(SessionRow {
        id_hash: r.get(0)?,
        principal,
        stage: SessionStage::parse(&stage).ok_or_else(|| StoreError::Internal(format!("session stage '{stage}'")))?,
        csrf: r.get(4)?,
        created: r.get(5)?,
        last_seen: r.get(6)?,
        expires: r.get(7)?,
        address: r.get(8)?,
        user_agent: r.get(9)?,
    })
}

fn columns(p: Principal) -> (&'static str, i64) {
    match p {
        Principal::Operator(id) => ("operator_id", id),
        Principal::SystemUser(id) => ("user_id", id),
    }
}

pub(crate) async fn add_session(db: &impl Db, s: &NewSession, now: DateTime<Utc>) -> StoreResult<()> {
    let (column, id) = columns(s.principal);
    let now = normalized_time(now);
    let sql = format!(
        "INSERT INTO portal_sessions (id_hash, {column}, stage, csrf, created, last_seen, expires, address, user_agent) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    );
    let params: [&dyn crate::db::Param; 9] = [
        &s.id_hash,
        &id,
        &s.stage.as_str(),
        &s.csrf,
        &now,
        &now,
        &normalized_time(s.expires),
        &s.address,
        &s.user_agent,
    ];
    db.execute(&sql, &params).await?;
    Ok(())
}

pub(crate) async fn session_by_hash(
    db: &impl Db,
    id_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<SessionRow>> {
    db.query_opt(&format!("{SESSION} WHERE id_hash = ? AND expires > ?"), &[&id_hash, &normalized_time(now)], |r| {
        session(r)
    })
    .await
}

pub(crate) async fn rotate_session(db: &impl Db, old: &str, s: &NewSession, now: DateTime<Utc>) -> StoreResult<bool> {
    if db.execute("DELETE FROM portal_sessions WHERE id_hash = ?", &[&old]).await? == 0 {
        return Ok(false);
    }
    add_session(db, s, now).await?;
    Ok(true)
}

pub(crate) async fn touch_session(
    db: &impl Db,
    id_hash: &str,
    now: DateTime<Utc>,
    expires: DateTime<Utc>,
) -> StoreResult<()> {
    let sql = "UPDATE portal_sessions SET last_seen = ?, expires = ? WHERE id_hash = ?";
    db.execute(sql, &[&normalized_time(now), &normalized_time(expires), &id_hash]).await?;
    Ok(())
}

pub(crate) async fn delete_session(db: &impl Db, id_hash: &str) -> StoreResult<bool> {
    Ok(db.execute("DELETE FROM portal_sessions WHERE id_hash = ?", &[&id_hash]).await? == 1)
}

pub(crate) async fn sessions(db: &impl Db, p: Principal, now: DateTime<Utc>) -> StoreResult<Vec<SessionRow>> {
    let (column, id) = columns(p);
    let sql = format!("{SESSION} WHERE {column} = ? AND expires > ? ORDER BY created DESC, id_hash");
    db.query(&sql, &[&id, &normalized_time(now)], |r| session(r)).await
}

pub(crate) async fn delete_sessions(db: &impl Db, p: Principal, except: Option<&str>) -> StoreResult<u64> {
    let (column, id) = columns(p);
    let sql = format!("DELETE FROM portal_sessions WHERE {column} = ? AND id_hash <> ?");
    db.execute(&sql, &[&id, &except.unwrap_or("")]).await
}

pub(crate) async fn purge(db: &impl Db, now: DateTime<Utc>) -> StoreResult<u64> {
    let now = normalized_time(now);
    let sessions = db.execute("DELETE FROM portal_sessions WHERE expires <= ?", &[&now]).await?;
    let invites = db
        .execute("UPDATE portal_users SET invite_hash = NULL, invite_expires = NULL WHERE invite_expires <= ?", &[&now])
        .await?;
    Ok(sessions + invites)
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

pub(crate) async fn set_sso(
    db: &impl Db,
    tenant: TenantId,
    sso: Option<&SsoSettings>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let Some(s) = sso else {
        db.execute("DELETE FROM portal_sso WHERE tenant_id = ?", &[&tenant.0]).await?;
        return Ok(());
    };
    let sql = "INSERT INTO portal_sso (tenant_id, issuer, client_id, client_secret, allowed_domains, allowed_groups, updated) \
               VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id) DO UPDATE SET issuer = excluded.issuer, \
               client_id = excluded.client_id, client_secret = excluded.client_secret, \
               allowed_domains = excluded.allowed_domains, allowed_groups = excluded.allowed_groups, updated = excluded.updated";
    let (domains, groups) = (s.allowed_domains.join(" "), s.allowed_groups.join(" "));
    db.execute(sql, &[&tenant.0, &s.issuer, &s.client_id, &s.client_secret, &domains, &groups, &normalized_time(now)])
        .await?;
    Ok(())
}

pub(crate) async fn sso(db: &impl Db, tenant: TenantId) -> StoreResult<Option<SsoSettings>> {
    let sql =
        "SELECT issuer, client_id, client_secret, allowed_domains, allowed_groups FROM portal_sso WHERE tenant_id = ?";
    db.query_opt(sql, &[&tenant.0], |r| {
        Ok(SsoSettings {
            issuer: r.get(0)?,
            client_id: r.get(1)?,
            client_secret: r.get(2)?,
            allowed_domains: words(r.str(3)?),
            allowed_groups: words(r.str(4)?),
        })
    })
    .await
}
