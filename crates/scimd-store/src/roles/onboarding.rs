//! API system users' set-password links, the message log and go-live submissions,
//! written once for both databases (see `db`).

use chrono::{DateTime, Utc};

use super::oauth::revoke_user_logins;
use crate::db::{Db, Row};
use crate::onboarding::{ApiUserInvite, Decision, MessageRow, NewMessage, NewSubmission, Submission};
use crate::{StoreResult, TenantId, normalized_time};

pub(crate) async fn set_api_user_invite(
    db: &impl Db,
    tenant: TenantId,
    username: &str,
    email: Option<&str>,
    invite: Option<(&str, DateTime<Utc>)>,
) -> StoreResult<()> {
    let (hash, expires) = match invite {
        Some((h, e)) => (Some(h), Some(normalized_time(e))),
        None => (None, None),
    };
    db.execute_one(
        "UPDATE api_users SET email = COALESCE(?, email), invite_hash = ?, invite_expires = ? \
         WHERE tenant_id = ? AND username = ?",
        &[&email, &hash, &expires, &tenant.0, &username],
    )
    .await
}

const PENDING: &str = "invite_hash = ? AND invite_expires > ? AND disabled IS NULL";

pub(crate) async fn api_user_invitation(
    db: &impl Db,
    token_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<ApiUserInvite>> {
    let sql = format!("SELECT tenant_id, username, email FROM api_users WHERE {PENDING}");
    db.query_opt(&sql, &[&token_hash, &normalized_time(now)], |r| {
        Ok(ApiUserInvite { tenant: TenantId(r.get(0)?), username: r.get(1)?, email: r.get(2)? })
    })
    .await
}

/// Sets the password and forgets the link, then ends the user's earlier logins. Runs in
/// one transaction (PostgreSQL's shell opens it).
pub(crate) async fn accept_api_user_invitation(
    db: &impl Db,
    token_hash: &str,
    password_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<ApiUserInvite>> {
    let at = normalized_time(now);
    let sql = format!(
        "UPDATE api_users SET password_hash = ?, invite_hash = NULL, invite_expires = NULL \
         WHERE {PENDING} RETURNING tenant_id, username, email"
    );
    let accepted = db
        .query_opt(&sql, &[&password_hash, &token_hash, &at], |r| {
            Ok(ApiUserInvite { tenant: TenantId(r.get(0)?), username: r.get(1)?, email: r.get(2)? })
        })
        .await?;
    if let Some(a) = &accepted {
        revoke_user_logins(db, a.tenant, &a.username, &at).await?;
    }
    Ok(accepted)
}

pub(crate) async fn log_message(db: &impl Db, m: &NewMessage, now: DateTime<Utc>) -> StoreResult<()> {
    db.execute(
        "INSERT INTO message_log (tenant_id, channel, kind, recipient, outcome, detail, text, sent) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        &[
            &m.tenant.map(|t| t.0),
            &m.channel,
            &m.kind,
            &m.recipient,
            &m.outcome,
            &m.detail,
            &m.text,
            &normalized_time(now),
        ],
    )
    .await?;
    Ok(())
}

pub(crate) async fn messages(db: &impl Db, tenant: TenantId, limit: i64) -> StoreResult<Vec<MessageRow>> {
    db.query(
        "SELECT id, channel, kind, recipient, outcome, detail, text, sent FROM message_log \
         WHERE tenant_id = ? ORDER BY id DESC LIMIT ?",
        &[&tenant.0, &limit],
        |r| {
            Ok(MessageRow {
                id: r.get(0)?,
                channel: r.get(1)?,
                kind: r.get(2)?,
                recipient: r.get(3)?,
                outcome: r.get(4)?,
                detail: r.get(5)?,
                text: r.get(6)?,
                sent: r.get(7)?,
            })
        },
    )
    .await
}

const SUBMISSION_COLUMNS: &str = "id, tenant_id, window_from, window_to, claimed, source, submitted_by, submitted, \
     state, computed, decided_by, decided, feedback, production_id";

fn submission(r: &impl Row) -> StoreResult<Submission> {
    Ok(Submission {
        id: r.get(0)?,
        tenant: TenantId(r.get(1)?),
        window_from: r.get(2)?,
        window_to: r.get(3)?,
        claimed: r.get(4)?,
        source: r.get(5)?,
        submitted_by: r.get(6)?,
        submitted: r.get(7)?,
        state: r.get(8)?,
        computed: r.get(9)?,
        decided_by: r.get(10)?,
        decided: r.get(11)?,
        feedback: r.get(12)?,
        production: r.get::<Option<i64>>(13)?.map(TenantId),
    })
}

pub(crate) async fn create_submission(
    db: &impl Db,
    tenant: TenantId,
    s: &NewSubmission,
    now: DateTime<Utc>,
) -> StoreResult<Option<Submission>> {
    let sql = format!(
        "INSERT INTO golive_submissions (tenant_id, window_from, window_to, claimed, source, submitted_by, submitted) \
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING {SUBMISSION_COLUMNS}"
    );
    let at = normalized_time(now);
    let args: &[&dyn crate::db::Param] =
        &[&tenant.0, &s.window_from, &s.window_to, &s.claimed, &s.source, &s.submitted_by, &at];
    db.query_opt(&sql, args, |r| submission(r)).await
}

pub(crate) async fn submissions(db: &impl Db, tenant: TenantId) -> StoreResult<Vec<Submission>> {
    let sql = format!("SELECT {SUBMISSION_COLUMNS} FROM golive_submissions WHERE tenant_id = ? ORDER BY id DESC");
    db.query(&sql, &[&tenant.0], |r| submission(r)).await
}

pub(crate) async fn submission_by_id(db: &impl Db, tenant: TenantId, id: i64) -> StoreResult<Option<Submission>> {
    let sql = format!("SELECT {SUBMISSION_COLUMNS} FROM golive_submissions WHERE tenant_id = ? AND id = ?");
    db.query_opt(&sql, &[&tenant.0, &id], |r| submission(r)).await
}

pub(crate) async fn decide_submission(
    db: &impl Db,
    tenant: TenantId,
    id: i64,
    d: &Decision,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let state = if d.approved { "approved" } else { "rejected" };
    let n = db
        .execute(
            "UPDATE golive_submissions SET state = ?, computed = ?, decided_by = ?, decided = ?, feedback = ?, \
             production_id = ? WHERE tenant_id = ? AND id = ? AND state = 'submitted'",
            &[
                &state,
                &d.computed,
                &d.decided_by,
                &normalized_time(now),
                &d.feedback,
                &d.production.map(|t| t.0),
                &tenant.0,
                &id,
            ],
        )
        .await?;
    Ok(n == 1)
}
