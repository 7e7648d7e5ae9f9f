//! The SQLite shell's side of every role but events (those are in `by_role_events`): for
//! each method of the store's contract, which connection its SQL (in `roles/`) runs on — a
//! pooled reader (one statement, or a read transaction) or a job on the writer thread,
//! inside a savepoint of a group commit.

use super::*;

impl TenantStore for SqliteStore {
    fn create_staged_tenant(
        &self,
        name: &str,
        scim_enabled: bool,
        stage: Stage,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<Tenant>> {
        let name = name.to_string();
        Box::pin(self.write(move |w| ready(tenants::create(&Lite(w), name, scim_enabled, stage, now))))
    }

    fn link_counterparts(&self, integration: TenantId, production: TenantId) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(self.write(move |w| ready(tenants::link_counterparts(&Lite(w), integration, production))))
    }

    fn set_tenant_contacts(&self, tenant: TenantId, contacts: Contacts) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(self.write(move |w| ready(tenants::set_contacts(&Lite(w), tenant, contacts))))
    }

    fn tenant_by_name(&self, name: &str) -> BoxFut<'_, StoreResult<Option<Tenant>>> {
        let r = self.read_one(|c| ready(tenants::by_name(&Lite(c), name)));
        Box::pin(async move { r })
    }

    fn tenant_by_id(&self, id: TenantId) -> BoxFut<'_, StoreResult<Option<Tenant>>> {
        let r = self.read_one(|c| ready(tenants::by_id(&Lite(c), id)));
        Box::pin(async move { r })
    }

    fn list_tenants(&self) -> BoxFut<'_, StoreResult<Vec<Tenant>>> {
        let r = self.read_one(|c| ready(tenants::all(&Lite(c))));
        Box::pin(async move { r })
    }

    fn set_scim_enabled(&self, tenant: TenantId, enabled: bool) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(self.write(move |w| ready(tenants::set_scim_enabled(&Lite(w), tenant, enabled))))
    }

    fn tenant_profile(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Option<String>>> {
        let r = self.read_one(|c| ready(tenants::profile(&Lite(c), tenant)));
        Box::pin(async move { r })
    }

    fn tenant_profiles(&self) -> BoxFut<'_, StoreResult<Vec<(TenantId, String)>>> {
        let r = self.read_one(|c| ready(tenants::profiles(&Lite(c))));
        Box::pin(async move { r })
    }

    fn set_tenant_profile(&self, tenant: TenantId, profile: Option<String>) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(self.write(move |w| ready(tenants::set_profile(&Lite(w), tenant, profile))))
    }

    fn set_audit_settings(&self, tenant: TenantId, a: AuditSettings) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(self.write(move |w| ready(tenants::set_audit_settings(&Lite(w), tenant, a))))
    }

    fn type_codes(&self, tenant: TenantId, names: Vec<String>) -> BoxFut<'_, StoreResult<Vec<(String, u8)>>> {
        // Known names are read without taking the writer.
        let known = self.read_one(|c| ready(tenants::known_type_codes(&Lite(c), tenant, &names)));
        Box::pin(async move {
            match known {
                Ok(Some(codes)) => Ok(codes),
                Ok(None) => self.write(move |w| ready(tenants::type_codes(&Lite(w), tenant, &names))).await,
                Err(e) => Err(e),
            }
        })
    }
}

impl CredentialStore for SqliteStore {
    fn server_secret(&self, name: &str, fresh: Vec<u8>, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<Vec<u8>>> {
        let name = name.to_string();
        Box::pin(self.write(move |w| ready(keys::server_secret(&Lite(w), &name, &fresh, now))))
    }

    fn server_secret_values(&self) -> BoxFut<'_, StoreResult<Vec<crate::NamedSecret>>> {
        let r = self.read_one(|c| ready(keys::server_secret_values(&Lite(c))));
        Box::pin(async move { r })
    }

