//! The schema rule that keeps a distributed PostgreSQL possible (docs/adr/0016): every
//! table outside [`GLOBAL`] has `tenant_id NOT NULL`, each of its keys and indexes
//! (primary and unique ones included) leads with `tenant_id`, and each foreign key to
//! another tenant table includes it; no table of [`GLOBAL`] refers to a tenant table. What breaks the rule today is listed in
//! [`EXCEPTIONS`], which must match the schema exactly: an exception that a migration
//! fixed must leave the list, and a new table must choose a side. Checked on SQLite
//! always (its main database and its audit journal, through `pragma`s) and on PostgreSQL
//! when `SCIMD_TEST_POSTGRES` is set (through the catalog).

mod support;

use std::collections::{BTreeMap, BTreeSet};

use scimd_store::postgres::{PgOptions, PgStore};
use scimd_store::sqlite::{SqliteOptions, SqliteStore};

/// Which database a list entry holds for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum On {
    Both,
    Sqlite,
    /// Foreign keys: the SQLite store's one writer keeps references itself.
    Postgres,
}

impl On {
    fn holds(self, backend: On) -> bool {
        self == On::Both || self == backend
    }
}

/// Tables that are not a tenant's rows: on a distributed engine, reference tables (copied
/// to every node) or tables kept on the coordinator. Each says why.
const GLOBAL: &[(&str, On, &str)] = &[
    ("schema_migrations", On::Both, "the schema's own bookkeeping"),
    ("counters", On::Sqlite, "the event id counters of the main database and the audit journal"),
    ("tenants", On::Both, "the tenants themselves: read with every request, small"),
    ("api_tokens", On::Both, "found by the token's hash before the tenant is known"),
    ("admin_tokens", On::Both, "the operator's, of no tenant"),
    ("oauth_clients", On::Both, "found by client_id before the tenant is known; a client may serve several tenants"),
    ("client_secrets", On::Both, "a client's secrets, with the client"),
    ("client_tenants", On::Both, "which tenants a client serves, with the client"),
    ("api_users", On::Both, "signed in by a username unique across tenants"),
    ("signing_keys", On::Both, "the server's keys, of no tenant"),
    ("server_secrets", On::Both, "the server's secrets, of no tenant"),
    ("refresh_tokens", On::Both, "found by the token's hash before the tenant is known"),
    ("access_tokens", On::Both, "found by the token's hash before the tenant is known"),
    ("revoked_grants", On::Both, "checked by jti or family with every token"),
    ("assertion_jtis", On::Both, "a client assertion's jti, checked before the tenant is known"),
    ("login_failures", On::Both, "counted by principal and address, before the tenant is known"),
    ("error_log", On::Both, "the operator's: internal errors, of no tenant or of one"),
    ("portal_operators", On::Both, "the operator's people, of no tenant"),
    ("portal_users", On::Both, "signed in by an email unique across tenants"),
    ("portal_sessions", On::Both, "found by the cookie's hash before the tenant is known"),
    ("message_log", On::Both, "the operator's log of messages sent, of no tenant or of one"),
];

/// Which rule a table breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Rule {
    /// No `tenant_id NOT NULL` column.
    Tenant,
    /// A key or index that does not lead with `tenant_id`.
    Keys,
    /// A foreign key to another tenant table without `tenant_id`.
    ForeignKeys,
    /// A global table's foreign key to a tenant table (a reference table cannot refer to
    /// a distributed one).
    FromGlobal,
}

/// Today's exceptions, each with why it is so. Rewriting the keys of `resources`,
/// `attr_index` and `members` is a later decision, to be measured (the hot paths); the
/// others are small changes the ADR describes (docs/adr/0016).
const EXCEPTIONS: &[(&str, Rule, On, &str)] = &[
    ("resources", Rule::Keys, On::Both, "primary key (id): the row id every index row, membership and link names"),
    ("attr_index", Rule::Tenant, On::Both, "its tenant is in the interned key (attr_keys), docs/adr/0004"),
    ("attr_index", Rule::Keys, On::Both, "keyed by resource and key ids"),
    ("attr_keys", Rule::Keys, On::Both, "primary key (id): the interned key's id"),
    ("members", Rule::Keys, On::Both, "keyed by the two resources' ids"),
    ("members", Rule::ForeignKeys, On::Postgres, "refers to both resources by id"),
    ("access_links", Rule::Keys, On::Both, "keyed by group and place ids"),
    ("access_links", Rule::ForeignKeys, On::Postgres, "refers to the group and the place by id"),
    ("places", Rule::Keys, On::Both, "primary key (id); children found by parent id"),
    ("places", Rule::ForeignKeys, On::Postgres, "refers to its parent by id"),
    ("api_event_details", Rule::Keys, On::Both, "primary key (event): an event's payloads by its id"),
    ("event_streams", Rule::Keys, On::Both, "primary key (id); a poll finds its stream by its token's hash"),
    ("event_acks", Rule::Tenant, On::Both, "a stream's acknowledgements, by stream id"),
    ("event_acks", Rule::Keys, On::Both, "keyed by stream id and sequence"),
    ("event_acks", Rule::ForeignKeys, On::Both, "refers to its stream by id"),
    ("async_requests", Rule::Keys, On::Both, "primary key (txn); the lease index finds due requests across tenants"),
    ("async_request_ops", Rule::Tenant, On::Both, "a request's operations, by its txn"),
    ("async_request_ops", Rule::Keys, On::Both, "keyed by the request's txn"),
    ("async_request_ops", Rule::ForeignKeys, On::Both, "refers to its request by txn"),
    ("golive_submissions", Rule::Keys, On::Both, "primary key (id)"),
];

