//! Changing resources: create (with generated or given ids), update (PUT and PATCH
//! through the service's mutator) and delete, each as one unit of its shell (SQLite's
//! writer savepoint, PostgreSQL's transaction): the `If-Match` check, the row, its index
//! rows, its memberships, its tenant's count and its audit event together. A deletion
//! leaves the resource's tombstone; a creation with a given id takes it back.

use scimd_core::events::{ChangeFacts, Draft, Write, is_active, members_changed, prov_events};
use scimd_core::patch::MemberOp;
use scimd_core::schema::ResourceKind;

use super::index::{Shell, bump_count, rewrite_index, write_index};
use super::members::{add_members, apply_group_ops, apply_member_ops, find_any};
use super::read::{Lock, load, load_related};
use crate::db::{Db, Dialect, Row};
use crate::roles::access::{self, Users};
use crate::roles::events::{self, Subject, external_id, stored_external_id};
use crate::roles::lifecycle;
use crate::{
    Change, ChangeEvent, IfMatch, NewResource, StoreError, StoreResult, StoredResource, TenantId, Update, Writer,
    check_if_match, kind_code, state_params,
};

/// Inserts a resource with its id (given or generated), its index rows, members and
/// change event.
pub(crate) async fn create(
    db: &impl Db,
    shell: &mut impl Shell,
    tenant: TenantId,
    kind: ResourceKind,
    id: String,
    new: NewResource,
    now: &str,
) -> StoreResult<StoredResource> {
    new.writer.check(None, true)?;
    let (data, display_fold) = state_params(&new.state)?;
    let sql = "INSERT INTO resources (tenant_id, rtype, scim_id, unique_key, display, display_fold, version, created, \
               last_modified, password_hash, data, derived_gen, source) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?) \
               RETURNING id";
    let rowid: i64 = db
        .query_opt(
            sql,
            &[
                &tenant.0,
                &kind_code(kind),
                &id,
                &new.state.unique_key,
                &new.state.display,
                &display_fold,
                &now,
                &now,
                &new.password_hash,
                &data,
                &new.derived_gen,
                &new.writer.source(),
            ],
            |r| r.get(0),
        )
        .await?
        .ok_or_else(|| StoreError::Internal("an insert returned no row".into()))?;
    write_index(db, shell, tenant, kind, rowid, &new.state.index.iter().collect::<Vec<_>>()).await?;
    let recording = events::recording(db, tenant).await?;
    // A user created into groups may get access at once.
    let watch = match kind {
        ResourceKind::User if !new.members.is_empty() => {
            access::watch(db, tenant, recording, Users::Rows(vec![rowid]), false).await?
        }
        _ => None,
    };
    let mut groups = Vec::new();
    let origin = new.writer.origin();
    if !new.members.is_empty() {
        match kind {
            ResourceKind::Group => add_members(db, tenant, rowid, &new.members, origin).await?,
            ResourceKind::User => {
                let ops = [MemberOp::Add(new.members.clone())];
                groups = apply_group_ops(db, tenant, rowid, &ops, origin, now).await?
            }
            // A declared type has no membership relation (`members` is always empty).
            ResourceKind::Custom(_) => {}
        }
    }
    bump_count(db, tenant, kind, rowid, 1).await?;
    if let Some(full) = recording {
        let facts = ChangeFacts {
            write: Write::Create,
            kind,
            before: None,
            after: Some(&new.state.doc),
            password: new.password_hash.is_some(),
            members: !new.members.is_empty(),
        };
        let subject = Subject::new(kind, &id, Some(1), external_id(&new.state.doc), full.then_some((&data, now)));
        let mut items = drafts(subject, prov_events(facts));
        items.extend(group_events(db, &groups, full).await?);
        events::append(db, tenant, items, txn(&new.event), now).await?;
    }
    access::finish(db, tenant, watch, txn(&new.event), now).await?;
    if let Some(e) = new.event {
        shell.change_event(e, Some(&id), false).await?;
    }
    let related = if kind == ResourceKind::Group || !new.members.is_empty() {
        Some(load_related(db, kind, rowid).await?)
    } else {
        None
    };
    Ok(StoredResource {
        kind,
        id,
        version: 1,
        created: now.to_string(),
        last_modified: now.to_string(),
        data,
        related: related.or(Some(Vec::new())),
    })
}

