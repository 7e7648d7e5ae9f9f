//! The PostgreSQL shell's side of every role but events and places (in `by_role_events`
//! and `by_role_places`): for each method of the store's contract, where its SQL (in
//! `roles/`) runs — a pooled connection, a write connection, or a transaction (with the
//! rows it locks and when it commits).

use super::*;

impl TenantStore for PgStore {
    fn create_staged_tenant(
        &self,
        name: &str,
        scim_enabled: bool,
        stage: Stage,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<Tenant>> {
        let name = name.to_string();
        Box::pin(async move {
            tenants::create(&Pg(&*self.write_conn().await?), name, scim_enabled, stage, now)
                .await
                .map_err(retry::unknown_if_lost)
        })
    }

    fn link_counterparts(&self, integration: TenantId, production: TenantId) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move {
            transaction!(self, |tx| {
                tenants::link_counterparts(&Pg(&tx), integration, production).await?;
                Ok(())
            })
        })
    }

    fn set_tenant_contacts(&self, tenant: TenantId, contacts: Contacts) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move {
            tenants::set_contacts(&Pg(&*self.write_conn().await?), tenant, contacts)
                .await
                .map_err(retry::unknown_if_lost)
        })
    }

    fn tenant_by_name(&self, name: &str) -> BoxFut<'_, StoreResult<Option<Tenant>>> {
        let name = name.to_string();
        Box::pin(async move { read!(self, |db| tenants::by_name(db, &name)) })
    }

    fn tenant_by_id(&self, id: TenantId) -> BoxFut<'_, StoreResult<Option<Tenant>>> {
        Box::pin(async move { read!(self, |db| tenants::by_id(db, id)) })
    }

    fn list_tenants(&self) -> BoxFut<'_, StoreResult<Vec<Tenant>>> {
        Box::pin(async move { read!(self, |db| tenants::all(db)) })
    }

    fn set_scim_enabled(&self, tenant: TenantId, enabled: bool) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move {
            tenants::set_scim_enabled(&Pg(&*self.write_conn().await?), tenant, enabled)
                .await
                .map_err(retry::unknown_if_lost)
        })
    }

    fn tenant_profile(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Option<String>>> {
        Box::pin(async move { read!(self, |db| tenants::profile(db, tenant)) })
    }

    fn tenant_profiles(&self) -> BoxFut<'_, StoreResult<Vec<(TenantId, String)>>> {
        Box::pin(async move { read!(self, |db| tenants::profiles(db)) })
    }

    fn set_tenant_profile(&self, tenant: TenantId, profile: Option<String>) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move {
            tenants::set_profile(&Pg(&*self.write_conn().await?), tenant, profile).await.map_err(retry::unknown_if_lost)
        })
    }

    fn type_codes(&self, tenant: TenantId, names: Vec<String>) -> BoxFut<'_, StoreResult<Vec<(String, u8)>>> {
        Box::pin(async move {
            if let Some(codes) = read!(self, |db| tenants::known_type_codes(db, tenant, &names))? {
                return Ok(codes);
            }
            tenants::type_codes(&Pg(&*self.write_conn().await?), tenant, &names).await.map_err(retry::unknown_if_lost)
        })
    }

    fn set_audit_settings(&self, tenant: TenantId, a: AuditSettings) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move {
            tenants::set_audit_settings(&Pg(&*self.write_conn().await?), tenant, a)
                .await
                .map_err(retry::unknown_if_lost)
        })
    }
}

impl CredentialStore for PgStore {
    fn server_secret(&self, name: &str, fresh: Vec<u8>, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<Vec<u8>>> {
        let name = name.to_string();
        Box::pin(async move {
            keys::server_secret(&Pg(&*self.write_conn().await?), &name, &fresh, now)
                .await
                .map_err(retry::unknown_if_lost)
        })
    }

    fn server_secret_values(&self) -> BoxFut<'_, StoreResult<Vec<crate::NamedSecret>>> {
        Box::pin(async move { read!(self, |db| keys::server_secret_values(db)) })
    }

