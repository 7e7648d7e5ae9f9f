//! Credentials without shared secrets, as operators manage them: how a client
//! authenticates (a secret, or `private_key_jwt` with its public keys inline, at a URL,
//! or those of one of its tenants' federated trusts) and a tenant's federated trusts (an
//! issuer whose signed tokens the tenant accepts: its keys, audiences, the subjects or
//! claims it must carry, the scopes it grants). Shared by the command line and the admin
//! API; the checks of tokens themselves are `oauth`'s.

use std::collections::BTreeMap;

use scimd_core::profile::ProfileHead;

use scimd_store::{ClientKeys, PRIVATE_KEY_JWT, TenantId, Trust};
use serde::Serialize;

use super::{Admin, AdminError, AdminResult, scope_tokens, store_err};
use crate::jose::{jwk, remote};

/// The largest inline key set accepted (a few keys are a few KiB).
const JWKS_MAX: usize = 64 * 1024;
/// Claims a trust cannot require values of: they are checked by other means.
const RESERVED_CLAIMS: [&str; 6] = ["iss", "sub", "aud", "exp", "nbf", "iat"];

/// How a client is to authenticate.
#[derive(Debug, Clone, Default)]
pub struct ClientKeysSpec {
    /// `private_key_jwt`, or `client_secret` (`client_secret_basic` and `_post` alike).
    pub auth_method: String,
    /// A JSON Web Key Set of public keys.
    pub jwks: Option<String>,
    /// Where the client publishes its key set (https).
    pub jwks_uri: Option<String>,
    /// A trust of one of the client's tenants, by name: its issuer's tokens are the
    /// client's assertions.
    pub trust: Option<String>,
}

/// A client's authentication as operators see it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ClientKeysView {
    pub auth_method: &'static str,
    /// Whether it has an inline key set (never shown: it is long).
    pub jwks: bool,
    pub jwks_uri: Option<String>,
    /// `tenant/trust`.
    pub trust: Option<String>,
}

/// A trust to add to a tenant.
#[derive(Debug, Clone, Default)]
pub struct TrustSpec {
    pub name: String,
    pub issuer: String,
    pub jwks_uri: Option<String>,
    pub audiences: Vec<String>,
    pub subjects: Vec<String>,
    pub claims: BTreeMap<String, String>,
    /// Empty: `scim`.
    pub scopes: Vec<String>,
    /// Also accept its tokens as bearer tokens at the SCIM API.
    pub accept_bearer: bool,
}

/// A trust as operators see it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TrustView {
    pub name: String,
    pub issuer: String,
    /// `null`: discovered from the issuer's metadata.
    pub jwks_uri: Option<String>,
    pub audiences: Vec<String>,
    pub subjects: Vec<String>,
    pub claims: BTreeMap<String, String>,
    pub scopes: Vec<String>,
    pub accept_bearer: bool,
    pub created: String,
}

impl From<Trust> for TrustView {
    fn from(t: Trust) -> Self {
        TrustView {
            name: t.name,
            issuer: t.issuer,
            jwks_uri: t.jwks_uri,
            audiences: t.audiences,
            subjects: t.subjects,
            claims: t.claims,
            scopes: t.scopes,
            accept_bearer: t.accept_bearer,
            created: t.created,
        }
    }
}

/// How stored keys are shown, with the names of the client's tenants.
pub(crate) fn keys_view(k: &ClientKeys, tenant_names: &[(TenantId, String)]) -> ClientKeysView {
    ClientKeysView {
        auth_method: if k.private_key_jwt() { PRIVATE_KEY_JWT } else { "client_secret" },
        jwks: k.jwks.is_some(),
        jwks_uri: k.jwks_uri.clone(),
        trust: k.trust.as_ref().map(|(t, name)| {
            let tenant = tenant_names.iter().find(|(id, _)| id == t).map_or("?", |(_, n)| n.as_str());
            format!("{tenant}/{name}")
        }),
    }
}

/// A URL scimd will fetch from: https (plain http only on a loopback host, which the
/// server accepts only when its tests allow it).
fn fetchable(raw: &str, what: &str) -> AdminResult<String> {
    remote::acceptable_url(raw, true, what).map_err(AdminError::invalid)?;
    Ok(raw.to_string())
}

