//! `scimd serve` and `scimd healthcheck`: the flags of `serve`, and the server's lifecycle
//! from a [`Config`] — the tenants the configuration declares, the background tasks
//! (`background`), the main and metrics listeners, and SIGTERM: stop accepting, answer the
//! requests in flight for up to `server.shutdown_grace`, write the audit backlog, exit.

use std::sync::Arc;

use clap::Args;

use super::database::Database;
use super::ttl_secs;
use crate::config::{Config, Details, Flags};
use crate::http::MetricsAccess;
use crate::{AppState, HttpConfig, Service, ServiceConfig};

/// Flags of `serve`; each overrides its configuration key (shown in brackets with its
/// default; `scimd config print-default` explains them all).
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on. [server.listen; 127.0.0.1:8080]
    #[arg(long, env = "SCIMD_LISTEN")]
    pub listen: Option<String>,
    /// Public base URL of the SCIM API (e.g. `https://scim.example.com/scim/v2`), used in
    /// `meta.location` and `Location`; derived from the Host header when unset. [server.public_url]
    #[arg(long, env = "SCIMD_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Read `X-Forwarded-Proto` (when `--public-url` is unset): only behind a proxy that
    /// sets it on every request. [server.trust_forwarded_headers; false]
    #[arg(long, env = "SCIMD_TRUST_FORWARDED_HEADERS", num_args = 0..=1, default_missing_value = "true")]
    pub trust_forwarded_headers: Option<bool>,
    /// Page size when a list request gives no `count`. [server.default_page_size; 100]
    #[arg(long, env = "SCIMD_DEFAULT_PAGE_SIZE")]
    pub default_page_size: Option<u64>,
    /// Largest page a list request may ask for. [server.max_page_size; 1000]
    #[arg(long, env = "SCIMD_MAX_PAGE_SIZE")]
    pub max_page_size: Option<u64>,
    /// Largest request body, in bytes. [server.max_body_bytes; 1048576]
    #[arg(long, env = "SCIMD_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// How long SIGTERM waits for requests in flight before exiting anyway.
    /// [server.shutdown_grace; 30s]
    #[arg(long, env = "SCIMD_SHUTDOWN_GRACE", value_parser = humantime::parse_duration)]
    pub shutdown_grace: Option<std::time::Duration>,
    /// Requests per second one tenant may make, in a burst of as many (0: no limit); more
    /// get 429 with Retry-After. Per process. [limits.tenant_rate; 0]
    #[arg(long, env = "SCIMD_TENANT_RATE")]
    pub tenant_rate: Option<u32>,
    /// Requests per second one client (OAuth client or long-lived token) may make (0: no
    /// limit). [limits.client_rate; 0]
    #[arg(long, env = "SCIMD_CLIENT_RATE")]
    pub client_rate: Option<u32>,
    /// Requests handled at once; more get 503 at once. [limits.max_concurrent_requests; 1024]
    #[arg(long, env = "SCIMD_MAX_CONCURRENT_REQUESTS")]
    pub max_concurrent_requests: Option<usize>,
    /// Longest a request may take; longer gets 503. [limits.request_timeout; 60s]
    #[arg(long, env = "SCIMD_REQUEST_TIMEOUT", value_parser = humantime::parse_duration)]
    pub request_timeout: Option<std::time::Duration>,
    /// Connections open at once; more wait to be accepted until one closes.
    /// [limits.max_connections; 4096]
    #[arg(long, env = "SCIMD_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    /// Longest wait for a request's headers, from the connection's opening (or the first
    /// byte of a later request); then the connection is closed. [limits.header_timeout; 10s]
    #[arg(long, env = "SCIMD_HEADER_TIMEOUT", value_parser = humantime::parse_duration)]
    pub header_timeout: Option<std::time::Duration>,
    /// Longest a keep-alive connection stays open without a request. [limits.idle_timeout; 60s]
    #[arg(long, env = "SCIMD_IDLE_TIMEOUT", value_parser = humantime::parse_duration)]
    pub idle_timeout: Option<std::time::Duration>,
    /// Threads serving requests (0: one per CPU core). Database reads run on them; writes
    /// run on one writer thread of their own. Fewer than the cores leaves them to other
    /// programs on the machine. [server.workers; 0]
    #[arg(long, env = "SCIMD_WORKERS")]
    pub workers: Option<usize>,
    /// Issuer (`iss`) of access tokens and of the authorization-server metadata, e.g.
    /// `https://scim.example.com`; when unset, the public URL's origin, else derived from
    /// the Host header. [oauth.issuer]
    #[arg(long, env = "SCIMD_ISSUER")]
    pub issuer: Option<String>,
    /// Path of the OAuth 2.0 token endpoint. [oauth.token_path; /oauth2/token]
    #[arg(long, env = "SCIMD_TOKEN_PATH")]
    pub token_path: Option<String>,
    /// Failed logins of a client id or API username from one address before that address
    /// is locked out for it. [oauth.lockout_threshold; 5]
    #[arg(long, env = "SCIMD_LOCKOUT_THRESHOLD")]
    pub lockout_threshold: Option<i64>,
    /// Failed logins of a client id or API username from all addresses together before it
    /// is locked out for everyone. [oauth.lockout_threshold_total; 50]
    #[arg(long, env = "SCIMD_LOCKOUT_THRESHOLD_TOTAL")]
    pub lockout_threshold_total: Option<i64>,
    /// How long a lockout lasts. [oauth.lockout; 5m]
    #[arg(long, env = "SCIMD_LOCKOUT", value_parser = humantime::parse_duration)]
    pub lockout: Option<std::time::Duration>,
    /// How often signing keys are reloaded from the database: the longest a key retired
    /// through another replica (or the command line) keeps verifying tokens here. A new
    /// key is picked up at once (an unknown `kid` reloads them). [oauth.key_reload; 30s]
    #[arg(long, env = "SCIMD_KEY_RELOAD", value_parser = humantime::parse_duration)]
    pub key_reload: Option<std::time::Duration>,
    /// How long a spent refresh token may be presented again and get the same new pair (a
    /// client retrying a refresh whose response it lost) before a reuse counts as theft and
    /// revokes the login; 0s: never. [oauth.refresh_grace; 10s]
    #[arg(long, env = "SCIMD_REFRESH_GRACE", value_parser = humantime::parse_duration)]
    pub refresh_grace: Option<std::time::Duration>,
    /// A file holding an operator token for the admin API (`/admin/v1`) and `/metrics`,
    /// besides those created by `scimd admin-token create`. A file, so the token is not in
    /// `ps` output. [server.admin_token_file]
    #[arg(long, env = "SCIMD_ADMIN_TOKEN_FILE")]
    pub admin_token_file: Option<String>,
    /// Keep payloads (redacted) of requests with no known tenant (failed authentication,
    /// token and admin requests); tenants have their own setting (`tenant set`).
    /// [audit.details; changes]
    #[arg(long, env = "SCIMD_AUDIT_DETAILS", value_enum)]
    pub audit_details: Option<Details>,
    /// Days events with no tenant, and the error log, are kept. [audit.days; 90]
    #[arg(long, env = "SCIMD_AUDIT_DAYS")]
    pub audit_days: Option<i64>,
    /// A separate address for `/metrics` and the health checks (open to whoever reaches
    /// it); without it `/metrics` is on `--listen` and needs an operator token. [metrics.listen]
    #[arg(long, env = "SCIMD_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
}

