//! The SCIM use cases: create, read, list, replace, patch, delete and discovery, for
//! one tenant at a time. Knows the core rules and the [`Store`], not HTTP: handlers
//! translate requests into these calls and results into responses.
//!
//! This file holds the request context and the use cases themselves; beside it: `tenancy`
//! (each tenant's profile and what follows from it, cached), `output` (rendering
//! responses, ETags), `describe` (discovery documents), `bulk`, `async_bulk` (Bulk
//! requests run in the background), `lifecycle` (re-provisioning POSTs, what follows a
//! user's deactivation), `process` (the figures and readiness the HTTP layer
//! reports).

mod async_bulk;
mod bulk;
mod describe;
mod lifecycle;
mod output;
mod process;
mod tenancy;
#[cfg(test)]
mod tests;
pub use bulk::{BULK_REQUEST, BULK_RESPONSE};
pub use lifecycle::DeactivationObserver;
use lifecycle::{Outcome, Revive};
pub use output::{Patched, Rendered, etag, parse_etags};
use tenancy::CachedTenancy;
pub use tenancy::{PROFILE_CACHE, PlaceRules, Tenancy};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use scimd_core::cursor::{self, CursorSeal};
use scimd_core::discovery::{self, ServiceProviderConfig};
use scimd_core::events::Write;
use scimd_core::list::{ListParams, PageConfig, list_response};
use scimd_core::patch::{MemberOp, PatchOperation, apply_patch, parse_patch_request};
use scimd_core::places::{self, LocationRules};
use scimd_core::profile::{Caller, Operation, Profile, Reprovision};
use scimd_core::projection::Projection;
use scimd_core::render::{self, OutputPlan};
use scimd_core::resource::{self, MemberRef, Meta};
use scimd_core::schema::{Registry, ResourceKind};
use scimd_core::user_name;
use scimd_core::{ScimError, ScimType};
use scimd_store::{
    Change, IfMatch, MemberRow, NewResource, PlacesState, ResourceState, Store, StoreError, StoredResource, TenantId,
    Update, Writer,
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
    /// Who writes: the operator, or a SCIM client and its provisioning source (which
    /// resources it may change, which externalIds it sees, whose memberships it changes).
    pub writer: Writer,
}

impl Ctx {
    /// The caller's provisioning source, which scopes its `externalId` comparisons.
    pub(crate) fn source_scope(&self) -> Option<scimd_core::list::SourceScope> {
        match &self.writer {
            Writer::Source(s) => Some(s.clone()),
            _ => None,
        }
    }

    fn event(&self, status: u16) -> Option<scimd_store::ChangeEvent> {
        let op = self.bulk_op.as_ref().map(|(m, p)| (m.as_str(), p.as_str()));
        self.audit.as_ref().map(|a| a.change_event(self.tenant, status, op))
    }
}

/// A string as a filter's JSON string literal.
pub(crate) fn quoted(s: &str) -> AppResult<String> {
    serde_json::to_string(s).map_err(|e| AppError::Internal(e.to_string()))
}

/// Who the operator (portal, admin API, CLI) writes as: refused everything when the
/// tenant's profile forbids local changes.
pub fn operator_writer(profile: &Profile) -> Writer {
    if profile.forbid_local_changes { Writer::OperatorLocked } else { Writer::Operator }
}

