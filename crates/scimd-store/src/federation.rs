//! Credentials without shared secrets: a client's public keys (private_key_jwt), a
//! tenant's federated trusts (issuers whose signed tokens it accepts) and the jti of every
//! assertion accepted (single use until it expires). The [`FederationStore`] part of the
//! `Store` contract and the types crossing it (written in `roles::federation`).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::{BoxFut, StoreResult, TenantId};

/// The client authentication method of a client that signs assertions.
pub const PRIVATE_KEY_JWT: &str = "private_key_jwt";

/// How a client proves who it is, beyond a secret: `private_key_jwt` with its keys inline
/// (`jwks`, a JSON key set), at a URL (`jwks_uri`), or those of a federated trust of one
/// of its tenants (`trust`: tenant and trust name). At most one of the three is set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientKeys {
    /// `Some("private_key_jwt")`, or `None`: a client secret.
    pub auth_method: Option<String>,
    pub jwks: Option<String>,
    pub jwks_uri: Option<String>,
    pub trust: Option<(TenantId, String)>,
}

impl ClientKeys {
    /// Whether the client authenticates with signed assertions only.
    pub fn private_key_jwt(&self) -> bool {
        self.auth_method.as_deref() == Some(PRIVATE_KEY_JWT)
    }
}

/// A tenant's federated trust: tokens signed by `issuer` (exactly) with a key of its key
/// set, meant for one of `audiences`, whose `sub` is one of `subjects` (any when empty) and
/// whose claims equal `claims`, are granted `scopes` in the tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trust {
    pub tenant: TenantId,
    pub name: String,
    pub issuer: String,
    /// Where its keys are; `None`: discovered from the issuer's metadata.
    pub jwks_uri: Option<String>,
    pub audiences: Vec<String>,
    pub subjects: Vec<String>,
    pub claims: BTreeMap<String, String>,
    pub scopes: Vec<String>,
    /// Whether its tokens are also accepted as bearer tokens at the SCIM API (an identity
    /// provider sending its own access tokens).
    pub accept_bearer: bool,
    /// A normalized time; empty in a trust not yet stored.
    pub created: String,
}

pub trait FederationStore: Send + Sync {
    /// Stores a trust of `trust.tenant`; `Conflict` if the tenant has one of that name.
    fn add_trust(&self, trust: Trust, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>>;
    /// A tenant's trusts, by name.
    fn trusts(&self, tenant: TenantId) -> BoxFut<'_, StoreResult<Vec<Trust>>>;
    /// A tenant's trusts of one issuer, by name.
    fn trusts_of_issuer(&self, tenant: TenantId, issuer: &str) -> BoxFut<'_, StoreResult<Vec<Trust>>>;
    /// Every tenant's trusts whose tokens are accepted as bearer tokens (a small settings
    /// table read every few seconds: a bearer token names no tenant, only its issuer).
    fn bearer_trusts(&self) -> BoxFut<'_, StoreResult<Vec<Trust>>>;
    /// A tenant's trust by name.
    fn trust(&self, tenant: TenantId, name: &str) -> BoxFut<'_, StoreResult<Option<Trust>>>;
    /// Removes a tenant's trust; `NotFound` if it has none of that name. Clients bound to
    /// it can no longer authenticate.
    fn remove_trust(&self, tenant: TenantId, name: &str) -> BoxFut<'_, StoreResult<()>>;
    /// Sets how a client authenticates; becoming a `private_key_jwt` client revokes its
    /// secrets at `now`. `NotFound` for an unknown client.
    fn set_client_keys(&self, client_id: &str, keys: ClientKeys, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>>;
    /// Records the first use of an assertion's `jti` from `issuer`, kept until `expires`:
    /// true the first time, false for a replay (one still kept). Atomic across replicas.
    fn claim_jti(
        &self,
        issuer: &str,
        jti: &str,
        expires: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> BoxFut<'_, StoreResult<bool>>;
}