#[derive(Debug, Args)]
pub struct HealthcheckArgs {
    /// The server's base URL (default: from `server.listen`, or `metrics.listen` when set).
    #[arg(long)]
    pub url: Option<String>,
    /// Ask `/healthz` (the process answers) instead of `/readyz` (it can serve).
    #[arg(long)]
    pub live: bool,
    /// Give up on one attempt after this long.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "5s")]
    pub timeout: std::time::Duration,
    /// Keep asking, twice a second, for up to this long (a server starting up).
    #[arg(long, value_parser = humantime::parse_duration)]
    pub wait: Option<std::time::Duration>,
}

impl ServeArgs {
    /// Its flags, as configuration keys over the file and the environment.
    pub(super) fn flags(&self, f: &mut Flags) {
        f.set("server.listen", self.listen.clone());
        f.set("server.public_url", self.public_url.clone());
        f.set("server.trust_forwarded_headers", self.trust_forwarded_headers);
        f.set("server.workers", self.workers.map(|n| n as i64));
        f.set("server.default_page_size", self.default_page_size.map(|n| n as i64));
        f.set("server.max_page_size", self.max_page_size.map(|n| n as i64));
        f.set("server.max_body_bytes", self.max_body_bytes.map(|n| n as i64));
        f.set_duration("server.shutdown_grace", self.shutdown_grace);
        f.set("server.admin_token_file", self.admin_token_file.clone());
        f.set("limits.tenant_rate", self.tenant_rate.map(i64::from));
        f.set("limits.client_rate", self.client_rate.map(i64::from));
        f.set("limits.max_concurrent_requests", self.max_concurrent_requests.map(|n| n as i64));
        f.set_duration("limits.request_timeout", self.request_timeout);
        f.set("limits.max_connections", self.max_connections.map(|n| n as i64));
        f.set_duration("limits.header_timeout", self.header_timeout);
        f.set_duration("limits.idle_timeout", self.idle_timeout);
        f.set("oauth.issuer", self.issuer.clone());
        f.set("oauth.token_path", self.token_path.clone());
        f.set("oauth.lockout_threshold", self.lockout_threshold);
        f.set("oauth.lockout_threshold_total", self.lockout_threshold_total);
        f.set_duration("oauth.lockout", self.lockout);
        f.set_duration("oauth.key_reload", self.key_reload);
        f.set_duration("oauth.refresh_grace", self.refresh_grace);
        f.set_name("audit.details", self.audit_details);
        f.set("audit.days", self.audit_days);
        f.set("metrics.listen", self.metrics_listen.clone());
    }
}