/// An inline key set: JSON, public keys only, at least one RS256 or ES256 signing key.
fn key_set(text: &str) -> AdminResult<String> {
    if text.len() > JWKS_MAX {
        return Err(AdminError::invalid("the key set is too large (64 KiB at most)"));
    }
    let doc: serde_json::Value =
        serde_json::from_str(text).map_err(|_| AdminError::invalid("the key set is not JSON"))?;
    let keys = doc
        .get("keys")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| AdminError::invalid("the key set must be a JSON Web Key Set: {\"keys\": [...]}"))?;
    if keys.iter().any(|k| k.get("d").is_some() || k.get("k").is_some()) {
        return Err(AdminError::invalid(
            "the key set holds a private or shared key: register the client's public keys only",
        ));
    }
    if jwk::parse_set(&doc).is_empty() {
        return Err(AdminError::invalid("the key set holds no RS256 or ES256 signing key"));
    }
    Ok(doc.to_string())
}

impl Admin {
    /// The keys to store for a client reaching `tenants`, checked.
    pub(crate) async fn client_keys(
        &self,
        spec: &ClientKeysSpec,
        tenants: &[(TenantId, String)],
    ) -> AdminResult<ClientKeys> {
        match spec.auth_method.as_str() {
            "client_secret" | "client_secret_basic" | "client_secret_post" => {
                if spec.jwks.is_some() || spec.jwks_uri.is_some() || spec.trust.is_some() {
                    return Err(AdminError::invalid("keys are for the private_key_jwt method"));
                }
                return Ok(ClientKeys::default());
            }
            PRIVATE_KEY_JWT => {}
            other => {
                return Err(AdminError::invalid(format!(
                    "unknown authentication method '{other}': use private_key_jwt or client_secret"
                )));
            }
        }
        let mut keys = ClientKeys { auth_method: Some(PRIVATE_KEY_JWT.into()), ..Default::default() };
        match (&spec.jwks, &spec.jwks_uri, &spec.trust) {
            (Some(j), None, None) => keys.jwks = Some(key_set(j)?),
            (None, Some(u), None) => keys.jwks_uri = Some(fetchable(u, "jwks_uri")?),
            (None, None, Some(name)) => {
                let mut found = Vec::new();
                for (id, tenant) in tenants {
                    if self.store.trust(*id, name).await.map_err(AdminError::internal)?.is_some() {
                        found.push((*id, tenant.clone()));
                    }
                }
                keys.trust = match found.as_slice() {
                    [(id, _)] => Some((*id, name.clone())),
                    [] => return Err(AdminError::not_found(format!("no tenant of this client has a trust '{name}'"))),
                    _ => {
                        return Err(AdminError::invalid(format!(
                            "several tenants of this client have a trust '{name}'"
                        )));
                    }
                };
            }
            _ => {
                return Err(AdminError::invalid(
                    "a private_key_jwt client needs exactly one of: a key set (jwks), a jwks_uri, a trust",
                ));
            }
        }
        Ok(keys)
    }

    /// Refuses a client secret for a client reaching `tenants` when one of them admits only
    /// clients that sign their assertions (its profile's `private_key_jwt_only`): the token
    /// endpoint would refuse the secret anyway, and a secret never used is one less to leak.
    pub(crate) async fn secrets_allowed(&self, tenants: &[(TenantId, String)]) -> AdminResult<()> {
        for (id, name) in tenants {
            let stored = self.store.tenant_profile(*id).await.map_err(AdminError::internal)?;
            if stored.and_then(|text| ProfileHead::from_json(&text)).is_some_and(|h| h.private_key_jwt_only) {
                return Err(AdminError::invalid(format!(
                    "tenant '{name}' admits only clients that sign their assertions (private_key_jwt): register \
                     the client's public keys (--auth-method private-key-jwt with --jwks, --jwks-uri or --trust) \
                     instead of a secret"
                )));
            }
        }
        Ok(())
    }