/// Creates resources with the ids given, in one unit: every one or none. An id the
/// tenant uses already (for either kind) is a conflict naming it.
pub(crate) async fn create_with_ids(
    db: &impl Db,
    shell: &mut impl Shell,
    tenant: TenantId,
    kind: ResourceKind,
    items: Vec<(String, NewResource)>,
    now: &str,
) -> StoreResult<Vec<StoredResource>> {
    let mut out = Vec::with_capacity(items.len());
    for (id, new) in items {
        // Ids are unique among a tenant's users and groups (members name either), and a
        // declared type's rows also among their own type's.
        let taken = match db.dialect() {
            // The writer is alone.
            Dialect::Sqlite => {
                find_any(db, tenant, &id, None).await?.is_some()
                    || (kind.is_custom() && {
                        let sql = "SELECT 1 FROM resources WHERE tenant_id = ? AND rtype = ? AND scim_id = ?";
                        db.query_opt(sql, &[&tenant.0, &kind_code(kind), &id], |_| Ok(())).await?.is_some()
                    })
            }
            // Each id is locked (an advisory lock on the tenant and the id) before it is
            // looked for among both kinds, so two writers giving the same id to a user and
            // a group cannot both succeed.
            Dialect::Postgres => {
                db.execute("SELECT pg_advisory_xact_lock(hashtextextended(?, ?))", &[&id, &tenant.0]).await?;
                let sql = "SELECT 1 FROM resources WHERE tenant_id = ? AND scim_id = ? AND rtype IN (1, 2, ?) LIMIT 1";
                db.query_opt(sql, &[&tenant.0, &id, &kind_code(kind)], |_| Ok(())).await?.is_some()
            }
        };
        if taken {
            return Err(StoreError::Conflict(crate::id_taken(&id)));
        }
        // An id deleted earlier comes back after its last version and with its first
        // creation time: an ETag of before the deletion never matches it again.
        let before = lifecycle::take_tombstone(db, tenant, kind, &id).await?;
        let mut stored =
            create(db, shell, tenant, kind, id.clone(), new, now).await.map_err(|e| crate::naming(e, &id))?;
        if let Some((version, created)) = before {
            db.execute(
                "UPDATE resources SET version = ?, created = ? WHERE tenant_id = ? AND rtype = ? AND scim_id = ?",
                &[&(version + 1), &created, &tenant.0, &kind_code(kind), &id],
            )
            .await?;
            (stored.version, stored.created) = (version + 1, created);
        }
        out.push(stored);
    }
    Ok(out)
}

