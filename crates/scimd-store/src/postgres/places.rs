//! [`PlacesStore`] on PostgreSQL (issue 7). Not written yet: every call fails.

use chrono::{DateTime, Utc};
use scimd_core::places::{Level, PlaceSpec};

use super::PgStore;
use crate::places::{
    AccessLink, DerivedUpdate, ImportReport, PlaceRow, PlacesState, PlacesStore, UserAccess, UsersPage,
};
use crate::{BoxFut, StoreError, StoreResult, StoredResource, TenantId};

fn todo<T: Send + 'static>() -> BoxFut<'static, StoreResult<T>> {
    Box::pin(async { Err(StoreError::Internal("places are not implemented on PostgreSQL yet".into())) })
}

impl PlacesStore for PgStore {
    fn import_places(
        &self,
        _tenant: TenantId,
        _places: Vec<PlaceSpec>,
        _now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<ImportReport>> {
        todo()
    }
    fn list_places(&self, _tenant: TenantId) -> BoxFut<'_, StoreResult<Vec<PlaceRow>>> {
        todo()
    }
    fn create_place(
        &self,
        _tenant: TenantId,
        _place: PlaceSpec,
        _now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<PlaceRow>> {
        todo()
    }
    fn rename_place(
        &self,
        _tenant: TenantId,
        _level: Level,
        _key: &str,
        _name: &str,
        _now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<()>> {
        todo()
    }
    fn delete_place(
        &self,
        _tenant: TenantId,
        _level: Level,
        _key: &str,
        _cascade: bool,
        _now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<u64>> {
        todo()
    }
    fn set_location_rules(
        &self,
        _tenant: TenantId,
        _location: &str,
        _rules: Option<String>,
        _now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<i64>> {
        todo()
    }
    fn places_state(&self, _tenant: TenantId) -> BoxFut<'_, StoreResult<PlacesState>> {
        todo()
    }
    fn grant_access(
        &self,
        _tenant: TenantId,
        _group: &str,
        _bank: &str,
        _now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<bool>> {
        todo()
    }
    fn revoke_access(&self, _tenant: TenantId, _group: &str, _bank: &str) -> BoxFut<'_, StoreResult<bool>> {
        todo()
    }
    fn access_links(&self, _tenant: TenantId) -> BoxFut<'_, StoreResult<Vec<AccessLink>>> {
        todo()
    }
    fn user_access(&self, _tenant: TenantId, _user_key: &str) -> BoxFut<'_, StoreResult<Option<UserAccess>>> {
        todo()
    }
    fn bank_users(
        &self,
        _tenant: TenantId,
        _bank: &str,
        _offset: u64,
        _limit: u64,
    ) -> BoxFut<'_, StoreResult<Option<UsersPage>>> {
        todo()
    }
    fn places_pending(&self) -> BoxFut<'_, StoreResult<Vec<(TenantId, i64)>>> {
        todo()
    }
    fn stale_users(
        &self,
        _tenant: TenantId,
        _generation: i64,
        _after: i64,
        _limit: u32,
    ) -> BoxFut<'_, StoreResult<(Vec<StoredResource>, Option<i64>)>> {
        todo()
    }
    fn set_derived(
        &self,
        _tenant: TenantId,
        _updates: Vec<DerivedUpdate>,
        _generation: i64,
        _now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<u64>> {
        todo()
    }

    fn places_done(&self, _tenant: TenantId, _generation: i64) -> BoxFut<'_, StoreResult<()>> {
        todo()
    }
}