/// One table as the rule sees it.
#[derive(Debug, Default)]
struct Table {
    /// `Some(not_null)` when it has a `tenant_id` column.
    tenant: Option<bool>,
    /// Each key or index: a description, and its columns in order (`None` for an
    /// expression).
    keys: Vec<(String, Vec<Option<String>>)>,
    /// Each foreign key: the table it refers to and its columns.
    foreign: Vec<(String, Vec<String>)>,
}

/// The rule's violations: for each (table, rule), what breaks it.
fn violations(backend: On, schema: &BTreeMap<String, Table>) -> BTreeMap<(String, Rule), Vec<String>> {
    let global: BTreeSet<&str> = GLOBAL.iter().filter(|g| g.1.holds(backend)).map(|g| g.0).collect();
    let mut out: BTreeMap<(String, Rule), Vec<String>> = BTreeMap::new();
    for (name, t) in schema.iter().filter(|(n, _)| global.contains(n.as_str())) {
        for (to, cols) in t.foreign.iter().filter(|(to, _)| !global.contains(to.as_str())) {
            out.entry((name.clone(), Rule::FromGlobal)).or_default().push(format!("-> {to} {cols:?}"));
        }
    }
    for (name, t) in schema.iter().filter(|(n, _)| !global.contains(n.as_str())) {
        let mut add = |rule, what: String| out.entry((name.clone(), rule)).or_default().push(what);
        if t.tenant != Some(true) {
            add(Rule::Tenant, format!("tenant_id: {:?}", t.tenant.map(|nn| if nn { "NOT NULL" } else { "nullable" })));
        }
        for (key, cols) in &t.keys {
            if cols.first().cloned().flatten().as_deref() != Some("tenant_id") {
                add(Rule::Keys, format!("{key} {cols:?}"));
            }
        }
        for (to, cols) in &t.foreign {
            if !global.contains(to.as_str()) && !cols.iter().any(|c| c == "tenant_id") {
                add(Rule::ForeignKeys, format!("-> {to} {cols:?}"));
            }
        }
    }
    out
}

fn check(backend: On, schema: &BTreeMap<String, Table>) {
    let unknown: Vec<&str> =
        GLOBAL.iter().filter(|g| g.1.holds(backend) && !schema.contains_key(g.0)).map(|g| g.0).collect();
    assert!(unknown.is_empty(), "{backend:?}: GLOBAL names tables the schema lacks: {unknown:?}");
    let found = violations(backend, schema);
    let listed: BTreeSet<(String, Rule)> =
        EXCEPTIONS.iter().filter(|e| e.2.holds(backend)).map(|e| (e.0.to_string(), e.1)).collect();
    let new: Vec<_> = found.iter().filter(|(k, _)| !listed.contains(*k)).collect();
    let fixed: Vec<_> = listed.iter().filter(|k| !found.contains_key(*k)).collect();
    assert!(
        new.is_empty() && fixed.is_empty(),
        "{backend:?}: the schema and EXCEPTIONS disagree.\n\
         Breaking the rule, not listed (fix the table, or list it in EXCEPTIONS or GLOBAL with a reason): {new:#?}\n\
         Listed, no longer breaking it (remove from EXCEPTIONS): {fixed:?}"
    );
}