/// Changes a resource: its current version must pass `If-Match`, then the service's
/// mutator computes the new state from the current document. The update's event is taken
/// (a shell that runs the change again puts it back first).
pub(crate) async fn update(
    db: &impl Db,
    shell: &mut impl Shell,
    tenant: TenantId,
    kind: ResourceKind,
    id: &str,
    update: &mut Update,
    now: String,
) -> StoreResult<StoredResource> {
    let event = update.event.take();
    let Update { if_match, mutate, related, write, writer, .. } = update;
    let (related, write) = (*related, *write);
    // PostgreSQL's row lock serializes read-modify-writes of one resource across replicas.
    let Some((rowid, current)) = load(db, tenant, kind, id, false, Lock::Change).await? else {
        return Err(StoreError::NotFound);
    };
    check_owner(db, writer, rowid).await?;
    check_if_match(if_match, current.version)?;
    let current_doc: serde_json::Value =
        serde_json::from_str(&current.data).map_err(|e| StoreError::Internal(e.to_string()))?;
    let Change { state, password_hash, member_ops, deactivates, derived_gen } =
        mutate(&current_doc).map_err(StoreError::Scim)?;
    let (data, display_fold) = state_params(&state)?;
    let version = current.version + 1;
    let recording = events::recording(db, tenant).await?;
    let watch = match kind {
        ResourceKind::User if !member_ops.is_empty() || is_active(&current_doc) != is_active(&state.doc) => {
            access::watch(db, tenant, recording, Users::Rows(vec![rowid]), false).await?
        }
        ResourceKind::Group if !member_ops.is_empty() => {
            let added: Vec<String> = member_ops
                .iter()
                .filter_map(|op| match op {
                    MemberOp::Add(values) => Some(values.iter().map(|v| v.value.clone())),
                    _ => None,
                })
                .flatten()
                .collect();
            access::watch(db, tenant, recording, Users::Groups(vec![rowid], &added), false).await?
        }
        _ => None,
    };
    db.execute(
        "UPDATE resources SET unique_key = COALESCE(?, unique_key), display = ?, display_fold = ?, version = ?, \
         last_modified = ?, password_hash = COALESCE(?, password_hash), data = ?, derived_gen = ? WHERE id = ?",
        &[
            &state.unique_key,
            &state.display,
            &display_fold,
            &version,
            &now,
            &password_hash,
            &data,
            &derived_gen,
            &rowid,
        ],
    )
    .await?;
    if data != current.data {
        rewrite_index(db, shell, tenant, kind, rowid, &state.index).await?;
    }
    // Whether the memberships really changed: a removal may only clear the writer's
    // origin bit of a membership another origin keeps.
    let (groups, members_changed) = match kind {
        _ if member_ops.is_empty() => (Vec::new(), false),
        ResourceKind::Group => (Vec::new(), apply_member_ops(db, tenant, rowid, &member_ops, writer.origin()).await?),
        ResourceKind::User => {
            let groups = apply_group_ops(db, tenant, rowid, &member_ops, writer.origin(), &now).await?;
            let changed = !groups.is_empty();
            (groups, changed)
        }
        ResourceKind::Custom(_) => (Vec::new(), false),
    };
    if let Some(full) = recording {
        let facts = ChangeFacts {
            write,
            kind,
            before: Some(&current_doc),
            after: Some(&state.doc),
            password: password_hash.is_some(),
            members: members_changed,
        };
        let stored = full.then_some((data.as_str(), current.created.as_str()));
        let subject = Subject::new(kind, &current.id, Some(version), external_id(&state.doc), stored);
        let mut items = drafts(subject, prov_events(facts));
        items.extend(group_events(db, &groups, full).await?);
        events::append(db, tenant, items, txn(&event), &now).await?;
    }
    access::finish(db, tenant, watch, txn(&event), &now).await?;
    if let Some(e) = event {
        shell.change_event(e, None, deactivates).await?;
    }
    let related = if related { Some(load_related(db, kind, rowid).await?) } else { None };
    Ok(StoredResource { kind, id: current.id, version, created: current.created, last_modified: now, data, related })
}

