//! The places part of the store: a tenant's places tree, the access links
//! between groups and places (a locker, a whole bank, or everything under a section or
//! location), the location rules, and the bookkeeping of the
//! background recomputation of users' derived attributes. Types and the trait only; the
//! SQL is in `roles/places.rs`.

use chrono::{DateTime, Utc};
use scimd_core::places::{Level, PlaceSpec};

use crate::{BoxFut, ResourceState, StoreResult, StoredResource, TenantId};

/// A place as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PlaceRow {
    pub level: Level,
    pub key: String,
    pub name: String,
    /// The parent's key (sections, banks, lockers).
    pub parent: Option<String>,
    /// The location's rules (JSON), for locations that have them.
    pub rules: Option<String>,
    pub created: String,
    pub last_modified: String,
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// What the SCIM service needs of a tenant's places: the rules generation, whether the
/// tenant has any location, and each location's rules (key, JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlacesState {
    pub generation: i64,
    pub has_locations: bool,
    pub rules: Vec<(String, String)>,
}

/// A user's access: the keys of the banks it may use whole, and of every locker it may use
/// (those of those banks, and those granted one by one).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct UserAccess {
    pub banks: Vec<String>,
    pub lockers: Vec<String>,
}

/// A group's access to a place: a locker, a bank, or everything under a section or a
/// location. Shown with the place under its level's name (`"bank": "b1"`, `"locker": "l7"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLink {
    pub group_id: String,
    pub group: Option<String>,
    pub level: Level,
    pub place: String,
    pub created: String,
}

impl serde::Serialize for AccessLink {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("group_id", &self.group_id)?;
        m.serialize_entry("group", &self.group)?;
        m.serialize_entry(self.level.name(), &self.place)?;
        m.serialize_entry("created", &self.created)?;
        m.end()
    }
}

/// A user's derived attributes, recomputed (see [`PlacesStore::set_derived`]).
#[derive(Debug, Clone)]
pub struct DerivedUpdate {
    /// The user's SCIM id.
    pub user: String,
    /// The version they were computed from.
    pub version: i64,
    /// The new state, when the derived attributes changed.
    pub state: Option<ResourceState>,
}

/// A page of a place's users: how many there are in all, and the page's (id, userName).
pub type BankUsers = (u64, Vec<(String, String)>);

/// Places, access and location rules; every call scoped by tenant.
pub trait PlacesStore: Send + Sync {
    /// Creates or updates every place of a tree (parents first) in one transaction: a
    /// new key is created, a known one renamed or moved if it differs, else left alone.
    /// A parent must be in the tree or already stored (`Scim` 400 otherwise).
    fn import_places(
        &self,
        tenant: TenantId,
        places: Vec<PlaceSpec>,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<ImportReport>>;
    /// Every place of a tenant, by level and key.
    fn list_places(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Vec<PlaceRow>>>;
    /// Creates one place; `Conflict` if its key is taken at its level, `Scim` 400 if its
    /// parent does not exist.
    fn create_place(&self, tenant: TenantId, place: PlaceSpec, now: DateTime<Utc>)
    -> BoxFut<'_, StoreResult<PlaceRow>>;
    /// Renames a place; `NotFound` if there is none.
    fn rename_place(
        &self,
        tenant: TenantId,
        level: Level,
        key: &str,
        name: &str,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<()>>;
    /// Deletes a place, and with `cascade` everything under it (their access links too);
    /// without it a place with children is a `Conflict`. Deleting a location that had
    /// rules starts a recomputation. Returns how many places were deleted.
    fn delete_place(
        &self,
        tenant: TenantId,
        level: Level,
        key: &str,
        cascade: bool,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<u64>>;
    /// Sets (or with `None` clears) a location's rules and moves the tenant's rules
    /// generation on; returns the new generation. `NotFound` for an unknown location.
    fn set_location_rules(
        &self,
        tenant: TenantId,
        location: &str,
        rules: Option<String>,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<i64>>;
    fn places_state(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<PlacesState>>;
    /// Links a group (by SCIM id) to a place (by level and key); false if it was linked
    /// already. `NotFound` (as a `Scim` 404) for an unknown group or place.
    fn grant_access(
        &self,
        tenant: TenantId,
        group: &str,
        level: Level,
        place: &str,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<bool>>;
    /// Unlinks them; false if they were not linked.
    fn revoke_access(
        &self,
        tenant: TenantId,
        group: &str,
        level: Level,
        place: &str,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<bool>>;
    fn access_links(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Vec<AccessLink>>>;
    /// The banks and lockers a user (by its folded userName, the unique key) may use:
    /// everything under the places linked to a group it is in, directly or through nested
    /// groups; none when the user is inactive. `None` if there is no such user.
    fn user_access(&self, tenant: TenantId, user_key: &str) -> BoxFut<'_, StoreResult<Option<UserAccess>>>;
    /// The active users (id, userName) that may use a place (the whole of it: linked to it
    /// or to a place above it), by id, a page of them, and their number. `None` if there
    /// is no such place.
    fn place_users(
        &self,
        tenant: TenantId,
        level: Level,
        place: &str,
        offset: u64,
        limit: u64,
    ) -> BoxFut<'_, StoreResult<Option<BankUsers>>>;
    /// The tenants whose users' derived attributes are behind their rules: (tenant,
    /// generation).
    fn places_pending(&self) -> BoxFut<'_, StoreResult<Vec<(TenantId, i64)>>>;
    /// Up to `limit` users of a tenant after rowid `after` whose derived attributes are
    /// older than `generation`, with the rowid to continue after (`None`: the pass is over).
    fn stale_users(
        &self,
        tenant: TenantId,
        generation: i64,
        after: i64,
        limit: u32,
    ) -> BoxFut<'_, StoreResult<(Vec<StoredResource>, Option<i64>)>>;
    /// Records users' derived attributes of `generation`, in one transaction: a new
    /// `state` is written with a new version, and every user's generation is moved on;
    /// a user no longer at its `version` is left alone. Returns how many were recorded.
    fn set_derived(
        &self,
        tenant: TenantId,
        updates: Vec<DerivedUpdate>,
        generation: i64,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<u64>>;
    /// Marks a tenant's recomputation of `generation` finished (unless the rules moved on).
    fn places_done(&self, tenant: TenantId, generation: i64) -> BoxFut<'_, StoreResult<()>>;
}