    fn replace_server_secret(&self, name: &str, old: Vec<u8>, new: Vec<u8>) -> BoxFut<'_, StoreResult<bool>> {
        let name = name.to_string();
        Box::pin(self.write(move |w| ready(keys::replace_server_secret(&Lite(w), &name, &old, &new))))
    }

    fn create_token(
        &self,
        tenant: TenantId,
        hash: [u8; 32],
        now: DateTime<Utc>,
        expires: Option<DateTime<Utc>>,
    ) -> BoxFut<'_, StoreResult<i64>> {
        Box::pin(self.write(move |w| ready(credentials::create_token(&Lite(w), tenant, &hash, now, expires))))
    }

    fn list_tokens(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Vec<CredentialRow>>> {
        let r = self.read_one(|c| ready(credentials::list_tokens(&Lite(c), tenant)));
        Box::pin(async move { r })
    }

    fn revoke_token(&self, tenant: TenantId, id: i64, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(self.write(move |w| ready(credentials::revoke_token(&Lite(w), tenant, id, now))))
    }

    fn token_tenant(&self, hash: [u8; 32], now: DateTime<Utc>) -> BoxFut<'_, StoreResult<Option<TokenTenant>>> {
        let r = self.read_one(|c| ready(credentials::token_tenant(&Lite(c), &hash, now)));
        Box::pin(async move { r })
    }

    fn create_client(&self, client: NewClient, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(self.write(move |w| ready(clients::create_client(&Lite(w), client, now))))
    }

    fn list_clients(&self) -> BoxFut<'_, StoreResult<Vec<ClientRow>>> {
        let r = self.read(|c| ready(clients::list_clients(&Lite(c))));
        Box::pin(async move { r })
    }

    fn add_client_secret(
        &self,
        client_id: &str,
        hash: String,
        expires: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<i64>> {
        let client_id = client_id.to_string();
        Box::pin(self.write(move |w| ready(clients::add_client_secret(&Lite(w), &client_id, &hash, expires, now))))
    }

    fn revoke_client_secret(&self, client_id: &str, secret: i64, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        let client_id = client_id.to_string();
        Box::pin(self.write(move |w| ready(clients::revoke_client_secret(&Lite(w), &client_id, secret, now))))
    }

    fn create_api_user(
        &self,
        tenant: TenantId,
        username: &str,
        password_hash: String,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<()>> {
        let username = username.to_string();
        Box::pin(
            self.write(move |w| ready(credentials::create_api_user(&Lite(w), tenant, &username, &password_hash, now))),
        )
    }

    fn signing_keys(&self) -> BoxFut<'_, StoreResult<Vec<SigningKeyRow>>> {
        let r = self.read_one(|c| ready(keys::signing_keys(&Lite(c))));
        Box::pin(async move { r })
    }

    fn add_signing_key(&self, kid: &str, seed: Vec<u8>, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        let kid = kid.to_string();
        Box::pin(self.write(move |w| ready(keys::add_signing_key(&Lite(w), &kid, &seed, now))))
    }

    fn retire_signing_key(&self, kid: &str, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        let kid = kid.to_string();
        Box::pin(self.write(move |w| ready(keys::retire_signing_key(&Lite(w), &kid, now))))
    }

    fn replace_signing_key_seed(&self, kid: &str, old: Vec<u8>, new: Vec<u8>) -> BoxFut<'_, StoreResult<bool>> {
        let kid = kid.to_string();
        Box::pin(self.write(move |w| ready(keys::replace_signing_key_seed(&Lite(w), &kid, &old, &new))))
    }

    fn client_auth(&self, client_id: &str, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<Option<ClientAuth>>> {
        let r = self.read_one(|c| ready(clients::client_auth(&Lite(c), client_id, now)));
        Box::pin(async move { r })
    }

    fn api_user_auth(&self, username: &str) -> BoxFut<'_, StoreResult<Option<ApiUserAuth>>> {
        let r = self.read_one(|c| ready(credentials::api_user_auth(&Lite(c), username)));
        Box::pin(async move { r })
    }

    fn list_api_users(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Vec<ApiUserRow>>> {
        let r = self.read_one(|c| ready(credentials::list_api_users(&Lite(c), tenant)));
        Box::pin(async move { r })
    }

    fn set_api_user_disabled(
        &self,
        tenant: TenantId,
        username: &str,
        disabled: bool,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<()>> {
        let username = username.to_string();
        Box::pin(
            self.write(move |w| ready(credentials::set_api_user_disabled(&Lite(w), tenant, &username, disabled, now))),
        )
    }

    fn set_api_user_password(
        &self,
        tenant: TenantId,
        username: &str,
        password_hash: String,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<()>> {
        let username = username.to_string();
        Box::pin(self.write(move |w| {
            ready(credentials::set_api_user_password(&Lite(w), tenant, &username, &password_hash, now))
        }))
    }

    fn create_admin_token(
        &self,
        hash: [u8; 32],
        now: DateTime<Utc>,
        expires: Option<DateTime<Utc>>,
    ) -> BoxFut<'_, StoreResult<i64>> {
        Box::pin(self.write(move |w| ready(credentials::create_admin_token(&Lite(w), &hash, now, expires))))
    }

    fn admin_token_valid(&self, hash: [u8; 32], now: DateTime<Utc>) -> BoxFut<'_, StoreResult<bool>> {
        let r = self.read_one(|c| ready(credentials::admin_token_valid(&Lite(c), &hash, now)));
        Box::pin(async move { r })
    }
}

