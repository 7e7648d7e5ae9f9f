//! What the HTTP layer asks of the database besides the SCIM use cases, so that it never
//! holds the store itself: readiness, the store's gauges and the observer of its operation
//! times (for `/readyz` and `/metrics`), tenants' names (for the request log and the
//! metrics' labels) and the heads of their profiles (for the paths they mount).

use scimd_core::profile::ProfileHead;
use scimd_store::{QueryObserver, StoreResult, StoreStats};

use super::Service;

impl Service {
    /// Whether the database is reachable and at this binary's schema (bounded in time by
    /// the store: a few seconds on PostgreSQL).
    pub async fn ready(&self) -> StoreResult<()> {
        self.store.ready().await
    }

    /// The connection pool's and the write queue's state now (no IO).
    pub fn store_stats(&self) -> StoreStats {
        self.store.stats()
    }

    /// Tells `observer` the duration of every database operation from now on.
    pub fn observe_store(&self, observer: QueryObserver) {
        self.store.set_observer(observer);
    }

    /// Every tenant's id and name.
    pub async fn tenant_names(&self) -> StoreResult<Vec<(i64, String)>> {
        Ok(self.store.list_tenants().await?.into_iter().map(|t| (t.id.0, t.name)).collect())
    }

    /// The head of every tenant's stored profile: only what is read for all tenants at
    /// once, cheap to read every few seconds. An unreadable stored profile is left out
    /// (the use cases report it when its tenant is served).
    pub async fn profile_heads(&self) -> StoreResult<Vec<ProfileHead>> {
        Ok(self
            .store
            .tenant_profiles()
            .await?
            .into_iter()
            .filter_map(|(_, text)| ProfileHead::from_json(&text))
            .collect())
    }
}
