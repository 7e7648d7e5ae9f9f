//! The store's SQL by role, each written once for both databases against [`crate::db::Db`];
//! the SQLite and PostgreSQL shells (`sqlite`, `postgres`) only say where each runs (a
//! reader or the writer thread; a pooled connection or a transaction).
//!
//! - `audit`: the audit trail's events, payloads and error log: written, read, purged.
//! - `tenants`: tenants, their SCIM switch, profile and audit settings.
//! - `places`: the places tree, access links, location rules and their recomputation.

pub(crate) mod audit;
pub(crate) mod places;
pub(crate) mod tenants;
