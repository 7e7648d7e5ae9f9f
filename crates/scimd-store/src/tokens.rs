//! The token part of the store: opaque access tokens (kept by SHA-256 hash, for tenants
//! whose profile asks for them instead of signed JWTs) and the changes an operator makes
//! to an OAuth client's settings. Types and the trait only; the SQL is in `roles/oauth`
//! and `roles/clients`.

use chrono::{DateTime, Utc};

use crate::{BoxFut, DetailsLevel, RefreshExpiry, StoreResult, TenantId};

/// An opaque access token to store (by hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccessToken {
    pub hash: [u8; 32],
    /// Its id for revocation (`revoked_grants`), as a JWT's `jti`.
    pub jti: String,
    /// The refresh family it descends from (password and refresh grants): revoking the
    /// family revokes it.
    pub family: Option<String>,
    /// The client's database id.
    pub client: i64,
    pub tenant: TenantId,
    /// The API user it was issued to (password and refresh grants).
    pub subject: Option<String>,
    pub scopes: Vec<String>,
    pub expires: DateTime<Utc>,
}

/// A stored opaque access token, whatever its state, with what authenticating it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessTokenRow {
    pub jti: String,
    pub family: Option<String>,
    pub client_id: String,
    pub tenant: TenantId,
    pub tenant_name: String,
    pub subject: Option<String>,
    pub scopes: Vec<String>,
    /// Normalized times.
    pub created: String,
    pub expires: String,
    pub scim_enabled: bool,
    pub audit_details: DetailsLevel,
    /// Its jti or its family is revoked.
    pub revoked: bool,
}

/// Changes to an OAuth client's settings; `None` leaves a setting as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientUpdate {
    pub access_ttl_secs: Option<i64>,
    pub refresh_ttl_secs: Option<i64>,
    /// `Some(None)`: back to the tenant profile's choice.
    pub refresh_expiry: Option<Option<RefreshExpiry>>,
}

/// Opaque access tokens and client settings.
pub trait TokenStore {
    /// Stores an opaque access token.
    fn store_access_token(&self, token: NewAccessToken, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>>;
    /// An opaque access token by hash, whatever its state (expiry is the caller's to check).
    fn access_token(&self, hash: [u8; 32]) -> BoxFut<'_, StoreResult<Option<AccessTokenRow>>>;
    /// Changes a client's settings; `NotFound` for an unknown client.
    fn update_client(&self, client_id: &str, update: ClientUpdate) -> BoxFut<'_, StoreResult<()>>;
}