impl OAuthStore for SqliteStore {
    fn store_refresh(&self, new: NewRefresh, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(self.write(move |w| ready(oauth::store_refresh(&Lite(w), new, now))))
    }

    fn rotate_refresh(&self, r: Rotate) -> BoxFut<'_, StoreResult<Rotation>> {
        // The writer thread runs one write at a time: reading and rotating here is atomic.
        Box::pin(self.write(move |w| ready(oauth::rotate_refresh(&Lite(w), r))))
    }

    fn refresh_token(&self, hash: [u8; 32]) -> BoxFut<'_, StoreResult<Option<RefreshGrant>>> {
        let r = self.read_one(|c| ready(oauth::refresh_token(&Lite(c), &hash)));
        Box::pin(async move { r })
    }

    fn revoke_grant(&self, id: &str, expires: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        let id = id.to_string();
        Box::pin(self.write(move |w| ready(oauth::revoke_grant(&Lite(w), &id, expires))))
    }

    fn grant_status(
        &self,
        tenant: TenantId,
        jti: &str,
        family: Option<&str>,
    ) -> BoxFut<'_, StoreResult<Option<GrantStatus>>> {
        let r = self.read_one(|c| ready(oauth::grant_status(&Lite(c), tenant, jti, family)));
        Box::pin(async move { r })
    }

    fn login_attempt(
        &self,
        keys: Vec<LockoutKey>,
        lock_secs: i64,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<LoginAttempt>> {
        // The writer thread runs one write at a time: reading and counting here is atomic.
        Box::pin(self.write(move |w| ready(oauth::login_attempt(&Lite(w), &keys, lock_secs, now))))
    }

    fn login_succeeded(&self, keys: Vec<String>) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(self.write(move |w| ready(oauth::login_succeeded(&Lite(w), &keys))))
    }

    fn purge_oauth(
        &self,
        now: DateTime<Utc>,
        refresh_before: DateTime<Utc>,
        failures_before: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<u64>> {
        Box::pin(self.write(move |w| ready(oauth::purge_oauth(&Lite(w), now, refresh_before, failures_before))))
    }
}

impl AuditStore for SqliteStore {
    fn record_audit(&self, batch: Vec<AuditRecord>) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(self.write(move |w| {
            if ready(audit::record(&Lite(w), &batch, || Ok(Events::Journal(event_id(w)?))))? {
                save_event_counter(w, EventFile::Journal)?;
            }
            Ok(())
        }))
    }

    fn events(&self, tenant: TenantId, q: &EventQuery) -> BoxFut<'_, StoreResult<Vec<EventRow>>> {
        let r = self.read_one(|c| ready(audit::events(&Lite(c), tenant, q)));
        Box::pin(async move { r })
    }

    fn event_details(&self, tenant: TenantId, event: i64) -> BoxFut<'_, StoreResult<Option<EventDetails>>> {
        let r = self.read_one(|c| ready(audit::details(&Lite(c), tenant, event)));
        Box::pin(async move { r })
    }

    fn event_counts(&self, tenant: TenantId, from: i64, to: i64) -> BoxFut<'_, StoreResult<Vec<EventCount>>> {
        let r = self.read_one(|c| ready(audit::counts(&Lite(c), tenant, from, to)));
        Box::pin(async move { r })
    }

    fn event_buckets(
        &self,
        tenant: TenantId,
        origin: i64,
        width: i64,
        from: i64,
        to: i64,
    ) -> BoxFut<'_, StoreResult<Vec<EventBucket>>> {
        let r = self.read_one(|c| ready(audit::buckets(&Lite(c), tenant, origin, width, from, to)));
        Box::pin(async move { r })
    }

    fn errors(
        &self,
        tenant: Option<TenantId>,
        from: &str,
        to: &str,
        limit: u32,
    ) -> BoxFut<'_, StoreResult<Vec<ErrorRow>>> {
        let r = self.read_one(|c| ready(audit::errors(&Lite(c), tenant, from, to, limit)));
        Box::pin(async move { r })
    }

    fn purge_audit(&self, now: DateTime<Utc>, default_days: i64, batch: u32) -> BoxFut<'_, StoreResult<u64>> {
        let cutoffs = match self.read_one(|c| ready(audit::cutoffs(&Lite(c), now, default_days))) {
            Ok(cutoffs) => cutoffs,
            Err(e) => return Box::pin(async move { Err(e) }),
        };
        Box::pin(self.write(move |w| ready(audit::purge(&Lite(w), &cutoffs, batch))))
    }
}