    fn replace_server_secret(&self, name: &str, old: Vec<u8>, new: Vec<u8>) -> BoxFut<'_, StoreResult<bool>> {
        let name = name.to_string();
        Box::pin(async move {
            keys::replace_server_secret(&Pg(&*self.write_conn().await?), &name, &old, &new)
                .await
                .map_err(retry::unknown_if_lost)
        })
    }

    fn create_token(
        &self,
        tenant: TenantId,
        hash: [u8; 32],
        now: DateTime<Utc>,
        expires: Option<DateTime<Utc>>,
    ) -> BoxFut<'_, StoreResult<i64>> {
        Box::pin(async move {
            credentials::create_token(&Pg(&*self.write_conn().await?), tenant, &hash, now, expires)
                .await
                .map_err(retry::unknown_if_lost)
        })
    }

    fn list_tokens(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Vec<CredentialRow>>> {
        Box::pin(async move { read!(self, |db| credentials::list_tokens(db, tenant)) })
    }

    fn revoke_token(&self, tenant: TenantId, id: i64, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move {
            credentials::revoke_token(&Pg(&*self.write_conn().await?), tenant, id, now)
                .await
                .map_err(retry::unknown_if_lost)
        })
    }

    fn token_tenant(&self, hash: [u8; 32], now: DateTime<Utc>) -> BoxFut<'_, StoreResult<Option<TokenTenant>>> {
        Box::pin(async move { read!(self, |db| credentials::token_tenant(db, &hash, now)) })
    }

    fn create_client(&self, client: NewClient, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move {
            transaction!(self, |tx| {
                clients::create_client(&Pg(&tx), client.clone(), now).await?;
                Ok(())
            })
        })
    }

    fn list_clients(&self) -> BoxFut<'_, StoreResult<Vec<ClientRow>>> {
        Box::pin(async move {
            let mut c = self.conn().await?;
            let tx = c.build_transaction().read_only(true).start().await.map_err(pg)?;
            let clients = clients::list_clients(&Pg(&tx)).await?;
            tx.commit().await.map_err(pg)?;
            Ok(clients)
        })
    }

    fn add_client_secret(
        &self,
        client_id: &str,
        hash: String,
        expires: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<i64>> {
        let client_id = client_id.to_string();
        Box::pin(async move {
            clients::add_client_secret(&Pg(&*self.write_conn().await?), &client_id, &hash, expires, now)
                .await
                .map_err(retry::unknown_if_lost)
        })
    }

    fn revoke_client_secret(&self, client_id: &str, secret: i64, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        let client_id = client_id.to_string();
        Box::pin(async move {
            clients::revoke_client_secret(&Pg(&*self.write_conn().await?), &client_id, secret, now)
                .await
                .map_err(retry::unknown_if_lost)
        })
    }

    fn create_api_user(
        &self,
        tenant: TenantId,
        username: &str,
        password_hash: String,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<()>> {
        let username = username.to_string();
        Box::pin(async move {
            credentials::create_api_user(&Pg(&*self.write_conn().await?), tenant, &username, &password_hash, now)
                .await
                .map_err(retry::unknown_if_lost)
        })
    }

    fn signing_keys(&self) -> BoxFut<'_, StoreResult<Vec<SigningKeyRow>>> {
        Box::pin(async move { read!(self, |db| keys::signing_keys(db)) })
    }

    fn add_signing_key(&self, kid: &str, seed: Vec<u8>, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        let kid = kid.to_string();
        Box::pin(async move {
            keys::add_signing_key(&Pg(&*self.write_conn().await?), &kid, &seed, now)
                .await
                .map_err(retry::unknown_if_lost)
        })
    }

    fn retire_signing_key(&self, kid: &str, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        let kid = kid.to_string();
        Box::pin(async move {
            keys::retire_signing_key(&Pg(&*self.write_conn().await?), &kid, now).await.map_err(retry::unknown_if_lost)
        })
    }

    fn replace_signing_key_seed(&self, kid: &str, old: Vec<u8>, new: Vec<u8>) -> BoxFut<'_, StoreResult<bool>> {
        let kid = kid.to_string();
        Box::pin(async move {
            keys::replace_signing_key_seed(&Pg(&*self.write_conn().await?), &kid, &old, &new)
                .await
                .map_err(retry::unknown_if_lost)
        })
    }

    fn client_auth(&self, client_id: &str, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<Option<ClientAuth>>> {
        let client_id = client_id.to_string();
        Box::pin(async move { read!(self, |db| clients::client_auth(db, &client_id, now)) })
    }

    fn api_user_auth(&self, username: &str) -> BoxFut<'_, StoreResult<Option<ApiUserAuth>>> {
        let username = username.to_string();
        Box::pin(async move { read!(self, |db| credentials::api_user_auth(db, &username)) })
    }

    fn list_api_users(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Vec<ApiUserRow>>> {
        Box::pin(async move { read!(self, |db| credentials::list_api_users(db, tenant)) })
    }

    fn set_api_user_disabled(
        &self,
        tenant: TenantId,
        username: &str,
        disabled: bool,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<()>> {
        let username = username.to_string();
        Box::pin(async move {
            transaction!(self, |tx| {
                credentials::set_api_user_disabled(&Pg(&tx), tenant, &username, disabled, now).await?;
                Ok(())
            })
        })
    }

    fn set_api_user_password(
        &self,
        tenant: TenantId,
        username: &str,
        password_hash: String,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<()>> {
        let username = username.to_string();
        Box::pin(async move {
            transaction!(self, |tx| {
                credentials::set_api_user_password(&Pg(&tx), tenant, &username, &password_hash, now).await?;
                Ok(())
            })
        })
    }

    fn create_admin_token(
        &self,
        hash: [u8; 32],
        now: DateTime<Utc>,
        expires: Option<DateTime<Utc>>,
    ) -> BoxFut<'_, StoreResult<i64>> {
        Box::pin(async move {
            credentials::create_admin_token(&Pg(&*self.write_conn().await?), &hash, now, expires)
                .await
                .map_err(retry::unknown_if_lost)
        })
    }

    fn admin_token_valid(&self, hash: [u8; 32], now: DateTime<Utc>) -> BoxFut<'_, StoreResult<bool>> {
        Box::pin(async move { read!(self, |db| credentials::admin_token_valid(db, &hash, now)) })
    }
}