/// `scimd serve`: runs until SIGTERM or Ctrl-C, then drains.
pub(super) async fn serve(cfg: &Config, db: Database) -> Result<(), String> {
    let Database { store, clock, keyring, admin } = db;
    let mut config = ServiceConfig { keyring: keyring.clone(), ..ServiceConfig::default() };
    config.page.default_count = cfg.server.default_page_size;
    config.page.max_count = cfg.server.max_page_size;
    config.spc.filter_max_results = cfg.server.max_page_size;
    let o = &cfg.oauth;
    let oauth_config = crate::oauth::OAuthConfig {
        issuer: o.issuer.as_ref().map(|i| i.trim_end_matches('/').to_string()),
        token_path: o.token_path.clone(),
        lockout_threshold: o.lockout_threshold.max(1),
        lockout_threshold_total: o.lockout_threshold_total.max(o.lockout_threshold).max(1),
        lockout_secs: ttl_secs(o.lockout, "oauth.lockout")?,
        key_reload: o.key_reload.max(std::time::Duration::from_millis(100)),
        keyring: keyring.clone(),
        refresh_grace: o.refresh_grace,
        // Plain http to key sets and issuers only in tests, as the portal's sign-in.
        federation_allow_http_loopback: false,
    };
    seal_secrets(&*store, &keyring).await?;
    apply_tenants(cfg, &admin).await?;
    warn_user_name_issues(&*store).await;
    let oauth = crate::oauth::OAuth::new(store.clone(), clock.clone(), oauth_config)
        .await
        .map_err(|e| format!("cannot start the authorization server: {e:?}"))?;
    let service = Arc::new(Service::new(store.clone(), clock.clone(), config));
    let admin_token = cfg.server.admin_token.as_deref().map(|t| crate::auth::hash_token(t.trim()));
    let oauth = Arc::new(oauth);
    let sink = crate::audit::AuditSink::start(store.clone());
    // OAuth purge and audit retention: see `background`.
    let portal = Arc::new(
        crate::portal::Portal::new(store.clone(), clock.clone(), keyring.clone(), super::portal_settings(cfg))
            .with_sign_in(oauth.clone()),
    );
    let housekeeping = crate::background::housekeeping(
        oauth.clone(),
        portal.clone(),
        store.clone(),
        cfg.audit.days.max(1),
        cfg.lifecycle.retention,
    );
    let metrics = match (cfg.metrics.enabled, &cfg.metrics.listen) {
        (false, _) => MetricsAccess::Off,
        (true, Some(_)) => MetricsAccess::Separate,
        (true, None) => MetricsAccess::Operators,
    };
    let l = &cfg.limits;
    let conn_limits = crate::http::connections::ConnLimits {
        header_timeout: l.header_timeout,
        idle_timeout: l.idle_timeout,
        max_connections: l.max_connections,
    };
    let events = crate::events::Events::new(
        store.clone(),
        service.clone(),
        oauth.clone(),
        keyring.clone(),
        cfg.server.public_url.as_deref(),
        crate::events::EventsConfig {
            failing_after: cfg.events.failing_after,
            retention: cfg.events.retention,
            ..Default::default()
        },
    )
    .map_err(|e| format!("cannot start event delivery: {e:?}"))?;
    let admin = Arc::new(admin.with_sink(sink.clone()));
    let onboard = super::onboarding_for(cfg, store.clone(), clock.clone(), admin.clone(), portal.clone())?;
    let state = AppState::new(crate::AppParts {
        onboard: Arc::new(onboard),
        mounts: Default::default(),
        service,
        events: Arc::new(events),
        oauth: oauth.clone(),
        portal: portal.clone(),
        admin,
        http: Arc::new(HttpConfig {
            max_body_bytes: cfg.server.max_body_bytes,
            public_url: cfg.server.public_url.clone(),
            trust_forwarded_headers: cfg.server.trust_forwarded_headers,
            admin_token,
            audit_details: cfg.audit.details.level(),
            limits: crate::http::limits::Limits {
                tenant_per_sec: l.tenant_rate,
                client_per_sec: l.client_rate,
                max_concurrent: l.max_concurrent_requests,
                request_timeout: l.request_timeout,
                connections: conn_limits,
            },
            metrics,
            portal: cfg.portal.enabled,
        }),
        audit: sink.clone(),
    });
    let listener = tokio::net::TcpListener::bind(&cfg.server.listen)
        .await
        .map_err(|e| format!("cannot listen on {} (server.listen): {e}", cfg.server.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // SIGTERM or Ctrl-C: one signal that every listener and the grace timer follow.
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let signal_state = state.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        signal_state.start_draining();
        let _ = stop_tx.send(true);
    });
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let metrics_task = match (metrics, &cfg.metrics.listen) {
        (MetricsAccess::Separate, Some(at)) => {
            let l = tokio::net::TcpListener::bind(at)
                .await
                .map_err(|e| format!("cannot listen on {at} (metrics.listen): {e}"))?;
            let maddr = l.local_addr().map_err(|e| e.to_string())?;
            tracing::info!(addr = %maddr, "metrics and health checks on {maddr}");
            // It answers until the main server has drained: `/readyz` says it is shutting down.
            let app = crate::http::metrics_router(state.clone());
            Some(tokio::spawn(crate::http::connections::serve(l, app, conn_limits, std::future::pending())))
        }
        _ => None,
    };
    let database = crate::config::redacted_url(&cfg.database.url);
    tracing::info!(%addr, %database, version = crate::VERSION, "scimd listening on {addr}");
    let grace = cfg.server.shutdown_grace;
    let server = crate::serve(listener, state.clone(), stopped(stop.clone()));
    let overtime = async {
        stopped(stop.clone()).await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        r = server => r.map_err(|e| e.to_string())?,
        () = overtime => {
            let left = state.metrics().in_flight().get();
            tracing::warn!(requests = left, "requests still in flight after the shutdown grace period ({}); exiting anyway", humantime::format_duration(grace));
        }
    }
    if let Some(t) = metrics_task {
        t.abort();
    }
    drop(housekeeping);
    sink.flush().await;
    tracing::info!("scimd stopped");
    store.close();
    Ok(())
}