    /// Changes how a client authenticates. Becoming a `private_key_jwt` client revokes its
    /// secrets; a client going back to secrets has none until one is added.
    pub async fn set_client_keys(&self, client_id: &str, spec: ClientKeysSpec) -> AdminResult<ClientKeysView> {
        let now = self.now();
        let client = self
            .store
            .client_auth(client_id, now)
            .await
            .map_err(AdminError::internal)?
            .ok_or_else(|| AdminError::not_found(format!("no client '{client_id}'")))?;
        let keys = self.client_keys(&spec, &client.tenants).await?;
        if !keys.private_key_jwt() {
            self.secrets_allowed(&client.tenants).await?;
        }
        let view = keys_view(&keys, &client.tenants);
        self.store
            .set_client_keys(client_id, keys, now)
            .await
            .map_err(store_err(|| format!("no client '{client_id}'")))?;
        Ok(view)
    }

    /// Adds a federated trust to a tenant.
    pub async fn add_trust(&self, tenant: &str, spec: TrustSpec) -> AdminResult<TrustView> {
        let t = self.tenant(tenant).await?;
        let name = spec.name.trim();
        if name.is_empty()
            || name.len() > 64
            || !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            return Err(AdminError::invalid("a trust's name is 1 to 64 letters, digits, '-', '_' or '.'"));
        }
        let issuer = fetchable(&spec.issuer, "issuer")?;
        let jwks_uri = spec.jwks_uri.as_deref().map(|u| fetchable(u, "jwks_uri")).transpose()?;
        let clean = |v: Vec<String>| -> Vec<String> {
            let mut out: Vec<String> = Vec::new();
            for s in v.into_iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()) {
                if !out.contains(&s) {
                    out.push(s);
                }
            }
            out
        };
        let audiences = clean(spec.audiences);
        if audiences.is_empty() {
            return Err(AdminError::invalid("a trust needs at least one audience (what its tokens' aud must name)"));
        }
        let subjects = clean(spec.subjects);
        if let Some(c) = spec.claims.keys().find(|c| c.is_empty() || RESERVED_CLAIMS.contains(&c.as_str())) {
            return Err(AdminError::invalid(format!(
                "the claim '{c}' cannot be required: iss, sub, aud and times are checked by other means"
            )));
        }
        if subjects.is_empty() && spec.claims.is_empty() {
            return Err(AdminError::invalid(
                "a trust must say which subjects it admits: at least one subject or one required claim \
                 (otherwise any workload of the issuer would be admitted)",
            ));
        }
        let scopes = if spec.scopes.is_empty() {
            vec![crate::oauth::SCOPE_ALL.to_string()]
        } else {
            scope_tokens(&spec.scopes)?
        };
        let trust = Trust {
            tenant: t.id,
            name: name.to_string(),
            issuer,
            jwks_uri,
            audiences,
            subjects,
            claims: spec.claims,
            scopes,
            accept_bearer: spec.accept_bearer,
            created: String::new(),
        };
        self.store
            .add_trust(trust, self.now())
            .await
            .map_err(store_err(|| format!("tenant '{tenant}' already has a trust named '{name}'")))?;
        let stored = self.store.trust(t.id, name).await.map_err(AdminError::internal)?;
        stored.map(TrustView::from).ok_or_else(|| AdminError::internal("the trust just added is gone"))
    }

    /// A tenant's trusts, by name.
    pub async fn list_trusts(&self, tenant: &str) -> AdminResult<Vec<TrustView>> {
        let t = self.tenant(tenant).await?;
        Ok(self.store.trusts(t.id).await.map_err(AdminError::internal)?.into_iter().map(TrustView::from).collect())
    }

    /// Removes a tenant's trust: tokens of its issuer are refused from now on (access
    /// tokens already issued for them live out their lifetime, an hour at most).
    pub async fn remove_trust(&self, tenant: &str, name: &str) -> AdminResult<()> {
        let t = self.tenant(tenant).await?;
        self.store
            .remove_trust(t.id, name)
            .await
            .map_err(store_err(|| format!("tenant '{tenant}' has no trust '{name}'")))
    }
}