impl Store for SqliteStore {
    fn user_name_issues(&self) -> BoxFut<'_, StoreResult<Vec<crate::UserNameIssue>>> {
        let r = self.read_one(user_names::issues);
        Box::pin(async move { r })
    }

    fn create(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        new: NewResource,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<StoredResource>> {
        let now = normalized_time(now);
        let id = crate::new_resource_id();
        Box::pin(self.write(move |w| ready(resources::create(&Lite(w), &mut { w }, tenant, kind, id, new, &now))))
    }

    fn create_with_ids(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        items: Vec<(String, NewResource)>,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<Vec<StoredResource>>> {
        let now = normalized_time(now);
        // One write, so one savepoint: every resource or none.
        Box::pin(
            self.write(move |w| ready(resources::create_with_ids(&Lite(w), &mut { w }, tenant, kind, items, &now))),
        )
    }

    fn get(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        id: &str,
        related: bool,
    ) -> BoxFut<'_, StoreResult<Option<StoredResource>>> {
        // One statement: its own implicit read transaction is a consistent snapshot.
        let r = self
            .read_one(|c| Ok(ready(resources::load(&Lite(c), tenant, kind, id, related, Lock::None))?.map(|(_, r)| r)));
        Box::pin(async move { r })
    }

    fn list(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        query: &ListQuery,
        related: bool,
    ) -> BoxFut<'_, StoreResult<Page>> {
        let r = self.read(|conn| {
            let skip = |offset| skip_to_anchor(conn, &self.inner.anchors, tenant, kind, offset);
            ready(resources::list(&Lite(conn), tenant, kind, query, related, skip))
        });
        Box::pin(async move { r })
    }

    fn update(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        id: &str,
        update: Update,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<StoredResource>> {
        let id = id.to_string();
        let now = normalized_time(now);
        Box::pin(
            self.write(move |w| {
                ready(resources::update(&Lite(w), &mut { w }, tenant, kind, &id, &mut { update }, now))
            }),
        )
    }

    fn delete(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        id: &str,
        if_match: Option<IfMatch>,
        writer: crate::Writer,
        event: Option<ChangeEvent>,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<()>> {
        let id = id.to_string();
        let now = normalized_time(now);
        Box::pin(self.write(move |w| {
            ready(resources::delete(&Lite(w), &mut { w }, tenant, kind, &id, if_match, &writer, event, &now))
        }))
    }

    /// Not ready when the store is closed, when the database file or the audit journal
    /// no longer exists at its path or the path names another file (on Unix: another
    /// device and inode than at open; this process would keep writing to the unlinked
    /// file), or when a schema is not at the version this binary knows.
    fn ready(&self) -> BoxFut<'_, StoreResult<()>> {
        let r = self.check_ready();
        Box::pin(async move { r })
    }

    /// The pool is the readers: `pool_in_use` counts readers taken, `pool_idle` those
    /// kept in the pool (the writer's and the checkpointer's connections are not
    /// counted). `pool_waiting` is always 0: a read never waits for a reader, it opens
    /// a new one when none is idle. `write_queue` counts write jobs submitted whose
    /// result is not yet delivered (queued, running, or waiting for their commit).
    fn stats(&self) -> StoreStats {
        let idle = self.inner.readers.lock().expect("reader pool").len() as u64;
        let in_use = self.inner.observed.readers_in_use.load(Ordering::Relaxed);
        StoreStats {
            pool_size: in_use + idle,
            pool_in_use: in_use,
            pool_idle: idle,
            pool_waiting: 0,
            write_queue: self.inner.observed.write_queue.load(Ordering::Relaxed),
            // One writer, no transaction is ever broken off; no connection can break.
            retried_transactions: 0,
            retried_connections: 0,
        }
    }

    /// Observes each read ([`QueryKind::Read`]: one per read call, taking a reader
    /// included) and each write ([`QueryKind::Write`]: one per write job, on the writer
    /// thread, from its submission until its transaction committed and its result is
    /// delivered, so queueing and group commit included).
    fn set_observer(&self, observer: QueryObserver) {
        let _ = self.inner.observed.observer.set(observer);
    }

    fn close(&self) {
        SqliteStore::close(self)
    }
}

// -------------------------------------------------------------------- PlacesStore

