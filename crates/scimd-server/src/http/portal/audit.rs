//! A tenant's audit pages: its events, newest first, filtered by window, status, operation
//! and client and paged by event id; one event with its redacted request and response (or
//! why they were not kept); the error log of its requests. Times are UTC, in RFC 3339.
//! The go-live summary and chart are `golive`'s, event streams `streams`'.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use scimd_store::{ErrorRow, EventRow};

use super::page::{self, Chrome, seg};
use super::session::Viewer;
use crate::admin::{AdminError, EventFilter};
use crate::http::AppState;
use crate::http::routes::{Routes, on};
use crate::operation::Operation::PortalPage;

/// Events a page shows.
const PAGE: u32 = 50;

pub(super) fn routes(r: Routes<'_>) -> Routes<'_> {
    r.route("/portal/t/{tenant}/audit", on(Method::GET, PortalPage, events))
        .route("/portal/t/{tenant}/audit/errors", on(Method::GET, PortalPage, errors))
        .route("/portal/t/{tenant}/audit/{id}", on(Method::GET, PortalPage, event))
}

/// A time of a form (`datetime-local`, read as UTC, or RFC 3339) as RFC 3339; empty is
/// none.
pub(super) fn form_time(v: &str) -> Result<Option<String>, String> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
        return Ok(Some(t.with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)));
    }
    for f in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(v, f) {
            return Ok(Some(t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)));
        }
    }
    Err("Not a time: write it as 2026-11-23T10:00 (UTC).".into())
}

/// The filters of the events page, as the form sent them (shown back in the form).
#[derive(serde::Deserialize, Default, Clone)]
pub(super) struct Filters {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    op: String,
    #[serde(default)]
    client: String,
    #[serde(default)]
    before: String,
}

impl Filters {
    /// The query string of these filters (without `before`), for the pager.
    fn query(&self) -> String {
        [("from", &self.from), ("to", &self.to), ("status", &self.status), ("op", &self.op), ("client", &self.client)]
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| format!("{k}={}", seg(v.trim())))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// A filter's error, by field.
#[derive(Default)]
struct Errors {
    from: Option<String>,
    to: Option<String>,
    status: Option<String>,
}

impl Errors {
    fn any(&self) -> bool {
        self.from.is_some() || self.to.is_some() || self.status.is_some()
    }
}

/// The filters as the use case's, or each field's error.
fn filter(f: &Filters) -> Result<EventFilter, Errors> {
    let mut errors = Errors::default();
    let from = form_time(&f.from).map_err(|e| errors.from = Some(e)).ok().flatten();
    let to = form_time(&f.to).map_err(|e| errors.to = Some(e)).ok().flatten();
    let (mut status, mut status_class) = (None, None);
    match f.status.trim().to_ascii_lowercase().as_str() {
        "" => {}
        s if s.len() == 3 && s.ends_with("xx") && matches!(&s[..1], "1" | "2" | "3" | "4" | "5") => {
            status_class = s[..1].parse().ok();
        }
        s => match s.parse::<u16>() {
            Ok(n) if (100..600).contains(&n) => status = Some(n),
            _ => errors.status = Some("A status is a code (404) or a class (4xx).".into()),
        },
    }
    if errors.any() {
        return Err(errors);
    }
    let text = |v: &str| Some(v.trim().to_string()).filter(|v| !v.is_empty());
    Ok(EventFilter {
        from,
        to,
        client: text(&f.client),
        status,
        status_class,
        op: text(&f.op),
        before: f.before.trim().parse().ok(),
        limit: Some(PAGE),
    })
}

/// An event as a row of the list.
pub(super) struct Row {
    pub event: EventRow,
    pub href: String,
}

impl Row {
    /// The badge of its status.
    pub fn badge(&self) -> &'static str {
        badge(self.event.status)
    }
}

fn badge(status: u16) -> &'static str {
    match status {
        0..400 => "ok",
        400..500 => "warn",
        _ => "bad",
    }
}

#[derive(Template)]
#[template(path = "portal/audit/events.html")]
struct EventsPage {
    chrome: Chrome,
    f: Filters,
    errors: Errors,
    ops: &'static [&'static str],
    statuses: &'static [(&'static str, &'static str)],
    rows: Vec<Row>,
    /// The next page's address, when this one is full.
    older: Option<String>,
    /// The first page's, when this one is not.
    newest: Option<String>,
}

impl EventsPage {
    /// The status asked for is none of the form's choices (a code): shown as one.
    fn custom_status(&self) -> bool {
        !self.f.status.is_empty() && !self.statuses.iter().any(|s| s.0 == self.f.status)
    }
    /// The operation asked for is none of the form's choices: shown as one.
    fn custom_op(&self) -> bool {
        !self.f.op.is_empty() && !self.ops.contains(&self.f.op.as_str())
    }
}

/// Operations a filter offers (any other is kept when asked for).
const OPS: &[&str] = &[
    "create",
    "restore",
    "replace",
    "patch",
    "delete",
    "read",
    "list",
    "search",
    "bulk",
    "token",
    "revoke",
    "events-poll",
];

const STATUSES: &[(&str, &str)] = &[
    ("", "Any status"),
    ("2xx", "Success (2xx)"),
    ("3xx", "Redirects (3xx)"),
    ("4xx", "Client errors (4xx)"),
    ("5xx", "Server errors (5xx)"),
];

