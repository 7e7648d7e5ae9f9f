//! What the store keeps about tenants: the [`TenantStore`] part of the `Store` contract
//! and the types crossing it (written in `roles::tenants`).

use chrono::{DateTime, Utc};

use crate::{BoxFut, StoreResult};

/// A tenant's database id. Every resource call takes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TenantId(pub i64);

impl TenantId {
    /// Where the audit trail keeps events it could attribute to no tenant (a request
    /// without a credential, or with one naming no tenant): [`AuditStore::events`](crate::AuditStore::events) of it reads
    /// them. No tenant has this id (tenant ids start at 1).
    pub const NONE: TenantId = TenantId(0);
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    pub created: String,
    /// Whether the tenant has the SCIM provisioning feature.
    pub scim_enabled: bool,
    pub audit: AuditSettings,
    /// Integration (the customer builds and tests its sync) or production.
    pub stage: Stage,
    /// The tenant of the other stage made from, or promoted to, this one.
    pub counterpart: Option<TenantId>,
    /// Where its credentials are delivered.
    pub contacts: Contacts,
}

/// A tenant's stage: a customer first integrates against an `integration` tenant, and
/// is given a `production` one once its go-live check is approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Integration,
    /// Tenants made before stages existed are production ones.
    #[default]
    Production,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Integration => "integration",
            Stage::Production => "production",
        }
    }
    pub fn parse(s: &str) -> Option<Stage> {
        match s {
            "integration" => Some(Stage::Integration),
            "production" => Some(Stage::Production),
            _ => None,
        }
    }
}

/// Where a tenant's credentials go: the API system user's email (its set-password link
/// and the client id) and the mobile number (E.164) the client secret is texted to.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Contacts {
    pub email: Option<String>,
    pub mobile: Option<String>,
}

/// Which requests' payloads (redacted) the audit trail keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DetailsLevel {
    /// None: events only.
    Off,
    /// Every request except successful reads (GET, list, search, discovery).
    #[default]
    Changes,
    /// Every request.
    All,
}

impl DetailsLevel {
    pub fn code(self) -> i64 {
        match self {
            DetailsLevel::Off => 0,
            DetailsLevel::Changes => 1,
            DetailsLevel::All => 2,
        }
    }
    pub fn from_code(c: i64) -> Self {
        match c {
            0 => DetailsLevel::Off,
            2 => DetailsLevel::All,
            _ => DetailsLevel::Changes,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            DetailsLevel::Off => "off",
            DetailsLevel::Changes => "changes",
            DetailsLevel::All => "all",
        }
    }
    /// Whether a request's payloads are kept: `read` for reads (GET, list, search,
    /// discovery), `failed` for a status of 400 or more.
    pub fn keeps(self, read: bool, failed: bool) -> bool {
        match self {
            DetailsLevel::Off => false,
            DetailsLevel::Changes => !read || failed,
            DetailsLevel::All => true,
        }
    }
}

/// A tenant's audit settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditSettings {
    /// Which requests' payloads (redacted) are kept.
    pub details: DetailsLevel,
    /// Days events are kept.
    pub events_days: i64,
    /// Days payloads are kept.
    pub details_days: i64,
}

impl Default for AuditSettings {
    fn default() -> Self {
        AuditSettings { details: DetailsLevel::Changes, events_days: 90, details_days: 14 }
    }
}

pub trait TenantStore: Send + Sync {
    /// Creates a production tenant, with or without the SCIM feature; `Conflict` if the
    /// name is taken.
    fn create_tenant(&self, name: &str, scim_enabled: bool, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<Tenant>> {
        self.create_staged_tenant(name, scim_enabled, Stage::Production, now)
    }
    /// Creates a tenant in a stage; `Conflict` if the name is taken.
    fn create_staged_tenant(
        &self,
        name: &str,
        scim_enabled: bool,
        stage: Stage,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<Tenant>>;
    /// Makes `integration` and `production` each other's counterpart; `Conflict` if either
    /// has one already, `NotFound` if either is missing.
    fn link_counterparts(&self, integration: TenantId, production: TenantId) -> BoxFut<'_, StoreResult<()>>;
    /// Sets where a tenant's credentials go; `NotFound` for an unknown tenant.
    fn set_tenant_contacts(&self, tenant: TenantId, contacts: Contacts) -> BoxFut<'_, StoreResult<()>>;
    fn tenant_by_name(&self, name: &str) -> BoxFut<'_, StoreResult<Option<Tenant>>>;
    fn tenant_by_id(&self, id: TenantId) -> BoxFut<'_, StoreResult<Option<Tenant>>>;
    fn list_tenants(&self) -> BoxFut<'_, StoreResult<Vec<Tenant>>>;
    /// Turns a tenant's SCIM feature on or off; `NotFound` for an unknown tenant.
    fn set_scim_enabled(&self, tenant: TenantId, enabled: bool) -> BoxFut<'_, StoreResult<()>>;
    /// Changes a tenant's audit settings; `NotFound` for an unknown tenant.
    fn set_audit_settings(&self, tenant: TenantId, settings: AuditSettings) -> BoxFut<'_, StoreResult<()>>;
    /// A tenant's profile (JSON, `scimd_core::profile::Profile`); `None`: the default.
    fn tenant_profile(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Option<String>>>;
    /// Every tenant's stored profile (tenants without one are left out).
    fn tenant_profiles(&self) -> BoxFut<'_, StoreResult<Vec<(TenantId, String)>>>;
    /// Sets (or with `None` clears) a tenant's profile; `NotFound` if there is no tenant.
    fn set_tenant_profile(&self, tenant: TenantId, profile: Option<String>) -> BoxFut<'_, StoreResult<()>>;
    /// The codes (16..=255, their rows' `rtype`) of the resource types a tenant's profile
    /// declares, in the order of `names`; a name seen for the first time gets the next
    /// code, kept for good.
    fn type_codes(&self, tenant: TenantId, names: Vec<String>) -> BoxFut<'_, StoreResult<Vec<(String, u8)>>>;
}