impl OAuthStore for PgStore {
    fn store_refresh(&self, new: NewRefresh, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move {
            oauth::store_refresh(&Pg(&*self.write_conn().await?), new, now).await.map_err(retry::unknown_if_lost)
        })
    }

    fn rotate_refresh(&self, r: Rotate) -> BoxFut<'_, StoreResult<Rotation>> {
        Box::pin(async move {
            // The token's row is locked to the end of the transaction: a rotation racing on
            // another replica waits, then sees it used.
            // Only a rotation and a replay write; any other outcome ends the transaction
            // as it found it (rolled back when dropped).
            let keep = |r: &Rotation| matches!(r, Rotation::Rotated(_) | Rotation::Replayed);
            transaction!(self, |tx| { oauth::rotate_refresh(&Pg(&tx), r.clone()).await }, keep)
        })
    }

    fn refresh_token(&self, hash: [u8; 32]) -> BoxFut<'_, StoreResult<Option<RefreshGrant>>> {
        Box::pin(async move { read!(self, |db| oauth::refresh_token(db, &hash)) })
    }

    fn revoke_grant(&self, id: &str, expires: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        let id = id.to_string();
        Box::pin(async move {
            oauth::revoke_grant(&Pg(&*self.write_conn().await?), &id, expires).await.map_err(retry::unknown_if_lost)
        })
    }

    fn grant_status(
        &self,
        tenant: TenantId,
        jti: &str,
        family: Option<&str>,
    ) -> BoxFut<'_, StoreResult<Option<GrantStatus>>> {
        let (jti, family) = (jti.to_string(), family.map(str::to_string));
        Box::pin(async move { read!(self, |db| oauth::grant_status(db, tenant, &jti, family.as_deref())) })
    }

    fn login_attempt(
        &self,
        keys: Vec<LockoutKey>,
        lock_secs: i64,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<LoginAttempt>> {
        Box::pin(async move {
            // Nothing is counted when a key is locked: the transaction is rolled back.
            let keep = |a: &LoginAttempt| matches!(a, LoginAttempt::Allowed);
            transaction!(self, |tx| { oauth::login_attempt(&Pg(&tx), &keys, lock_secs, now).await }, keep)
        })
    }

    fn login_succeeded(&self, keys: Vec<String>) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move {
            oauth::login_succeeded(&Pg(&*self.write_conn().await?), &keys).await.map_err(retry::unknown_if_lost)
        })
    }

    fn purge_oauth(
        &self,
        now: DateTime<Utc>,
        refresh_before: DateTime<Utc>,
        failures_before: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<u64>> {
        Box::pin(async move {
            oauth::purge_oauth(&Pg(&*self.write_conn().await?), now, refresh_before, failures_before)
                .await
                .map_err(retry::unknown_if_lost)
        })
    }
}

