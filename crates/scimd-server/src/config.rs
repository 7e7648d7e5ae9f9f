//! The server's configuration: one TOML file (`--config FILE` or `SCIMD_CONFIG`) under
//! environment variables (`SCIMD_SECTION__KEY`) under command-line flags (and the flags'
//! own variables, such as `SCIMD_DATABASE_URL`). Unknown keys are an error naming the key
//! and where it came from; secrets can come from files (`database.url_file`,
//! `server.admin_token_file`, `secrets.master_key_file`, and those of the messaging
//! sections, `[email]`, `[sms]` and `[onboarding]`, in `config/messaging.rs`); tenants
//! (with a preset or an inline profile) can be declared. [`DEFAULT_TOML`] is the commented
//! example `scimd config print-default` prints, and it parses to exactly [`Config::default`]
//! (tested).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::seal::{Keyring, MasterKey};

mod messaging;
pub use messaging::{EmailSection, OnboardingSection, SmsSection};

/// The commented example configuration, every setting at its default.
pub const DEFAULT_TOML: &str = include_str!("../../../examples/scimd.toml");

/// Where the configuration's values come from, lowest first: defaults, the file, the
/// environment, the flags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub database: DatabaseConfig,
    pub server: ServerConfig,
    pub limits: LimitsConfig,
    pub oauth: OAuthSection,
    pub audit: AuditSection,
    pub log: LogConfig,
    pub metrics: MetricsConfig,
    pub secrets: SecretsConfig,
    pub events: EventsSection,
    pub lifecycle: LifecycleSection,
    pub portal: PortalSection,
    pub email: EmailSection,
    pub sms: SmsSection,
    pub onboarding: OnboardingSection,
    /// Tenants made to exist, with these settings, when `serve` starts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tenants: Vec<TenantConfig>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://PATH` or `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`.
    pub url: String,
    /// A file holding the URL (its password stays out of the file and the environment).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url_file: Option<String>,
    pub sqlite_synchronous: Synchronous,
    pub sqlite_mmap_mib: i64,
    pub sqlite_cache_mib: i64,
    pub pg_pool: usize,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: "sqlite://scimd.db".into(),
            url_file: None,
            sqlite_synchronous: Synchronous::Normal,
            sqlite_mmap_mib: 65536,
            sqlite_cache_mib: 8,
            pg_pool: 16,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Synchronous {
    Normal,
    Full,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub listen: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
    /// Whether a proxy in front sets `X-Forwarded-Proto` (read only then, and only when
    /// `public_url` is unset); off, a client could choose the scheme of the URLs answered.
    pub trust_forwarded_headers: bool,
    pub workers: usize,
    pub default_page_size: u64,
    pub max_page_size: u64,
    pub max_body_bytes: usize,
    /// How long SIGTERM waits for requests in flight before the process exits anyway.
    #[serde(with = "duration")]
    pub shutdown_grace: Duration,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_token_file: Option<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".into(),
            public_url: None,
            trust_forwarded_headers: false,
            workers: 0,
            default_page_size: 100,
            max_page_size: 1000,
            max_body_bytes: 1024 * 1024,
            shutdown_grace: Duration::from_secs(30),
            admin_token: None,
            admin_token_file: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    pub tenant_rate: u32,
    pub client_rate: u32,
    pub max_concurrent_requests: usize,
    #[serde(with = "duration")]
    pub request_timeout: Duration,
    /// Connections open at once; more wait to be accepted.
    pub max_connections: usize,
    /// Longest wait for a request head (from the connection's opening or the head's first byte).
    #[serde(with = "duration")]
    pub header_timeout: Duration,
    /// Longest a keep-alive connection stays open without a request.
    #[serde(with = "duration")]
    pub idle_timeout: Duration,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        let c = crate::http::connections::ConnLimits::default();
        LimitsConfig {
            tenant_rate: 0,
            client_rate: 0,
            max_concurrent_requests: 1024,
            request_timeout: Duration::from_secs(60),
            max_connections: c.max_connections,
            header_timeout: c.header_timeout,
            idle_timeout: c.idle_timeout,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OAuthSection {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    pub token_path: String,
    pub lockout_threshold: i64,
    pub lockout_threshold_total: i64,
    #[serde(with = "duration")]
    pub lockout: Duration,
    #[serde(with = "duration")]
    pub key_reload: Duration,
    /// How long a spent refresh token may be presented again (a retried refresh) and get
    /// the same answer before a reuse revokes its login; zero: never.
    #[serde(with = "duration")]
    pub refresh_grace: Duration,
}

impl Default for OAuthSection {
    fn default() -> Self {
        OAuthSection {
            issuer: None,
            token_path: "/oauth2/token".into(),
            lockout_threshold: 5,
            lockout_threshold_total: 50,
            lockout: Duration::from_secs(300),
            key_reload: Duration::from_secs(30),
            refresh_grace: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Details {
    Off,
    Changes,
    All,
}

impl Details {
    pub fn level(self) -> scimd_store::DetailsLevel {
        match self {
            Details::Off => scimd_store::DetailsLevel::Off,
            Details::Changes => scimd_store::DetailsLevel::Changes,
            Details::All => scimd_store::DetailsLevel::All,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditSection {
    pub details: Details,
    pub days: i64,
}

impl Default for AuditSection {
    fn default() -> Self {
        AuditSection { details: Details::Changes, days: 90 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A `tracing` filter: `info`, `warn,scimd::request=info`, …
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig { format: LogFormat::Human, level: "info".into() }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    pub enabled: bool,
    /// A separate address for `/metrics` (and the health checks), open to whoever reaches
    /// it; without it `/metrics` is on the main address and needs an operator token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig { enabled: true, listen: None }
    }
}

/// Event streams: when a stream whose deliveries keep failing counts as failing (its
/// status in `scimd events stream list` and the admin API, read by the delivery too).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventsSection {
    /// How long a stream's deliveries fail without a success before it is marked failing.
    #[serde(with = "duration")]
    pub failing_after: Duration,
    /// How long an event is kept for a stream that has not delivered it; older events are
    /// dropped and counted on the streams that lose them.
    #[serde(with = "duration")]
    pub retention: Duration,
}

impl Default for EventsSection {
    fn default() -> Self {
        EventsSection { failing_after: Duration::from_secs(600), retention: Duration::from_secs(7 * 24 * 3600) }
    }
}

/// The lifecycle of provisioned resources: how long a deleted resource's tombstone (its id,
/// name and externalId, for a profile that re-provisions: `reprovision`) and the record of
/// each user deactivation's time are kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LifecycleSection {
    /// How long tombstones and deactivation times are kept; a POST after that makes a new
    /// resource, whatever the profile says.
    #[serde(with = "duration")]
    pub retention: Duration,
}

impl Default for LifecycleSection {
    fn default() -> Self {
        LifecycleSection { retention: Duration::from_secs(30 * 24 * 3600) }
    }
}

/// The portal (the web console under `/portal/`): whether it is served, how long its
/// sessions and invitations last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PortalSection {
    /// Whether the portal is served under /portal/ (operators: `scimd operator create`).
    pub enabled: bool,
    /// A session unused this long ends (the person signs in again).
    #[serde(with = "duration")]
    pub session_idle: Duration,
    /// A session ends this long after its sign-in, used or not.
    #[serde(with = "duration")]
    pub session_max: Duration,
    /// How long an invitation link works.
    #[serde(with = "duration")]
    pub invite_ttl: Duration,
}

impl Default for PortalSection {
    fn default() -> Self {
        let d = crate::portal::PortalSettings::default();
        PortalSection {
            enabled: true,
            session_idle: d.session_idle,
            session_max: d.session_max,
            invite_ttl: d.invite_ttl,
        }
    }
}

/// The master key that seals the secrets scimd keeps in the database (see `seal`), and
/// during a rotation the previous one. Each can be given itself (`SCIMD_SECRETS__MASTER_KEY`)
/// or, better, as a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct SecretsConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master_key_file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_master_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_master_key_file: Option<String>,
}

impl SecretsConfig {
    /// The keyring of this section (its keys already read from their files).
    pub fn keyring(&self) -> Result<Keyring, String> {
        let parse = |key: &str, text: &Option<String>| -> Result<Option<MasterKey>, String> {
            text.as_deref().map(|t| MasterKey::from_text(t).map_err(|e| format!("{key}: {e}"))).transpose()
        };
        let current = parse("secrets.master_key", &self.master_key)?;
        let previous = parse("secrets.previous_master_key", &self.previous_master_key)?;
        match (current, previous) {
            (None, None) => Ok(Keyring::none()),
            (None, Some(_)) => Err("secrets.previous_master_key is set without secrets.master_key: a previous key \
                                    only helps the current one during a rotation"
                .into()),
            (Some(cur), prev) => {
                if prev.as_ref().is_some_and(|p| p.id() == cur.id()) {
                    return Err("secrets.previous_master_key is the current master key".into());
                }
                Ok(Keyring::new(cur, prev.into_iter().collect()))
            }
        }
    }
}

/// A tenant declared in the file: created if missing, then given these settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    pub name: String,
    /// The SCIM feature (default on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scim: Option<bool>,
    /// A built-in preset's profile (`locker`, `staffing`, `visitor`, `workflow`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    /// A whole profile, inline (see the book's "Tenant profiles").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<toml::Table>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_details: Option<Details>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_events_days: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_details_days: Option<i64>,
}

impl TenantConfig {
    /// The profile to give the tenant: the inline one, else the preset's, else none
    /// (the tenant's profile is left as it is).
    pub fn profile_json(&self) -> Result<Option<serde_json::Value>, String> {
        if let Some(p) = &self.profile {
            return serde_json::to_value(p).map(Some).map_err(|e| format!("tenant '{}': profile: {e}", self.name));
        }
        match &self.preset {
            Some(name) => crate::presets::preset(name).map(Some).ok_or_else(|| {
                format!("tenant '{}': no preset named '{name}' (there are: {})", self.name, crate::presets::names())
            }),
            None => Ok(None),
        }
    }
}

/// Durations as humantime text (`30s`, `5m`, `1h 30m`).
mod duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text)
            .map_err(|e| serde::de::Error::custom(format!("'{text}' is not a duration ({e}); write e.g. 30s, 5m, 1h")))
    }
}

/// One layer of settings: a tree of TOML values.
type Layer = toml::Table;

/// Values set on the command line, by dotted key (`server.listen`).
#[derive(Debug, Default)]
pub struct Flags(BTreeMap<&'static str, toml::Value>);

impl Flags {
    /// Records a flag that was given.
    pub fn set<T: Into<toml::Value>>(&mut self, key: &'static str, value: Option<T>) {
        if let Some(v) = value {
            self.0.insert(key, v.into());
        }
    }

    /// Records a duration flag that was given.
    pub fn set_duration(&mut self, key: &'static str, value: Option<Duration>) {
        self.set(key, value.map(|d| humantime::format_duration(d).to_string()));
    }

    /// Records a flag whose value is one of an enum's names.
    pub fn set_name<T: Serialize>(&mut self, key: &'static str, value: Option<T>) {
        if let Some(name) = value.and_then(|v| toml::Value::try_from(v).ok()) {
            self.0.insert(key, name);
        }
    }
}

/// Loads the configuration: defaults, then the file (if any), then `SCIMD_…__…`
/// variables of `env`, then `flags`; then reads secrets from their files and checks the
/// result. Errors name the offending key and its source.
pub fn load(
    file: Option<&str>,
    env: impl IntoIterator<Item = (String, String)>,
    flags: &Flags,
) -> Result<Config, String> {
    let mut merged = Layer::new();
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read the configuration {path}: {e}"))?;
        // Parsed alone first, so its errors point at a line of the file.
        toml::from_str::<Config>(&text).map_err(|e| format!("configuration {path}: {}", one_line(&e.to_string())))?;
        let table: Layer = toml::from_str(&text).map_err(|e| format!("configuration {path}: {e}"))?;
        merge(&mut merged, table);
    }
    let mut vars: Vec<(String, String)> =
        env.into_iter().filter(|(k, _)| k.starts_with("SCIMD_") && k.contains("__")).collect();
    vars.sort();
    for (name, raw) in vars {
        let path: Vec<String> = name["SCIMD_".len()..].split("__").map(str::to_ascii_lowercase).collect();
        if path.iter().any(String::is_empty) {
            return Err(format!("environment variable {name}: empty key segment"));
        }
        let layer = nested(&path, env_value(&raw));
        check_layer(&layer).map_err(|e| format!("environment variable {name} ({}): {e}", path.join(".")))?;
        merge(&mut merged, layer);
    }
    for (key, value) in &flags.0 {
        let path: Vec<String> = key.split('.').map(str::to_string).collect();
        merge(&mut merged, nested(&path, value.clone()));
    }
    let mut config: Config =
        toml::Value::Table(merged).try_into().map_err(|e: toml::de::Error| one_line(&e.to_string()))?;
    config.resolve_secrets()?;
    config.check()?;
    Ok(config)
}

/// Whether a layer holds only known keys of the right types.
fn check_layer(layer: &Layer) -> Result<(), String> {
    toml::Value::Table(layer.clone()).try_into::<Config>().map(|_| ()).map_err(|e| one_line(&e.to_string()))
}

/// A TOML error on one line: where (with the offending line of the file), then what.
fn one_line(s: &str) -> String {
    let mut parts = Vec::new();
    for l in s.trim().lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('|')) {
        match l.split_once(" | ") {
            Some((n, source)) if n.parse::<u32>().is_ok() => parts.push(format!("`{}`", source.trim())),
            _ => parts.push(l.to_string()),
        }
    }
    parts.join(": ")
}

