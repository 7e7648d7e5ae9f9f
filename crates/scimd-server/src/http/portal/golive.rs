//! A tenant's go-live page: what its callers did in a window (created, updated,
//! deactivated, deleted, errors by kind: the admin API's go-live summary) and a chart of
//! its requests and errors over the window, with the same buckets as a plain table. The
//! chart's data is a JSON script block the vendored uPlot draws (this page alone loads it).
//! Below: the test runs submitted for the go-live check (`golive_review` shows one) and
//! the form a system user (or an operator) submits one with, its figures typed.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::assets;
use super::audit::form_time;
use super::directory::Slot;
use super::page::seg;
use super::page::{self, Chrome};
use super::session::{Fields, Submit, Viewer};
use crate::admin::{Activity, Caller, TenantView};
use crate::http::AppState;
use crate::http::routes::{Routes, on};
use crate::onboard::{Claim, SubmissionView};
use crate::operation::Operation::{Portal, PortalPage};

pub(super) fn routes(r: Routes<'_>) -> Routes<'_> {
    r.route(
        "/portal/t/{tenant}/golive",
        on(Method::GET, PortalPage, golive).on(Method::POST, Portal("portal-golive-submit"), submit),
    )
}

/// The figures a test run's claim types in, by field name and label.
pub(super) const CLAIM_FIGURES: [(&str, &str); 5] = [
    ("created", "Users created"),
    ("updated", "Users updated (deactivations included)"),
    ("deactivated", "Users deactivated"),
    ("deleted", "Users deleted"),
    ("errors", "Failed requests"),
];

/// The submit form as sent back, with its error.
#[derive(Default)]
pub(super) struct ClaimForm {
    from: String,
    to: String,
    /// The five figures as typed, in [`CLAIM_FIGURES`]' order: (name, label, value).
    figures: Vec<(&'static str, &'static str, String)>,
    error: Option<String>,
}

impl ClaimForm {
    fn empty() -> ClaimForm {
        ClaimForm {
            figures: CLAIM_FIGURES.iter().map(|(n, l)| (*n, *l, String::new())).collect(),
            ..Default::default()
        }
    }

    fn of(fields: &Fields) -> ClaimForm {
        ClaimForm {
            from: fields.get("from").trim().to_string(),
            to: fields.get("to").trim().to_string(),
            figures: CLAIM_FIGURES.iter().map(|(n, l)| (*n, *l, fields.get(n).trim().to_string())).collect(),
            error: None,
        }
    }

    /// The claim the form makes, or what is wrong with it (in the person's words).
    fn claim(&self) -> Result<Claim, String> {
        let time = |v: &str, what: &str| match form_time(v) {
            Ok(Some(t)) => Ok(t),
            Ok(None) => Err(format!("{what} is missing: write it as 2026-12-05T10:00:00Z (UTC).")),
            Err(_) => Err(format!("{what} is not a time: write it as 2026-12-05T10:00:00Z (UTC).")),
        };
        let mut claim = serde_json::Map::new();
        claim.insert("from".into(), Value::String(time(&self.from, "The run's start")?));
        claim.insert("to".into(), Value::String(time(&self.to, "The run's end")?));
        for (name, label, value) in &self.figures {
            let n: u64 = match value.as_str() {
                "" => 0,
                v => v.parse().map_err(|_| format!("{label}: give a whole number, 0 or more."))?,
            };
            claim.insert((*name).into(), Value::from(n));
        }
        serde_json::from_value(Value::Object(claim)).map_err(|e| e.to_string())
    }
}

/// A submission as a row of the history.
struct SubmissionRow {
    view: SubmissionView,
    href: String,
}

impl SubmissionRow {
    fn badge(&self) -> &'static str {
        match self.view.state.as_str() {
            "approved" => "ok",
            "rejected" => "bad",
            _ => "warn",
        }
    }
}

