//! The operator's use cases, shared by the command line and the admin HTTP API: tenants,
//! long-lived tokens, OAuth clients and their secrets, API system users, signing keys and
//! operator tokens; places and access in `places`, operator-made groups in `groups`,
//! location rules tried before saving in `places_preview`, a user's effective access in
//! `user_access`, importing a product's existing users in `import`, reading the audit
//! trail in `audit`, event streams and the recorded events in `events`, a tenant's own
//! view of its credentials (the portal's) in `tenant_credentials`, the trail's requests
//! and errors over time in `activity`. Secrets are generated here, returned once, and
//! stored only hashed (or sealed, where scimd must read them back).

mod activity;
mod audit;
mod caller;
mod catalog;
mod deactivations;
mod events;
mod federation;
mod groups;
mod import;
mod places;
mod places_preview;
mod tenant_credentials;
#[cfg(test)]
mod tests;
mod user_access;
pub use activity::{Activity, ActivityBucket, bucket_width};
pub use audit::EventFilter;
pub use caller::{Caller, Change};
pub use catalog::{CatalogDiff, MAX_CATALOG_ROWS};
pub use deactivations::{DeactivationView, Deactivations};
pub use events::{CreatedStream, EventView, POLL_PATH, StreamSpec, StreamStatus, StreamView, poll_url, stream_status};
pub use groups::GroupView;
pub use import::{ImportFormat, ImportOrigin, MAX_ROWS, PlannedRow, RowError, UserImport};
pub use places::{BankUsers, UserPlaces};
pub use places_preview::{PREVIEW_MAX, PreviewUser, RulesPreview};
pub use tenant_credentials::{Connection, MAX_DAYS, Reach, TenantClient, lifetime_days};
pub use user_access::EffectiveAccess;

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use scimd_core::profile::ProfileHead;
use scimd_store::{ClientUpdate, NewClient, RefreshExpiry, Store, StoreError, Tenant, normalized_time};
use serde::Serialize;

pub use federation::{ClientKeysSpec, ClientKeysView, TrustSpec, TrustView};

use crate::auth::{generate_client_secret, generate_password, generate_token, hash_token};
use crate::clock::Clock;

/// An operator's mistake (status 400, 404, 409), a busy server (503) or an internal failure (500), with a
/// message an operator can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminError {
    pub status: u16,
    pub message: String,
}

impl AdminError {
    pub(crate) fn invalid(m: impl Into<String>) -> Self {
        AdminError { status: 400, message: m.into() }
    }
    pub(crate) fn not_found(m: impl Into<String>) -> Self {
        AdminError { status: 404, message: m.into() }
    }
    pub(crate) fn conflict(m: impl Into<String>) -> Self {
        AdminError { status: 409, message: m.into() }
    }
    pub(crate) fn internal(m: impl std::fmt::Display) -> Self {
        AdminError { status: 500, message: m.to_string() }
    }
}

impl std::fmt::Display for AdminError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

pub type AdminResult<T> = Result<T, AdminError>;

/// Maps a store error, naming what was not found or taken.
pub(crate) fn store_err(what: impl FnOnce() -> String) -> impl FnOnce(StoreError) -> AdminError {
    move |e| match e {
        StoreError::NotFound => AdminError::not_found(what()),
        StoreError::Conflict(_) => AdminError::conflict(what()),
        StoreError::Unavailable(u) => AdminError { status: 503, message: crate::error::unavailable(u.why).into() },
        e => AdminError::internal(e),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TenantView {
    pub id: i64,
    pub name: String,
    pub created: String,
    pub scim_enabled: bool,
    /// Which requests' payloads (redacted) the audit trail keeps.
    pub audit_details: scimd_store::DetailsLevel,
    pub audit_events_days: i64,
    pub audit_details_days: i64,
    /// The preset the tenant's profile came from (`tenant list`); absent for the default
    /// profile and for profiles that name none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    /// `integration` or `production`.
    pub stage: scimd_store::Stage,
    /// The name of the tenant of the other stage made from, or promoted to, this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counterpart: Option<String>,
}

impl From<Tenant> for TenantView {
    fn from(t: Tenant) -> Self {
        TenantView {
            id: t.id.0,
            name: t.name,
            created: t.created,
            scim_enabled: t.scim_enabled,
            audit_details: t.audit.details,
            audit_events_days: t.audit.events_days,
            audit_details_days: t.audit.details_days,
            preset: None,
            stage: t.stage,
            counterpart: None,
        }
    }
}

/// A time given by an operator (RFC 3339, any offset).
pub fn parse_time(s: &str, what: &str) -> AdminResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| AdminError::invalid(format!("{what} '{s}' is not an RFC 3339 time (2026-11-23T10:00:00Z): {e}")))
}

