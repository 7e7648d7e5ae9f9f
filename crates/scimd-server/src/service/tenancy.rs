//! Each tenant's tenancy: its profile and what follows from it (schemas, output plans,
//! location rules, secret names), read from the store and cached for [`PROFILE_CACHE`];
//! and the background recomputation of users' locations after a rules change.

use super::*;

/// A tenant's tenancy as last read: when, and from which stored profile text (an
/// unchanged text keeps the tenancy instead of parsing and building it again).
pub(super) struct CachedTenancy {
    read: Instant,
    /// What the tenancy was built from: the stored profile, and the places state.
    text: Option<String>,
    places: PlacesState,
    tenancy: Arc<Tenancy>,
}

/// A tenant's location rules, parsed, with their generation.
#[derive(Debug, Default)]
pub struct PlaceRules {
    pub generation: i64,
    pub rules: Vec<(String, LocationRules)>,
}

impl PlaceRules {
    fn parse(tenant: TenantId, state: &PlacesState) -> AppResult<PlaceRules> {
        let rules =
            places::parse_rules(&state.rules).map_err(|e| AppError::Internal(format!("tenant {}: {e}", tenant.0)))?;
        Ok(PlaceRules { generation: state.generation, rules })
    }

    /// Writes a user's derived attributes (locations, home location) into its document;
    /// returns the generation of the rules used.
    pub fn apply(&self, doc: &mut Value) -> i64 {
        let derived = places::derive(&self.rules, doc);
        places::set_derived(doc, &derived);
        self.generation
    }
}

/// What a tenant's profile makes of the service for it: the profile, the schemas its
/// clients see (the built-in ones and its declared extensions) and the output plans for
/// them. Tenants without extensions share the built-in registry and plans.
pub struct Tenancy {
    pub profile: Profile,
    pub registry: Arc<Registry>,
    pub(super) plans: Arc<[OutputPlan]>,
    /// The tenant's location rules.
    pub places: PlaceRules,
    /// The names of secrets in its payloads (for the audit trail's redaction).
    pub secrets: Arc<crate::audit::Secrets>,
}

impl std::fmt::Debug for Tenancy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenancy").field("profile", &self.profile).finish_non_exhaustive()
    }
}

impl std::ops::Deref for Tenancy {
    type Target = Profile;
    fn deref(&self) -> &Profile {
        &self.profile
    }
}

/// How long a tenant's profile is used before it is read again: the longest a change of
/// profile (on any replica) takes to apply.
pub const PROFILE_CACHE: Duration = Duration::from_secs(5);

impl Service {
    /// A tenant's profile and what follows from it (cached for [`PROFILE_CACHE`]).
    pub async fn profile(&self, tenant: TenantId) -> AppResult<Arc<Tenancy>> {
        let previous = match self.profiles.lock().expect("profiles").get(&tenant) {
            Some(c) if c.read.elapsed() < PROFILE_CACHE => return Ok(c.tenancy.clone()),
            Some(c) => Some((c.text.clone(), c.places.clone(), c.tenancy.clone())),
            None => None,
        };
        let text = self.store.tenant_profile(tenant).await?;
        let places = self.store.places_state(tenant).await?;
        let tenancy = match previous {
            Some((old, old_places, tenancy)) if old == text && old_places == places => tenancy,
            _ => {
                let mut profile = match &text {
                    Some(t) => Profile::from_json(t).map_err(|e| {
                        AppError::Internal(format!("the stored profile of tenant {} is unusable: {e}", tenant.0))
                    })?,
                    None => Profile::default(),
                };
                if !profile.resource_types.is_empty() {
                    let names = profile.resource_types.iter().map(|t| t.name.clone()).collect();
                    profile.type_codes = self.store.type_codes(tenant, names).await?;
                }
                Arc::new(self.tenancy_of(tenant, profile, &places)?)
            }
        };
        let mut cache = self.profiles.lock().expect("profiles");
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(tenant, CachedTenancy { read: Instant::now(), text, places, tenancy: tenancy.clone() });
        Ok(tenancy)
    }

    pub(super) fn tenancy_of(&self, tenant: TenantId, profile: Profile, state: &PlacesState) -> AppResult<Tenancy> {
        let places = PlaceRules::parse(tenant, state)?;
        if !profile.own_registry() && !state.has_locations {
            return Ok(Tenancy {
                profile,
                registry: self.registry.clone(),
                plans: self.plans.clone(),
                places,
                secrets: crate::audit::Secrets::builtin(),
            });
        }
        let mut registry = profile.registry().map_err(|e| {
            AppError::Internal(format!("the stored profile of tenant {} declares unusable schemas: {e}", tenant.0))
        })?;
        // A tenant with places sees its users' locations.
        if state.has_locations {
            scimd_core::builtin::add_places_extension(&mut registry);
        }
        let plans: Arc<[OutputPlan]> =
            registry.resource_types.iter().map(|rt| OutputPlan::new(&registry, rt.kind)).collect();
        let secrets = Arc::new(crate::audit::Secrets::of(&registry));
        Ok(Tenancy { profile, registry: Arc::new(registry), plans, places, secrets })
    }

    /// Brings users' derived attributes (locations, home location) up to their tenants'
    /// location rules, a batch at a time, without holding up requests: the work left is
    /// in the database (each user's generation), so a restart resumes it. Returns how
    /// many users were recomputed.
    pub async fn recompute_places(&self) -> AppResult<u64> {
        const BATCH: u32 = 500;
        let mut total = 0;
        for (tenant, _) in self.store.places_pending().await? {
            // Fresh rules and schemas, not the request cache's.
            self.forget_profile(tenant);
            let tenancy = self.profile(tenant).await?;
            let generation = tenancy.places.generation;
            let mut registry = (*tenancy.registry).clone();
            scimd_core::builtin::add_places_extension(&mut registry);
            let (mut after, mut stale) = (0, 0);
            loop {
                let (users, next) = self.store.stale_users(tenant, generation, after, BATCH).await?;
                stale += users.len() as u64;
                let mut updates = Vec::with_capacity(users.len());
                for u in users {
                    let mut doc: Value = serde_json::from_str(&u.data).map_err(|e| {
                        AppError::Internal(format!("the stored document of user '{}' is not valid JSON: {e}", u.id))
                    })?;
                    let derived = places::derive(&tenancy.places.rules, &doc);
                    let changed = places::set_derived(&mut doc, &derived);
                    let state = changed.then(|| state_of(&registry, ResourceKind::User, doc));
                    updates.push(scimd_store::DerivedUpdate { user: u.id, version: u.version, state });
                }
                if !updates.is_empty() {
                    total += self.store.set_derived(tenant, updates, generation, self.clock.now()).await?;
                }
                match next {
                    Some(n) => after = n,
                    None => break,
                }
            }
            // A pass that found nothing left behind finishes the generation; users
            // changed during a pass with older rules are found by the next one.
            if stale == 0 {
                self.store.places_done(tenant, generation).await?;
            }
            self.forget_profile(tenant);
        }
        Ok(total)
    }

    /// Forgets a tenant's cached profile (it was just changed through this process).
    pub fn forget_profile(&self, tenant: TenantId) {
        self.profiles.lock().expect("profiles").remove(&tenant);
    }
}