impl AuditStore for PgStore {
    fn record_audit(&self, batch: Vec<AuditRecord>) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move {
            transaction!(self, |tx| {
                audit::record(&Pg(&tx), &batch, || Ok(Events::Table)).await?;
                Ok(())
            })
        })
    }

    fn events(&self, tenant: TenantId, q: &EventQuery) -> BoxFut<'_, StoreResult<Vec<EventRow>>> {
        let q = q.clone();
        Box::pin(async move { read!(self, |db| audit::events(db, tenant, &q)) })
    }

    fn event_details(&self, tenant: TenantId, event: i64) -> BoxFut<'_, StoreResult<Option<EventDetails>>> {
        Box::pin(async move { read!(self, |db| audit::details(db, tenant, event)) })
    }

    fn event_counts(&self, tenant: TenantId, from: i64, to: i64) -> BoxFut<'_, StoreResult<Vec<EventCount>>> {
        Box::pin(async move { read!(self, |db| audit::counts(db, tenant, from, to)) })
    }

    fn event_buckets(
        &self,
        tenant: TenantId,
        origin: i64,
        width: i64,
        from: i64,
        to: i64,
    ) -> BoxFut<'_, StoreResult<Vec<EventBucket>>> {
        Box::pin(async move { read!(self, |db| audit::buckets(db, tenant, origin, width, from, to)) })
    }

    fn errors(
        &self,
        tenant: Option<TenantId>,
        from: &str,
        to: &str,
        limit: u32,
    ) -> BoxFut<'_, StoreResult<Vec<ErrorRow>>> {
        let (from, to) = (from.to_string(), to.to_string());
        Box::pin(async move { read!(self, |db| audit::errors(db, tenant, &from, &to, limit)) })
    }

    fn purge_audit(&self, now: DateTime<Utc>, default_days: i64, batch: u32) -> BoxFut<'_, StoreResult<u64>> {
        Box::pin(async move {
            let cutoffs = read!(self, |db| audit::cutoffs(db, now, default_days))?;
            audit::purge(&Pg(&*self.write_conn().await?), &cutoffs, batch).await.map_err(retry::unknown_if_lost)
        })
    }
}

