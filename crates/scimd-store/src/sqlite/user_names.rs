//! On SQLite: the recomputation of users' userName keys under the current userName rule
//! (a step of the migration that adds `user_name_issues`, in its transaction), and the
//! issues it left for the operator. The plan is [`crate::user_names::plan`].

use rusqlite::{Connection, params};

use super::internal;
use crate::StoreResult;
use crate::user_names::{UserNameIssue, UserRow, plan};

/// Recomputes every user's key and indexed userName, tenant by tenant, and records the
/// users that need the operator. Runs inside the migration's transaction.
pub(super) fn refold(conn: &Connection) -> StoreResult<()> {
    let tenants: Vec<i64> = conn
        .prepare("SELECT DISTINCT tenant_id FROM resources WHERE rtype = 1 ORDER BY tenant_id")
        .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
        .map_err(internal)?;
    for tenant in tenants {
        let rows: Vec<UserRow> = conn
            .prepare(
                "SELECT id, scim_id, json_extract(data, '$.userName'), unique_key FROM resources \
                 WHERE tenant_id = ? AND rtype = 1 AND unique_key IS NOT NULL ORDER BY id",
            )
            .and_then(|mut st| {
                st.query_map([tenant], |r| {
                    Ok(UserRow {
                        rowid: r.get(0)?,
                        scim_id: r.get(1)?,
                        user_name: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                        key: r.get(3)?,
                    })
                })?
                .collect()
            })
            .map_err(internal)?;
        let plan = plan(rows);
        // Keys are unique at every statement: the changing ones are cleared first.
        let mut clear = conn.prepare("UPDATE resources SET unique_key = NULL WHERE id = ?").map_err(internal)?;
        for (rowid, _) in &plan.keys {
            clear.execute([rowid]).map_err(internal)?;
        }
        let mut set = conn.prepare("UPDATE resources SET unique_key = ? WHERE id = ?").map_err(internal)?;
        for (rowid, key) in &plan.keys {
            set.execute(params![key, rowid]).map_err(internal)?;
        }
        let mut index = conn
            .prepare(
                "UPDATE attr_index SET s = ? WHERE res = ? AND elem = 0 AND key = \
                 (SELECT id FROM attr_keys WHERE tenant_id = ? AND rtype = 1 AND path = 'username')",
            )
            .map_err(internal)?;
        for (rowid, s) in &plan.index {
            index.execute(params![s, rowid, tenant]).map_err(internal)?;
        }
        let mut record = conn
            .prepare(
                "INSERT OR REPLACE INTO user_name_issues \
                 (tenant_id, user_id, user_name, kept_key, other_id, problem, found) \
                 VALUES (?, ?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            )
            .map_err(internal)?;
        for (_, user, name, kept, other, problem) in &plan.issues {
            tracing::warn!(tenant, user = %user, user_name = ?name, "userName needs the operator: {problem}");
            record.execute(params![tenant, user, name, kept, other, problem]).map_err(internal)?;
        }
    }
    Ok(())
}

/// The recorded issues whose user still exists and still holds the key it kept.
pub(super) fn issues(conn: &Connection) -> StoreResult<Vec<UserNameIssue>> {
    conn.prepare_cached(
        "SELECT i.tenant_id, t.name, i.user_id, i.user_name, i.other_id, i.problem, i.found \
         FROM user_name_issues i JOIN tenants t ON t.id = i.tenant_id \
         JOIN resources r ON r.tenant_id = i.tenant_id AND r.rtype = 1 AND r.scim_id = i.user_id \
         WHERE r.unique_key = i.kept_key ORDER BY i.tenant_id, i.user_id",
    )
    .and_then(|mut st| {
        st.query_map([], |r| {
            Ok(UserNameIssue {
                tenant_id: r.get(0)?,
                tenant: r.get(1)?,
                user_id: r.get(2)?,
                user_name: r.get(3)?,
                other_id: r.get(4)?,
                problem: r.get(5)?,
                found: r.get(6)?,
            })
        })?
        .collect()
    })
    .map_err(internal)
}