/// A secret just created: shown once.
#[derive(Debug, Clone, Serialize)]
pub struct CreatedToken {
    pub id: i64,
    pub token: String,
    pub expires: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CredentialView {
    pub id: i64,
    pub created: String,
    pub expires: Option<String>,
    pub revoked: Option<String>,
    /// `active`, `expired` or `revoked`.
    pub state: &'static str,
}

/// What an OAuth client is created with.
#[derive(Debug, Clone)]
pub struct ClientSpec {
    pub tenants: Vec<String>,
    /// How it authenticates; `None`: with a secret.
    pub keys: Option<ClientKeysSpec>,
    /// `client_credentials` and/or `password` (which brings `refresh_token`).
    pub grants: Vec<String>,
    pub scopes: Vec<String>,
    pub access_ttl_secs: i64,
    pub refresh_ttl_secs: i64,
    /// When its logins expire; `None`: as the profile of the login's tenant says.
    pub refresh_expiry: Option<RefreshExpiry>,
    pub secret_expires_secs: Option<i64>,
}

/// Changes to an OAuth client's settings; `None` leaves a setting as it is.
#[derive(Debug, Clone, Default)]
pub struct ClientChange {
    pub access_ttl_secs: Option<i64>,
    pub refresh_ttl_secs: Option<i64>,
    /// `Some(None)`: back to the tenant profile's choice.
    pub refresh_expiry: Option<Option<RefreshExpiry>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CreatedClient {
    pub client_id: String,
    /// Empty for a client that signs assertions (it has no secret).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub client_secret: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClientView {
    pub client_id: String,
    pub tenants: Vec<String>,
    pub grant_types: Vec<String>,
    pub scopes: Vec<String>,
    pub access_ttl: i64,
    pub refresh_ttl: i64,
    /// `sliding` or `absolute`; `null`: as the profile of the login's tenant says.
    pub refresh_expiry: Option<&'static str>,
    pub created: String,
    pub secrets: Vec<CredentialView>,
    /// How it authenticates.
    pub authentication: ClientKeysView,
}

#[derive(Debug, Clone, Serialize)]
pub struct CreatedSecret {
    pub client_id: String,
    pub secret_id: i64,
    pub client_secret: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CreatedApiUser {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApiUserView {
    pub username: String,
    pub created: String,
    pub disabled: Option<String>,
    /// Where its set-password link went, if it was sent one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// When its pending set-password link expires (none pending: absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invite_expires: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SigningKeyView {
    pub kid: String,
    pub created: String,
}

/// Scope tokens (RFC 6749 §3.3): printable ASCII except space, `"` and `\\`; repeats dropped.
pub fn scope_tokens<S: AsRef<str>>(args: &[S]) -> AdminResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for s in args.iter().flat_map(|a| a.as_ref().split_whitespace()) {
        if !s.bytes().all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b)) {
            return Err(AdminError::invalid(format!("'{s}' is not a valid scope")));
        }
        if !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
    }
    if out.is_empty() {
        return Err(AdminError::invalid("a client needs at least one scope"));
    }
    Ok(out)
}

/// When a credential made at `now` to last `days` expires: at most [`MAX_DAYS`] (ten
/// years; a larger number is a mistake, refused rather than overflowing the date).
fn expiry(now: DateTime<Utc>, days: Option<u32>) -> AdminResult<Option<DateTime<Utc>>> {
    match days {
        Some(d) if d == 0 || d > MAX_DAYS => {
            Err(AdminError::invalid(format!("a lifetime is 1 to {MAX_DAYS} days, not {d}")))
        }
        Some(d) => Ok(Some(now + TimeDelta::days(d.into()))),
        None => Ok(None),
    }
}

/// The tenant of that name, or a 404 naming it (the operator's and the portal's use cases).
pub(crate) async fn tenant_named(store: &dyn Store, name: &str) -> AdminResult<Tenant> {
    store
        .tenant_by_name(name)
        .await
        .map_err(AdminError::internal)?
        .ok_or_else(|| AdminError::not_found(format!("no tenant named '{name}'")))
}

pub(crate) async fn hash(secret: String) -> AdminResult<String> {
    crate::hashing::hash(secret).await.map_err(hash_error)
}

/// A hashing failure: the hashing pool busy is a 503 (try again), anything else internal.
pub(crate) fn hash_error(e: crate::hashing::HashError) -> AdminError {
    match e {
        crate::hashing::HashError::Busy => AdminError { status: 503, message: e.to_string() },
        crate::hashing::HashError::Internal(_) => AdminError::internal(e),
    }
}

fn view(c: scimd_store::CredentialRow, now: &str) -> CredentialView {
    let state = c.state(now);
    CredentialView { id: c.id, created: c.created, expires: c.expires, revoked: c.revoked, state }
}

pub struct Admin {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    /// The running server's audit writer: flushed before the trail is read, so a read
    /// sees every request answered before it.
    sink: Option<crate::audit::AuditSink>,
    /// Seals the signing keys it makes (none: they are stored in clear).
    keyring: Arc<crate::seal::Keyring>,
    /// How long a stream's deliveries fail before its status is `failing` (`events.failing_after`).
    failing_after: std::time::Duration,
}

impl Admin {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Admin { store, clock, sink: None, keyring: Arc::default(), failing_after: events::DEFAULT_FAILING_AFTER }
    }

