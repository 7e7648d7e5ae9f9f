//! The lifecycle identity providers run: a POST that re-provisions a user or group the
//! tenant deactivated or deleted (the profile's `reprovision` decides what it does), and
//! what follows a user's deactivation (its logins ended, the time it took recorded).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use scimd_core::events::is_active;
use scimd_core::patch::MemberOp;
use scimd_core::profile::Reprovision;
use scimd_core::projection::Projection;
use scimd_core::resource;
use scimd_core::schema::ResourceKind;
use scimd_core::user_name;
use scimd_core::{ScimError, events::Write};
use scimd_store::{Change, Deactivation, NewResource, StoreError, StoredResource, TenantId, Update, normalized_time};
use serde_json::Value;

use super::{AppResult, Ctx, Service, Tenancy, deactivates, updated_state};

/// Told each user deactivation's tenant and the time it took (the metrics' histogram).
pub type DeactivationObserver = Arc<dyn Fn(TenantId, Duration) + Send + Sync>;

/// What a POST brings a resource back with: the prepared body (before the userName rule
/// and the profile's checks, which the write applies again) and its members.
pub(super) struct Revive {
    pub(super) doc: Value,
    pub(super) members: Option<Vec<resource::MemberValue>>,
}

/// Which resource a re-provisioning POST brings back.
enum Target {
    /// The user with this id (found by externalId).
    Id(String),
    /// The user with this userName.
    Name(String),
}

/// A user write's outcome for the lifecycle, noted by the write's mutator (which may run
/// more than once: the last run is the one written): the user's userName when the write
/// leaves it inactive, and whether the write turned it inactive.
#[derive(Clone, Default)]
pub(super) struct Outcome(Arc<Mutex<Option<(String, bool)>>>);

impl Outcome {
    pub(super) fn note(&self, kind: ResourceKind, before: &Value, after: &Value) {
        let inactive = kind == ResourceKind::User && !is_active(after);
        let name = after.get("userName").and_then(Value::as_str).filter(|_| inactive);
        *self.0.lock().expect("outcome") = name.map(|n| (n.to_string(), is_active(before)));
    }

    fn take(&self) -> Option<(String, bool)> {
        self.0.lock().expect("outcome").take()
    }
}

/// The audit trail's operation of a POST that brought a resource back.
const RESTORE_OP: &str = "restore";

impl Ctx {
    /// When the request arrived (its audit slot's start), else now.
    pub(super) fn started(&self) -> Instant {
        self.audit.as_ref().map_or_else(Instant::now, |a| a.started)
    }

    /// A change's event as a re-provisioning POST writes it: `restore` in the profile's
    /// `restore` mode; a `create` otherwise (the earlier `reactivate` counts so).
    fn revive_event(&self, mode: Reprovision) -> Option<scimd_store::ChangeEvent> {
        let mut event = self.event(201);
        if mode == Reprovision::Restore
            && let Some(e) = &mut event
        {
            e.event.op = RESTORE_OP.into();
        }
        event
    }
}

impl Service {
    /// Tells `observer` each user deactivation's tenant and duration from now on.
    pub fn observe_deactivations(&self, observer: DeactivationObserver) {
        let _ = self.deactivations.set(observer);
    }

