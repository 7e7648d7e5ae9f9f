//! `scimd serve` and `scimd healthcheck`: the server's lifecycle from a [`Config`] —
//! the tenants the configuration declares, the background tasks (`background`), the main and metrics
//! listeners, and SIGTERM: stop accepting, answer the requests in flight for up to
//! `server.shutdown_grace`, write the audit backlog, exit.

use std::sync::Arc;

use scimd_store::Store;

use super::{HealthcheckArgs, ttl_secs};
use crate::clock::Clock;
use crate::config::Config;
use crate::http::MetricsAccess;
use crate::{AppState, HttpConfig, Service, ServiceConfig};

pub(super) async fn serve(
    cfg: &Config,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    admin: crate::admin::Admin,
    keyring: Arc<crate::seal::Keyring>,
) -> Result<(), String> {
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
    };
    seal_secrets(&*store, &keyring).await?;
    apply_tenants(cfg, &admin).await?;
    warn_user_name_issues(&*store).await;
    let oauth = crate::oauth::OAuth::new(store.clone(), clock.clone(), oauth_config)
        .await
        .map_err(|e| format!("cannot start the authorization server: {e:?}"))?;
    let service = Service::new(store.clone(), clock, config);
    let admin_token = cfg.server.admin_token.as_deref().map(|t| crate::auth::hash_token(t.trim()));
    let oauth = Arc::new(oauth);
    let sink = crate::audit::AuditSink::start(store.clone());
    // OAuth purge and audit retention: see `background`.
    let housekeeping = crate::background::housekeeping(oauth.clone(), store.clone(), cfg.audit.days.max(1));
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
    let state = AppState::new(crate::AppParts {
        mounts: Default::default(),
        service: Arc::new(service),
        oauth,
        admin: Arc::new(admin.with_sink(sink.clone())),
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
async fn seal_secrets(store: &dyn Store, keyring: &crate::seal::Keyring) -> Result<(), String> {
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
            false => match admin.create_tenant(&t.name, scim).await {
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