    /// With the configured `events.failing_after`.
    pub fn with_failing_after(self, failing_after: std::time::Duration) -> Self {
        Admin { failing_after, ..self }
    }

    /// How long a stream's deliveries fail before its status is `failing`.
    pub fn failing_after(&self) -> std::time::Duration {
        self.failing_after
    }

    pub fn with_keyring(self, keyring: Arc<crate::seal::Keyring>) -> Self {
        Admin { keyring, ..self }
    }

    pub fn with_sink(self, sink: crate::audit::AuditSink) -> Self {
        Admin { sink: Some(sink), ..self }
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// A page of a tenant's users or groups, as a SCIM list request would ask for it
    /// (with the built-in schemas).
    async fn list_resources(
        &self,
        t: &Tenant,
        kind: scimd_core::schema::ResourceKind,
        params: scimd_core::list::ListParams,
    ) -> AdminResult<Vec<scimd_store::StoredResource>> {
        let reg = scimd_core::builtin::standard_registry();
        let query = params
            .resolve(&reg, kind, &scimd_core::list::PageConfig::default())
            .map_err(|e| AdminError::invalid(e.detail))?;
        Ok(self.store.list(t.id, kind, &query, false).await.map_err(AdminError::internal)?.items)
    }

    /// The tenant of that name.
    pub async fn tenant(&self, name: &str) -> AdminResult<Tenant> {
        tenant_named(&*self.store, name).await
    }

    /// Creates a tenant in the integration stage: a customer integrates first.
    pub async fn create_tenant(&self, name: &str, scim_enabled: bool) -> AdminResult<TenantView> {
        self.create_staged_tenant(name, scim_enabled, scimd_store::Stage::Integration).await
    }

    pub async fn create_staged_tenant(
        &self,
        name: &str,
        scim_enabled: bool,
        stage: scimd_store::Stage,
    ) -> AdminResult<TenantView> {
        let name = name.trim();
        if name.is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
            return Err(AdminError::invalid("a tenant name must be 1 to 200 printable characters"));
        }
        let t = self
            .store
            .create_staged_tenant(name, scim_enabled, stage, self.now())
            .await
            .map_err(store_err(|| format!("tenant '{name}' already exists")))?;
        Ok(t.into())
    }

    /// A tenant with the preset its profile came from.
    pub async fn tenant_view(&self, name: &str) -> AdminResult<TenantView> {
        let t = self.tenant(name).await?;
        let stored = self.store.tenant_profile(t.id).await.map_err(AdminError::internal)?;
        let preset = stored.and_then(|text| ProfileHead::from_json(&text)?.preset);
        let counterpart = match t.counterpart {
            Some(id) => self.store.tenant_by_id(id).await.map_err(AdminError::internal)?.map(|c| c.name),
            None => None,
        };
        Ok(TenantView { preset, counterpart, ..t.into() })
    }

