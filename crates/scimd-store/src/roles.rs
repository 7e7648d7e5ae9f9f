//! The store's SQL by role, each written once for both databases against [`crate::db::Db`];
//! the SQLite and PostgreSQL shells (`sqlite`, `postgres`) only say where each runs (a
//! reader or the writer thread; a pooled connection or a transaction).
//!
//! - `access`: the access event: users' effective banks and lockers before and after a
//!   change that may move them.
//! - `async_requests`: asynchronous requests kept, leased, their operations recorded done.
//! - `audit`: the audit trail's events, payloads and error log: written, read, purged.
//! - `tenants`: tenants, their SCIM switch, profile and audit settings.
//! - `credentials`: tenants' bearer tokens, operator tokens, API system users.
//! - `events`: event streams, the events recorded with changes, delivery progress.
//! - `clients`: OAuth clients, their secrets and settings.
//! - `federation`: tenants' federated trusts, clients' keys, assertion jtis kept single-use.
//! - `keys`: the authorization server's signing keys, the deployment's secrets.
//! - `lifecycle`: tombstones of deleted resources, ending a deactivated user's logins,
//!   deactivation times.
//! - `oauth`: refresh tokens and their rotation, revoked grants, opaque access tokens,
//!   failed-login counts, purging OAuth bookkeeping.
//! - `onboarding`: API system users' set-password links, the message log, go-live
//!   submissions.
//! - `places`: the places tree, access links, location rules and their recomputation.
//! - `transfer`: every carried row read by natural keys and written back (export and
//!   import).
//! - `resources`: SCIM users and groups: read, listed, created, changed, deleted.

pub(crate) mod access;
pub(crate) mod async_requests;
pub(crate) mod audit;
pub(crate) mod clients;
pub(crate) mod credentials;
pub(crate) mod events;
pub(crate) mod federation;
pub(crate) mod keys;
pub(crate) mod lifecycle;
pub(crate) mod oauth;
pub(crate) mod onboarding;
pub(crate) mod places;
pub(crate) mod portal;
pub(crate) mod resources;
pub(crate) mod tenants;
pub(crate) mod transfer;
