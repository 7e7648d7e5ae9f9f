//! The one filter answered without the attribute index: `userName eq "…"` alone, the
//! lookup identity providers make before each write, from the users' unique key.

use super::{Compiler, Dialect, SqlValue};

impl Compiler {
    /// The `WHERE` of a list filtered by `userName eq "…"` alone (an identity provider's
    /// lookup before each write): the resource's own unique key answers it in one probe,
    /// where the general form goes through the attribute index. A user's key and its
    /// indexed userName are the same value (both `scimd_core::user_name::key`), except
    /// for a user recorded in `user_name_issues` that kept an older key (a name clash left
    /// by a change of the rule): such users are excluded from the key's branch and found
    /// through the index instead — a branch driven by the issues table, so it costs one
    /// probe of an empty range when a tenant has none. `literal` is the filter's value,
    /// already in the compared form. Same matches as the general form (the filter
    /// property test runs both).
    pub fn user_name_eq(&mut self, r: &str, literal: &str) {
        let (t, k) = (self.tenant, crate::kind_code(self.kind));
        // SQLite answers `key OR id IN (issues)` with one index probe per branch; PostgreSQL
        // cannot probe an index for an `IN` inside an `OR`, so there both branches are one
        // `IN (… UNION ALL …)` of ids.
        let (open, by_key) = match self.dialect {
            Dialect::Sqlite => (format!("(({r}.tenant_id = "), r.to_string()),
            Dialect::Postgres => (format!("{r}.id IN (SELECT k.id FROM resources k WHERE k.tenant_id = "), "k".into()),
        };
        self.push(&open);
        self.param(SqlValue::Integer(t));
        self.push(&format!(" AND {by_key}.rtype = "));
        self.param(SqlValue::Integer(k));
        self.push(&format!(" AND {by_key}.unique_key = "));
        self.param(SqlValue::Text(literal.to_string()));
        self.push(&format!(
            " AND NOT EXISTS (SELECT 1 FROM user_name_issues i WHERE i.tenant_id = {by_key}.tenant_id \
             AND i.user_id = {by_key}.scim_id AND i.kept_key = {by_key}.unique_key)"
        ));
        let between = match self.dialect {
            Dialect::Sqlite => format!(") OR {r}.id IN ("),
            Dialect::Postgres => " UNION ALL ".to_string(),
        };
        self.push(&between);
        // CROSS JOIN: SQLite then starts from the issues (PostgreSQL plans it as any join).
        self.push(
            "SELECT u.id FROM user_name_issues j CROSS JOIN resources u CROSS JOIN attr_index x \
             WHERE j.tenant_id = ",
        );
        self.param(SqlValue::Integer(t));
        self.push(" AND u.tenant_id = j.tenant_id AND u.rtype = ");
        self.param(SqlValue::Integer(k));
        self.push(" AND u.scim_id = j.user_id AND u.unique_key = j.kept_key AND x.res = u.id AND ");
        self.key_eq("x", scimd_core::filter::USER_NAME_KEY);
        self.push(" AND x.s = ");
        self.param(SqlValue::Text(literal.to_string()));
        match self.dialect {
            Dialect::Sqlite => self.push("))"),
            Dialect::Postgres => {
                self.push(&format!(") AND {r}.tenant_id = "));
                self.param(SqlValue::Integer(t));
                self.push(&format!(" AND {r}.rtype = "));
                self.param(SqlValue::Integer(k));
            }
        }
    }
}