    /// Every tenant, each with the preset its profile came from.
    pub async fn list_tenants(&self) -> AdminResult<Vec<TenantView>> {
        let presets: std::collections::HashMap<i64, String> = self
            .store
            .tenant_profiles()
            .await
            .map_err(AdminError::internal)?
            .into_iter()
            .filter_map(|(id, text)| Some((id.0, ProfileHead::from_json(&text)?.preset?)))
            .collect();
        let tenants = self.store.list_tenants().await.map_err(AdminError::internal)?;
        let names: std::collections::HashMap<i64, String> = tenants.iter().map(|t| (t.id.0, t.name.clone())).collect();
        Ok(tenants
            .into_iter()
            .map(|t| {
                let preset = presets.get(&t.id.0).cloned();
                let counterpart = t.counterpart.and_then(|c| names.get(&c.0).cloned());
                TenantView { preset, counterpart, ..t.into() }
            })
            .collect())
    }

    /// A tenant's profile, every setting spelled out (the default where none is stored).
    pub async fn profile(&self, name: &str) -> AdminResult<serde_json::Value> {
        let t = self.tenant(name).await?;
        let stored = self.store.tenant_profile(t.id).await.map_err(AdminError::internal)?;
        let profile = match stored {
            Some(text) => scimd_core::profile::Profile::from_json(&text).map_err(AdminError::internal)?,
            None => scimd_core::profile::Profile::default(),
        };
        serde_json::to_value(profile).map_err(AdminError::internal)
    }

    /// Creates a tenant with a preset's profile (`examples/presets/`).
    pub async fn create_tenant_with_preset(
        &self,
        name: &str,
        scim_enabled: bool,
        preset: &str,
        stage: scimd_store::Stage,
    ) -> AdminResult<TenantView> {
        let profile = preset_profile(preset)?;
        let t = self.create_staged_tenant(name, scim_enabled, stage).await?;
        self.set_profile(&t.name, Some(&profile)).await?;
        // As the profile left it (its audit settings), with the preset it came from.
        self.tenant_view(&t.name).await
    }

    /// Replaces a tenant's profile with a preset's (`tenant set --preset`): the tenant
    /// behaves as that product from then on. Returns the new profile.
    pub async fn set_preset(&self, name: &str, preset: &str) -> AdminResult<serde_json::Value> {
        let profile = preset_profile(preset)?;
        self.set_profile(name, Some(&profile)).await
    }

    /// Sets a tenant's profile from its JSON (validated; unknown settings are refused), or
    /// back to the default with `None`. Applies on every replica within 5 seconds. A
    /// profile's `audit_details` is set on the tenant's audit settings too.
    pub async fn set_profile(&self, name: &str, profile: Option<&serde_json::Value>) -> AdminResult<serde_json::Value> {
        let t = self.tenant(name).await?;
        let (text, audit) = match profile {
            Some(v) => {
                let text = v.to_string();
                let p = scimd_core::profile::Profile::from_json(&text).map_err(AdminError::invalid)?;
                // The declared types' codes are given now, so that readers find them.
                if !p.resource_types.is_empty() {
                    let names = p.resource_types.iter().map(|t| t.name.clone()).collect();
                    self.store.type_codes(t.id, names).await.map_err(AdminError::internal)?;
                }
                (Some(text), p.audit_details)
            }
            None => (None, None),
        };
        self.store.set_tenant_profile(t.id, text).await.map_err(store_err(|| format!("no tenant named '{name}'")))?;
        if let Some(level) = audit {
            use scimd_core::profile::AuditDetails;
            let level = match level {
                AuditDetails::Off => scimd_store::DetailsLevel::Off,
                AuditDetails::Changes => scimd_store::DetailsLevel::Changes,
                AuditDetails::All => scimd_store::DetailsLevel::All,
            };
            self.set_audit(name, Some(level), None, None).await?;
        }
        self.profile(name).await
    }