#[derive(serde::Deserialize, Default)]
pub(super) struct Window {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// One figure of the summary.
struct Figure {
    label: String,
    value: u64,
}

/// A bucket as a row of the table.
struct Point {
    start: String,
    requests: u64,
    errors: u64,
}

#[derive(Template)]
#[template(path = "portal/audit/golive.html")]
struct GoLivePage {
    chrome: Chrome,
    from: String,
    to: String,
    from_error: Option<String>,
    to_error: Option<String>,
    /// The summary: (figures, errors by kind, users' and groups' figures), when the window
    /// is good.
    figures: Vec<Figure>,
    errors: Vec<Figure>,
    first: Option<String>,
    last: Option<String>,
    /// The bucket's unit and the buckets.
    unit: &'static str,
    points: Vec<Point>,
    /// The chart's data (JSON, safe inside a script element).
    chart: String,
    uplot_js: &'static str,
    uplot_css: &'static str,
    submissions: Vec<SubmissionRow>,
    claim: ClaimForm,
}

/// The chart's data for uPlot: `{"x": [unix seconds], "series": [{label, values}]}`,
/// serialized so that nothing in it can end the script element holding it.
pub(super) fn chart_json(a: &Activity) -> String {
    let x: Vec<i64> = a.buckets.iter().map(|b| b.start).collect();
    let requests: Vec<u64> = a.buckets.iter().map(|b| b.requests).collect();
    let errors: Vec<u64> = a.buckets.iter().map(|b| b.errors).collect();
    let v = json!({
        "x": x,
        "series": [{"label": "Requests", "values": requests}, {"label": "Errors", "values": errors}],
    });
    script_safe(&v.to_string())
}

/// JSON that cannot close its `<script>` element or open a comment: `<`, `>` and `&` as
/// JSON escapes.
pub(super) fn script_safe(json: &str) -> String {
    json.replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

fn count(v: &Value, key: &str) -> u64 {
    v.get(key).and_then(Value::as_u64).unwrap_or(0)
}

/// A window's time as the form shows it (`datetime-local`, UTC, to the second).
fn shown(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.with_timezone(&chrono::Utc).format("%Y-%m-%dT%H:%M:%S").to_string())
        .unwrap_or_else(|_| rfc3339.to_string())
}

pub(super) async fn golive(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(name): Path<String>,
    Query(w): Query<Window>,
) -> Response {
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    golive_page(&state, &viewer, &tenant, w, ClaimForm::empty(), StatusCode::OK).await
}

/// Submits a test run typed in the form; its review after.
pub(super) async fn submit(
    State(state): State<AppState>,
    Path(name): Path<String>,
    slot: Slot,
    submit: Submit,
) -> Response {
    let Submit { viewer, fields } = submit;
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    let mut form = ClaimForm::of(&fields);
    let claim = match form.claim() {
        Ok(c) => c,
        Err(e) => {
            form.error = Some(e);
            return golive_page(&state, &viewer, &tenant, Window::default(), form, StatusCode::BAD_REQUEST).await;
        }
    };
    let by = viewer.person().audit_name();
    let caller = Caller::Request(slot.as_ref().map(|Extension(s)| &**s));
    match state.onboard.submit(&tenant.name, claim, "typed", &by, caller).await {
        Ok(s) => {
            let done = format!("Test run {} submitted: an operator reviews it.", s.id);
            page::see_other(&format!("/portal/t/{}/golive/{}?done={}", seg(&tenant.name), s.id, seg(&done)))
        }
        Err(e) if e.status < 500 => {
            let status = page::status_of(&e);
            form.error = Some(e.message);
            golive_page(&state, &viewer, &tenant, Window::default(), form, status).await
        }
        Err(e) => viewer.error(e),
    }
}

async fn golive_page(
    state: &AppState,
    viewer: &Viewer,
    tenant: &TenantView,
    w: Window,
    claim: ClaimForm,
    status: StatusCode,
) -> Response {
    let submissions = match state.onboard.submissions(&tenant.name).await {
        Ok(s) => s,
        Err(e) => return viewer.error(e),
    };
    let base = format!("/portal/t/{}/golive", seg(&tenant.name));
    let submissions =
        submissions.into_iter().map(|view| SubmissionRow { href: format!("{base}/{}", view.id), view }).collect();
    let (default_from, default_to) = state.admin.default_window();
    let iso = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (mut from_error, mut to_error) = (None, None);
    let from = form_time(&w.from).map_err(|e| from_error = Some(e)).ok().flatten().unwrap_or_else(|| iso(default_from));
    let to = form_time(&w.to).map_err(|e| to_error = Some(e)).ok().flatten().unwrap_or_else(|| iso(default_to));
    let chrome = viewer.chrome(format!("Go-live · {}", tenant.name)).in_tenant(&tenant.name, "golive");
    let mut p = GoLivePage {
        chrome,
        from: if w.from.trim().is_empty() { shown(&from) } else { w.from.clone() },
        to: if w.to.trim().is_empty() { shown(&to) } else { w.to.clone() },
        from_error,
        to_error,
        figures: Vec::new(),
        errors: Vec::new(),
        first: None,
        last: None,
        unit: "",
        points: Vec::new(),
        chart: String::new(),
        uplot_js: assets::url(assets::UPLOT_JS),
        uplot_css: assets::url(assets::UPLOT_CSS),
        submissions,
        claim,
    };
    if p.from_error.is_some() || p.to_error.is_some() {
        return page::render(StatusCode::BAD_REQUEST, &p);
    }
    let both = state.admin.audit_window(&tenant.name, &from, &to).await;
    let (summary, activity) = match both {
        Ok(both) => both,
        Err(e) if e.status < 500 => {
            p.to_error = Some(e.message.replace("--from", "From").replace("--to", "To"));
            return page::render(StatusCode::BAD_REQUEST, &p);
        }
        Err(e) => return viewer.error(e),
    };
    let figure = |label: &str, value: u64| Figure { label: label.into(), value };
    p.figures = vec![
        figure("Requests", count(&summary, "requests")),
        figure("Created", count(&summary, "created")),
        figure("Updated", count(&summary, "updated")),
        figure("Deactivated", count(&summary, "deactivated")),
        figure("Deleted", count(&summary, "deleted")),
        figure("Reads", count(&summary, "reads")),
        figure("Errors", count(&summary, "error_count")),
    ];
    for (kind, key) in [("Users", "users"), ("Groups", "groups")] {
        for (what, field) in [("created", "created"), ("updated", "updated"), ("deleted", "deleted")] {
            p.figures.push(figure(&format!("{kind} {what}"), summary.get(key).map_or(0, |v| count(v, field))));
        }
    }
    if let Some(errors) = summary.get("errors").and_then(Value::as_object) {
        p.errors = errors.iter().map(|(k, v)| figure(k, v.as_u64().unwrap_or(0))).collect();
    }
    p.first = summary.get("first_event").and_then(Value::as_str).map(str::to_string);
    p.last = summary.get("last_event").and_then(Value::as_str).map(str::to_string);
    p.unit = activity.unit;
    p.chart = chart_json(&activity);
    p.points = activity
        .buckets
        .iter()
        .map(|b| Point {
            start: chrono::DateTime::from_timestamp(b.start, 0)
                .map(|t| t.format("%Y-%m-%dT%H:%MZ").to_string())
                .unwrap_or_default(),
            requests: b.requests,
            errors: b.errors,
        })
        .collect();
    page::render(status, &p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_data_cannot_end_its_script_element() {
        let s = script_safe(r#"{"label":"</script><!--&"}"#);
        assert!(!s.contains('<') && !s.contains('>') && !s.contains('&'));
        let back: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back["label"], "</script><!--&");
    }
}
