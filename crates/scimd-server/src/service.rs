//! The SCIM use cases: create, read, list, replace, patch, delete and discovery, for
//! one tenant at a time. Knows the core rules and the [`Store`], not HTTP: handlers
//! translate requests into these calls and results into responses.
//!
//! Longer than the 800 lines a file should have: the SCIM use cases share the tenant cache
//! and the write path here. Splitting it by concern comes with the store written once and
//! the server split by concern (the next restructuring).

mod bulk;
mod process;
#[cfg(test)]
mod tests;
pub use bulk::{BULK_REQUEST, BULK_RESPONSE};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use scimd_core::cursor::{self, CursorSeal};
use scimd_core::discovery::{self, ServiceProviderConfig};
use scimd_core::list::{ListParams, PageConfig, list_response};
use scimd_core::patch::{MemberOp, PatchOperation, apply_patch, parse_patch_request};
use scimd_core::places::{self, LocationRules};
use scimd_core::profile::{Operation, Profile};
use scimd_core::projection::Projection;
use scimd_core::render::{self, OutputPlan};
use scimd_core::resource::{self, MemberRef, Meta};
use scimd_core::schema::{Registry, ResourceKind};
use scimd_core::user_name;
use scimd_core::{ScimError, ScimType};
use scimd_store::{
    Change, IfMatch, MemberRow, NewResource, PlacesState, ResourceState, Store, StoreError, StoredResource, TenantId,
    Update,
};
use serde_json::Value;

use crate::audit::AuditSlot;
use crate::clock::Clock;

pub use crate::error::{AppError, AppResult};

/// Per-request context: who is calling and how resources are addressed.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub tenant: TenantId,
    /// The tenant's profile, schemas and output plans.
    pub tenancy: Arc<Tenancy>,
    /// Absolute base URL of the SCIM API, e.g. `http://host/scim/v2`.
    pub base_url: String,
    /// The request's audit slot: a change writes its event with it.
    pub audit: Option<Arc<AuditSlot>>,
    /// In a Bulk request: the operation's method and path, for its event.
    pub bulk_op: Option<(String, String)>,
    /// The user the token was issued to, for `/Me`.
    pub subject: Option<Arc<str>>,
}

impl Ctx {
    fn event(&self, status: u16) -> Option<scimd_store::ChangeEvent> {
        let op = self.bulk_op.as_ref().map(|(m, p)| (m.as_str(), p.as_str()));
        self.audit.as_ref().map(|a| a.change_event(self.tenant, status, op))
    }
}

/// Whether a change turns a user's `active` from true to false.
fn deactivates(kind: ResourceKind, before: &Value, after: &Value) -> bool {
    let active = |v: &Value| {
        v.as_object().and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case("active"))).map(|(_, v)| v.clone())
    };
    kind == ResourceKind::User
        && active(before) != Some(Value::Bool(false))
        && active(after) == Some(Value::Bool(false))
}

/// How a ListResponse is paged.
enum Paging {
    /// `startIndex`.
    Index(u64),
    /// RFC 9865: the next page's cursor, if there is one.
    Cursor(Option<String>),
}

/// A resource ready to send: its JSON text, version and location.
#[derive(Debug)]
pub struct Rendered {
    pub body: Vec<u8>,
    pub version: i64,
    pub location: String,
}

/// Settings of the SCIM service.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    pub page: PageConfig,
    pub spc: ServiceProviderConfig,
    /// The master keys sealing the deployment's secrets at rest (the cursor key).
    pub keyring: Arc<crate::seal::Keyring>,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        let page = PageConfig::default();
        let spc = ServiceProviderConfig {
            filter_max_results: page.max_count,
            bulk: Some(scimd_core::discovery::BulkConfig { max_operations: 1000, max_payload_size: 4 * 1024 * 1024 }),
            ..ServiceProviderConfig::default()
        };
        ServiceConfig { page, spc, keyring: Arc::default() }
    }
}

pub struct Service {
    store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    registry: Arc<Registry>,
    /// How default responses are written, per kind (User, Group), from `registry`.
    plans: Arc<[OutputPlan; 2]>,
    config: ServiceConfig,
    /// Tenants' profiles (with what follows from them) as last read, and when.
    profiles: Mutex<HashMap<TenantId, CachedTenancy>>,
    /// The key sealing list cursors, read (or made) on first use.
    cursor_key: tokio::sync::OnceCell<[u8; cursor::KEY_LEN]>,
}

