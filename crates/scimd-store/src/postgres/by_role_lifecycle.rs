//! The PostgreSQL shell's side of the lifecycle: for each method of `LifecycleStore`,
//! where its SQL (`roles::lifecycle`) runs — a pooled connection, a write connection, or
//! a transaction when it is more than one statement.

use super::*;
use crate::lifecycle::{Deactivation, LifecycleStore, Tombstone};
use crate::roles::lifecycle as sql;

impl LifecycleStore for PgStore {
    fn tombstone(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        external_id: Option<String>,
        scope: Option<scimd_core::list::SourceScope>,
        name_key: Option<String>,
    ) -> BoxFut<'_, StoreResult<Option<Tombstone>>> {
        Box::pin(async move {
            read!(self, |db| sql::tombstone(
                db,
                tenant,
                kind,
                external_id.as_deref(),
                scope.as_ref(),
                name_key.as_deref()
            ))
        })
    }

    fn end_logins(&self, tenant: TenantId, user_name: &str, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<u64>> {
        let (name, now) = (user_name.to_string(), normalized_time(now));
        Box::pin(async move { transaction!(self, |tx| { sql::end_logins(&Pg(&tx), tenant, &name, &now).await }) })
    }

    fn user_inactive(&self, tenant: TenantId, user_name: &str) -> BoxFut<'_, StoreResult<bool>> {
        let name = user_name.to_string();
        Box::pin(async move { read!(self, |db| sql::user_inactive(db, tenant, &name)) })
    }

    fn record_deactivation(&self, tenant: TenantId, d: Deactivation) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move {
            sql::record_deactivation(&Pg(&*self.write_conn().await?), tenant, &d).await.map_err(retry::unknown_if_lost)
        })
    }

    fn deactivations(
        &self,
        tenant: TenantId,
        since: DateTime<Utc>,
        limit: u32,
    ) -> BoxFut<'_, StoreResult<Vec<Deactivation>>> {
        let since = normalized_time(since);
        Box::pin(async move { read!(self, |db| sql::deactivations(db, tenant, &since, limit)) })
    }

    fn purge_lifecycle(&self, before: DateTime<Utc>) -> BoxFut<'_, StoreResult<u64>> {
        let before = normalized_time(before);
        Box::pin(async move { transaction!(self, |tx| { sql::purge(&Pg(&tx), &before).await }) })
    }
}
