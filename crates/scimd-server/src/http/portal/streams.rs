//! A tenant's event streams: each one's state (active, paused, failing), how far behind it
//! is (backlog, lag), its deliveries and failures and the last error; an operator pauses
//! and resumes them. Nothing here shows a stream's credential (a webhook's secret, a poll
//! receiver's token, a push receiver's bearer token), and a receiver's URL is shown
//! without its user information or query, where a credential could hide.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::Method;
use axum::response::Response;

use super::page::{self, Chrome, seg};
use super::session::{Submit, Viewer};
use crate::admin::{Caller, StreamView};
use crate::http::AppState;
use crate::http::routes::{Routes, on};
use crate::operation::Operation::{Portal, PortalPage};

pub(super) fn routes(r: Routes<'_>) -> Routes<'_> {
    r.route("/portal/t/{tenant}/streams", on(Method::GET, PortalPage, streams))
        .route("/portal/t/{tenant}/streams/{id}/pause", on(Method::POST, Portal("portal-pause-stream"), pause))
        .route("/portal/t/{tenant}/streams/{id}/resume", on(Method::POST, Portal("portal-resume-stream"), resume))
}

/// A stream as a row of the page.
struct Row {
    view: StreamView,
    /// The receiver's URL, without user information or query.
    receiver: Option<String>,
    /// The address its pause and resume forms post to.
    action: String,
}

impl Row {
    fn badge(&self) -> &'static str {
        match self.view.status {
            crate::admin::StreamStatus::Active => "ok",
            crate::admin::StreamStatus::Paused => "warn",
            crate::admin::StreamStatus::Failing => "bad",
        }
    }
}

/// A receiver's URL as shown: scheme, host, port and path only.
fn receiver(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => {
            let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
            format!("{}://{}{port}{}", u.scheme(), u.host_str().unwrap_or(""), u.path())
        }
        Err(_) => "(not a URL)".into(),
    }
}

#[derive(Template)]
#[template(path = "portal/audit/streams.html")]
struct StreamsPage {
    chrome: Chrome,
    rows: Vec<Row>,
    /// Whether the person may pause and resume (operators).
    operator: bool,
}

pub(super) async fn streams(State(state): State<AppState>, viewer: Viewer, Path(name): Path<String>) -> Response {
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    let list = match state.admin.list_streams(&tenant.name).await {
        Ok(l) => l,
        Err(e) => return viewer.error(e),
    };
    let chrome = viewer.chrome(format!("Event streams · {}", tenant.name)).in_tenant(&tenant.name, "streams");
    let base = format!("{}/streams", chrome.base());
    let rows = list
        .into_iter()
        .map(|view| Row {
            receiver: view.url.as_deref().map(receiver),
            action: format!("{base}/{}", seg(&view.id)),
            view,
        })
        .collect();
    page::ok(&StreamsPage { chrome, rows, operator: viewer.person().is_operator() })
}

async fn set_paused(
    state: AppState,
    name: String,
    id: String,
    slot: super::directory::Slot,
    submit: Submit,
    paused: bool,
) -> Response {
    let viewer = submit.viewer;
    if let Err(e) = viewer.person().operator_only() {
        return viewer.error(e);
    }
    let tenant = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    let caller = Caller::Request(slot.as_ref().map(|Extension(s)| &**s));
    match state.admin.pause_stream(&tenant.name, &id, paused, caller).await {
        Ok(_) => {
            let done = if paused { "The stream is paused: its events wait for it." } else { "The stream is resumed." };
            page::see_other(&format!("/portal/t/{}/streams?done={}", seg(&tenant.name), seg(done)))
        }
        Err(e) => viewer.error(e),
    }
}

pub(super) async fn pause(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    slot: super::directory::Slot,
    submit: Submit,
) -> Response {
    set_paused(state, name, id, slot, submit, true).await
}

pub(super) async fn resume(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    slot: super::directory::Slot,
    submit: Submit,
) -> Response {
    set_paused(state, name, id, slot, submit, false).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_receivers_credentials_are_not_shown() {
        assert_eq!(receiver("https://u:p@hooks.example:8443/in?token=s3cret"), "https://hooks.example:8443/in");
        assert_eq!(receiver("http://127.0.0.1/x"), "http://127.0.0.1/x");
    }
}
