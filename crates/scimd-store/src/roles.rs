//! The store's SQL by role, each written once for both databases against [`crate::db::Db`];
//! the SQLite and PostgreSQL shells (`sqlite`, `postgres`) only say where each runs (a
//! reader or the writer thread; a pooled connection or a transaction).
//!
//! - `tenants`: tenants, their SCIM switch, profile and audit settings.
//! - `credentials`: tenants' bearer tokens, operator tokens, API system users.
//! - `clients`: OAuth clients, their secrets and settings.
//! - `keys`: the authorization server's signing keys, the deployment's secrets.
//! - `oauth`: refresh tokens and their rotation, revoked grants, opaque access tokens,
//!   failed-login counts, purging OAuth bookkeeping.

pub(crate) mod clients;
pub(crate) mod credentials;
pub(crate) mod keys;
pub(crate) mod oauth;
pub(crate) mod tenants;
