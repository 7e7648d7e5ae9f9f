//! The SQLite shell's side of the lifecycle: for each method of `LifecycleStore`, where
//! its SQL (`roles::lifecycle`) runs — a reader, or the writer thread (one closure: one
//! transaction).

use super::*;
use crate::lifecycle::{Deactivation, LifecycleStore, Tombstone};
use crate::roles::lifecycle as sql;

impl LifecycleStore for SqliteStore {
    fn tombstone(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        external_id: Option<String>,
        scope: Option<scimd_core::list::SourceScope>,
        name_key: Option<String>,
    ) -> BoxFut<'_, StoreResult<Option<Tombstone>>> {
        let r = self.read_one(|c| {
            ready(sql::tombstone(&Lite(c), tenant, kind, external_id.as_deref(), scope.as_ref(), name_key.as_deref()))
        });
        Box::pin(async move { r })
    }

    fn end_logins(&self, tenant: TenantId, user_name: &str, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<u64>> {
        let (name, now) = (user_name.to_string(), normalized_time(now));
        Box::pin(self.write(move |w| ready(sql::end_logins(&Lite(w), tenant, &name, &now))))
    }

    fn user_inactive(&self, tenant: TenantId, user_name: &str) -> BoxFut<'_, StoreResult<bool>> {
        let r = self.read_one(|c| ready(sql::user_inactive(&Lite(c), tenant, user_name)));
        Box::pin(async move { r })
    }

    fn record_deactivation(&self, tenant: TenantId, d: Deactivation) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(self.write(move |w| ready(sql::record_deactivation(&Lite(w), tenant, &d))))
    }

    fn deactivations(
        &self,
        tenant: TenantId,
        since: DateTime<Utc>,
        limit: u32,
    ) -> BoxFut<'_, StoreResult<Vec<Deactivation>>> {
        let since = normalized_time(since);
        let r = self.read_one(|c| ready(sql::deactivations(&Lite(c), tenant, &since, limit)));
        Box::pin(async move { r })
    }

    fn purge_lifecycle(&self, before: DateTime<Utc>) -> BoxFut<'_, StoreResult<u64>> {
        let before = normalized_time(before);
        Box::pin(self.write(move |w| ready(sql::purge(&Lite(w), &before))))
    }
}