fn sqlite_schema(conn: &rusqlite::Connection) -> BTreeMap<String, Table> {
    let mut schema = BTreeMap::new();
    for db in ["main", "audit"] {
        let names: Vec<String> = conn
            .prepare(&format!("SELECT name FROM {db}.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for name in names {
            let mut t = Table::default();
            // (name, not null, position in the primary key)
            let cols: Vec<(String, bool, i64)> = conn
                .prepare(&format!("SELECT name, \"notnull\", pk FROM pragma_table_info('{name}', '{db}')"))
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            let mut pk: Vec<(i64, String)> = Vec::new();
            for (col, not_null, in_pk) in &cols {
                if col == "tenant_id" {
                    t.tenant = Some(*not_null || *in_pk > 0);
                }
                if *in_pk > 0 {
                    pk.push((*in_pk, col.clone()));
                }
            }
            pk.sort();
            // A rowid table's primary key has no index of its own: listed as a key anyway.
            let indexes: Vec<(String, String)> = conn
                .prepare(&format!("SELECT name, origin FROM pragma_index_list('{name}', '{db}')"))
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            if !pk.is_empty() && !indexes.iter().any(|(_, origin)| origin == "pk") {
                t.keys.push(("primary key".into(), pk.into_iter().map(|(_, c)| Some(c)).collect()));
            }
            for (index, origin) in indexes {
                let cols: Vec<Option<String>> = conn
                    .prepare(&format!("SELECT name FROM pragma_index_info('{index}', '{db}') ORDER BY seqno"))
                    .unwrap()
                    .query_map([], |r| r.get(0))
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap();
                let what = if origin == "pk" { "primary key".to_string() } else { index };
                t.keys.push((what, cols));
            }
            let mut fks: BTreeMap<i64, (String, Vec<String>)> = BTreeMap::new();
            let rows: Vec<(i64, String, String)> = conn
                .prepare(&format!("SELECT id, \"table\", \"from\" FROM pragma_foreign_key_list('{name}', '{db}')"))
                .unwrap()
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            for (id, to, from) in rows {
                fks.entry(id).or_insert_with(|| (to, Vec::new())).1.push(from);
            }
            t.foreign = fks.into_values().collect();
            // The journal repeats some tables of the main database: one rule for both.
            let entry: &mut Table = schema.entry(name).or_default();
            entry.tenant = match (entry.tenant, t.tenant) {
                (Some(a), Some(b)) => Some(a && b),
                (a, b) => a.or(b),
            };
            entry.keys.extend(t.keys);
            entry.foreign.extend(t.foreign);
        }
    }
    schema
}

#[test]
fn sqlite_tables_are_keyed_by_tenant_or_listed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let path = path.to_str().unwrap();
    drop(SqliteStore::open(path, SqliteOptions::default()).expect("open"));
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute("ATTACH DATABASE ?1 AS audit", [format!("{path}-audit")]).unwrap();
    check(On::Sqlite, &sqlite_schema(&conn));
}

#[tokio::test]
async fn postgres_tables_are_keyed_by_tenant_or_listed() {
    let Some(admin) = std::env::var("SCIMD_TEST_POSTGRES").ok().filter(|u| !u.is_empty()) else { return };
    let url = support::fresh_postgres_database(&admin).await;
    drop(PgStore::connect(&url, PgOptions::default()).await.expect("open PostgreSQL store"));
    let (c, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    let mut schema: BTreeMap<String, Table> = BTreeMap::new();
    let here = "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema()";
    for r in c
        .query(&format!("SELECT c.relname::text FROM pg_class c {here} AND c.relkind IN ('r', 'p')"), &[])
        .await
        .unwrap()
    {
        schema.insert(r.get(0), Table::default());
    }
    let sql = format!(
        "SELECT c.relname::text, a.attnotnull FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid {here} \
         AND a.attname = 'tenant_id' AND NOT a.attisdropped AND c.relkind IN ('r', 'p')"
    );
    for r in c.query(&sql, &[]).await.unwrap() {
        schema.entry(r.get(0)).or_default().tenant = Some(r.get(1));
    }
    // Each index's columns in order (an expression has no name).
    let sql = format!(
        "SELECT c.relname::text, i.relname::text, x.indisprimary, \
           ARRAY(SELECT a.attname::text FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(num, pos) \
                 LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.num ORDER BY k.pos) \
         FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid {here}"
    );
    for r in c.query(&sql, &[]).await.unwrap() {
        let what = if r.get(2) { "primary key".to_string() } else { r.get(1) };
        let cols: Vec<Option<String>> = r.get(3);
        schema.entry(r.get(0)).or_default().keys.push((what, cols));
    }
    let sql = format!(
        "SELECT c.relname::text, f.relname::text, \
           ARRAY(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = k.conrelid AND a.attnum = ANY(k.conkey)) \
         FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class f ON f.oid = k.confrelid {here} \
         AND k.contype = 'f'"
    );
    for r in c.query(&sql, &[]).await.unwrap() {
        schema.entry(r.get(0)).or_default().foreign.push((r.get(1), r.get(2)));
    }
    check(On::Postgres, &schema);
}