/// A tenant's tenancy as last read: when, and from which stored profile text (an
/// unchanged text keeps the tenancy instead of parsing and building it again).
struct CachedTenancy {
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
    plans: Arc<[OutputPlan; 2]>,
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

/// Formats a stored (normalized, `YYYY-MM-DDTHH:MM:SS.fffffffffZ`) timestamp for output,
/// with millisecond precision.
fn out_time(normalized: &str) -> String {
    match normalized.get(..23) {
        Some(ms) if normalized.len() == 30 && normalized.ends_with('Z') => format!("{ms}Z"),
        _ => normalized.to_string(),
    }
}

/// The weak ETag of a version.
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// Parses an `If-Match` / `If-None-Match` header value.
pub fn parse_etags(header: &str) -> IfMatch {
    if header.trim() == "*" {
        return IfMatch::Any;
    }
    IfMatch::Versions(
        header
            .split(',')
            .filter_map(|t| {
                let t = t.trim();
                let t = t.strip_prefix("W/").unwrap_or(t);
                t.trim_matches('"').parse().ok()
            })
            .collect(),
    )
}

async fn hash_password(password: String) -> AppResult<String> {
    crate::hashing::hash(password).await.map_err(|e| match e {
        crate::hashing::HashError::Busy => AppError::Scim(ScimError::new(503, None, e.to_string())),
        crate::hashing::HashError::Internal(m) => AppError::Internal(m),
    })
}

/// The password a PATCH request sets, if any (so it can be hashed before the write).
fn patch_password(ops: &[PatchOperation]) -> Option<String> {
    let mut found = None;
    for op in ops {
        match (&op.path, &op.value) {
            (Some(p), Some(Value::String(s)))
                if p.attr.attr.eq_ignore_ascii_case("password") && p.attr.sub.is_none() =>
            {
                found = Some(s.clone())
            }
            (None, Some(Value::Object(m))) => {
                for (k, v) in m {
                    if (k.eq_ignore_ascii_case("password") || k.to_ascii_lowercase().ends_with(":user:password"))
                        && let Value::String(s) = v
                    {
                        found = Some(s.clone());
                    }
                }
            }
            _ => {}
        }
    }
    found
}

/// What the store writes for a document: the document, its index rows and keys.
pub(crate) fn state_of(reg: &Registry, kind: ResourceKind, doc: Value) -> ResourceState {
    ResourceState {
        index: resource::index_entries(reg, kind, &doc),
        unique_key: resource::unique_key(kind, &doc),
        display: resource::display_of(kind, &doc),
        doc,
    }
}

/// What the store writes for a changed document. A user whose name is still the same
/// name keeps the uniqueness key it has: the key of a name stored before the userName rule
/// changed, and found to clash then, stays what it was until the user is renamed (so such a
/// user can still be updated, or deactivated).
fn updated_state(reg: &Registry, kind: ResourceKind, current: &Value, doc: Value) -> ResourceState {
    let mut state = state_of(reg, kind, doc);
    if state.unique_key.is_some() && state.unique_key == resource::unique_key(kind, current) {
        state.unique_key = None;
    }
    state
}

impl Service {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, config: ServiceConfig) -> Self {
        let registry = scimd_core::builtin::standard_registry();
        let plans = Arc::new([ResourceKind::User, ResourceKind::Group].map(|k| OutputPlan::new(&registry, k)));
        Service {
            store,
            clock,
            registry: Arc::new(registry),
            plans,
            config,
            profiles: Mutex::new(HashMap::new()),
            cursor_key: tokio::sync::OnceCell::new(),
        }
    }

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
                let profile = match &text {
                    Some(t) => Profile::from_json(t).map_err(|e| {
                        AppError::Internal(format!("the stored profile of tenant {} is unusable: {e}", tenant.0))
                    })?,
                    None => Profile::default(),
                };
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