/// An environment variable's text as a TOML value: integers and booleans as such,
/// anything else as a string.
fn env_value(raw: &str) -> toml::Value {
    if let Ok(i) = raw.parse::<i64>() {
        return toml::Value::Integer(i);
    }
    match raw {
        "true" => toml::Value::Boolean(true),
        "false" => toml::Value::Boolean(false),
        _ => toml::Value::String(raw.to_string()),
    }
}

fn nested(path: &[String], value: toml::Value) -> Layer {
    let mut v = value;
    for key in path.iter().rev() {
        let mut t = Layer::new();
        t.insert(key.clone(), v);
        v = toml::Value::Table(t);
    }
    match v {
        toml::Value::Table(t) => t,
        _ => Layer::new(),
    }
}

/// `over` on top of `base`: tables merge key by key, anything else replaces.
fn merge(base: &mut Layer, over: Layer) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// A secret read from a file: its text without the trailing line break.
fn read_secret(key: &str, path: &str) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{key}: cannot read {path}: {e}"))?;
    let text = text.trim_end_matches(['\r', '\n']).to_string();
    if text.is_empty() {
        return Err(format!("{key}: {path} is empty"));
    }
    Ok(text)
}

impl Config {
    /// Replaces `…_file` settings by the files' contents.
    fn resolve_secrets(&mut self) -> Result<(), String> {
        if let Some(path) = self.database.url_file.take() {
            self.database.url = read_secret("database.url_file", &path)?;
        }
        if let Some(path) = self.server.admin_token_file.take() {
            if self.server.admin_token.is_some() {
                return Err("server.admin_token and server.admin_token_file are both set: keep one".into());
            }
            self.server.admin_token = Some(read_secret("server.admin_token_file", &path)?);
        }
        let s = &mut self.secrets;
        for (value, file, key) in [
            (&mut s.master_key, &mut s.master_key_file, "master_key"),
            (&mut s.previous_master_key, &mut s.previous_master_key_file, "previous_master_key"),
        ] {
            if let Some(path) = file.take() {
                if value.is_some() {
                    return Err(format!("secrets.{key} and secrets.{key}_file are both set: keep one"));
                }
                *value = Some(read_secret(&format!("secrets.{key}_file"), &path)?);
            }
        }
        Ok(())
    }