/// Who a SCIM client writes as: its provisioning source, when the tenant declares sources.
pub fn writer_of(profile: &Profile, client: &str) -> Writer {
    match profile.source_of(client) {
        Caller::Anyone => Writer::Client,
        Caller::Source(s) => Writer::Source(s),
        Caller::Unlisted => Writer::Unlisted,
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
    plans: Arc<[OutputPlan]>,
    config: ServiceConfig,
    /// Tenants' profiles (with what follows from them) as last read, and when.
    profiles: Mutex<HashMap<TenantId, CachedTenancy>>,
    /// The key sealing list cursors, read (or made) on first use.
    cursor_key: tokio::sync::OnceCell<[u8; cursor::KEY_LEN]>,
    /// Signalled after each change, so its events are delivered at once.
    changes: Arc<Changes>,
    /// Told each user deactivation's time (the metrics).
    deactivations: std::sync::OnceLock<DeactivationObserver>,
}

/// A signal raised after each change this process makes: event delivery and waiting
/// polls listen to it (changes of other replicas are found by looking regularly).
#[derive(Debug, Default)]
pub struct Changes {
    pub delivery: tokio::sync::Notify,
    pub polls: tokio::sync::Notify,
    /// Raised when an asynchronous request is taken, so it runs at once.
    pub requests: tokio::sync::Notify,
}

impl Changes {
    pub fn notify(&self) {
        self.delivery.notify_one();
        self.polls.notify_waiters();
    }
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
        let plans: Arc<[OutputPlan]> =
            registry.resource_types.iter().map(|rt| OutputPlan::new(&registry, rt.kind)).collect();
        Service {
            store,
            clock,
            registry: Arc::new(registry),
            plans,
            config,
            profiles: Mutex::new(HashMap::new()),
            cursor_key: tokio::sync::OnceCell::new(),
            changes: Arc::default(),
            deactivations: std::sync::OnceLock::new(),
        }
    }

    /// The signal raised after each change.
    pub fn changes(&self) -> Arc<Changes> {
        self.changes.clone()
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
        self.first_user_id(ctx, format!("userName eq {}", quoted(user_name)?)).await
    }

    /// The id of the first of the tenant's users `filter` matches (its `externalId`
    /// comparisons within the caller's provisioning source).
    pub(crate) async fn first_user_id(&self, ctx: &Ctx, filter: String) -> AppResult<Option<String>> {
        let params =
            ListParams { filter: Some(filter), count: Some(1), attributes: vec!["id".into()], ..ListParams::default() };
        let mut query = params.resolve(self.registry(ctx), ResourceKind::User, &self.config.page)?;
        query.external_id_scope = ctx.source_scope();
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

    /// The tenant's paging: its profile's sizes, else the server's.
    fn page_config(&self, p: &Profile) -> PageConfig {
        let (default_count, max_count) = p.page_sizes(self.config.page.default_count, self.config.page.max_count);
        PageConfig { default_count, max_count }
    }

    pub async fn create(&self, ctx: &Ctx, kind: ResourceKind, body: &Value, proj: &Projection) -> AppResult<Rendered> {
        let profile = self.allowed(ctx, kind, Operation::Create).await?;
        let reg = self.registry(ctx);
        let client_schema = profile.client_schema(kind, body);
        let body = profile.user_body(kind, body);
        let mut prepared = resource::prepare(reg, kind, &body)?;
        resource::set_client_schema(&mut prepared.doc, client_schema);
        // What a re-provisioning POST brings a resource back with (the profile decides).
        let mode = profile.reprovision();
        let revive = (mode == Reprovision::Restore || (mode == Reprovision::Reactivate && kind == ResourceKind::User))
            .then(|| Revive { doc: prepared.doc.clone(), members: prepared.members.clone() });
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
            writer: ctx.writer.clone(),
        };
        if mode == Reprovision::Restore
            && let Some(revive) = &revive
            && let Some(stored) = self.restore(ctx, &profile, kind, revive, &new, proj).await?
        {
            self.changes.notify();
            return self.render(ctx, kind, Self::hidden(&profile, kind, stored), proj);
        }
        let stored = match (self.store.create(ctx.tenant, kind, new, self.clock.now()).await, revive) {
            (Err(StoreError::Conflict(what)), Some(revive)) if what == "userName" => {
                match self.reactivate_by_name(ctx, &profile, &revive, password_hash, proj).await? {
                    Some(stored) => stored,
                    None => return Err(StoreError::Conflict(what).into()),
                }
            }
            (r, _) => r?,
        };
        self.changes.notify();
        self.render(ctx, kind, Self::hidden(&profile, kind, stored), proj)
    }

    pub async fn get(&self, ctx: &Ctx, kind: ResourceKind, id: &str, proj: &Projection) -> AppResult<Rendered> {
        let profile = self.allowed(ctx, kind, Operation::Read).await?;
        let id = &self.resolve_id(ctx, &profile, kind, id).await?;
        let related = self.related_for(ctx, &profile, kind, proj);
        match self.store.get(ctx.tenant, kind, id, related).await? {
            Some(r) => self.render(ctx, kind, Self::hidden(&profile, kind, r), proj),
            None => {
                Err(ScimError::not_found(format!("{} '{id}' not found", self.registry(ctx).type_name(kind))).into())
            }
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
        let outcome = Outcome::default();
        let noted = outcome.clone();
        // Run again when the database breaks the write off: each run starts from the request.
        let mutate = Box::new(move |current: &Value| {
            let (mut doc, password_hash, member_ops) = (doc.clone(), password_hash.clone(), member_ops.clone());
            let mut derived_gen = 0;
            if kind == ResourceKind::User {
                user_name::settle(&mut doc, Some(current))?;
                rules.check_user(&mut doc)?;
                derived_gen = rules.places.apply(&mut doc);
            }
            resource::check_immutable(&rules.registry, kind, current, &doc)?;
            let deactivates = deactivates(kind, current, &doc);
            noted.note(kind, current, &doc);
            let state = updated_state(&rules.registry, kind, current, doc);
            Ok(Change { state, password_hash, member_ops, deactivates, derived_gen })
        });
        let related = self.related_for(ctx, &profile, kind, proj);
        let update = Update {
            if_match,
            mutate,
            related,
            event: ctx.event(200),
            write: Write::Replace,
            writer: ctx.writer.clone(),
        };
        let stored = self.store.update(ctx.tenant, kind, id, update, self.clock.now()).await?;
        self.after_user_write(ctx, &stored.id, &outcome).await?;
        self.changes.notify();
        self.render(ctx, kind, Self::hidden(&profile, kind, stored), proj)
    }

    /// A PATCH answered with the resource (the portal, Bulk).
    pub async fn patch(
        &self,
        ctx: &Ctx,
        kind: ResourceKind,
        id: &str,
        body: &Value,
        if_match: Option<IfMatch>,
        proj: &Projection,
    ) -> AppResult<Rendered> {
        match self.patch_as(ctx, kind, id, body, if_match, proj, false).await? {
            Patched::Resource(r) => Ok(r),
            Patched::NoContent { .. } => unreachable!("only a request that may be answered without content gets none"),
        }
    }

    /// A PATCH as a client sent it: `may_omit` when the request named neither `attributes`
    /// nor `excludedAttributes`. Such a group PATCH answers no content unless the profile
    /// keeps the resource (`group_patch_resource`): the members are not loaded.
    #[allow(clippy::too_many_arguments)]
    pub async fn patch_as(
        &self,
        ctx: &Ctx,
        kind: ResourceKind,
        id: &str,
        body: &Value,
        if_match: Option<IfMatch>,
        proj: &Projection,
        may_omit: bool,
    ) -> AppResult<Patched> {
        let profile = self.allowed(ctx, kind, Operation::Patch).await?;
        let id = &self.resolve_id(ctx, &profile, kind, id).await?;
        let ops = parse_patch_request(body, ctx.tenancy.registry.strict)?;
        let password_hash = match patch_password(&ops) {
            Some(p) => Some(hash_password(p).await?),
            None => None,
        };
        let reg = ctx.tenancy.registry.clone();
        let rules = profile.clone();
        let written = Outcome::default();
        let noted = written.clone();
        let mutate = Box::new(move |current: &Value| {
            let mut outcome = apply_patch(&reg, kind, current, &ops)?;
            let mut derived_gen = 0;
            if kind == ResourceKind::User {
                user_name::settle(&mut outcome.doc, Some(current))?;
                rules.check_user(&mut outcome.doc)?;
                derived_gen = rules.places.apply(&mut outcome.doc);
            }
            let password_hash = match (outcome.password, password_hash.clone()) {
                (Some(_), Some(h)) => Some(h),
                (Some(_), None) => return Err(ScimError::invalid_value("'password' must be a string")),
                (None, _) => None,
            };
            let deactivates = deactivates(kind, current, &outcome.doc);
            noted.note(kind, current, &outcome.doc);
            Ok(Change {
                state: updated_state(&reg, kind, current, outcome.doc),
                password_hash,
                member_ops: outcome.member_ops,
                deactivates,
                derived_gen,
            })
        });
        let omit = may_omit && kind == ResourceKind::Group && !profile.group_patch_resource;
        let related = !omit && self.related_for(ctx, &profile, kind, proj);
        let status = if omit { 204 } else { 200 };
        let update = Update {
            if_match,
            mutate,
            related,
            event: ctx.event(status),
            write: Write::Patch,
            writer: ctx.writer.clone(),
        };
        let stored = self.store.update(ctx.tenant, kind, id, update, self.clock.now()).await?;
        self.after_user_write(ctx, &stored.id, &written).await?;
        self.changes.notify();
        if omit {
            return Ok(Patched::NoContent { version: stored.version });
        }
        Ok(Patched::Resource(self.render(ctx, kind, Self::hidden(&profile, kind, stored), proj)?))
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
            let written = Outcome::default();
            let noted = written.clone();
            let mutate = Box::new(move |current: &Value| {
                let mut outcome = apply_patch(&tenancy.registry, kind, current, &ops)?;
                noted.note(kind, current, &outcome.doc);
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
            let update = Update {
                if_match,
                mutate,
                related: false,
                event: ctx.event(204),
                write: Write::Patch,
                writer: ctx.writer.clone(),
            };
            return match self.store.update(ctx.tenant, kind, id, update, self.clock.now()).await {
                Ok(stored) => {
                    self.after_user_write(ctx, &stored.id, &written).await?;
                    self.changes.notify();
                    Ok(())
                }
                Err(StoreError::NotFound) => {
                    Err(ScimError::not_found(format!("{} '{id}' not found", kind.name())).into())
                }
                Err(e) => Err(e.into()),
            };
        }
        // A deleted user's logins end with it: its name is read first.
        let user = match kind {
            ResourceKind::User => self.store.get(ctx.tenant, kind, id, false).await?,
            ResourceKind::Group | ResourceKind::Custom(_) => None,
        };
        let writer = ctx.writer.clone();
        self.store.delete(ctx.tenant, kind, id, if_match, writer, ctx.event(204), self.clock.now()).await.map_err(
            |e| match e {
                StoreError::NotFound => {
                    AppError::Scim(ScimError::not_found(format!("{} '{id}' not found", kind.name())))
                }
                other => other.into(),
            },
        )?;
        if let Some(user) = user
            && let Ok(doc) = serde_json::from_str::<Value>(&user.data)
            && let Some(name) = doc.get("userName").and_then(Value::as_str)
        {
            self.deactivated(ctx, id, name, scimd_core::events::is_active(&doc)).await?;
        }
        self.changes.notify();
        Ok(())
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
        let mut query = params.resolve_paged(reg, kind, &self.page_config(&profile), seal.as_ref())?;
        query.external_id_scope = ctx.source_scope();
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
                Ok(q) => {
                    queries.push((kind, scimd_core::list::ListQuery { external_id_scope: ctx.source_scope(), ..q }))
                }
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
}
