//! The benchmark's reference server: a bare axum application answering
//! `GET /scim/v2/Users/{id}` with the stored JSON of a user of scimd's own SQLite database —
//! one prepared primary-key probe on a read-only connection per thread, no authentication,
//! audit, logging or rendering. What a hand-written endpoint costs at least; bench/reference.sh
//! runs it beside `scimd serve` with its defaults, on the same database, and prints the ratio.
//!
//! Usage: reference LISTEN_ADDR SQLITE_PATH TENANT_ID

use std::cell::RefCell;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

thread_local! {
    /// Each runtime thread's own read-only connection (opened at its first request).
    static CONN: RefCell<Option<rusqlite::Connection>> = const { RefCell::new(None) };
}

#[derive(Clone)]
struct Db {
    path: String,
    tenant: i64,
}

async fn user(State(db): State<Db>, Path(id): Path<String>) -> Response {
    let found = CONN.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
            *slot = Some(rusqlite::Connection::open_with_flags(&db.path, flags).expect("open the database"));
        }
        let conn = slot.as_ref().expect("connection");
        let mut stmt = conn
            .prepare_cached("SELECT data FROM resources WHERE tenant_id = ?1 AND rtype = 1 AND scim_id = ?2")
            .expect("prepare");
        stmt.query_row(rusqlite::params![db.tenant, id], |r| r.get::<_, String>(0)).ok()
    });
    match found {
        Some(data) => ([(header::CONTENT_TYPE, "application/scim+json")], data).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, listen, path, tenant] = args.as_slice() else {
        eprintln!("usage: reference LISTEN_ADDR SQLITE_PATH TENANT_ID");
        std::process::exit(2);
    };
    let db = Db { path: path.clone(), tenant: tenant.parse().expect("a tenant id") };
    let app = axum::Router::new().route("/scim/v2/Users/{id}", axum::routing::get(user)).with_state(db);
    let listener = tokio::net::TcpListener::bind(listen).await.expect("bind");
    eprintln!("reference listening on {listen}");
    axum::serve(listener, app).await.expect("serve");
}