    pub async fn set_scim(&self, name: &str, on: bool) -> AdminResult<TenantView> {
        let t = self.tenant(name).await?;
        self.store.set_scim_enabled(t.id, on).await.map_err(store_err(|| format!("no tenant named '{name}'")))?;
        Ok(TenantView { scim_enabled: on, ..t.into() })
    }

    pub async fn create_token(&self, tenant: &str, expires_in_days: Option<u32>) -> AdminResult<CreatedToken> {
        let t = self.tenant(tenant).await?;
        let token = generate_token();
        let now = self.now();
        let expires = expiry(now, expires_in_days)?;
        let id = self.store.create_token(t.id, hash_token(&token), now, expires).await.map_err(AdminError::internal)?;
        Ok(CreatedToken { id, token, expires: expires.map(normalized_time) })
    }

    pub async fn list_tokens(&self, tenant: &str) -> AdminResult<Vec<CredentialView>> {
        let t = self.tenant(tenant).await?;
        let now = normalized_time(self.now());
        Ok(self
            .store
            .list_tokens(t.id)
            .await
            .map_err(AdminError::internal)?
            .into_iter()
            .map(|c| view(c, &now))
            .collect())
    }

    pub async fn revoke_token(&self, tenant: &str, id: i64) -> AdminResult<()> {
        let t = self.tenant(tenant).await?;
        self.store
            .revoke_token(t.id, id, self.now())
            .await
            .map_err(store_err(|| format!("tenant '{tenant}' has no token {id}")))
    }

    pub async fn create_client(&self, spec: ClientSpec) -> AdminResult<CreatedClient> {
        if spec.tenants.is_empty() {
            return Err(AdminError::invalid("a client must reach at least one tenant"));
        }
        let mut tenant_ids = Vec::new();
        for name in &spec.tenants {
            tenant_ids.push(self.tenant(name).await?.id);
        }
        let named: Vec<_> = tenant_ids.iter().copied().zip(spec.tenants.iter().cloned()).collect();
        let keys = match &spec.keys {
            Some(k) => self.client_keys(k, &named).await?,
            None => Default::default(),
        };
        if !keys.private_key_jwt() {
            self.secrets_allowed(&named).await?;
        }
        let mut grant_types: Vec<String> = Vec::new();
        for g in &spec.grants {
            let names: &[&str] = match g.as_str() {
                "client_credentials" => &["client_credentials"],
                "password" => &["password", "refresh_token"],
                other => {
                    return Err(AdminError::invalid(format!(
                        "unknown grant '{other}': use client_credentials or password"
                    )));
                }
            };
            for n in names {
                if !grant_types.iter().any(|x| x == n) {
                    grant_types.push(n.to_string());
                }
            }
        }
        if grant_types.is_empty() {
            grant_types.push("client_credentials".into());
        }
        for (v, what) in
            [(spec.access_ttl_secs, "the access-token lifetime"), (spec.refresh_ttl_secs, "the refresh-token lifetime")]
        {
            if v <= 0 {
                return Err(AdminError::invalid(format!("{what} must be at least one second")));
            }
        }
        let now = self.now();
        let secret_expires = match spec.secret_expires_secs {
            Some(s) if s <= 0 => return Err(AdminError::invalid("a secret's lifetime must be at least one second")),
            Some(s) => Some(now + TimeDelta::seconds(s)),
            None => None,
        };
        let client_id = uuid::Uuid::new_v4().to_string();
        let secret = if keys.private_key_jwt() { String::new() } else { generate_client_secret() };
        let client = NewClient {
            client_id: client_id.clone(),
            secret_hash: if secret.is_empty() { None } else { Some(hash(secret.clone()).await?) },
            secret_expires,
            grant_types,
            scopes: scope_tokens(&spec.scopes)?,
            access_ttl_secs: spec.access_ttl_secs,
            refresh_ttl_secs: spec.refresh_ttl_secs,
            refresh_expiry: spec.refresh_expiry,
            tenants: tenant_ids,
            keys,
        };
        self.store.create_client(client, now).await.map_err(AdminError::internal)?;
        Ok(CreatedClient { client_id, client_secret: secret })
    }

