//! The benchmark's reference server: a bare axum application answering
//! `GET /scim/v2/Users/{id}` with the stored JSON of a user of scimd's own database — one
//! prepared primary-key probe, no authentication, audit, logging or rendering. What a
//! hand-written endpoint costs at least; the benchmarks run it beside `scimd serve` with its
//! defaults, on the same database, and print the ratio.
//!
//! SQLite: a read-only connection per runtime thread. PostgreSQL: a pool of 16 connections
//! (scimd's default pool), the statement prepared once per connection, no TLS (loopback).
//!
//! Usage: reference LISTEN_ADDR (SQLITE_PATH | postgres://…) TENANT_ID

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

const PROBE: &str = "SELECT data FROM resources WHERE tenant_id = $1 AND rtype = 1 AND scim_id = $2";

#[derive(Clone)]
struct Pg {
    pool: deadpool_postgres::Pool,
    tenant: i64,
}

async fn pg_user(State(db): State<Pg>, Path(id): Path<String>) -> Response {
    let client = db.pool.get().await.expect("a pooled connection");
    let stmt = client.prepare_cached(PROBE).await.expect("prepare");
    let row = client.query_opt(&stmt, &[&db.tenant, &id]).await.expect("query");
    answer(row.map(|r| r.get::<_, String>(0)))
}

fn answer(found: Option<String>) -> Response {
    match found {
        Some(data) => ([(header::CONTENT_TYPE, "application/scim+json")], data).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
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
    answer(found)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, listen, path, tenant] = args.as_slice() else {
        eprintln!("usage: reference LISTEN_ADDR (SQLITE_PATH | postgres://…) TENANT_ID");
        std::process::exit(2);
    };
    let tenant: i64 = tenant.parse().expect("a tenant id");
    let app = if path.starts_with("postgres://") || path.starts_with("postgresql://") {
        let config: tokio_postgres::Config = path.parse().expect("a PostgreSQL URL");
        let manager = deadpool_postgres::Manager::new(config, tokio_postgres::NoTls);
        let pool = deadpool_postgres::Pool::builder(manager).max_size(16).build().expect("a pool");
        axum::Router::new().route("/scim/v2/Users/{id}", axum::routing::get(pg_user)).with_state(Pg { pool, tenant })
    } else {
        let db = Db { path: path.clone(), tenant };
        axum::Router::new().route("/scim/v2/Users/{id}", axum::routing::get(user)).with_state(db)
    };
    let listener = tokio::net::TcpListener::bind(listen).await.expect("bind");
    eprintln!("reference listening on {listen}");
    axum::serve(listener, app).await.expect("serve");
}
