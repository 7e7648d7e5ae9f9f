//! SCIM resources (users and groups), written once for both databases: reading one and
//! listing them (`read`), creating, changing and deleting them (`write`), their attribute
//! index and counts (`index`), their memberships (`members`).
//!
//! Each shell runs a change as one unit: SQLite's in a savepoint on its writer thread
//! (writes are serialized there, so no row is locked), PostgreSQL's in a transaction,
//! where replicas race: the resource changed is locked by its row for the
//! read-modify-write. What a write needs from its shell beside statements (the
//! attribute-key ids it remembers, where its audit event goes) is [`Shell`].

mod index;
mod members;
mod read;
mod write;

pub(crate) use index::{KeyScope, Shell, bump_count, rewrite_index, write_index};
pub(crate) use read::{Lock, Skip, count_sql, list, load, page_sql, where_clause};
pub(crate) use write::{create, create_with_ids, delete, update};
