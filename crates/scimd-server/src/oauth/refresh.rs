//! The `refresh_token` grant (RFC 6749 §6) with rotation: each refresh spends the
//! presented token and gives a new pair. A login's refresh tokens expire as the client (or
//! else its tenant's profile) says: `sliding`, one lifetime after each refresh, or
//! `absolute`, one lifetime after the login however often it is refreshed. A spent token
//! presented again revokes its whole login (a stolen token), except within a short grace
//! period while the pair that replaced it is unused: then it is a client retrying a refresh
//! whose answer it lost, and it gets that same answer back (kept sealed, see `retry`).

use chrono::{DateTime, TimeDelta, Utc};
use scimd_store::{ClientAuth, RefreshExpiry, Rotate, Rotation};

use super::issue::scopes_within;
use super::{OAuth, OAuthError, OResult, TokenResponse, retry, unix};
use crate::auth::hash_token;

/// What a refresh will answer, made before the presented token is spent so that the
/// rotation keeps it (sealed) in the same transaction.
struct Prepared {
    access: String,
    scopes: Vec<String>,
    refresh_expires: DateTime<Utc>,
}

impl OAuth {
    /// The `refresh_token` grant, for an authenticated client.
    pub(super) async fn refresh(
        &self,
        client: &ClientAuth,
        old: &str,
        requested: &Option<Vec<String>>,
        issuer: &str,
        now: DateTime<Utc>,
    ) -> OResult<TokenResponse> {
        // What can refuse the request is checked before the token is spent: a refused
        // refresh changes nothing, and the client may retry it.
        let mut prepared = None;
        if let Some(g) = self.store.refresh_token(hash_token(old)).await?
            && g.client == client.row
            && !g.used
            && !g.revoked
        {
            // A refresh may narrow the scopes, never widen them (RFC 6749 §6).
            let scopes = scopes_within(requested, &g.scopes)?;
            self.tenant_open(&g.tenant_name).await?;
            let shape = self.shape_for_client(client, g.tenant).await?;
            let mut refresh_expires = now + TimeDelta::seconds(client.refresh_ttl_secs);
            if client.refresh_expiry.or(shape.refresh_expiry) == Some(RefreshExpiry::Absolute) {
                // The login's end does not move: the new token expires with the spent one
                // (or sooner, if the client's lifetime was shortened since).
                if let Ok(end) = DateTime::parse_from_rfc3339(&g.expires) {
                    refresh_expires = refresh_expires.min(end.with_timezone(&Utc));
                }
            }
            let sub = g.username.clone().unwrap_or_else(|| client.client_id.clone());
            let tenant = (g.tenant, g.tenant_name.as_str());
            let access = self.issue_access(issuer, client, &sub, tenant, &scopes, Some(&g.family), now, &shape).await?;
            prepared = Some(Prepared { access, scopes, refresh_expires });
        }
        let new = self.new_refresh_token();
        let access_expires = unix(now) + client.access_ttl_secs;
        let grace = TimeDelta::from_std(self.config.refresh_grace).unwrap_or_default();
        let retry = match &prepared {
            Some(p) if grace > TimeDelta::zero() => Some(retry::seal(
                old,
                &retry::Answer {
                    access_token: p.access.clone(),
                    refresh_token: new.clone(),
                    scope: p.scopes.join(" "),
                    expires: access_expires,
                },
            )),
            _ => None,
        };
        let rotation = self
            .store
            .rotate_refresh(Rotate {
                hash: hash_token(old),
                client: client.row,
                new_hash: hash_token(&new),
                new_expires: prepared.as_ref().map_or(now, |p| p.refresh_expires),
                retry,
                grace_since: now - grace,
                revoke_until: now + TimeDelta::seconds(client.access_ttl_secs),
                now,
            })
            .await?;
        match rotation {
            Rotation::Rotated(g) => {
                // The token was valid when read above; validity never comes back, so the
                // answer was prepared.
                let p = prepared.ok_or_else(|| OAuthError::Internal("a refresh rotated an unprepared token".into()))?;
                Ok(TokenResponse {
                    access_token: p.access,
                    token_type: "bearer",
                    expires_in: client.access_ttl_secs,
                    scope: p.scopes.join(" "),
                    refresh_token: Some(new),
                    http_status_code: None,
                    tenant: Some(g.tenant),
                })
            }
            Rotation::Retried { grant, retry } => {
                let a = retry::open(old, &retry).ok_or_else(|| {
                    OAuthError::Internal("the answer kept for a retried refresh does not open".into())
                })?;
                tracing::info!(client_id = %client.client_id, "a spent refresh token retried within the grace period");
                Ok(TokenResponse {
                    access_token: a.access_token,
                    token_type: "bearer",
                    expires_in: (a.expires - unix(now)).max(0),
                    scope: a.scope,
                    refresh_token: Some(a.refresh_token),
                    http_status_code: None,
                    tenant: Some(grant.tenant),
                })
            }
            Rotation::Unknown => Err(OAuthError::invalid_grant("the refresh token is not valid")),
            Rotation::Expired => Err(OAuthError::invalid_grant("the refresh token has expired: log in again")),
            Rotation::Revoked => Err(OAuthError::invalid_grant("the refresh token has been revoked")),
            Rotation::Replayed => {
                self.verified.clear();
                tracing::warn!(client_id = %client.client_id, "refresh token replayed: its family is revoked");
                Err(OAuthError::invalid_grant(
                    "the refresh token was already used: every token of this login is now revoked",
                ))
            }
        }
    }
}
