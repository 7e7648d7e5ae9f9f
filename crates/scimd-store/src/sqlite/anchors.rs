//! Page anchors: for unfiltered lists in the default order, the rowid at every
//! [`ANCHOR_STEP`]th position of a tenant's resources of a kind, so a deep `startIndex`
//! skips at most that many index entries instead of all before it.

use super::*;

/// Positions between page anchors.
pub(super) const ANCHOR_STEP: u64 = 1000;

/// For unfiltered lists in the default order: the rowid at every [`ANCHOR_STEP`]th
/// position of a tenant's resources of a kind, so a deep `startIndex` skips at most
/// `ANCHOR_STEP` index entries instead of all the ones before it. Valid only for the
/// `generation` (from `resource_counts`, bumped by every create and delete, in any
/// process) it was built at.
#[derive(Default)]
pub(super) struct PageAnchors(Mutex<std::collections::HashMap<AnchorKey, Anchors>>);

/// (tenant id, kind code).
pub(super) type AnchorKey = (i64, i64);
/// (generation, rowid at each anchor position).
pub(super) type Anchors = (i64, Vec<i64>);

impl PageAnchors {
    /// The rowid at position `block * ANCHOR_STEP` (0-based), extending the anchors by
    /// scanning from the last known one if needed. `None` if there is no such position.
    fn anchor(
        &self,
        conn: &Connection,
        tenant: TenantId,
        kind: ResourceKind,
        generation: i64,
        block: u64,
    ) -> StoreResult<Option<i64>> {
        let key = (tenant.0, kind_code(kind));
        let mut known = {
            let map = self.0.lock().expect("anchors");
            match map.get(&key) {
                Some((g, v)) if *g == generation => v.clone(),
                _ => Vec::new(),
            }
        };
        if let Some(r) = known.get(block as usize) {
            return Ok(Some(*r));
        }
        // Scan forward from the last anchor (or the start), recording new anchors.
        let (mut pos, from) = match known.last() {
            Some(r) => ((known.len() as u64 - 1) * ANCHOR_STEP, *r),
            None => (0, i64::MIN),
        };
        let mut st = conn
            .prepare_cached("SELECT id FROM resources WHERE tenant_id = ? AND rtype = ? AND id >= ? ORDER BY id")
            .map_err(internal)?;
        let mut rows = st.query(params![tenant.0, kind_code(kind), from]).map_err(internal)?;
        let target = block * ANCHOR_STEP;
        while let Some(row) = rows.next().map_err(internal)? {
            let id: i64 = row.get(0).map_err(internal)?;
            if pos % ANCHOR_STEP == 0 && (known.len() as u64) == pos / ANCHOR_STEP {
                known.push(id);
            }
            if pos == target {
                break;
            }
            pos += 1;
        }
        let found = known.get(block as usize).copied();
        self.0.lock().expect("anchors").insert(key, (generation, known));
        Ok(found)
    }
}

/// Where a deep page of an unfiltered list in the default order starts: from the page
/// anchor before its offset, once the offset passes [`ANCHOR_STEP`].
pub(super) fn skip_to_anchor(
    conn: &Connection,
    anchors: &PageAnchors,
    tenant: TenantId,
    kind: ResourceKind,
    offset: u64,
) -> StoreResult<Skip> {
    if offset < ANCHOR_STEP {
        return Ok(Skip::Offset);
    }
    let generation: Option<i64> = conn
        .prepare_cached("SELECT generation FROM resource_counts WHERE tenant_id = ? AND rtype = ?")
        .and_then(|mut st| st.query_row(params![tenant.0, kind_code(kind)], |r| r.get(0)).optional())
        .map_err(internal)?;
    let Some(generation) = generation else { return Ok(Skip::Offset) };
    let block = offset / ANCHOR_STEP;
    Ok(match anchors.anchor(conn, tenant, kind, generation, block)? {
        Some(rowid) => Skip::From { rowid, offset: offset - block * ANCHOR_STEP },
        None => Skip::PastEnd,
    })
}
