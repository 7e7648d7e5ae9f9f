//! The admin API's user import, `POST /admin/v1/tenants/{name}/users`: the file is the
//! body, CSV (`Content-Type: text/csv`) or JSON Lines (`application/x-ndjson`,
//! `application/jsonl`), or as `?format=csv|jsonl` says; `?check=true` only checks it.
//! 201 with the report when the users were created (200 when only checked), 400 with it
//! when a row is refused (nothing is created). Each user created has an audit event of its
//! own (operation `import`), carrying this request's id; the request's payload goes with
//! one of them (a CSV or multi-line body is withheld: it is not checked for secrets).

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use serde_json::json;

use super::{APath, AResult, Operator, json_response, query};
use crate::admin::{AdminError, ImportFormat, ImportOrigin};
use crate::audit::AuditSlot;
use crate::http::AppState;
use crate::http::routes::{Routes, on};
use crate::operation::{AdminTarget, Operation};

/// The largest file the API takes (the command line reads any size, up to the rows an
/// import takes).
const MAX_FILE: usize = 32 * 1024 * 1024;

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ImportParams {
    format: Option<String>,
    check: Option<String>,
}

fn format_of(p: &ImportParams, headers: &HeaderMap) -> Result<ImportFormat, AdminError> {
    let bad = |what: &str| AdminError {
        status: 400,
        message: format!(
            "{what}: send CSV as text/csv or JSON Lines as application/x-ndjson, or say ?format=csv or ?format=jsonl"
        ),
    };
    if let Some(f) = &p.format {
        return ImportFormat::parse(f).ok_or_else(|| bad(&format!("unknown format '{f}'")));
    }
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let mime = ct.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    match mime.as_str() {
        "text/csv" => Ok(ImportFormat::Csv),
        "application/x-ndjson" | "application/jsonl" | "application/x-jsonlines" | "application/json-lines" => {
            Ok(ImportFormat::Jsonl)
        }
        "" => Err(bad("no Content-Type")),
        other => Err(bad(&format!("Content-Type '{other}' is no import format"))),
    }
}

async fn import(
    _: Operator,
    State(s): State<AppState>,
    slot: Option<Extension<std::sync::Arc<AuditSlot>>>,
    APath(name): APath<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    b: Bytes,
) -> AResult {
    let p: ImportParams = query(q.as_deref())?;
    let check_only = match p.check.as_deref() {
        None | Some("false") => false,
        Some("true") | Some("") => true,
        Some(other) => {
            return Err(AdminError { status: 400, message: format!("check must be true or false, not '{other}'") });
        }
    };
    let format = format_of(&p, &headers)?;
    let text = std::str::from_utf8(&b)
        .map_err(|e| AdminError { status: 400, message: format!("the file is not UTF-8 text: {e}") })?;
    let origin = match &slot {
        Some(Extension(slot)) => ImportOrigin::Request(slot),
        None => ImportOrigin::CommandLine,
    };
    let (t, report) = s.admin.import_users(&name, format, text, check_only, origin).await?;
    if let Some(Extension(slot)) = &slot {
        slot.info.lock().expect("audit slot").tenant = Some(t.id);
    }
    let status = if report.refused() > 0 {
        let detail = format!(
            "{} of the file's {} users are refused: nothing was imported (each refused row is listed with its line)",
            report.refused(),
            report.rows
        );
        return Ok(json_response(StatusCode::BAD_REQUEST, &json!({"status": 400, "detail": detail, "report": report})));
    } else if check_only {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(json_response(status, &report))
}

pub(in crate::http) fn routes(r: Routes<'_>) -> Routes<'_> {
    let op = Operation::Admin("import", AdminTarget::Users);
    r.route("/tenants/{name}/users", on(Method::POST, op, import).map(|m| m.layer(DefaultBodyLimit::max(MAX_FILE))))
}