pub(super) async fn events(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    Query(f): Query<Filters>,
) -> Response {
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    let chrome = viewer.chrome(format!("Audit · {}", tenant.name)).in_tenant(&tenant.name, "audit");
    let base = format!("{}/audit", chrome.base());
    let (rows, errors, status) = match filter(&f) {
        Ok(filter) => match state.admin.audit_events(Some(&tenant.name), filter).await {
            Ok(rows) => (rows, Errors::default(), StatusCode::OK),
            Err(e) if e.status < 500 => {
                (Vec::new(), Errors { to: Some(e.message), ..Errors::default() }, StatusCode::BAD_REQUEST)
            }
            Err(e) => return viewer.error(e),
        },
        Err(errors) => (Vec::new(), errors, StatusCode::BAD_REQUEST),
    };
    let query = f.query();
    let sep = if query.is_empty() { "" } else { "&" };
    let older = (rows.len() == PAGE as usize)
        .then(|| rows.last().map(|r| format!("{base}?{query}{sep}before={}", r.id)))
        .flatten();
    let newest = (!f.before.trim().is_empty()).then(|| format!("{base}?{query}"));
    let rows = rows.into_iter().map(|event| Row { href: format!("{base}/{}", event.id), event }).collect();
    let p = EventsPage { chrome, f, errors, ops: OPS, statuses: STATUSES, rows, older, newest };
    page::render(status, &p)
}

/// The redacted payloads of an event, pretty-printed where they are JSON.
struct Payloads {
    request_headers: String,
    request_body: Option<String>,
    response_headers: String,
    response_body: Option<String>,
}

fn pretty(s: &str) -> String {
    serde_json::from_str::<serde_json::Value>(s)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| s.to_string())
}

#[derive(Template)]
#[template(path = "portal/audit/event.html")]
struct EventPage {
    chrome: Chrome,
    event: EventRow,
    payloads: Option<Payloads>,
    /// Why there are no payloads.
    missing: Option<String>,
}

impl EventPage {
    fn badge(&self) -> &'static str {
        badge(self.event.status)
    }
}

pub(super) async fn event(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((name, id)): Path<(String, String)>,
) -> Response {
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    let not_found = || AdminError::not_found(format!("tenant '{}' has no event {id}", tenant.name));
    let Ok(number) = id.parse::<i64>() else {
        return viewer.error(not_found());
    };
    let f = EventFilter { before: Some(number.saturating_add(1)), limit: Some(1), ..Default::default() };
    let found = match state.admin.audit_events(Some(&tenant.name), f).await {
        Ok(rows) => rows.into_iter().find(|e| e.id == number),
        Err(e) => return viewer.error(e),
    };
    let Some(event) = found else {
        return viewer.error(not_found());
    };
    let (payloads, missing) = match state.admin.audit_event_details(Some(&tenant.name), number).await {
        Ok(d) => (
            Some(Payloads {
                request_headers: pretty(&d.request_headers),
                request_body: d.request_body.as_deref().map(pretty),
                response_headers: pretty(&d.response_headers),
                response_body: d.response_body.as_deref().map(pretty),
            }),
            None,
        ),
        Err(e) if e.status == 404 => (None, Some(e.message)),
        Err(e) => return viewer.error(e),
    };
    let chrome = viewer.chrome(format!("Event {number} · {}", tenant.name)).in_tenant(&tenant.name, "audit");
    page::ok(&EventPage { chrome, event, payloads, missing })
}

#[derive(serde::Deserialize, Default)]
pub(super) struct ErrorsQuery {
    #[serde(default)]
    before: String,
}

#[derive(Template)]
#[template(path = "portal/audit/errors.html")]
struct ErrorsPage {
    chrome: Chrome,
    rows: Vec<ErrorRow>,
    /// An operator sees each error's detail; a tenant's system user only that it happened.
    detailed: bool,
    older: Option<String>,
}

pub(super) async fn errors(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    Query(q): Query<ErrorsQuery>,
) -> Response {
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    let before = match form_time(&q.before) {
        Ok(b) => b,
        Err(m) => return viewer.error(AdminError::invalid(m)),
    };
    let rows = match state.admin.errors(Some(&tenant.name), None, before.as_deref(), PAGE).await {
        Ok(rows) => rows,
        Err(e) => return viewer.error(e),
    };
    let chrome = viewer.chrome(format!("Error log · {}", tenant.name)).in_tenant(&tenant.name, "audit");
    let older = (rows.len() == PAGE as usize)
        .then(|| rows.last().map(|r| format!("{}/audit/errors?before={}", chrome.base(), seg(&r.time))))
        .flatten();
    let detailed = viewer.person().is_operator();
    page::ok(&ErrorsPage { chrome, rows, detailed, older })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_time_is_read_as_utc() {
        assert_eq!(form_time("").unwrap(), None);
        assert_eq!(form_time("2026-11-23T10:00").unwrap().as_deref(), Some("2026-11-23T10:00:00.000Z"));
        assert_eq!(form_time("2026-11-23T11:00:00+01:00").unwrap().as_deref(), Some("2026-11-23T10:00:00.000Z"));
        assert!(form_time("yesterday").is_err());
    }

    #[test]
    fn a_status_filter_is_a_code_or_a_class() {
        let f = |s: &str| filter(&Filters { status: s.into(), ..Filters::default() });
        assert_eq!(f("4xx").ok().and_then(|f| f.status_class), Some(4));
        assert_eq!(f("404").ok().and_then(|f| f.status), Some(404));
        assert!(f("teapot").is_err() && f("9xx").is_err() && f("42").is_err());
    }
}
