//! The contract of moving a deployment's data from one database to another (`scimd export`
//! and `scimd import`, SQLite and PostgreSQL either way): the kinds of rows carried, each
//! with its columns keyed by natural keys (a tenant's name, a resource's SCIM id, a place's
//! level and key, an OAuth client's id), never by a database's row ids; the values read and
//! written ([`Field`]); and [`TransferStore`], which reads a kind's rows a page at a time
//! and writes them back a batch per transaction.
//!
//! Derived rows (the attribute index, its interned keys, the resource counts) are not
//! carried: the import rebuilds them from each resource's document with the index entries
//! the caller computed (the tenant's schemas are the server's business). Transient rows are
//! not carried either: failed-login counts, portal sessions, refresh and opaque access
//! tokens, the jtis of client assertions, asynchronous Bulk requests not yet run. Values
//! sealed under the master key are carried as stored, never opened.

use scimd_core::resource::IndexEntry;

use crate::{BoxFut, StoreResult};

/// The type of a carried column (what both databases read and bind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Int,
    Real,
    Text,
    Bytes,
    Bool,
}

/// A carried value.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Bytes(Vec<u8>),
    Bool(bool),
}

/// Whose rows a kind holds, which says how an export selects them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// One tenant's rows (a resource, a membership, a token): read tenant by tenant.
    Tenant,
    /// The deployment's (signing keys, operators, operator tokens): only in a whole export.
    Deployment,
    /// Rows of the tenants selected, plus, in a whole export, those of no tenant (the
    /// audit trail, the error log, the message log) or of several (OAuth clients).
    Shared,
}

/// A kind of row carried, in the order an import writes them (what a row refers to comes
/// before it).
#[derive(Debug)]
pub struct Kind {
    /// Its name in an export file (`"t"` of each row).
    pub name: &'static str,
    pub owner: Owner,
    /// Its columns, in the order of [`Field`]s of a row (and of an export file's object).
    pub columns: &'static [(&'static str, Ty)],
    /// How its rows are read and written.
    pub(crate) sql: crate::roles::transfer::KindSql,
}

/// The tenants an export or import covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every tenant and the deployment's own rows.
    Everything,
    /// These tenants (the [`Owner::Shared`] rows that are theirs).
    Tenants(Vec<String>),
    /// One tenant (the rows of an [`Owner::Tenant`] kind are read tenant by tenant).
    Tenant(String),
}

/// A page of a kind's rows, and where the next one starts (none: this was the last).
#[derive(Debug, Default)]
pub struct TransferPage {
    pub rows: Vec<Vec<Field>>,
    pub next: Option<Vec<Field>>,
}

/// A row to import: its fields (as [`Kind::columns`]), and for a resource the attribute
/// index entries of its document.
#[derive(Debug)]
pub struct ImportRow {
    pub fields: Vec<Field>,
    pub index: Vec<IndexEntry>,
}

/// Reading and writing the carried rows, kind by kind.
pub trait TransferStore {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// The kinds carried, in import order.
    fn kinds(&self) -> &'static [Kind] {
        crate::roles::transfer::kinds()
    }

    /// Up to `limit` rows of kind number `kind` (in [`TransferStore::kinds`]) for
    /// `selection`, in a fixed order of their natural keys, after the position `after`
    /// (the previous page's [`TransferPage::next`]).
    fn export_page<'a>(
        &'a self,
        kind: usize,
        selection: &'a Selection,
        after: Option<Vec<Field>>,
        limit: usize,
    ) -> BoxFut<'a, StoreResult<TransferPage>>;

    /// Writes rows of kind number `kind` in one transaction: resources with their index
    /// rows and counts, audit events with ids of this database.
    fn import_rows(&self, kind: usize, rows: Vec<ImportRow>) -> BoxFut<'_, StoreResult<()>>;

    /// What can be written only once every row is there (a tenant's link to its other
    /// stage), for the rows of kind number `kind` given again.
    fn import_links(&self, kind: usize, rows: Vec<Vec<Field>>) -> BoxFut<'_, StoreResult<()>>;
}
