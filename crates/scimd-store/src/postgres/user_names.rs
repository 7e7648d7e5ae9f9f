//! On PostgreSQL: the recomputation of users' userName keys under the current userName
//! rule (a step of migration 4, in its transaction, under the migration lock, so one
//! replica does it), and the issues it left for the operator. The plan is
//! [`crate::user_names::plan`]; the SQLite side is `sqlite/user_names.rs`.

use super::{PgStore, Tx, pg};
use crate::StoreResult;
use crate::user_names::{UserNameIssue, UserRow, plan};

/// Recomputes every user's key and indexed userName, tenant by tenant, and records the
/// users that need the operator.
pub(super) async fn refold(tx: &Tx<'_>) -> StoreResult<()> {
    let tenants: Vec<i64> = tx
        .query("SELECT DISTINCT tenant_id FROM resources WHERE rtype = 1 ORDER BY tenant_id", &[])
        .await
        .map_err(pg)?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let clear = tx.prepare("UPDATE resources SET unique_key = NULL WHERE id = $1").await.map_err(pg)?;
    let set = tx.prepare("UPDATE resources SET unique_key = $1 WHERE id = $2").await.map_err(pg)?;
    let index = tx
        .prepare(
            "UPDATE attr_index SET s = $1 WHERE res = $2 AND elem = 0 AND key = \
             (SELECT id FROM attr_keys WHERE tenant_id = $3 AND rtype = 1 AND path = 'username')",
        )
        .await
        .map_err(pg)?;
    let record = tx
        .prepare(
            "INSERT INTO user_name_issues (tenant_id, user_id, user_name, kept_key, other_id, problem, found) \
             VALUES ($1, $2, $3, $4, $5, $6, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')) \
             ON CONFLICT (tenant_id, user_id) DO UPDATE SET user_name = excluded.user_name, \
             kept_key = excluded.kept_key, other_id = excluded.other_id, problem = excluded.problem, \
             found = excluded.found",
        )
        .await
        .map_err(pg)?;
    for tenant in tenants {
        let rows: Vec<UserRow> = tx
            .query(
                "SELECT id, scim_id, data::jsonb ->> 'userName', unique_key FROM resources \
                 WHERE tenant_id = $1 AND rtype = 1 AND unique_key IS NOT NULL ORDER BY id",
                &[&tenant],
            )
            .await
            .map_err(pg)?
            .iter()
            .map(|r| UserRow {
                rowid: r.get(0),
                scim_id: r.get(1),
                user_name: r.get::<_, Option<String>>(2).unwrap_or_default(),
                key: r.get(3),
            })
            .collect();
        let plan = plan(rows);
        // Keys are unique at every statement: the changing ones are cleared first.
        for (rowid, _) in &plan.keys {
            tx.execute(&clear, &[rowid]).await.map_err(pg)?;
        }
        for (rowid, key) in &plan.keys {
            tx.execute(&set, &[key, rowid]).await.map_err(pg)?;
        }
        for (rowid, s) in &plan.index {
            tx.execute(&index, &[s, rowid, &tenant]).await.map_err(pg)?;
        }
        for (_, user, name, kept, other, problem) in &plan.issues {
            tracing::warn!(tenant, user = %user, "userName needs the operator: {problem}");
            tx.execute(&record, &[&tenant, user, name, kept, other, problem]).await.map_err(pg)?;
        }
    }
    Ok(())
}

impl PgStore {
    /// The recorded issues whose user still exists and still holds the key it kept.
    pub(super) async fn user_name_issues_now(&self) -> StoreResult<Vec<UserNameIssue>> {
        let rows = self
            .query(
                "SELECT i.tenant_id, t.name, i.user_id, i.user_name, i.other_id, i.problem, i.found \
                 FROM user_name_issues i JOIN tenants t ON t.id = i.tenant_id \
                 JOIN resources r ON r.tenant_id = i.tenant_id AND r.rtype = 1 AND r.scim_id = i.user_id \
                 WHERE r.unique_key = i.kept_key ORDER BY i.tenant_id, i.user_id",
                &[],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| UserNameIssue {
                tenant_id: r.get(0),
                tenant: r.get(1),
                user_id: r.get(2),
                user_name: r.get(3),
                other_id: r.get(4),
                problem: r.get(5),
                found: r.get(6),
            })
            .collect())
    }
}
