//! The userName keys of stored users, recomputed when the rule of
//! [`scimd_core::user_name`] changes (SQL cannot fold Unicode, so this runs in Rust, in
//! the migration's transaction): the plan, shared by both backends, and what it reports.
//!
//! Two users of a tenant whose names were distinct under the old rule may be the same name
//! under the new one. Neither is merged nor refused: the user that already held the key
//! (else the oldest) gets it; the others keep their previous key until they are renamed,
//! so that they can still be updated and deactivated. Each such user is recorded in
//! `user_name_issues`, logged, and listed by [`crate::Store::user_name_issues`] while it
//! keeps that key; so are names the rule now refuses (a control or invisible character).

use std::collections::{HashMap, HashSet};

use scimd_core::user_name;

/// A stored user, as the recomputation reads it.
#[derive(Debug, Clone)]
pub(crate) struct UserRow {
    pub rowid: i64,
    pub scim_id: String,
    pub user_name: String,
    pub key: String,
}

/// A stored user whose name needs the operator: a clash with another user's name under
/// the current rule, or a character the rule refuses.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UserNameIssue {
    pub tenant_id: i64,
    pub tenant: String,
    /// The user's id and name.
    pub user_id: String,
    pub user_name: String,
    /// The user holding the same name, for a clash.
    pub other_id: Option<String>,
    /// What is wrong and what to do, in words.
    pub problem: String,
    /// When the recomputation found it.
    pub found: String,
}

/// What the recomputation of one tenant changes and reports.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    /// (row, new key) of the users whose key changes.
    pub keys: Vec<(i64, String)>,
    /// (row, new index value) of the users whose indexed userName changes.
    pub index: Vec<(i64, String)>,
    /// (row, scim id, name, kept key, other scim id, problem).
    pub issues: Vec<(i64, String, String, String, Option<String>, String)>,
}

/// Plans the keys of one tenant's users under the current rule. The previous keys were
/// unique in the tenant; so are the planned ones.
pub(crate) fn plan(rows: Vec<UserRow>) -> Plan {
    let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
    let new: Vec<String> = rows.iter().map(|r| user_name::key(&r.user_name)).collect();
    for (i, k) in new.iter().enumerate() {
        by_key.entry(k.clone()).or_default().push(i);
    }
    let mut plan = Plan::default();
    let mut losers = Vec::new();
    let mut taken: HashSet<&str> = HashSet::new();
    for (k, members) in &by_key {
        // The user already holding the key keeps it; else the oldest row takes it.
        let winner =
            members.iter().copied().find(|&i| rows[i].key == *k).unwrap_or_else(|| {
                members.iter().copied().min_by_key(|&i| rows[i].rowid).expect("a group has members")
            });
        taken.insert(k.as_str());
        for &i in members {
            if i != winner {
                losers.push((i, winner));
            }
        }
    }
    let losing: HashSet<usize> = losers.iter().map(|(i, _)| *i).collect();
    for (i, r) in rows.iter().enumerate() {
        if new[i] != r.key {
            // The attribute index holds the previous key's value: the same text.
            plan.index.push((r.rowid, new[i].clone()));
            if !losing.contains(&i) {
                plan.keys.push((r.rowid, new[i].clone()));
            }
        }
        if let Some((pos, c, why)) = user_name::first_refused(r.user_name.trim()) {
            plan.issues.push((
                r.rowid,
                r.scim_id.clone(),
                r.user_name.clone(),
                new[i].clone(),
                None,
                format!(
                    "the userName holds U+{:04X}, {why}, at character {pos}, which userNames may no longer hold: \
                     rename the user",
                    c as u32
                ),
            ));
        }
    }
    for (i, winner) in losers {
        let r = &rows[i];
        // A previous key is no one's key under the current rule (else its holder would
        // be in this group); should it be, the row's id makes it unique.
        let kept = if taken.contains(r.key.as_str()) { format!("{}\u{1}{}", r.key, r.scim_id) } else { r.key.clone() };
        if kept != r.key {
            plan.keys.push((r.rowid, kept.clone()));
        }
        plan.issues.push((
            r.rowid,
            r.scim_id.clone(),
            r.user_name.clone(),
            kept,
            Some(rows[winner].scim_id.clone()),
            format!(
                "the userName is the same name as user {}'s under the current userName rule; this user keeps its \
                 previous key until renamed: rename one of them, or delete the duplicate",
                rows[winner].scim_id
            ),
        ));
    }
    plan.issues.sort_by_key(|i| i.0);
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(rowid: i64, name: &str) -> UserRow {
        UserRow { rowid, scim_id: format!("id{rowid}"), user_name: name.into(), key: name.to_lowercase() }
    }

    #[test]
    fn clashes_keep_the_holder_and_report_the_others() {
        let p = plan(vec![row(1, "straße"), row(2, "STRASSE"), row(3, "ada"), row(4, " ADA"), row(5, "b\u{200B}ob")]);
        // "STRASSE" held "strasse" already; "straße" keeps "straße"; " ADA" keeps " ada".
        assert_eq!(p.keys, Vec::<(i64, String)>::new());
        let mut index = p.index.clone();
        index.sort();
        assert_eq!(index, [(1, "strasse".to_string()), (4, "ada".to_string())]);
        let reported: Vec<(i64, Option<&str>)> = p.issues.iter().map(|i| (i.0, i.4.as_deref())).collect();
        assert_eq!(reported, [(1, Some("id2")), (4, Some("id3")), (5, None)]);
        assert!(p.issues[2].5.contains("U+200B"));
    }

    #[test]
    fn without_a_holder_the_oldest_takes_the_key() {
        let p = plan(vec![row(7, "ＡＤＭＩＮ"), row(3, "root"), row(9, "ａｄｍｉｎ")]);
        assert_eq!(p.keys, [(7, "admin".to_string())]);
        assert_eq!(p.issues.iter().map(|i| i.0).collect::<Vec<_>>(), [9]);
    }
}
