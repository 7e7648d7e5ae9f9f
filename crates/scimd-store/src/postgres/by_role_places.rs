//! The PostgreSQL shell's side of the places role: for each method of `PlacesStore`, where
//! its SQL (`roles::places`) runs — a pooled connection, a write connection, or a
//! transaction (with the rows it locks).

use super::*;

impl PlacesStore for PgStore {
    fn import_places(
        &self,
        tenant: TenantId,
        places: Vec<PlaceSpec>,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<ImportReport>> {
        let now = normalized_time(now);
        Box::pin(
            async move { transaction!(self, |tx| { roles::places::import(&Pg(&tx), tenant, &places, &now).await }) },
        )
    }

    fn list_places(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Vec<PlaceRow>>> {
        Box::pin(async move { read!(self, |db| roles::places::list(db, tenant)) })
    }

    fn create_place(
        &self,
        tenant: TenantId,
        place: PlaceSpec,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<PlaceRow>> {
        let now = normalized_time(now);
        Box::pin(async move {
            transaction!(self, |tx| { roles::places::create(&Pg(&tx), tenant, place.clone(), now.clone()).await })
        })
    }

    fn rename_place(
        &self,
        tenant: TenantId,
        level: Level,
        key: &str,
        name: &str,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<()>> {
        let (key, name, now) = (key.to_string(), name.to_string(), normalized_time(now));
        Box::pin(async move {
            roles::places::rename(&Pg(&*self.write_conn().await?), tenant, level, &key, &name, &now)
                .await
                .map_err(retry::unknown_if_lost)
        })
    }

    fn delete_place(
        &self,
        tenant: TenantId,
        level: Level,
        key: &str,
        cascade: bool,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<u64>> {
        let (key, now) = (key.to_string(), normalized_time(now));
        Box::pin(async move {
            transaction!(self, |tx| { roles::places::delete(&Pg(&tx), tenant, level, &key, cascade, &now).await })
        })
    }

    fn set_location_rules(
        &self,
        tenant: TenantId,
        location: &str,
        rules: Option<String>,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<i64>> {
        let (location, now) = (location.to_string(), normalized_time(now));
        Box::pin(async move {
            transaction!(self, |tx| {
                roles::places::set_rules(&Pg(&tx), tenant, &location, rules.clone(), &now).await
            })
        })
    }

    fn places_state(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<PlacesState>> {
        Box::pin(async move { read!(self, |db| roles::places::state(db, tenant)) })
    }

    fn grant_access(
        &self,
        tenant: TenantId,
        group: &str,
        level: Level,
        place: &str,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<bool>> {
        let (group, place, now) = (group.to_string(), place.to_string(), normalized_time(now));
        // One transaction: the access it gives is read before and after it.
        Box::pin(async move {
            transaction!(self, |tx| { roles::places::grant(&Pg(&tx), tenant, &group, level, &place, &now).await })
        })
    }

    fn revoke_access(
        &self,
        tenant: TenantId,
        group: &str,
        level: Level,
        place: &str,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<bool>> {
        let (group, place, now) = (group.to_string(), place.to_string(), normalized_time(now));
        Box::pin(async move {
            transaction!(self, |tx| { roles::places::revoke(&Pg(&tx), tenant, &group, level, &place, &now).await })
        })
    }

    fn access_links(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Vec<AccessLink>>> {
        Box::pin(async move { read!(self, |db| roles::places::links(db, tenant)) })
    }

    fn user_access(&self, tenant: TenantId, user_key: &str) -> BoxFut<'_, StoreResult<Option<UserAccess>>> {
        let user_key = user_key.to_string();
        Box::pin(async move { read!(self, |db| roles::places::user_access(db, tenant, &user_key)) })
    }

    fn place_users(
        &self,
        tenant: TenantId,
        level: Level,
        place: &str,
        offset: u64,
        limit: u64,
    ) -> BoxFut<'_, StoreResult<Option<BankUsers>>> {
        let place = place.to_string();
        Box::pin(async move { read!(self, |db| roles::places::place_users(db, tenant, level, &place, offset, limit)) })
    }

    fn places_pending(&self) -> BoxFut<'_, StoreResult<Vec<(TenantId, i64)>>> {
        Box::pin(async move { read!(self, |db| roles::places::pending(db)) })
    }

    fn stale_users(
        &self,
        tenant: TenantId,
        generation: i64,
        after: i64,
        limit: u32,
    ) -> BoxFut<'_, StoreResult<(Vec<StoredResource>, Option<i64>)>> {
        Box::pin(async move { read!(self, |db| roles::places::stale_users(db, tenant, generation, after, limit)) })
    }

    fn set_derived(
        &self,
        tenant: TenantId,
        updates: Vec<DerivedUpdate>,
        generation: i64,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<u64>> {
        let now = normalized_time(now);
        Box::pin(async move {
            if updates.is_empty() {
                return Ok(0);
            }
            let (written, pending) = transaction!(self, |tx| {
                let (written, reindex) =
                    roles::places::set_derived(&Pg(&tx), tenant, updates.clone(), generation, &now).await?;
                let mut unit = Unit::new(self, &tx);
                for (rowid, index) in reindex {
                    resources::rewrite_index(&Pg(&tx), &mut unit, tenant, ResourceKind::User, rowid, &index).await?;
                }
                Ok((written, unit.pending))
            })?;
            self.publish_keys(pending);
            Ok(written)
        })
    }

    fn places_done(&self, tenant: TenantId, generation: i64) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move {
            roles::places::done(&Pg(&*self.write_conn().await?), tenant, generation)
                .await
                .map_err(retry::unknown_if_lost)
        })
    }
}
