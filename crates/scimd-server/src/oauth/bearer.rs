//! The resource side: what a SCIM request's bearer token allows — a JWT (signature and
//! one probe; a JWT that is not scimd's may be a trusted issuer's, see `federation`), an
//! opaque access token or a long-lived token (a hash probe each) — behind a 5-second
//! cache of verified tokens keyed by the token's SHA-256 (clients' own tokens: a user's
//! is probed every time, so that its user's deactivation ends it at once).

use std::sync::Arc;

use scimd_store::{TenantId, normalized_time};

use super::{Grant, OAuth, opaque, scim_access, unix};
use crate::auth::hash_token;
use crate::error::AppResult;

impl OAuth {
    /// What a bearer token (an access token or a long-lived token) allows, if it is valid.
    pub async fn authenticate(&self, token: &str) -> AppResult<Option<Grant>> {
        let hash = hash_token(token);
        let now = self.clock.now();
        if let Some(g) = self.verified.get(&hash)
            && g.expires.is_none_or(|e| e > unix(now))
        {
            return Ok(Some(g));
        }
        let grant = if token.starts_with("eyJ") && token.bytes().filter(|b| *b == b'.').count() == 2 {
            let own = self.verify_access(token, now).await?.map(|(c, status)| {
                let (read, write) = scim_access(c.scope.split_whitespace());
                Grant {
                    tenant: TenantId(c.tid),
                    client: Arc::from(c.client_id.as_str()),
                    audit_details: status.audit_details,
                    scim_enabled: status.scim_enabled,
                    read,
                    write,
                    scopes: Arc::from(c.scope.as_str()),
                    expires: Some(c.exp),
                    subject: c.sid.is_some().then(|| Arc::from(c.sub.as_str())),
                }
            });
            match own {
                Some(g) => Some(g),
                None => self.federated_bearer(token, now).await?,
            }
        } else if let Some(a) = match opaque::is_opaque(token) {
            true => self.store.access_token(hash).await?,
            false => None,
        } {
            let expires = opaque::unix_of(&a.expires);
            (!a.revoked && a.expires.as_str() > normalized_time(now).as_str()).then(|| {
                let (read, write) = scim_access(a.scopes.iter().map(String::as_str));
                Grant {
                    tenant: a.tenant,
                    client: Arc::from(a.client_id.as_str()),
                    audit_details: a.audit_details,
                    scim_enabled: a.scim_enabled,
                    read,
                    write,
                    scopes: Arc::from(a.scopes.join(" ").as_str()),
                    expires: Some(expires),
                    subject: a.family.is_some().then(|| a.subject.as_deref().map(Arc::from)).flatten(),
                }
            })
        } else {
            self.store.token_tenant(hash, now).await?.map(|t| Grant {
                tenant: t.tenant,
                client: Arc::from(format!("token:{}", t.id).as_str()),
                audit_details: t.audit_details,
                scim_enabled: t.scim_enabled,
                read: true,
                write: true,
                scopes: Arc::from(""),
                expires: t.expires,
                subject: None,
            })
        };
        // A user's token (password and refresh grants) is checked every time: its user's
        // deactivation revokes it, and must take effect at once on every replica. Clients'
        // own tokens, the hot path, keep the cache.
        if let Some(g) = grant.as_ref().filter(|g| g.subject.is_none()) {
            self.verified.put(hash, g.clone());
        }
        Ok(grant)
    }
}