    /// In the `restore` mode, before a POST creates anything: the inactive user whose
    /// externalId the body names brought back, else the deleted resource whose tombstone
    /// has that externalId, else that name. `None`: nothing to bring back (the POST creates,
    /// and a userName conflict may still reactivate by name).
    pub(super) async fn restore(
        &self,
        ctx: &Ctx,
        profile: &Arc<Tenancy>,
        kind: ResourceKind,
        revive: &Revive,
        new: &NewResource,
        proj: &Projection,
    ) -> AppResult<Option<StoredResource>> {
        let external_id = new.state.doc.get("externalId").and_then(Value::as_str).map(str::to_string);
        if kind == ResourceKind::User
            && let Some(x) = &external_id
            && let Some(id) = self.inactive_user_by_external_id(ctx, x).await?
        {
            let target = Target::Id(id);
            return self.reactivate(ctx, profile, target, revive, new.password_hash.clone(), proj).await;
        }
        let name = scimd_store::name_key(kind, &new.state.doc);
        let scope = ctx.source_scope();
        let Some(t) = self.store.tombstone(ctx.tenant, kind, external_id, scope, name).await? else { return Ok(None) };
        let mut new = new.clone();
        new.event = ctx.revive_event(Reprovision::Restore);
        match self.store.create_with_ids(ctx.tenant, kind, vec![(t.id.clone(), new)], self.clock.now()).await {
            Ok(mut v) => Ok(v.pop()),
            // Brought back by a POST that came at the same time: this one is a POST of
            // a resource that exists.
            Err(StoreError::Conflict(what)) if what.starts_with(&scimd_store::id_taken(&t.id)) => {
                Err(ScimError::uniqueness(format!(
                    "{} '{}' was brought back by another request at the same time",
                    kind.name(),
                    t.id
                ))
                .into())
            }
            // The name is a live resource's: the POST goes on as any other.
            Err(StoreError::Conflict(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// A POSTed user whose userName is taken, in the `reactivate` and `restore` modes: the
    /// user of that name brought back if inactive. `None` when no user has it any more.
    pub(super) async fn reactivate_by_name(
        &self,
        ctx: &Ctx,
        profile: &Arc<Tenancy>,
        revive: &Revive,
        password_hash: Option<String>,
        proj: &Projection,
    ) -> AppResult<Option<StoredResource>> {
        let Some(name) = revive.doc.get("userName").and_then(Value::as_str) else { return Ok(None) };
        self.reactivate(ctx, profile, Target::Name(name.to_string()), revive, password_hash, proj).await
    }

    /// An inactive user brought back: replaced by the body (as a PUT would), active unless
    /// the body says otherwise, its id kept. `None` when the user is gone; a uniqueness
    /// error when it is active (checked in the write: one brought back meanwhile is).
    async fn reactivate(
        &self,
        ctx: &Ctx,
        profile: &Arc<Tenancy>,
        target: Target,
        revive: &Revive,
        password_hash: Option<String>,
        proj: &Projection,
    ) -> AppResult<Option<StoredResource>> {
        let kind = ResourceKind::User;
        let id = match target {
            Target::Id(id) => id,
            Target::Name(name) => match self.user_id_by_name(ctx, &name).await? {
                Some(id) => id,
                None => return Ok(None),
            },
        };
        let mut doc = revive.doc.clone();
        if let Some(obj) = doc.as_object_mut() {
            obj.entry("active").or_insert(Value::Bool(true));
        }
        let member_ops = match revive.members.clone().filter(|_| profile.user_groups_settable) {
            Some(m) if !m.is_empty() => vec![MemberOp::RemoveAll, MemberOp::Add(m)],
            Some(_) => vec![MemberOp::RemoveAll],
            None => Vec::new(),
        };
        let rules = profile.clone();
        // Run again when the database breaks the write off: each run starts from the request.
        let mutate = Box::new(move |current: &Value| {
            if is_active(current) {
                return Err(ScimError::uniqueness("userName is already taken by another resource"));
            }
            let (mut doc, password_hash, member_ops) = (doc.clone(), password_hash.clone(), member_ops.clone());
            user_name::settle(&mut doc, Some(current))?;
            rules.check_user(&mut doc)?;
            let derived_gen = rules.places.apply(&mut doc);
            resource::check_immutable(&rules.registry, kind, current, &doc)?;
            let deactivates = deactivates(kind, current, &doc);
            let state = updated_state(&rules.registry, kind, current, doc);
            Ok(Change { state, password_hash, member_ops, deactivates, derived_gen })
        });
        let related = self.related_for(ctx, profile, kind, proj);
        let event = ctx.revive_event(profile.reprovision());
        let update =
            Update { if_match: None, mutate, related, event, write: Write::Replace, writer: ctx.writer.clone() };
        match self.store.update(ctx.tenant, kind, &id, update, self.clock.now()).await {
            Ok(stored) => Ok(Some(stored)),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The id of an inactive user of the tenant with this externalId, if there is one.
    async fn inactive_user_by_external_id(&self, ctx: &Ctx, external_id: &str) -> AppResult<Option<String>> {
        // The externalId is the caller's source's own (`first_user_id` scopes it).
        self.first_user_id(ctx, format!("externalId eq {} and active eq false", super::quoted(external_id)?)).await
    }

    /// After a user write: when it left the user inactive, the logins of the user's name
    /// are ended (again, if the client sends the deactivation again: ending logins twice
    /// is harmless, and a retried request finishes what a failed one began); when it turned
    /// the user inactive, the time from the request's arrival is recorded.
    pub(super) async fn after_user_write(&self, ctx: &Ctx, id: &str, outcome: &Outcome) -> AppResult<()> {
        match outcome.take() {
            Some((name, turned)) => self.deactivated(ctx, id, &name, turned).await,
            None => Ok(()),
        }
    }

    /// Ends the logins of a user made inactive or deleted; records the deactivation's time
    /// when it `turned` the user inactive.
    pub(super) async fn deactivated(&self, ctx: &Ctx, id: &str, user_name: &str, turned: bool) -> AppResult<()> {
        let now = self.clock.now();
        let logins = self.store.end_logins(ctx.tenant, user_name, now).await?;
        if !turned {
            return Ok(());
        }
        let took = ctx.started().elapsed();
        if let Some(observe) = self.deactivations.get() {
            observe(ctx.tenant, took);
        }
        let d =
            Deactivation { at: normalized_time(now), id: id.to_string(), millis: took.as_secs_f64() * 1000.0, logins };
        self.store.record_deactivation(ctx.tenant, d).await?;
        Ok(())
    }
}