    pub async fn list_clients(&self) -> AdminResult<Vec<ClientView>> {
        let now = normalized_time(self.now());
        let names: Vec<_> = self
            .store
            .list_tenants()
            .await
            .map_err(AdminError::internal)?
            .into_iter()
            .map(|t| (t.id, t.name))
            .collect();
        Ok(self
            .store
            .list_clients()
            .await
            .map_err(AdminError::internal)?
            .into_iter()
            .map(|c| ClientView {
                client_id: c.client_id,
                tenants: c.tenants,
                grant_types: c.grant_types,
                scopes: c.scopes,
                access_ttl: c.access_ttl_secs,
                refresh_ttl: c.refresh_ttl_secs,
                refresh_expiry: c.refresh_expiry.map(RefreshExpiry::name),
                created: c.created,
                secrets: c.secrets.into_iter().map(|s| view(s, &now)).collect(),
                authentication: federation::keys_view(&c.keys, &names),
            })
            .collect())
    }

    /// Changes a client's lifetimes or refresh expiry; its logins follow from their next
    /// refresh on.
    pub async fn update_client(&self, client_id: &str, change: ClientChange) -> AdminResult<()> {
        for (v, what) in [
            (change.access_ttl_secs, "the access-token lifetime"),
            (change.refresh_ttl_secs, "the refresh-token lifetime"),
        ] {
            if v.is_some_and(|v| v <= 0) {
                return Err(AdminError::invalid(format!("{what} must be at least one second")));
            }
        }
        let update = ClientUpdate {
            access_ttl_secs: change.access_ttl_secs,
            refresh_ttl_secs: change.refresh_ttl_secs,
            refresh_expiry: change.refresh_expiry,
        };
        self.store.update_client(client_id, update).await.map_err(store_err(|| format!("no client '{client_id}'")))
    }

    pub async fn add_secret(&self, client_id: &str, expires_secs: Option<i64>) -> AdminResult<CreatedSecret> {
        let now = self.now();
        let expires = match expires_secs {
            Some(s) if s <= 0 => return Err(AdminError::invalid("a secret's lifetime must be at least one second")),
            Some(s) => Some(now + TimeDelta::seconds(s)),
            None => None,
        };
        if let Some(client) = self.store.client_auth(client_id, now).await.map_err(AdminError::internal)? {
            self.secrets_allowed(&client.tenants).await?;
        }
        let secret = generate_client_secret();
        let id = self
            .store
            .add_client_secret(client_id, hash(secret.clone()).await?, expires, now)
            .await
            .map_err(store_err(|| format!("no client '{client_id}'")))?;
        Ok(CreatedSecret { client_id: client_id.to_string(), secret_id: id, client_secret: secret })
    }

    pub async fn revoke_secret(&self, client_id: &str, secret_id: i64) -> AdminResult<()> {
        self.store
            .revoke_client_secret(client_id, secret_id, self.now())
            .await
            .map_err(store_err(|| format!("client '{client_id}' has no secret {secret_id}")))
    }

    /// Creates an API system user; generates its password when none is given.
    pub async fn create_api_user(
        &self,
        tenant: &str,
        username: &str,
        password: Option<String>,
    ) -> AdminResult<CreatedApiUser> {
        let t = self.tenant(tenant).await?;
        let username = username.trim().to_string();
        if username.is_empty() || username.contains(':') {
            return Err(AdminError::invalid("a username cannot be empty or contain ':'"));
        }
        // The characters userNames may not hold, for the same reasons (a name that looks
        // like another's). Logins compare usernames exactly, as a password is compared.
        if let Some((pos, c, why)) = scimd_core::user_name::first_refused(&username) {
            return Err(AdminError::invalid(format!(
                "the username holds U+{:04X}, {why}, at character {pos}: send it without that character",
                c as u32
            )));
        }
        let password = api_user_password(password)?;
        self.store
            .create_api_user(t.id, &username, hash(password.clone()).await?, self.now())
            .await
            .map_err(store_err(|| format!("the username '{username}' is taken")))?;
        Ok(CreatedApiUser { username, password })
    }

    /// Gives an API system user a new password (the one given, or a generated one) and ends
    /// every login made with the old one. Returns the password to hand over, once.
    pub async fn set_api_user_password(
        &self,
        tenant: &str,
        username: &str,
        password: Option<String>,
    ) -> AdminResult<CreatedApiUser> {
        let t = self.tenant(tenant).await?;
        let password = api_user_password(password)?;
        self.store
            .set_api_user_password(t.id, username, hash(password.clone()).await?, self.now())
            .await
            .map_err(store_err(|| format!("tenant '{tenant}' has no API user '{username}'")))?;
        Ok(CreatedApiUser { username: username.to_string(), password })
    }