    /// Checks what the types alone do not.
    fn check(&self) -> Result<(), String> {
        let t = &self.oauth.token_path;
        if !t.starts_with('/') || t.starts_with("/scim/") {
            return Err(format!("oauth.token_path '{t}' must start with '/' and lie outside /scim/"));
        }
        if self.server.default_page_size == 0 || self.server.max_page_size == 0 {
            return Err("server.default_page_size and server.max_page_size must be at least 1".into());
        }
        if self.limits.request_timeout < Duration::from_millis(100) {
            return Err("limits.request_timeout must be at least 100ms".into());
        }
        for (key, d) in [("header_timeout", self.limits.header_timeout), ("idle_timeout", self.limits.idle_timeout)] {
            if d < Duration::from_millis(100) {
                return Err(format!("limits.{key} must be at least 100ms"));
            }
        }
        if self.events.failing_after < Duration::from_secs(1) {
            return Err("events.failing_after must be at least 1s".into());
        }
        if self.portal.session_idle < Duration::from_secs(60) || self.portal.session_max < self.portal.session_idle {
            return Err("portal.session_idle must be at least 1m, and portal.session_max at least as long".into());
        }
        if self.portal.invite_ttl < Duration::from_secs(60) {
            return Err("portal.invite_ttl must be at least 1m".into());
        }
        if self.events.retention < Duration::from_secs(60) {
            return Err("events.retention must be at least 1m".into());
        }
        if self.lifecycle.retention < Duration::from_secs(3600) {
            return Err("lifecycle.retention must be at least 1h".into());
        }
        if self.limits.max_connections == 0 {
            return Err("limits.max_connections must be at least 1".into());
        }
        if self.server.admin_token.as_ref().is_some_and(|t| t.trim().len() < 32) {
            return Err("server.admin_token must have at least 32 characters".into());
        }
        self.secrets.keyring()?;
        self.check_messaging()?;
        tracing_subscriber::EnvFilter::try_new(&self.log.level)
            .map_err(|e| format!("log.level '{}': {e}", self.log.level))?;
        let mut names = std::collections::HashSet::new();
        for t in &self.tenants {
            if !names.insert(t.name.to_lowercase()) {
                return Err(format!("tenant '{}' is declared twice", t.name));
            }
            if t.profile.is_some() && t.preset.is_some() {
                return Err(format!("tenant '{}': give either preset or profile, not both", t.name));
            }
            t.profile_json()?;
        }
        Ok(())
    }