/// Seals, under the current master key, the secrets found in clear or under the previous
/// key; fails, naming the setting, if one does not open. Without a master key, warns.
async fn seal_secrets(store: &dyn scimd_store::Store, keyring: &crate::seal::Keyring) -> Result<(), String> {
    let done = crate::seal::reseal_all(store, keyring).await.map_err(|e| format!("cannot start: {e}"))?;
    match keyring.current_id() {
        None => tracing::warn!(
            "no master key (secrets.master_key_file, --master-key-file): the signing keys are stored in clear in \
             the database"
        ),
        Some(id) if done == Default::default() => tracing::info!(key = %id, "secrets sealed under master key {id}"),
        Some(id) => tracing::info!(
            key = %id,
            sealed = done.sealed,
            rekeyed = done.rekeyed,
            "sealed under master key {id}: {} secret(s) that were in clear, {} that were under the previous key",
            done.sealed,
            done.rekeyed
        ),
    }
    Ok(())
}

/// Makes the configuration's tenants exist with their settings. Several replicas may do
/// it at once: a tenant another one just created is taken as it is.
async fn apply_tenants(cfg: &Config, admin: &crate::admin::Admin) -> Result<(), String> {
    if cfg.tenants.is_empty() {
        return Ok(());
    }
    let existing = admin.list_tenants().await?;
    for t in &cfg.tenants {
        let known = existing.iter().any(|x| x.name.eq_ignore_ascii_case(&t.name));
        let scim = t.scim.unwrap_or(true);
        let created = match known {
            true => false,
            false => match admin.create_staged_tenant(&t.name, scim, scimd_store::Stage::Production).await {
                Ok(_) => true,
                Err(e) if admin.list_tenants().await?.iter().any(|x| x.name.eq_ignore_ascii_case(&t.name)) => {
                    tracing::debug!(error = %e, tenant = %t.name, "created meanwhile by another process");
                    false
                }
                Err(e) => return Err(format!("tenant '{}' of the configuration: {e}", t.name)),
            },
        };
        if let Some(profile) = t.profile_json()? {
            admin.set_profile(&t.name, Some(&profile)).await.map_err(|e| format!("tenant '{}': {e}", t.name))?;
        }
        if !created && t.scim.is_some() {
            admin.set_scim(&t.name, scim).await?;
        }
        if t.audit_details.is_some() || t.audit_events_days.is_some() || t.audit_details_days.is_some() {
            admin
                .set_audit(
                    &t.name,
                    t.audit_details.map(crate::config::Details::level),
                    t.audit_events_days,
                    t.audit_details_days,
                )
                .await
                .map_err(|e| format!("tenant '{}': {e}", t.name))?;
        }
        tracing::info!(tenant = %t.name, created, "tenant of the configuration in place");
    }
    Ok(())
}

