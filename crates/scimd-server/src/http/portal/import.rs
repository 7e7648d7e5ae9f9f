//! Importing a tenant's users from a CSV file in the portal (the locker system's
//! "configuration website, import or SCIM API"), through the import use case the command
//! line and the admin API share (`admin::import`): the file is pasted, a preview says
//! what importing it would do (the users it would create, each refused row with its line)
//! with nothing written, then the person confirms. The confirmation posts the file's text
//! again and the import checks every row again as it writes: nothing a page showed is
//! trusted, and a file that no longer fits (a name taken meanwhile) imports nothing.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::directory::Slot;
use super::page::{self, Chrome, seg};
use super::session::{Submit, Viewer};
use crate::admin::{ImportFormat, ImportOrigin, MAX_ROWS, PlannedRow, RowError, TenantView, UserImport};
use crate::http::AppState;
use crate::http::routes::{Routes, on};
use crate::operation::Operation::{Portal, PortalPage};

/// Rows to create listed on a preview (the rest are counted).
const LISTED: usize = 100;

pub(super) fn routes(r: Routes<'_>) -> Routes<'_> {
    use axum::http::Method as M;
    r.route(
        "/portal/t/{tenant}/users/import",
        on(M::GET, PortalPage, form).on(M::POST, Portal("portal-preview-import"), preview),
    )
    .route("/portal/t/{tenant}/users/import/apply", on(M::POST, Portal("portal-import-users"), apply))
}

#[derive(Template)]
#[template(path = "portal/users/import.html")]
struct ImportPage {
    chrome: Chrome,
    csv: String,
    error: Option<String>,
    max_rows: usize,
    /// The preview of the file posted, if any.
    preview: Option<Preview>,
}

struct Preview {
    rows: usize,
    create: Vec<PlannedRow>,
    more_create: usize,
    errors: Vec<RowError>,
    more_errors: usize,
}

impl Preview {
    fn of(report: UserImport) -> Preview {
        let more_create = report.planned.len().saturating_sub(LISTED);
        let mut create = report.planned;
        create.truncate(LISTED);
        Preview { rows: report.rows, create, more_create, errors: report.errors, more_errors: report.more_errors }
    }

    /// Whether the file can be imported as it is.
    fn ready(&self) -> bool {
        self.errors.is_empty() && self.more_errors == 0 && !self.create.is_empty()
    }

    fn to_create(&self) -> usize {
        self.create.len() + self.more_create
    }

    fn refused(&self) -> usize {
        self.errors.len() + self.more_errors
    }
}

fn render(
    viewer: &Viewer,
    t: &TenantView,
    status: StatusCode,
    csv: String,
    error: Option<String>,
    preview: Option<Preview>,
) -> Response {
    let chrome = viewer.chrome("Import users").in_tenant(&t.name, "users");
    page::render(status, &ImportPage { chrome, csv, error, max_rows: MAX_ROWS, preview })
}

pub(super) async fn form(State(state): State<AppState>, viewer: Viewer, Path(name): Path<String>) -> Response {
    match viewer.open(&state, &name).await {
        Ok(t) => render(&viewer, &t, StatusCode::OK, String::new(), None, None),
        Err(res) => res,
    }
}

/// The file's text from the form (a browser sends a textarea's lines ending in CRLF).
fn csv_of(fields: &super::session::Fields) -> String {
    fields.get("csv").replace("\r\n", "\n")
}

pub(super) async fn preview(State(state): State<AppState>, Path(name): Path<String>, submit: Submit) -> Response {
    let Submit { viewer, fields } = submit;
    let t = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    let csv = csv_of(&fields);
    if csv.trim().is_empty() {
        let e = Some("Paste the CSV file: a header row, then a user a row.".to_string());
        return render(&viewer, &t, StatusCode::BAD_REQUEST, csv, e, None);
    }
    match state.admin.preview_import(&t.name, ImportFormat::Csv, &csv).await {
        Ok((_, report)) => {
            let p = Preview::of(report);
            let status = if p.refused() > 0 { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
            render(&viewer, &t, status, csv, None, Some(p))
        }
        Err(e) if e.status < 500 => {
            let status = page::status_of(&e);
            render(&viewer, &t, status, csv, Some(e.message), None)
        }
        Err(e) => viewer.error(e),
    }
}

pub(super) async fn apply(
    State(state): State<AppState>,
    Path(name): Path<String>,
    slot: Slot,
    submit: Submit,
) -> Response {
    let Submit { viewer, fields } = submit;
    let t = match viewer.open(&state, &name).await {
        Ok(t) => t,
        Err(res) => return res,
    };
    let csv = csv_of(&fields);
    let Some(axum::Extension(slot)) = slot else {
        return viewer.error(crate::admin::AdminError::internal("a portal request without its audit slot"));
    };
    // Checked again as it is written: the preview the person saw proves nothing.
    match state.admin.import_users(&t.name, ImportFormat::Csv, &csv, false, ImportOrigin::Request(&slot)).await {
        Ok((_, report)) if report.refused() == 0 && report.imported > 0 => {
            let done = format!("{} users imported.", report.imported);
            page::see_other(&format!("/portal/t/{}/users?done={}", seg(&t.name), seg(&done)))
        }
        Ok((_, report)) => {
            let e = Some(
                "Nothing was imported: the file no longer fits (see below). Correct it and preview it again.".into(),
            );
            let p = Preview::of(UserImport { planned: Vec::new(), ..report });
            render(&viewer, &t, StatusCode::UNPROCESSABLE_ENTITY, csv, e, Some(p))
        }
        Err(e) if e.status < 500 => {
            let status = page::status_of(&e);
            render(&viewer, &t, status, csv, Some(e.message), None)
        }
        Err(e) => viewer.error(e),
    }
}
