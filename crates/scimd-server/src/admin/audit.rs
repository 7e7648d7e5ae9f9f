//! The operator's reading of the audit trail, shared by the command line and the admin
//! API: a tenant's audit settings, its events (or those of no tenant) and their payloads,
//! the go-live summary, and the error log.

use chrono::{DateTime, Utc};
use scimd_store::{TenantId, normalized_time};

use super::{Admin, AdminError, AdminResult, TenantView, parse_time, store_err};

/// Which events an operator asks for.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub from: Option<String>,
    pub to: Option<String>,
    pub client: Option<String>,
    pub status: Option<u16>,
    /// Only statuses of this class (`4`: 400 to 499).
    pub status_class: Option<u16>,
    pub op: Option<String>,
    pub before: Option<i64>,
    pub limit: Option<u32>,
}

impl Admin {
    /// Changes a tenant's audit settings (what is `None` stays).
    pub async fn set_audit(
        &self,
        name: &str,
        details: Option<scimd_store::DetailsLevel>,
        events_days: Option<i64>,
        details_days: Option<i64>,
    ) -> AdminResult<TenantView> {
        let t = self.tenant(name).await?;
        let mut a = t.audit;
        a.details = details.unwrap_or(a.details);
        a.events_days = events_days.unwrap_or(a.events_days);
        a.details_days = details_days.unwrap_or(a.details_days);
        if a.events_days < 1 || a.details_days < 1 {
            return Err(AdminError::invalid("audit retention must be at least one day"));
        }
        if a.details_days > a.events_days {
            return Err(AdminError::invalid("payloads cannot be kept longer than their events"));
        }
        self.store.set_audit_settings(t.id, a).await.map_err(store_err(|| format!("no tenant named '{name}'")))?;
        Ok(TenantView {
            audit_details: a.details,
            audit_events_days: a.events_days,
            audit_details_days: a.details_days,
            ..t.into()
        })
    }

    pub(super) async fn flush(&self) {
        if let Some(s) = &self.sink {
            s.flush().await;
        }
    }

    /// A tenant's events, newest first (at most 1,000 a page; `before` pages on).
    /// A tenant's events, newest first; with no tenant, the events no tenant could be
    /// attributed to (requests without a credential, or with one naming no tenant).
    pub async fn audit_events(&self, tenant: Option<&str>, f: EventFilter) -> AdminResult<Vec<scimd_store::EventRow>> {
        let id = match tenant {
            Some(name) => self.tenant(name).await?.id,
            None => TenantId::NONE,
        };
        self.flush().await;
        let q = scimd_store::EventQuery {
            from: f.from.as_deref().map(|s| parse_time(s, "--from")).transpose()?.map(|t| t.timestamp_millis()),
            to: f.to.as_deref().map(|s| parse_time(s, "--to")).transpose()?.map(|t| t.timestamp_millis()),
            client: f.client,
            status: f.status,
            status_class: f.status_class,
            op: f.op,
            before: f.before,
            limit: f.limit.unwrap_or(100).clamp(1, 1000),
        };
        self.store.events(id, &q).await.map_err(AdminError::internal)
    }

    /// The redacted payloads of one of a tenant's events (with no tenant: of an event no
    /// tenant could be attributed to), or why there are none.
    pub async fn audit_event_details(
        &self,
        tenant: Option<&str>,
        event: i64,
    ) -> AdminResult<scimd_store::EventDetails> {
        let t = match tenant {
            Some(name) => Some(self.tenant(name).await?),
            None => None,
        };
        let id = t.as_ref().map_or(TenantId::NONE, |t| t.id);
        self.flush().await;
        if let Some(d) = self.store.event_details(id, event).await.map_err(AdminError::internal)? {
            return Ok(d);
        }
        // Say why: no such event of this tenant, or why it has no payloads.
        let q = scimd_store::EventQuery { before: Some(event.saturating_add(1)), limit: 1, ..Default::default() };
        let found = self.store.events(id, &q).await.map_err(AdminError::internal)?.into_iter().find(|e| e.id == event);
        let whose = tenant.map_or_else(|| "no tenant".to_string(), |n| format!("tenant '{n}'"));
        Err(AdminError::not_found(match (found, t) {
            (None, _) => format!("{whose} has no event {event}"),
            (Some(e), Some(t)) => format!(
                "event {event} of {whose} has no payloads: {}",
                crate::audit::missing_details_reason(&t.audit, &e.op, e.status, &e.time, self.now())
            ),
            (Some(_), None) => format!(
                "event {event} of no tenant has no payloads: the server's audit details setting \
                 (`audit.details`) did not keep them, or they are past `audit.days`"
            ),
        }))
    }

    /// The go-live check: what a tenant's callers did in `[from, to)`.
    pub async fn audit_summary(&self, tenant: &str, from: &str, to: &str) -> AdminResult<serde_json::Value> {
        let t = self.tenant(tenant).await?;
        let (from, to) = (parse_time(from, "--from")?, parse_time(to, "--to")?);
        if from >= to {
            return Err(AdminError::invalid("--from must be before --to"));
        }
        self.flush().await;
        let counts = self
            .store
            .event_counts(t.id, from.timestamp_millis(), to.timestamp_millis())
            .await
            .map_err(AdminError::internal)?;
        let show = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        Ok(crate::audit::summary(&t.name, &show(from), &show(to), &counts))
    }

    /// The error log, newest first; of one tenant's requests if given.
    pub async fn errors(
        &self,
        tenant: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
        limit: u32,
    ) -> AdminResult<Vec<scimd_store::ErrorRow>> {
        let from = from.map(|s| parse_time(s, "--from")).transpose()?.map(normalized_time).unwrap_or_default();
        let to = match to {
            Some(s) => normalized_time(parse_time(s, "--to")?),
            None => "9999".to_string(),
        };
        let tenant = match tenant {
            Some(name) => Some(self.tenant(name).await?.id),
            None => None,
        };
        self.flush().await;
        self.store.errors(tenant, &from, &to, limit.clamp(1, 1000)).await.map_err(AdminError::internal)
    }
}