/// Deletes a resource (its current version must pass `If-Match`) with its index rows,
/// memberships and access links; the groups it was a member of get a new version.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn delete(
    db: &impl Db,
    shell: &mut impl Shell,
    tenant: TenantId,
    kind: ResourceKind,
    id: &str,
    if_match: Option<IfMatch>,
    writer: &Writer,
    event: Option<ChangeEvent>,
    now: &str,
) -> StoreResult<()> {
    // Locked first on PostgreSQL: a member add racing on another replica waits, then fails.
    let Some((rowid, current)) = load(db, tenant, kind, id, false, Lock::Delete).await? else {
        return Err(StoreError::NotFound);
    };
    check_owner(db, writer, rowid).await?;
    check_if_match(&if_match, current.version)?;
    // A group's users lose the access it gave them.
    let recording = events::recording(db, tenant).await?;
    let watch = match kind {
        ResourceKind::Group => access::watch(db, tenant, recording, Users::Groups(vec![rowid], &[]), false).await?,
        ResourceKind::User | ResourceKind::Custom(_) => None,
    };
    let groups: Vec<i64> = db
        .query(
            "UPDATE resources SET version = version + 1, last_modified = ? \
             WHERE id IN (SELECT group_id FROM members WHERE member_id = ?) RETURNING id",
            &[&now, &rowid],
            |r| r.get(0),
        )
        .await?;
    match db.dialect() {
        Dialect::Sqlite => {
            db.execute("DELETE FROM members WHERE group_id = ?1", &[&rowid]).await?;
            db.execute("DELETE FROM members WHERE member_id = ?1", &[&rowid]).await?;
            // PostgreSQL's foreign keys drop the links with the group.
            db.execute("DELETE FROM access_links WHERE group_id = ?1", &[&rowid]).await?;
        }
        Dialect::Postgres => {
            db.execute("DELETE FROM members WHERE group_id = ? OR member_id = ?", &[&rowid, &rowid]).await?;
        }
    }
    db.execute("DELETE FROM attr_index WHERE res = ?", &[&rowid]).await?;
    lifecycle::leave_tombstone(db, rowid, stored_external_id(&current.data), now).await?;
    db.execute("DELETE FROM resources WHERE id = ?", &[&rowid]).await?;
    bump_count(db, tenant, kind, rowid, -1).await?;
    if let Some(full) = recording {
        let facts =
            ChangeFacts { write: Write::Delete, kind, before: None, after: None, password: false, members: false };
        let subject = Subject::new(kind, &current.id, None, stored_external_id(&current.data), None);
        let mut items = drafts(subject, prov_events(facts));
        items.extend(group_events(db, &groups, full).await?);
        events::append(db, tenant, items, txn(&event), now).await?;
    }
    access::finish(db, tenant, watch, txn(&event), now).await?;
    if let Some(e) = event {
        shell.change_event(e, None, false).await?;
    }
    Ok(())
}

/// Refuses (403) a writer that may not change the resource: another provisioning source's.
/// Read in the write transaction, after the row is locked, so a handover cannot race it.
async fn check_owner(db: &impl Db, writer: &Writer, rowid: i64) -> StoreResult<()> {
    if matches!(writer, Writer::Client | Writer::Operator) {
        return Ok(());
    }
    let owner: Option<String> =
        db.query_opt("SELECT source FROM resources WHERE id = ?", &[&rowid], |r| r.get(0)).await?.flatten();
    writer.check(owner.as_deref(), false)
}

/// The request a change came from, as its events' `txn`.
fn txn(event: &Option<ChangeEvent>) -> Option<&str> {
    event.as_ref().map(|e| e.event.request_id.as_str())
}

fn drafts(subject: Subject, drafts: Vec<Draft>) -> Vec<(Subject, Draft)> {
    drafts.into_iter().map(|d| (subject.clone(), d)).collect()
}

/// The membership events of groups whose members a change of another resource changed,
/// as they are after it (in rowid order).
async fn group_events(db: &impl Db, groups: &[i64], full: bool) -> StoreResult<Vec<(Subject, Draft)>> {
    let mut out = Vec::with_capacity(groups.len());
    let mut sorted = groups.to_vec();
    sorted.sort_unstable();
    for g in sorted {
        let sql = "SELECT scim_id, version, data, created FROM resources WHERE id = ?";
        if let Some((id, version, data, created)) = db
            .query_opt(sql, &[&g], |r| {
                Ok((r.get::<String>(0)?, r.get::<i64>(1)?, r.get::<String>(2)?, r.get::<String>(3)?))
            })
            .await?
        {
            let stored = full.then_some((data.as_str(), created.as_str()));
            let subject = Subject::new(ResourceKind::Group, &id, Some(version), stored_external_id(&data), stored);
            out.push((subject, members_changed()));
        }
    }
    Ok(out)
}
