//! The store under test: SQLite in a temporary directory, or, when `SCIMD_TEST_POSTGRES`
//! names a PostgreSQL server (`postgres://user@host:port/db`, a role that may create
//! databases), a fresh PostgreSQL database on it. The contract tests run unchanged on
//! either (`scripts/test` runs them on both when PostgreSQL is available).

#![allow(dead_code)] // each test binary uses a part of it
use scimd_store::Store;
use scimd_store::postgres::{PgOptions, PgStore};
use scimd_store::sqlite::{SqliteOptions, SqliteStore};

pub struct TestStore {
    pub store: Box<dyn Store>,
    _dir: tempfile::TempDir,
}

impl std::ops::Deref for TestStore {
    type Target = dyn Store;
    fn deref(&self) -> &dyn Store {
        &*self.store
    }
}

/// The URL of a new, empty PostgreSQL database on the server `admin_url` names.
pub async fn fresh_postgres_database(admin_url: &str) -> String {
    let (client, conn) =
        tokio_postgres::connect(admin_url, tokio_postgres::NoTls).await.expect("connect to PostgreSQL");
    let task = tokio::spawn(conn);
    let name = format!("scimd_t_{}", uuid::Uuid::new_v4().simple());
    client.batch_execute(&format!("CREATE DATABASE {name}")).await.expect("create database");
    drop(client);
    let _ = task.await;
    match admin_url.rfind('/') {
        Some(i) if admin_url[..i].contains("://") && admin_url[..i].rfind('/') != Some(i - 1) => {
            format!("{}/{name}", &admin_url[..i])
        }
        _ => format!("{}/{name}", admin_url.trim_end_matches('/')),
    }
}

pub async fn fresh_store() -> TestStore {
    let dir = tempfile::tempdir().expect("tempdir");
    let store: Box<dyn Store> = match std::env::var("SCIMD_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => {
            let db = fresh_postgres_database(&url).await;
            Box::new(PgStore::connect(&db, PgOptions { pool_size: 4 }).await.expect("open PostgreSQL store"))
        }
        _ => Box::new(
            SqliteStore::open(dir.path().join("t.db").to_str().unwrap(), SqliteOptions::default()).expect("open"),
        ),
    };
    TestStore { store, _dir: dir }
}