    /// The configuration as TOML, with secrets replaced by `***`.
    pub fn to_redacted_toml(&self) -> String {
        let mut c = self.clone();
        c.database.url = redacted_url(&c.database.url);
        if c.server.admin_token.is_some() {
            c.server.admin_token = Some("***".into());
        }
        for key in [&mut c.secrets.master_key, &mut c.secrets.previous_master_key] {
            if key.is_some() {
                *key = Some("***".into());
            }
        }
        c.redact_messaging();
        toml::to_string(&c).unwrap_or_else(|e| format!("# cannot show the configuration: {e}\n"))
    }
}

/// The SQLite path of a database URL.
pub fn sqlite_path(url: &str) -> Result<String, String> {
    if let Some(p) = url.strip_prefix("sqlite://") {
        return Ok(p.to_string());
    }
    if let Some(p) = url.strip_prefix("sqlite:") {
        return Ok(p.to_string());
    }
    if url.contains("://") {
        return Err(format!(
            "unsupported database URL '{}': use sqlite://PATH or postgres://USER@HOST/DATABASE",
            redacted_url(url)
        ));
    }
    Ok(url.to_string())
}

/// Whether a database URL names PostgreSQL.
pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// A database URL fit for logs and messages: without its password.
pub fn redacted_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let (authority, tail) = rest.split_once('/').map_or((rest, None), |(a, t)| (a, Some(t)));
    let authority = match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _)) => format!("{name}:***@{host}"),
            None => authority.to_string(),
        },
        None => authority.to_string(),
    };
    // A password can also come as a query parameter.
    let tail = tail.map(|t| match t.split_once('?') {
        Some((db, query)) if query.contains("password=") => format!("{db}?***"),
        _ => t.to_string(),
    });
    match tail {
        Some(t) => format!("{scheme}://{authority}/{t}"),
        None => format!("{scheme}://{authority}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_printed_default_parses_to_the_defaults() {
        let parsed: Config = toml::from_str(DEFAULT_TOML).unwrap();
        assert_eq!(parsed, Config::default());
    }

    #[test]
    fn every_commented_example_in_the_printed_default_is_a_valid_setting() {
        // `# key = value` lines and `# [section]` headers, uncommented.
        let uncommented: String = DEFAULT_TOML
            .lines()
            .map(|l| {
                let rest = l.strip_prefix("# ").unwrap_or(l);
                let is_setting = rest.starts_with('[')
                    || rest.split_once(" = ").is_some_and(|(k, _)| {
                        !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c == '.')
                    });
                if is_setting && l.starts_with("# ") { rest.to_string() } else { l.to_string() }
            })
            .collect::<Vec<_>>()
            .join("\n");
        let c: Config = toml::from_str(&uncommented).unwrap_or_else(|e| panic!("{e}\n{uncommented}"));
        assert!(c.server.public_url.is_some() && c.metrics.listen.is_some(), "{c:?}");
        assert!(!c.tenants.is_empty(), "{c:?}");
        for t in &c.tenants {
            t.profile_json().unwrap();
        }
    }

    #[test]
    fn layers_apply_in_order_and_env_values_take_their_types() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "[server]\nlisten = \"127.0.0.1:1\"\nworkers = 3\n[limits]\ntenant_rate = 7\n").unwrap();
        let mut flags = Flags::default();
        flags.set("server.workers", Some(5_i64));
        let c = load(
            file.to_str(),
            env(&[("SCIMD_SERVER__LISTEN", "127.0.0.1:2"), ("SCIMD_LOG__FORMAT", "json"), ("SCIMD_SKIP", "x")]),
            &flags,
        )
        .unwrap();
        assert_eq!(c.server.listen, "127.0.0.1:2");
        assert_eq!(c.server.workers, 5);
        assert_eq!(c.limits.tenant_rate, 7);
        assert_eq!(c.log.format, LogFormat::Json);
        assert_eq!(c.database, DatabaseConfig::default());
    }

    #[test]
    fn unknown_keys_are_named_with_their_source() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.toml");
        std::fs::write(&file, "[server]\nlisten = \"127.0.0.1:1\"\nlistne = \"x\"\n").unwrap();
        let e = load(file.to_str(), env(&[]), &Flags::default()).unwrap_err();
        assert!(e.contains("listne") && e.contains("c.toml") && e.contains("line 3"), "{e}");
        let e = load(None, env(&[("SCIMD_DATABSE__URL", "x")]), &Flags::default()).unwrap_err();
        assert!(e.contains("SCIMD_DATABSE__URL") && e.contains("databse"), "{e}");
        let e = load(None, env(&[("SCIMD_SERVER__WORKERS", "many")]), &Flags::default()).unwrap_err();
        assert!(e.contains("SCIMD_SERVER__WORKERS") && e.contains("many"), "{e}");
    }

    #[test]
    fn secrets_come_from_files() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("url");
        std::fs::write(&secret, "postgres://scimd:s3cret@db/scimd\n").unwrap();
        let c = load(None, env(&[("SCIMD_DATABASE__URL_FILE", secret.to_str().unwrap())]), &Flags::default()).unwrap();
        assert_eq!(c.database.url, "postgres://scimd:s3cret@db/scimd");
        assert!(!c.to_redacted_toml().contains("s3cret"));
        let e = load(None, env(&[("SCIMD_DATABASE__URL_FILE", "/nonexistent/x")]), &Flags::default()).unwrap_err();
        assert!(e.contains("database.url_file") && e.contains("/nonexistent/x"), "{e}");
    }

    #[test]
    fn master_keys_come_from_files_or_the_environment_and_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("key");
        let key = crate::seal::MasterKey::generate_text();
        std::fs::write(&file, format!("{key}\n")).unwrap();
        let c =
            load(None, env(&[("SCIMD_SECRETS__MASTER_KEY_FILE", file.to_str().unwrap())]), &Flags::default()).unwrap();
        assert_eq!(c.secrets.master_key.as_deref(), Some(key.as_str()));
        assert!(!c.to_redacted_toml().contains(&key));
        let other = crate::seal::MasterKey::generate_text();
        let c = load(
            None,
            env(&[
                ("SCIMD_SECRETS__MASTER_KEY", &other),
                ("SCIMD_SECRETS__PREVIOUS_MASTER_KEY_FILE", file.to_str().unwrap()),
            ]),
            &Flags::default(),
        )
        .unwrap();
        assert!(c.secrets.keyring().unwrap().is_configured());
        let e = load(None, env(&[("SCIMD_SECRETS__MASTER_KEY", "not a key")]), &Flags::default()).unwrap_err();
        assert!(e.contains("secrets.master_key") && !e.contains("not a key"), "{e}");
        let e = load(None, env(&[("SCIMD_SECRETS__PREVIOUS_MASTER_KEY", &key)]), &Flags::default()).unwrap_err();
        assert!(e.contains("without secrets.master_key"), "{e}");
    }
}