impl Store for PgStore {
    fn user_name_issues(&self) -> BoxFut<'_, StoreResult<Vec<crate::UserNameIssue>>> {
        Box::pin(self.user_name_issues_now())
    }

    fn create(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        new: NewResource,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<StoredResource>> {
        let now = normalized_time(now);
        Box::pin(async move {
            let (stored, pending) = transaction!(self, |tx| {
                let mut unit = Unit::new(self, &tx);
                let id = crate::new_resource_id();
                let stored = resources::create(&Pg(&tx), &mut unit, tenant, kind, id, new.clone(), &now).await?;
                Ok((stored, unit.pending))
            })
            .inspect_err(|_| forget_events(new.event.iter()))?;
            self.publish_keys(pending);
            self.created();
            Ok(stored)
        })
    }

    fn create_with_ids(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        items: Vec<(String, NewResource)>,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<Vec<StoredResource>>> {
        let now = normalized_time(now);
        Box::pin(async move {
            let (out, pending) = transaction!(self, |tx| {
                let mut unit = Unit::new(self, &tx);
                let out = resources::create_with_ids(&Pg(&tx), &mut unit, tenant, kind, items.clone(), &now).await?;
                Ok((out, unit.pending))
            })
            .inspect_err(|_| forget_events(items.iter().filter_map(|(_, n)| n.event.as_ref())))?;
            self.publish_keys(pending);
            for _ in 0..out.len() {
                self.created();
            }
            Ok(out)
        })
    }

    fn get(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        id: &str,
        related: bool,
    ) -> BoxFut<'_, StoreResult<Option<StoredResource>>> {
        let id = id.to_string();
        Box::pin(async move {
            let found = read!(self, |db| resources::load(db, tenant, kind, &id, related, Lock::None))?;
            Ok(found.map(|(_, r)| r))
        })
    }

    fn list(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        query: &ListQuery,
        related: bool,
    ) -> BoxFut<'_, StoreResult<Page>> {
        let query = query.clone();
        Box::pin(
            async move { read!(self, |db| resources::list(db, tenant, kind, &query, related, |_| Ok(Skip::Offset))) },
        )
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
        Box::pin(async move {
            // A try takes the event from the update; the next one gets it again.
            let mut update = update;
            let event = update.event.clone();
            let (stored, pending) = transaction!(self, |tx| {
                update.event = event.clone();
                let mut unit = Unit::new(self, &tx);
                let stored =
                    resources::update(&Pg(&tx), &mut unit, tenant, kind, &id, &mut update, now.clone()).await?;
                Ok((stored, unit.pending))
            })
            .inspect_err(|_| forget_events(event.iter()))?;
            self.publish_keys(pending);
            Ok(stored)
        })
    }

    fn delete(
        &self,
        tenant: TenantId,
        kind: ResourceKind,
        id: &str,
        if_match: Option<IfMatch>,
        writer: Writer,
        event: Option<ChangeEvent>,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<()>> {
        let id = id.to_string();
        let now = normalized_time(now);
        Box::pin(async move {
            transaction!(self, |tx| {
                let mut unit = Unit::new(self, &tx);
                resources::delete(
                    &Pg(&tx),
                    &mut unit,
                    tenant,
                    kind,
                    &id,
                    if_match.clone(),
                    &writer,
                    event.clone(),
                    &now,
                )
                .await?;
                Ok(())
            })
            .inspect_err(|_| forget_events(event.iter()))
        })
    }

    /// Not ready when no connection answers, when `schema_migrations` cannot be read or
    /// does not hold exactly the versions this binary knows, or when all that takes more
    /// than 3 s (the pool's own timeouts are 10 s).
    fn ready(&self) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move {
            match tokio::time::timeout(READY_TIMEOUT, self.check_ready()).await {
                Ok(r) => r,
                Err(_) => Err(internal(format!(
                    "the database did not answer within {} s (pool: {:?})",
                    READY_TIMEOUT.as_secs(),
                    self.pool.status()
                ))),
            }
        })
    }

    /// From deadpool's pool status: `pool_size` connections open, `pool_idle` of them
    /// available, `pool_in_use` the rest, `pool_waiting` requests waiting for one.
    /// `write_queue` is always 0: writes run on pooled connections like reads, there is
    /// no queue of their own. The retries are counted since the store was opened.
    fn stats(&self) -> StoreStats {
        let s = self.pool.status();
        StoreStats {
            pool_size: s.size as u64,
            pool_in_use: s.size.saturating_sub(s.available) as u64,
            pool_idle: s.available as u64,
            pool_waiting: s.waiting as u64,
            write_queue: 0,
            retried_transactions: self.retries.transactions.load(std::sync::atomic::Ordering::Relaxed),
            retried_connections: self.retries.connections.load(std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// Observes every use of a pooled connection, one observation per use: from the
    /// request for it (waiting for the pool included) until it is given back. A use is a
    /// [`QueryKind::Write`] when it opened a read-write transaction or ran a statement
    /// other than a `SELECT` outside one, otherwise a [`QueryKind::Read`]. A call that
    /// uses one connection counts once (a read-modify-write in one transaction is one
    /// write); the background `ANALYZE` is not observed.
    fn set_observer(&self, observer: QueryObserver) {
        let _ = self.observer.set(observer);
    }

    fn close(&self) {
        self.pool.close();
    }
}

impl TokenStore for PgStore {
    fn store_access_token(&self, t: NewAccessToken, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        Box::pin(async move {
            oauth::store_access_token(&Pg(&*self.write_conn().await?), t, now).await.map_err(retry::unknown_if_lost)
        })
    }

    fn access_token(&self, hash: [u8; 32]) -> BoxFut<'_, StoreResult<Option<AccessTokenRow>>> {
        Box::pin(async move { read!(self, |db| oauth::access_token(db, &hash)) })
    }

    fn update_client(&self, client_id: &str, u: ClientUpdate) -> BoxFut<'_, StoreResult<()>> {
        let client_id = client_id.to_string();
        Box::pin(async move {
            clients::update_client(&Pg(&*self.write_conn().await?), &client_id, u).await.map_err(retry::unknown_if_lost)
        })
    }
}