    fn tenancy_of(&self, tenant: TenantId, profile: Profile, state: &PlacesState) -> AppResult<Tenancy> {
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
        let plans = Arc::new([ResourceKind::User, ResourceKind::Group].map(|k| OutputPlan::new(&registry, k)));
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

    /// The id of the User the token's subject is (`/Me`, RFC 7644 §3.11): the user whose
    /// userName is the subject. A token without a subject (a client's own, or a
    /// long-lived one) is 403; a subject that is no user of the tenant, 404.
    pub async fn me(&self, ctx: &Ctx) -> AppResult<String> {
        let Some(subject) = &ctx.subject else {
            return Err(ScimError::new(
                403,
                None,
                "/Me is the user a token was issued to, and this token has none (a client's own token or a \
                 long-lived one): use /Users/{id}, or a token of the password grant",
            )
            .into());
        };
        match self.user_id_by_name(ctx, subject).await? {
            Some(id) => Ok(id),
            None => Err(ScimError::not_found(format!("this token's user '{subject}' is no User of the tenant")).into()),
        }
    }

    /// The id of the tenant's user with this userName (compared as SCIM compares them).
    async fn user_id_by_name(&self, ctx: &Ctx, user_name: &str) -> AppResult<Option<String>> {
        let quoted = serde_json::to_string(user_name).map_err(|e| AppError::Internal(e.to_string()))?;
        let params = ListParams {
            filter: Some(format!("userName eq {quoted}")),
            count: Some(1),
            attributes: vec!["id".into()],
            ..ListParams::default()
        };
        let query = params.resolve(self.registry(ctx), ResourceKind::User, &self.config.page)?;
        let page = self.store.list(ctx.tenant, ResourceKind::User, &query, false).await?;
        Ok(page.items.into_iter().next().map(|r| r.id))
    }

    /// The largest Bulk request body the service takes (`maxPayloadSize`), if it offers Bulk.
    pub fn bulk_max_payload(&self) -> Option<usize> {
        self.config.spc.bulk.as_ref().map(|b| b.max_payload_size as usize)
    }

    /// The key sealing cursors (the same on every replica).
    async fn cursor_key(&self) -> AppResult<[u8; cursor::KEY_LEN]> {
        self.cursor_key
            .get_or_try_init(|| crate::secrets::cursor_key(&*self.store, &*self.clock, &self.config.keyring))
            .await
            .copied()
            .map_err(AppError::Internal)
    }

    /// Forgets a tenant's cached profile (it was just changed through this process).
    pub fn forget_profile(&self, tenant: TenantId) {
        self.profiles.lock().expect("profiles").remove(&tenant);
    }

    /// Checks that the tenant's profile allows `op` on `kind`.
    async fn allowed(&self, ctx: &Ctx, kind: ResourceKind, op: Operation) -> AppResult<Arc<Tenancy>> {
        ctx.tenancy.check(kind, op)?;
        Ok(ctx.tenancy.clone())
    }

    /// The id a path names: the id itself, or, when the profile addresses users by
    /// userName too and no user has that id, the id of the user with that userName (the
    /// request's log and event then show the id, not the name).
    async fn resolve_id(&self, ctx: &Ctx, profile: &Profile, kind: ResourceKind, id: &str) -> AppResult<String> {
        if kind != ResourceKind::User || !profile.users_by_user_name {
            return Ok(id.to_string());
        }
        if self.store.get(ctx.tenant, kind, id, false).await?.is_some() {
            return Ok(id.to_string());
        }
        let found = self.user_id_by_name(ctx, id).await?;
        if let Some(slot) = &ctx.audit {
            slot.addressed_by_user_name(id, found.as_deref());
        }
        Ok(found.unwrap_or_else(|| id.to_string()))
    }

    /// Whether members (groups) or groups (users) are loaded for a response.
    fn related_for(&self, ctx: &Ctx, profile: &Profile, kind: ResourceKind, proj: &Projection) -> bool {
        !(kind == ResourceKind::Group && profile.hide_group_members) && self.wants_related(ctx, kind, proj)
    }

    /// Drops a group's members from a stored resource when the profile never returns them.
    fn hidden(profile: &Profile, kind: ResourceKind, mut r: StoredResource) -> StoredResource {
        if kind == ResourceKind::Group && profile.hide_group_members {
            r.related = None;
        }
        r
    }

    /// The tenant's paging: its profile's sizes, else the server's.
    fn page_config(&self, p: &Profile) -> PageConfig {
        let (default_count, max_count) = p.page_sizes(self.config.page.default_count, self.config.page.max_count);
        PageConfig { default_count, max_count }
    }

    /// The schemas the request's tenant sees.
    pub fn registry<'a>(&self, ctx: &'a Ctx) -> &'a Registry {
        &ctx.tenancy.registry
    }

    fn location(ctx: &Ctx, kind: ResourceKind, id: &str) -> String {
        format!("{}{}/{}", ctx.base_url, kind.endpoint(), id)
    }

    fn plan<'a>(&self, ctx: &'a Ctx, kind: ResourceKind) -> &'a OutputPlan {
        match kind {
            ResourceKind::User => &ctx.tenancy.plans[0],
            ResourceKind::Group => &ctx.tenancy.plans[1],
        }
    }

    fn render(&self, ctx: &Ctx, kind: ResourceKind, r: StoredResource, proj: &Projection) -> AppResult<Rendered> {
        let mut body = Vec::with_capacity(r.data.len() + 320);
        let version = r.version;
        let location = self.render_into(&mut body, ctx, kind, r, proj)?;
        Ok(Rendered { body, version, location })
    }

    /// Writes a resource as the client sees it; returns its location. Default responses
    /// are written from the stored text (see `scimd_core::render`); others are built from
    /// the parsed document.
    fn render_into(
        &self,
        out: &mut Vec<u8>,
        ctx: &Ctx,
        kind: ResourceKind,
        r: StoredResource,
        proj: &Projection,
    ) -> AppResult<String> {
        let reg = self.registry(ctx);
        let meta = Meta {
            created: out_time(&r.created),
            last_modified: out_time(&r.last_modified),
            location: Self::location(ctx, kind, &r.id),
            version: etag(r.version),
        };
        let related: Option<Vec<MemberRef>> = r.related.as_ref().map(|rows| {
            rows.iter()
                .map(|m: &MemberRow| MemberRef {
                    value: m.id.clone(),
                    display: m.display.clone(),
                    kind: m.kind,
                    location: Self::location(ctx, m.kind, &m.id),
                })
                .collect()
        });
        if proj.is_default() && self.plan(ctx, kind).write_default(out, &r.data, &r.id, &meta, related.as_deref()) {
            return Ok(meta.location);
        }
        let doc: Value = serde_json::from_str(&r.data).map_err(|e| {
            AppError::Internal(format!("the stored document of {} '{}' is not valid JSON: {e}", kind.name(), r.id))
        })?;
        let full = resource::full_resource(reg, kind, doc, &r.id, &meta, related.as_deref());
        serde_json::to_writer(&mut *out, &proj.project_owned(reg, kind, full))
            .map_err(|e| AppError::Internal(e.to_string()))?;
        Ok(meta.location)
    }

    /// Writes a ListResponse of `items`, each with its kind and projection.
    fn render_list(
        &self,
        ctx: &Ctx,
        total: u64,
        paging: Paging,
        items: Vec<(ResourceKind, StoredResource, &Projection)>,
    ) -> AppResult<Vec<u8>> {
        let mut out = Vec::with_capacity(160 + items.iter().map(|(_, r, _)| r.data.len() + 320).sum::<usize>());
        match paging {
            Paging::Index(start_index) => render::open_list(&mut out, total, start_index, items.len()),
            Paging::Cursor(next) => render::open_cursor_list(&mut out, total, next.as_deref(), items.len()),
        }
        for (i, (kind, r, proj)) in items.into_iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            self.render_into(&mut out, ctx, kind, r, proj)?;
        }
        render::close_list(&mut out);
        Ok(out)
    }

    fn wants_related(&self, ctx: &Ctx, kind: ResourceKind, proj: &Projection) -> bool {
        let attr = match kind {
            ResourceKind::Group => "members",
            ResourceKind::User => "groups",
        };
        proj.wants(self.registry(ctx), kind, attr)
    }

    /// Parses `attributes` / `excludedAttributes` for single-resource responses.
    pub fn projection(
        &self,
        ctx: &Ctx,
        kind: ResourceKind,
        attributes: Option<&str>,
        excluded: Option<&str>,
    ) -> AppResult<Projection> {
        Ok(Projection::parse(self.registry(ctx), kind, attributes, excluded)?)
    }

    pub async fn create(&self, ctx: &Ctx, kind: ResourceKind, body: &Value, proj: &Projection) -> AppResult<Rendered> {
        let profile = self.allowed(ctx, kind, Operation::Create).await?;
        let reg = self.registry(ctx);
        let client_schema = profile.client_schema(kind, body);
        let body = profile.user_body(kind, body);
        let mut prepared = resource::prepare(reg, kind, &body)?;
        resource::set_client_schema(&mut prepared.doc, client_schema);
        // What a POST of an inactive user's name brings that user back with.
        let revive = (kind == ResourceKind::User && profile.create_reactivates)
            .then(|| (prepared.doc.clone(), prepared.members.clone()));
        let mut derived_gen = 0;
        if kind == ResourceKind::User {
            user_name::settle(&mut prepared.doc, None)?;
            profile.check_user(&mut prepared.doc)?;
            derived_gen = profile.places.apply(&mut prepared.doc);
        }
        let password_hash = match prepared.password {
            Some(p) => Some(hash_password(p).await?),
            None => None,
        };
        let new = NewResource {
            state: state_of(reg, kind, prepared.doc),
            password_hash: password_hash.clone(),
            members: prepared.members.unwrap_or_default(),
            event: ctx.event(201),
            derived_gen,
        };
        let stored = match (self.store.create(ctx.tenant, kind, new, self.clock.now()).await, revive) {
            (Err(StoreError::Conflict(what)), Some((doc, members))) if what == "userName" => {
                match self.reactivate(ctx, &profile, doc, password_hash, members, proj).await? {
                    Some(stored) => stored,
                    None => return Err(StoreError::Conflict(what).into()),
                }
            }
            (r, _) => r?,
        };
        self.render(ctx, kind, Self::hidden(&profile, kind, stored), proj)
    }

    /// A POSTed user whose userName is taken, when the profile brings inactive users back
    /// (`create_reactivates`): the user of that name, if inactive, replaced by the body
    /// (as a PUT would), active unless the body says otherwise, its id kept. `None` when no
    /// user has that name any more; a uniqueness error when it is active.
    async fn reactivate(
        &self,
        ctx: &Ctx,
        profile: &Arc<Tenancy>,
        mut doc: Value,
        password_hash: Option<String>,
        members: Option<Vec<resource::MemberValue>>,
        proj: &Projection,
    ) -> AppResult<Option<StoredResource>> {
        let kind = ResourceKind::User;
        let Some(name) = doc.get("userName").and_then(Value::as_str).map(str::to_string) else { return Ok(None) };
        let Some(id) = self.user_id_by_name(ctx, &name).await? else { return Ok(None) };
        if let Some(obj) = doc.as_object_mut() {
            obj.entry("active").or_insert(Value::Bool(true));
        }
        let member_ops = match members.filter(|_| profile.user_groups_settable) {
            Some(m) if !m.is_empty() => vec![MemberOp::RemoveAll, MemberOp::Add(m)],
            Some(_) => vec![MemberOp::RemoveAll],
            None => Vec::new(),
        };
        let rules = profile.clone();
        let mutate = Box::new(move |current: &Value| {
            // Checked in the write: a user brought back meanwhile is active again.
            if current.get("active") != Some(&Value::Bool(false)) {
                return Err(ScimError::uniqueness("userName is already taken by another resource"));
            }
            user_name::settle(&mut doc, Some(current))?;
            rules.check_user(&mut doc)?;
            let derived_gen = rules.places.apply(&mut doc);
            resource::check_immutable(&rules.registry, kind, current, &doc)?;
            let deactivates = deactivates(kind, current, &doc);
            let state = updated_state(&rules.registry, kind, current, doc);
            Ok(Change { state, password_hash, member_ops, deactivates, derived_gen })
        });
        let related = self.related_for(ctx, profile, kind, proj);
        let update = Update { if_match: None, mutate, related, event: ctx.event(201) };
        match self.store.update(ctx.tenant, kind, &id, update, self.clock.now()).await {
            Ok(stored) => Ok(Some(stored)),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn get(&self, ctx: &Ctx, kind: ResourceKind, id: &str, proj: &Projection) -> AppResult<Rendered> {
        let profile = self.allowed(ctx, kind, Operation::Read).await?;
        let id = &self.resolve_id(ctx, &profile, kind, id).await?;
        let related = self.related_for(ctx, &profile, kind, proj);
        match self.store.get(ctx.tenant, kind, id, related).await? {
            Some(r) => self.render(ctx, kind, Self::hidden(&profile, kind, r), proj),
            None => Err(ScimError::not_found(format!("{} '{id}' not found", kind.name())).into()),
        }
    }

    /// The current version of a resource (for `If-None-Match` without rendering it).
    pub async fn version(&self, ctx: &Ctx, kind: ResourceKind, id: &str) -> AppResult<Option<i64>> {
        let profile = self.allowed(ctx, kind, Operation::Read).await?;
        let id = &self.resolve_id(ctx, &profile, kind, id).await?;
        Ok(self.store.get(ctx.tenant, kind, id, false).await?.map(|r| r.version))
    }

    pub async fn replace(
        &self,
        ctx: &Ctx,
        kind: ResourceKind,
        id: &str,
        body: &Value,
        if_match: Option<IfMatch>,
        proj: &Projection,
    ) -> AppResult<Rendered> {
        let profile = self.allowed(ctx, kind, Operation::Replace).await?;
        let id = &self.resolve_id(ctx, &profile, kind, id).await?;
        let reg = self.registry(ctx);
        let client_schema = profile.client_schema(kind, body);
        let body = &*profile.user_body(kind, body);
        let prepared = resource::prepare(reg, kind, body)?;
        if let Some(Value::String(body_id)) = body.get("id")
            && body_id != id
        {
            return Err(ScimError::mutability(format!("'id' is '{body_id}' in the body but '{id}' in the URL")).into());
        }
        let password_hash = match prepared.password {
            Some(p) => Some(hash_password(p).await?),
            None => None,
        };
        let mut doc = prepared.doc;
        // The schema the client writes with now is the one its responses name.
        resource::set_client_schema(&mut doc, client_schema);
        // PUT replaces the membership relation too: a group's members, and a user's groups
        // when the profile makes them settable.
        let member_ops = if kind == ResourceKind::Group || profile.user_groups_settable {
            let mut ops = vec![MemberOp::RemoveAll];
            if let Some(m) = prepared.members.filter(|m| !m.is_empty()) {
                ops.push(MemberOp::Add(m));
            }
            ops
        } else {
            Vec::new()
        };
        let rules = profile.clone();
        let mutate = Box::new(move |current: &Value| {
            let mut derived_gen = 0;
            if kind == ResourceKind::User {
                user_name::settle(&mut doc, Some(current))?;
                rules.check_user(&mut doc)?;
                derived_gen = rules.places.apply(&mut doc);
            }
            resource::check_immutable(&rules.registry, kind, current, &doc)?;
            let deactivates = deactivates(kind, current, &doc);
            let state = updated_state(&rules.registry, kind, current, doc);
            Ok(Change { state, password_hash, member_ops, deactivates, derived_gen })
        });
        let related = self.related_for(ctx, &profile, kind, proj);
        let update = Update { if_match, mutate, related, event: ctx.event(200) };
        let stored = self.store.update(ctx.tenant, kind, id, update, self.clock.now()).await?;
        self.render(ctx, kind, Self::hidden(&profile, kind, stored), proj)
    }

    pub async fn patch(
        &self,
        ctx: &Ctx,
        kind: ResourceKind,
        id: &str,
        body: &Value,
        if_match: Option<IfMatch>,
        proj: &Projection,
    ) -> AppResult<Rendered> {
        let profile = self.allowed(ctx, kind, Operation::Patch).await?;
        let id = &self.resolve_id(ctx, &profile, kind, id).await?;
        let ops = parse_patch_request(body, ctx.tenancy.registry.strict)?;
        let password_hash = match patch_password(&ops) {
            Some(p) => Some(hash_password(p).await?),
            None => None,
        };
        let reg = ctx.tenancy.registry.clone();
        let rules = profile.clone();
        let mutate = Box::new(move |current: &Value| {
            let mut outcome = apply_patch(&reg, kind, current, &ops)?;
            let mut derived_gen = 0;
            if kind == ResourceKind::User {
                user_name::settle(&mut outcome.doc, Some(current))?;
                rules.check_user(&mut outcome.doc)?;
                derived_gen = rules.places.apply(&mut outcome.doc);
            }
            let password_hash = match (outcome.password, password_hash) {
                (Some(_), Some(h)) => Some(h),
                (Some(_), None) => return Err(ScimError::invalid_value("'password' must be a string")),
                (None, _) => None,
            };
            let deactivates = deactivates(kind, current, &outcome.doc);
            Ok(Change {
                state: updated_state(&reg, kind, current, outcome.doc),
                password_hash,
                member_ops: outcome.member_ops,
                deactivates,
                derived_gen,
            })
        });
        let related = self.related_for(ctx, &profile, kind, proj);
        let update = Update { if_match, mutate, related, event: ctx.event(200) };
        let stored = self.store.update(ctx.tenant, kind, id, update, self.clock.now()).await?;
        self.render(ctx, kind, Self::hidden(&profile, kind, stored), proj)
    }

    pub async fn delete(&self, ctx: &Ctx, kind: ResourceKind, id: &str, if_match: Option<IfMatch>) -> AppResult<()> {
        let profile = self.allowed(ctx, kind, Operation::Delete).await?;
        let id = &self.resolve_id(ctx, &profile, kind, id).await?;
        if profile.delete_deactivates && kind == ResourceKind::User {
            // The user stays, inactive, and readable.
            let deactivate = serde_json::json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": "active", "value": false}],
            });
            let ops = parse_patch_request(&deactivate, false)?;
            let tenancy = ctx.tenancy.clone();
            let mutate = Box::new(move |current: &Value| {
                let mut outcome = apply_patch(&tenancy.registry, kind, current, &ops)?;
                // The client's DELETE is a deactivation, even of a user inactive already:
                // the audit trail (and the go-live summary) counts it as one, not as a deletion.
                let deactivates = true;
                let derived_gen = tenancy.places.apply(&mut outcome.doc);
                Ok(Change {
                    state: updated_state(&tenancy.registry, kind, current, outcome.doc),
                    password_hash: None,
                    member_ops: Vec::new(),
                    deactivates,
                    derived_gen,
                })
            });
            let update = Update { if_match, mutate, related: false, event: ctx.event(204) };
            return match self.store.update(ctx.tenant, kind, id, update, self.clock.now()).await {
                Ok(_) => Ok(()),
                Err(StoreError::NotFound) => {
                    Err(ScimError::not_found(format!("{} '{id}' not found", kind.name())).into())
                }
                Err(e) => Err(e.into()),
            };
        }
        self.store.delete(ctx.tenant, kind, id, if_match, ctx.event(204), self.clock.now()).await.map_err(|e| match e {
            StoreError::NotFound => AppError::Scim(ScimError::not_found(format!("{} '{id}' not found", kind.name()))),
            other => other.into(),
        })
    }

    /// A page of resources as a ListResponse (JSON text).
    pub async fn list(&self, ctx: &Ctx, kind: ResourceKind, params: &ListParams) -> AppResult<Vec<u8>> {
        let profile = self.allowed(ctx, kind, Operation::Read).await?;
        let reg = self.registry(ctx);
        let key = match params.cursor {
            Some(_) => Some(self.cursor_key().await?),
            None => None,
        };
        let seal = key.as_ref().map(|key| CursorSeal { key, tenant: ctx.tenant.0 });
        let query = params.resolve_paged(reg, kind, &self.page_config(&profile), seal.as_ref())?;
        let related = self.related_for(ctx, &profile, kind, &query.projection);
        let page = self.store.list(ctx.tenant, kind, &query, related).await?;
        let items =
            page.items.into_iter().map(|r| (kind, Self::hidden(&profile, kind, r), &query.projection)).collect();
        let paging = match query.after {
            Some(_) => Paging::Cursor(match (page.next, &seal) {
                (Some(n), Some(seal)) => Some(cursor::seal(seal, kind, &query.filter_text, n)),
                _ => None,
            }),
            None => Paging::Index(query.start_index),
        };
        self.render_list(ctx, page.total, paging, items)
    }

    /// `POST /.search` at the root: Users then Groups, paged as one sequence. A filter
    /// that names an attribute one kind lacks matches nothing of that kind.
    pub async fn search_all(&self, ctx: &Ctx, params: &ListParams) -> AppResult<Vec<u8>> {
        if params.cursor.is_some() {
            return Err(ScimError::invalid_value(
                "cursor pagination is per resource type: search /Users/.search or /Groups/.search with a cursor",
            )
            .into());
        }
        let reg = self.registry(ctx);
        let profile = ctx.tenancy.clone();
        let page = self.page_config(&profile);
        let mut first_err = None;
        let mut queries = Vec::new();
        // Only the types the tenant may read.
        for kind in [ResourceKind::User, ResourceKind::Group] {
            if !profile.access(kind).allows(Operation::Read) {
                continue;
            }
            match params.resolve(reg, kind, &page) {
                Ok(q) => queries.push((kind, q)),
                Err(e) if e.scim_type == Some(ScimType::InvalidFilter) => {
                    first_err.get_or_insert(e);
                }
                Err(e) => return Err(e.into()),
            }
        }
        if queries.is_empty() {
            return Err(match first_err {
                Some(e) => e.into(),
                None => ScimError::new(405, None, "this tenant's profile allows reading no resource type").into(),
            });
        }
        let start_index = queries[0].1.start_index;
        let mut remaining = queries[0].1.count;
        let mut skip = start_index - 1;
        let mut total = 0;
        let mut pages = Vec::new();
        let mut projections = Vec::new();
        for (kind, mut q) in queries {
            // Count first, then fetch the slice of this kind that falls in the page.
            let mut count_q = q.clone();
            count_q.count = 0;
            let n = self.store.list(ctx.tenant, kind, &count_q, false).await?.total;
            total += n;
            if remaining > 0 && skip < n {
                q.start_index = skip + 1;
                q.count = remaining;
                let related = self.related_for(ctx, &profile, kind, &q.projection);
                let page = self.store.list(ctx.tenant, kind, &q, related).await?;
                remaining -= page.items.len() as u64;
                pages.push((kind, page.items.into_iter().map(|r| Self::hidden(&profile, kind, r)).collect::<Vec<_>>()));
                projections.push(q.projection);
                skip = 0;
            } else {
                skip = skip.saturating_sub(n);
            }
        }
        let items = pages
            .into_iter()
            .zip(&projections)
            .flat_map(|((kind, items), proj)| items.into_iter().map(move |r| (kind, r, proj)))
            .collect();
        self.render_list(ctx, total, Paging::Index(start_index), items)
    }

    pub fn service_provider_config(&self, ctx: &Ctx) -> Value {
        let profile = &ctx.tenancy.profile;
        let max_page = self.page_config(profile).max_count;
        discovery::service_provider_config_json(
            &profile.service_provider_config(&self.config.spc, max_page),
            &ctx.base_url,
        )
    }

    /// The schemas of the resource types the tenant's profile offers (a tenant without
    /// Groups sees no Group schema).
    pub fn schemas(&self, ctx: &Ctx) -> Value {
        let offered = |k: ResourceKind| ctx.tenancy.access(k).offered;
        let all = discovery::schemas_json_of(self.registry(ctx), offered, &ctx.base_url);
        let n = all.len() as u64;
        list_response(n, 1, all)
    }

    pub fn schema(&self, ctx: &Ctx, urn: &str) -> AppResult<Value> {
        let reg = self.registry(ctx);
        let offered = |k: ResourceKind| ctx.tenancy.access(k).offered;
        reg.schema(urn)
            .filter(|s| discovery::schema_offered(reg, &s.id, offered))
            .map(|s| discovery::schema_json(s, &ctx.base_url))
            .ok_or_else(|| ScimError::not_found(format!("schema '{urn}' not found")).into())
    }

    /// The resource types the tenant's profile offers (discovery tells the truth).
    pub async fn resource_types(&self, ctx: &Ctx) -> AppResult<Value> {
        let profile = ctx.tenancy.clone();
        let reg = self.registry(ctx);
        let all: Vec<Value> = reg
            .resource_types
            .iter()
            .filter(|rt| profile.access(rt.kind).offered)
            .map(|rt| discovery::resource_type_json(reg, rt, &ctx.base_url))
            .collect();
        let n = all.len() as u64;
        Ok(list_response(n, 1, all))
    }

    pub async fn resource_type(&self, ctx: &Ctx, name: &str) -> AppResult<Value> {
        let profile = ctx.tenancy.clone();
        let reg = self.registry(ctx);
        reg.resource_types
            .iter()
            .filter(|rt| profile.access(rt.kind).offered)
            .find(|rt| rt.kind.name().eq_ignore_ascii_case(name))
            .map(|rt| discovery::resource_type_json(reg, rt, &ctx.base_url))
            .ok_or_else(|| ScimError::not_found(format!("resource type '{name}' not found")).into())
    }
}