impl PlacesStore for SqliteStore {
    fn import_places(
        &self,
        tenant: TenantId,
        places: Vec<PlaceSpec>,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<ImportReport>> {
        let now = normalized_time(now);
        Box::pin(self.write(move |w| ready(roles::places::import(&Lite(w), tenant, &places, &now))))
    }

    fn list_places(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Vec<PlaceRow>>> {
        let r = self.read(|c| ready(roles::places::list(&Lite(c), tenant)));
        Box::pin(async move { r })
    }

    fn create_place(
        &self,
        tenant: TenantId,
        place: PlaceSpec,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<PlaceRow>> {
        let now = normalized_time(now);
        Box::pin(self.write(move |w| ready(roles::places::create(&Lite(w), tenant, place, now))))
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
        Box::pin(self.write(move |w| ready(roles::places::rename(&Lite(w), tenant, level, &key, &name, &now))))
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
        Box::pin(self.write(move |w| ready(roles::places::delete(&Lite(w), tenant, level, &key, cascade, &now))))
    }

    fn set_location_rules(
        &self,
        tenant: TenantId,
        location: &str,
        rules: Option<String>,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<i64>> {
        let (location, now) = (location.to_string(), normalized_time(now));
        Box::pin(self.write(move |w| ready(roles::places::set_rules(&Lite(w), tenant, &location, rules, &now))))
    }

    fn places_state(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<PlacesState>> {
        let r = self.read(|c| ready(roles::places::state(&Lite(c), tenant)));
        Box::pin(async move { r })
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
        Box::pin(self.write(move |w| ready(roles::places::grant(&Lite(w), tenant, &group, level, &place, &now))))
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
        Box::pin(self.write(move |w| ready(roles::places::revoke(&Lite(w), tenant, &group, level, &place, &now))))
    }

    fn access_links(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Vec<AccessLink>>> {
        let r = self.read(|c| ready(roles::places::links(&Lite(c), tenant)));
        Box::pin(async move { r })
    }

    fn user_access(&self, tenant: TenantId, user_key: &str) -> BoxFut<'_, StoreResult<Option<UserAccess>>> {
        let r = self.read(|c| ready(roles::places::user_access(&Lite(c), tenant, user_key)));
        Box::pin(async move { r })
    }

    fn place_users(
        &self,
        tenant: TenantId,
        level: Level,
        place: &str,
        offset: u64,
        limit: u64,
    ) -> BoxFut<'_, StoreResult<Option<BankUsers>>> {
        let r = self.read(|c| ready(roles::places::place_users(&Lite(c), tenant, level, place, offset, limit)));
        Box::pin(async move { r })
    }

    fn places_pending(&self) -> BoxFut<'_, StoreResult<Vec<(TenantId, i64)>>> {
        let r = self.read_one(|c| ready(roles::places::pending(&Lite(c))));
        Box::pin(async move { r })
    }

    fn stale_users(
        &self,
        tenant: TenantId,
        generation: i64,
        after: i64,
        limit: u32,
    ) -> BoxFut<'_, StoreResult<(Vec<StoredResource>, Option<i64>)>> {
        let r = self.read(|c| ready(roles::places::stale_users(&Lite(c), tenant, generation, after, limit)));
        Box::pin(async move { r })
    }

    fn set_derived(
        &self,
        tenant: TenantId,
        updates: Vec<DerivedUpdate>,
        generation: i64,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<u64>> {
        let now = normalized_time(now);
        Box::pin(self.write(move |w| {
            let (written, reindex) = ready(roles::places::set_derived(&Lite(w), tenant, updates, generation, &now))?;
            for (rowid, index) in reindex {
                ready(resources::rewrite_index(&Lite(w), &mut { w }, tenant, ResourceKind::User, rowid, &index))?;
            }
            Ok(written)
        }))
    }

    fn places_done(&self, tenant: TenantId, generation: i64) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(self.write(move |w| ready(roles::places::done(&Lite(w), tenant, generation))))
    }
}

impl TokenStore for SqliteStore {
    fn store_access_token(&self, t: NewAccessToken, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(self.write(move |w| ready(oauth::store_access_token(&Lite(w), t, now))))
    }

    fn access_token(&self, hash: [u8; 32]) -> BoxFut<'_, StoreResult<Option<AccessTokenRow>>> {
        let r = self.read_one(|c| ready(oauth::access_token(&Lite(c), &hash)));
        Box::pin(async move { r })
    }

    fn update_client(&self, client_id: &str, u: ClientUpdate) -> BoxFut<'_, StoreResult<()>> {
        let client_id = client_id.to_string();
        Box::pin(self.write(move |w| ready(clients::update_client(&Lite(w), &client_id, u))))
    }
}
