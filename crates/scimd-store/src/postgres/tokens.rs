//! [`TokenStore`] on PostgreSQL: opaque access tokens, client settings, and the answer
//! kept for a retried refresh (read inside the rotation's transaction).

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;

use super::{PgStore, pg, words};
use crate::tokens::{AccessTokenRow, ClientUpdate, NewAccessToken, TokenStore, expiry_code};
use crate::{BoxFut, DetailsLevel, StoreResult, TenantId, normalized_time};

/// The answer kept with the spent refresh token `hash`, if it was spent at or after
/// `grace_since` and the token that replaced it is still unused.
pub(super) async fn retry_within_grace(
    c: &impl GenericClient,
    hash: &[u8; 32],
    grace_since: &str,
) -> StoreResult<Option<Vec<u8>>> {
    let st = c
        .prepare_cached(
            "SELECT r.retry FROM refresh_tokens r JOIN refresh_tokens s ON s.hash = r.successor \
             WHERE r.hash = $1 AND r.used >= $2 AND s.used IS NULL AND r.retry IS NOT NULL",
        )
        .await
        .map_err(pg)?;
    Ok(c.query_opt(&st, &[&&hash[..], &grace_since]).await.map_err(pg)?.map(|r| r.get(0)))
}

impl TokenStore for PgStore {
    fn store_access_token(&self, t: NewAccessToken, now: DateTime<Utc>) -> BoxFut<'_, StoreResult<()>> {
        let now = normalized_time(now);
        Box::pin(async move {
            self.exec(
                "INSERT INTO access_tokens (hash, jti, family, client, tenant_id, subject, scopes, created, expires) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[
                    &&t.hash[..],
                    &t.jti,
                    &t.family,
                    &t.client,
                    &t.tenant.0,
                    &t.subject,
                    &t.scopes.join(" "),
                    &now,
                    &normalized_time(t.expires),
                ],
            )
            .await
            .map(|_| ())
        })
    }

    fn access_token(&self, hash: [u8; 32]) -> BoxFut<'_, StoreResult<Option<AccessTokenRow>>> {
        Box::pin(async move {
            let row = self
                .query_opt(
                    "SELECT a.jti, a.family, c.client_id, a.tenant_id, t.name, a.subject, a.scopes, a.created, \
                     a.expires, t.scim_enabled, t.audit_details, \
                     EXISTS (SELECT 1 FROM revoked_grants g WHERE g.id = a.jti OR g.id = a.family) \
                     FROM access_tokens a JOIN tenants t ON t.id = a.tenant_id \
                     JOIN oauth_clients c ON c.id = a.client WHERE a.hash = $1",
                    &[&&hash[..]],
                )
                .await?;
            Ok(row.map(|r| AccessTokenRow {
                jti: r.get(0),
                family: r.get(1),
                client_id: r.get(2),
                tenant: TenantId(r.get(3)),
                tenant_name: r.get(4),
                subject: r.get(5),
                scopes: words(r.get(6)),
                created: r.get(7),
                expires: r.get(8),
                scim_enabled: r.get(9),
                audit_details: DetailsLevel::from_code(r.get(10)),
                revoked: r.get(11),
            }))
        })
    }

    fn update_client(&self, client_id: &str, u: ClientUpdate) -> BoxFut<'_, StoreResult<()>> {
        let client_id = client_id.to_string();
        Box::pin(async move {
            let set_expiry = u.refresh_expiry.is_some();
            let expiry = u.refresh_expiry.and_then(expiry_code);
            self.exec_one(
                "UPDATE oauth_clients SET access_ttl = coalesce($2, access_ttl), \
                 refresh_ttl = coalesce($3, refresh_ttl), \
                 refresh_expiry = CASE WHEN $4 THEN $5 ELSE refresh_expiry END WHERE client_id = $1",
                &[&client_id, &u.access_ttl_secs, &u.refresh_ttl_secs, &set_expiry, &expiry],
            )
            .await
        })
    }
}
