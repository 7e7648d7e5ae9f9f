//! [`TokenStore`] on SQLite: opaque access tokens, client settings, and the answer kept
//! for a retried refresh (read inside the rotation's write).

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::{SqliteStore, internal, map_err};
use crate::tokens::{AccessTokenRow, ClientUpdate, NewAccessToken, TokenStore, expiry_code};
use crate::{BoxFut, DetailsLevel, StoreError, StoreResult, TenantId, normalized_time};

/// The answer kept with the spent refresh token `hash`, if it was spent at or after
/// `grace_since` and the token that replaced it is still unused.
pub(super) fn retry_within_grace(
    conn: &Connection,
    hash: &[u8; 32],
    grace_since: &str,
) -> StoreResult<Option<Vec<u8>>> {
    conn.prepare_cached(
        "SELECT r.retry FROM refresh_tokens r JOIN refresh_tokens s ON s.hash = r.successor \
         WHERE r.hash = ? AND r.used >= ? AND s.used IS NULL AND r.retry IS NOT NULL",
    )
    .map_err(internal)?
    .query_row(params![&hash[..], grace_since], |r| r.get(0))
    .optional()
    .map_err(internal)
}

impl TokenStore for SqliteStore {
    fn store_access_token(&self, t: NewAccessToken, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        let now = normalized_time(now);
        Box::pin(self.write(move |conn| {
            conn.execute(
                "INSERT INTO access_tokens (hash, jti, family, client, tenant_id, subject, scopes, created, expires) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                params![
                    &t.hash[..],
                    t.jti,
                    t.family,
                    t.client,
                    t.tenant.0,
                    t.subject,
                    t.scopes.join(" "),
                    now,
                    normalized_time(t.expires)
                ],
            )
            .map_err(map_err)?;
            Ok(())
        }))
    }

    fn access_token(&self, hash: [u8; 32]) -> BoxFut<'_, StoreResult<Option<AccessTokenRow>>> {
        let r = self.read_one(|conn| {
            conn.prepare_cached(
                "SELECT a.jti, a.family, c.client_id, a.tenant_id, t.name, a.subject, a.scopes, a.created, a.expires, \
                 t.scim_enabled, t.audit_details, \
                 EXISTS (SELECT 1 FROM revoked_grants g WHERE g.id = a.jti OR g.id = a.family) \
                 FROM access_tokens a JOIN tenants t ON t.id = a.tenant_id JOIN oauth_clients c ON c.id = a.client \
                 WHERE a.hash = ?",
            )
            .map_err(internal)?
            .query_row([&hash[..]], |r| {
                let scopes: String = r.get(6)?;
                Ok(AccessTokenRow {
                    jti: r.get(0)?,
                    family: r.get(1)?,
                    client_id: r.get(2)?,
                    tenant: TenantId(r.get(3)?),
                    tenant_name: r.get(4)?,
                    subject: r.get(5)?,
                    scopes: scopes.split_whitespace().map(str::to_string).collect(),
                    created: r.get(7)?,
                    expires: r.get(8)?,
                    scim_enabled: r.get(9)?,
                    audit_details: DetailsLevel::from_code(r.get(10)?),
                    revoked: r.get(11)?,
                })
            })
            .optional()
            .map_err(internal)
        });
        Box::pin(async move { r })
    }

    fn update_client(&self, client_id: &str, u: ClientUpdate) -> BoxFut<'_, StoreResult<()>> {
        let client_id = client_id.to_string();
        Box::pin(self.write(move |conn| {
            let n = conn
                .execute(
                    "UPDATE oauth_clients SET access_ttl = coalesce(?2, access_ttl), \
                     refresh_ttl = coalesce(?3, refresh_ttl), \
                     refresh_expiry = CASE WHEN ?4 THEN ?5 ELSE refresh_expiry END WHERE client_id = ?1",
                    params![
                        client_id,
                        u.access_ttl_secs,
                        u.refresh_ttl_secs,
                        u.refresh_expiry.is_some(),
                        u.refresh_expiry.and_then(expiry_code)
                    ],
                )
                .map_err(internal)?;
            if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
        }))
    }
}
