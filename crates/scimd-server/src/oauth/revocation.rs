//! Revocation (RFC 7009) and introspection (RFC 7662) of a client's own tokens: access
//! tokens (JWT or opaque) and refresh tokens. Another client's token, or an unknown one,
//! is answered as if it were not there.

use chrono::{DateTime, TimeDelta};
use scimd_store::normalized_time;
use serde_json::{Value, json};

use super::{ClientCredentials, OAuth, OResult, app_to_oauth, opaque};
use crate::auth::hash_token;

impl OAuth {
    /// RFC 7009: revokes an access or refresh token of the calling client. Unknown tokens,
    /// and other clients' tokens, are ignored (the answer is the same).
    pub async fn revoke(&self, creds: Option<ClientCredentials>, token: &str) -> OResult<()> {
        let client = self.authenticate_client(creds.as_ref()).await?;
        let now = self.clock.now();
        if let Some(c) = self.decode(token).await.map_err(app_to_oauth)? {
            if c.client_id == client.client_id {
                let until = DateTime::from_timestamp(c.exp, 0).unwrap_or(now).max(now);
                self.store.revoke_grant(&c.jti, until).await?;
            }
        } else if opaque::is_opaque(token)
            && let Some(a) = self.store.access_token(hash_token(token)).await?
        {
            if a.client_id == client.client_id {
                let until = DateTime::from_timestamp(opaque::unix_of(&a.expires), 0).unwrap_or(now).max(now);
                self.store.revoke_grant(&a.jti, until).await?;
            }
        } else if let Some(g) = self.store.refresh_token(hash_token(token)).await?
            && g.client == client.row
        {
            let until = now + TimeDelta::seconds(client.access_ttl_secs);
            self.store.revoke_grant(&g.family, until).await?;
        }
        self.verified.clear();
        Ok(())
    }

    /// RFC 7662: what the calling client's token is; `{"active": false}` for anything
    /// invalid or belonging to another client.
    pub async fn introspect(&self, creds: Option<ClientCredentials>, token: &str) -> OResult<Value> {
        let client = self.authenticate_client(creds.as_ref()).await?;
        let now = self.clock.now();
        let inactive = json!({ "active": false });
        if let Some((c, _)) = self.verify_access(token, now).await.map_err(app_to_oauth)? {
            if c.client_id != client.client_id {
                return Ok(inactive);
            }
            return Ok(json!({
                "active": true, "token_type": "Bearer", "scope": c.scope, "client_id": c.client_id,
                "sub": c.sub, "iss": c.iss, "exp": c.exp, "iat": c.iat, "jti": c.jti, "tenant": c.tenant,
            }));
        }
        if opaque::is_opaque(token)
            && let Some(a) = self.store.access_token(hash_token(token)).await?
        {
            let active =
                a.client_id == client.client_id && !a.revoked && a.expires.as_str() > normalized_time(now).as_str();
            return Ok(if active { opaque::introspection(&a) } else { inactive });
        }
        if let Some(g) = self.store.refresh_token(hash_token(token)).await?
            && g.client == client.row
            && !g.used
            && !g.revoked
            && g.expires.as_str() > normalized_time(now).as_str()
        {
            let time = |s: &str| DateTime::parse_from_rfc3339(s).map(|t| t.timestamp()).unwrap_or(0);
            let mut v = json!({
                "active": true, "token_type": "refresh_token", "scope": g.scopes.join(" "),
                "client_id": g.client_id, "exp": time(&g.expires), "iat": time(&g.created), "tenant": g.tenant_name,
            });
            if let Some(u) = g.username {
                v["username"] = json!(u);
                v["sub"] = json!(u);
            }
            return Ok(v);
        }
        Ok(inactive)
    }
}