    pub async fn list_api_users(&self, tenant: &str) -> AdminResult<Vec<ApiUserView>> {
        let t = self.tenant(tenant).await?;
        Ok(self
            .store
            .list_api_users(t.id)
            .await
            .map_err(AdminError::internal)?
            .into_iter()
            .map(|u| ApiUserView {
                username: u.username,
                created: u.created,
                disabled: u.disabled,
                email: u.email,
                invite_expires: u.invite_expires,
            })
            .collect())
    }

    pub async fn set_api_user_disabled(&self, tenant: &str, username: &str, disabled: bool) -> AdminResult<()> {
        let t = self.tenant(tenant).await?;
        self.store
            .set_api_user_disabled(t.id, username, disabled, self.now())
            .await
            .map_err(store_err(|| format!("tenant '{tenant}' has no API user '{username}'")))
    }

    pub async fn signing_keys(&self) -> AdminResult<Vec<SigningKeyView>> {
        Ok(self
            .store
            .signing_keys()
            .await
            .map_err(AdminError::internal)?
            .into_iter()
            .map(|k| SigningKeyView { kid: k.kid, created: k.created })
            .collect())
    }

    /// Adds a signing key that signs from now on; returns its kid.
    pub async fn rotate_signing_key(&self) -> AdminResult<SigningKeyView> {
        let (kid, seed) = crate::oauth::generate_signing_key();
        let now = self.now();
        self.store.add_signing_key(&kid, self.keyring.seal(&seed), now).await.map_err(AdminError::internal)?;
        Ok(SigningKeyView { kid, created: normalized_time(now) })
    }

    /// Retires a key; the last one cannot be retired (rotate first).
    pub async fn retire_signing_key(&self, kid: &str) -> AdminResult<()> {
        let keys = self.store.signing_keys().await.map_err(AdminError::internal)?;
        if !keys.iter().any(|k| k.kid == kid) {
            return Err(AdminError::not_found(format!("no active signing key '{kid}'")));
        }
        if keys.len() == 1 {
            return Err(AdminError::conflict("this is the only signing key: rotate first, then retire it"));
        }
        self.store
            .retire_signing_key(kid, self.now())
            .await
            .map_err(store_err(|| format!("no active signing key '{kid}'")))
    }

    pub async fn create_admin_token(&self, expires_in_days: Option<u32>) -> AdminResult<CreatedToken> {
        let token = generate_token();
        let now = self.now();
        let expires = expiry(now, expires_in_days)?;
        let id = self.store.create_admin_token(hash_token(&token), now, expires).await.map_err(AdminError::internal)?;
        Ok(CreatedToken { id, token, expires: expires.map(normalized_time) })
    }

    /// Whether an operator token is valid: the configured one, or one created by
    /// `admin-token create`.
    pub async fn operator_token_valid(&self, token: &str, configured: Option<&[u8; 32]>) -> AdminResult<bool> {
        let h = hash_token(token);
        if let Some(c) = configured
            && crate::auth::same_secret(c, h)
        {
            return Ok(true);
        }
        self.store.admin_token_valid(h, self.now()).await.map_err(AdminError::internal)
    }
}

impl From<AdminError> for String {
    fn from(e: AdminError) -> String {
        e.message
    }
}

/// The password an API user gets: the operator's (at least 12 characters), or a generated one.
fn api_user_password(given: Option<String>) -> AdminResult<String> {
    match given {
        Some(p) if p.chars().count() < 12 => Err(AdminError::invalid("the password must have at least 12 characters")),
        Some(p) => Ok(p),
        None => Ok(generate_password()),
    }
}

/// A preset's profile by its name (any case), or a clear refusal listing the presets.
fn preset_profile(preset: &str) -> AdminResult<serde_json::Value> {
    crate::presets::preset(preset).ok_or_else(|| {
        AdminError::invalid(format!("no preset named '{preset}' (there are: {})", crate::presets::names()))
    })
}