/// `scimd healthcheck`: GET `/readyz` (or `/healthz`) of a running server.
pub(super) async fn healthcheck(cfg: &Config, args: HealthcheckArgs) -> Result<(), String> {
    let base = match args.url {
        Some(u) => u.trim_end_matches('/').to_string(),
        None => {
            let listen = cfg.metrics.listen.as_deref().filter(|_| cfg.metrics.enabled).unwrap_or(&cfg.server.listen);
            format!("http://{}", local_address(listen))
        }
    };
    let url = format!("{base}{}", if args.live { "/healthz" } else { "/readyz" });
    let client = reqwest::Client::builder().timeout(args.timeout).build().map_err(|e| e.to_string())?;
    let deadline = std::time::Instant::now() + args.wait.unwrap_or_default();
    loop {
        let outcome = match client.get(&url).send().await {
            Ok(res) => {
                let status = res.status();
                let text = res.text().await.unwrap_or_default();
                if status.is_success() {
                    println!("{url}: {}", text.trim());
                    return Ok(());
                }
                format!("{url}: {status}: {}", text.trim())
            }
            Err(e) => format!("{url}: {e}"),
        };
        if std::time::Instant::now() >= deadline {
            return Err(outcome);
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

/// An address to reach a listener bound to `listen` from this host (a wildcard address
/// is reached on loopback).
fn local_address(listen: &str) -> String {
    if let Some(port) = listen.strip_prefix("0.0.0.0:") {
        return format!("127.0.0.1:{port}");
    }
    if let Some(port) = listen.strip_prefix("[::]:") {
        return format!("[::1]:{port}");
    }
    listen.to_string()
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: no new connections; finishing the requests in flight");
}

/// Warns at start while users' names clash under the userName rule (or hold characters it
/// refuses) since it changed: `scimd migrate` lists them.
async fn warn_user_name_issues(store: &dyn scimd_store::Store) {
    match store.user_name_issues().await {
        Ok(issues) if !issues.is_empty() => {
            for i in issues.iter().take(20) {
                tracing::warn!(tenant = %i.tenant, user = %i.user_id, "userName needs the operator: {}", i.problem);
            }
            tracing::warn!(
                users = issues.len(),
                "users' userNames need the operator since the userName rule changed: `scimd migrate` lists them"
            );
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot read the userName issues"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn wildcard_listeners_are_reached_on_loopback() {
        assert_eq!(super::local_address("0.0.0.0:8080"), "127.0.0.1:8080");
        assert_eq!(super::local_address("[::]:9"), "[::1]:9");
        assert_eq!(super::local_address("10.0.0.5:80"), "10.0.0.5:80");
    }
}
