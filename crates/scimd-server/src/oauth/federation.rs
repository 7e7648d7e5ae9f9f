//! Federated trusts at the token endpoint: tokens signed by a tenant's trusted issuer (an
//! identity provider such as Microsoft Entra ID or Okta, or any OpenID Connect issuer),
//! verified with the issuer's keys — its `jwks_uri` as the trust names it, or discovered
//! from `{issuer}/.well-known/openid-configuration`, then RFC 8414's
//! `/.well-known/oauth-authorization-server` — and checked against the trust's
//! audiences, subjects and claims. Used by the JWT bearer grant (RFC 7523 §2.1, here) and
//! by clients bound to a trust (`assertion`), and, for trusts that say so, as bearer
//! tokens at the SCIM API (an identity provider sending its own access tokens; tried only
//! after a token failed as scimd's own). Key sets are shared by URL, cached
//! ([`KEYS_MAX_AGE`]) and fetched again for an unknown `kid` at most every
//! `jose::KEY_REFETCH_INTERVAL`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::Url;
use scimd_store::{ClientAuth, Trust};
use serde_json::Value;

use super::assertion::{Checked, Expect, FEDERATED_MAX_SECS, KEYS_MAX_AGE, check};
use super::issue::scopes_within;
use super::{ClientCredentials, Grant, OAuth, OAuthError, OResult, TokenRequest, TokenResponse, scim_access};
use crate::error::AppResult;
use crate::jose::jws::{self, Jws};
use crate::jose::remote::{self, RemoteKeys};

/// `grant_type` of the JWT bearer grant (RFC 7523 §2.1).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// The longest access token the JWT bearer grant issues (never beyond the assertion).
const GRANT_TTL_MAX: i64 = 3600;
/// How long the trusts whose tokens open the SCIM API are remembered.
const BEARER_TRUSTS_TTL: Duration = Duration::from_secs(5);
/// Key sets and discovered issuers kept at most (they come from operators' settings, so
/// this is only a bound).
const CACHE_MAX: usize = 1000;

fn not_accepted() -> OAuthError {
    OAuthError::invalid_grant("the assertion is not accepted by any trust of this tenant")
}

impl OAuth {
    /// Every tenant's trusts whose tokens open the SCIM API (read at most every few
    /// seconds; a change made through this process applies at once).
    async fn bearer_trusts(&self) -> Arc<Vec<Trust>> {
        if let Some((at, trusts)) = &*self.bearer_trusts.lock().expect("bearer trusts")
            && at.elapsed() < BEARER_TRUSTS_TTL
        {
            return trusts.clone();
        }
        let trusts = match self.store.bearer_trusts().await {
            Ok(t) => Arc::new(t),
            Err(e) => {
                tracing::warn!(error = %e, "reading the trusts that accept bearer tokens failed");
                Arc::new(Vec::new())
            }
        };
        *self.bearer_trusts.lock().expect("bearer trusts") = Some((Instant::now(), trusts.clone()));
        trusts
    }

    /// What a token of a trusted issuer allows at the SCIM API: the trust (accepting
    /// bearer tokens) that admits it gives its tenant and scopes. A token admitted by
    /// trusts of two tenants is refused: a token must not choose its tenant.
    pub(super) async fn federated_bearer(&self, token: &str, now: DateTime<Utc>) -> AppResult<Option<Grant>> {
        let Ok(parsed) = Jws::parse(token) else { return Ok(None) };
        let Some(iss) = jws::text(&parsed.claims, "iss") else { return Ok(None) };
        let trusts = self.bearer_trusts().await;
        let mut admitted: Option<(&Trust, Checked)> = None;
        for trust in trusts.iter().filter(|t| t.issuer == iss) {
            match self.verify_trusted(&parsed, trust, now.timestamp()).await {
                Ok(checked) => match &admitted {
                    Some((first, _)) if first.tenant != trust.tenant => {
                        tracing::warn!(issuer = %iss, "a bearer token admitted by trusts of two tenants is refused");
                        return Ok(None);
                    }
                    Some(_) => {}
                    None => admitted = Some((trust, checked)),
                },
                Err(why) => {
                    tracing::info!(tenant = trust.tenant.0, trust = %trust.name, reason = %why, "bearer token refused by a trust");
                }
            }
        }
        let Some((trust, checked)) = admitted else { return Ok(None) };
        let jti = checked.jti.as_deref().unwrap_or_default();
        let Some(status) = self.store.grant_status(trust.tenant, jti, None).await? else { return Ok(None) };
        if status.revoked {
            return Ok(None);
        }
        let (read, write) = scim_access(trust.scopes.iter().map(String::as_str));
        Ok(Some(Grant {
            tenant: trust.tenant,
            client: Arc::from(format!("trust:{}", trust.name).as_str()),
            audit_details: status.audit_details,
            scim_enabled: status.scim_enabled,
            read,
            write,
            scopes: Arc::from(trust.scopes.join(" ").as_str()),
            expires: Some(checked.exp),
            subject: None,
        }))
    }

    /// The key set at `uri` (shared by every client and trust naming it).
    pub(super) fn remote_keys(&self, uri: &str, what: &str) -> Result<Arc<RemoteKeys>, String> {
        let url = remote::acceptable_url(uri, self.config.federation_allow_http_loopback, "key set URL")?;
        let mut cache = self.remote.lock().expect("key sets");
        if let Some(k) = cache.get(url.as_str()) {
            return Ok(k.clone());
        }
        if cache.len() >= CACHE_MAX {
            cache.clear();
        }
        let keys = Arc::new(RemoteKeys::new(url.clone(), what));
        cache.insert(url.to_string(), keys.clone());
        Ok(keys)
    }

    /// Where a trust's keys are: as it names them, else discovered from its issuer.
    async fn trust_keys(&self, trust: &Trust) -> Result<Arc<RemoteKeys>, String> {
        let what = "trusted issuer's key set (JWKS)";
        if let Some(uri) = &trust.jwks_uri {
            return self.remote_keys(uri, what);
        }
        let known = self.discovered.lock().expect("discovered").get(&trust.issuer).cloned();
        let uri = match known {
            Some((at, uri)) if at.elapsed() < KEYS_MAX_AGE => uri,
            _ => {
                let uri = self.discover_jwks_uri(&trust.issuer).await?;
                let mut d = self.discovered.lock().expect("discovered");
                if d.len() >= CACHE_MAX {
                    d.clear();
                }
                d.insert(trust.issuer.clone(), (Instant::now(), uri.clone()));
                uri
            }
        };
        self.remote_keys(uri.as_str(), what)
    }

    /// The `jwks_uri` of an issuer's metadata: OpenID Connect discovery, else RFC 8414
    /// (whose well-known path goes before the issuer's path); the document must name
    /// exactly this issuer.
    async fn discover_jwks_uri(&self, issuer: &str) -> Result<Url, String> {
        let allow = self.config.federation_allow_http_loopback;
        let base = remote::acceptable_url(issuer, allow, "trusted issuer")?;
        let oidc = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
        let path = base.path().trim_end_matches('/');
        let mut rfc8414 = base.clone();
        rfc8414.set_path(&format!("/.well-known/oauth-authorization-server{path}"));
        let mut why = String::new();
        for url in [oidc, rfc8414.to_string()] {
            let url = remote::acceptable_url(&url, allow, "trusted issuer")?;
            match remote::get_json(&self.http, &url, "trusted issuer's metadata").await {
                Ok(doc) if doc.get("issuer").and_then(Value::as_str) == Some(issuer) => {
                    let uri = doc.get("jwks_uri").and_then(Value::as_str).unwrap_or_default();
                    return remote::acceptable_url(uri, allow, "trusted issuer's jwks_uri");
                }
                Ok(_) => why = "the issuer's metadata names another issuer".into(),
                Err(e) => why = e.0,
            }
        }
        Err(why)
    }

    /// Verifies a token of a trust's issuer: its signature with the trust's keys, then its
    /// claims as the trust says. The error says why, for the log.
    pub(super) async fn verify_trusted(&self, token: &Jws<'_>, trust: &Trust, now: i64) -> Result<Checked, String> {
        if jws::text(&token.claims, "iss").as_deref() != Some(trust.issuer.as_str()) {
            return Err("iss is not the trust's issuer".into());
        }
        let keys = self.trust_keys(trust).await?;
        let Some(key) =
            keys.key_for(&self.http, token.alg, token.kid.as_deref(), KEYS_MAX_AGE).await.map_err(|e| e.0)?
        else {
            return Err("no key of the trusted issuer matches the token's alg and kid".into());
        };
        if !token.verified_by(&key) {
            return Err("bad signature".into());
        }
        let expect = Expect {
            issuer: &trust.issuer,
            subjects: &trust.subjects,
            claims: &trust.claims,
            audiences: &trust.audiences,
            max_lifetime: FEDERATED_MAX_SECS,
            jti_required: false,
        };
        check(&token.claims, &expect, now).map_err(str::to_string)
    }

    /// The JWT bearer grant: an access token of the tenant for a token its trusted issuer
    /// signed. The tenant is named by `tenant`, or is the authenticated client's only one;
    /// client authentication is optional (RFC 7523 §3.1) and, when present, the client must
    /// reach the tenant. The token carries the trust's scopes (or those asked, within
    /// them), lives at most [`GRANT_TTL_MAX`] and never beyond the assertion.
    pub(super) async fn jwt_bearer(
        &self,
        req: &TokenRequest,
        creds: Option<&ClientCredentials>,
        requested: &Option<Vec<String>>,
        issuer: &str,
        now: DateTime<Utc>,
    ) -> OResult<TokenResponse> {
        let Some(assertion) = req.assertion.as_deref() else {
            return Err(OAuthError::invalid_request("the jwt-bearer grant needs 'assertion'"));
        };
        let client = match creds {
            Some(_) => Some(self.authenticate_client(creds).await?),
            None => None,
        };
        let name = match (&req.tenant, &client) {
            (Some(t), _) => t.clone(),
            (None, Some(c)) if c.tenants.len() == 1 => c.tenants[0].1.clone(),
            _ => return Err(OAuthError::invalid_request("name the tenant with the 'tenant' parameter")),
        };
        let Some(tenant) = self.store.tenant_by_name(&name).await? else {
            return Err(not_accepted());
        };
        if let Some(c) = &client
            && !c.tenants.iter().any(|(t, _)| *t == tenant.id)
        {
            return Err(OAuthError::invalid_request(format!("this client may not reach tenant '{name}'")));
        }
        let token = Jws::parse(assertion)
            .map_err(|_| OAuthError::invalid_grant("the assertion is not a JWT signed with RS256 or ES256"))?;
        let iss = jws::text(&token.claims, "iss").unwrap_or_default();
        let mut accepted = None;
        let trusts = self.store.trusts_of_issuer(tenant.id, &iss).await?;
        if trusts.is_empty() {
            tracing::info!(tenant = %name, "assertion refused: the tenant trusts no issuer of that name");
        }
        for trust in trusts {
            match self.verify_trusted(&token, &trust, now.timestamp()).await {
                Ok(checked) => {
                    accepted = Some((trust, checked));
                    break;
                }
                Err(why) => {
                    tracing::info!(tenant = %name, trust = %trust.name, reason = %why, "assertion refused by a trust")
                }
            }
        }
        let Some((trust, checked)) = accepted else {
            return Err(not_accepted());
        };
        self.tenant_open(&name).await?;
        let scopes = scopes_within(requested, &trust.scopes)?;
        let shape = match &client {
            Some(c) => self.shape_for_client(c, tenant.id).await?,
            None => self.token_shape(tenant.id).await?,
        };
        let most = client.as_ref().map_or(GRANT_TTL_MAX, |c| c.access_ttl_secs.min(GRANT_TTL_MAX));
        let ttl = (checked.exp - now.timestamp()).clamp(1, most.max(1));
        let acting = match client {
            Some(c) => ClientAuth { access_ttl_secs: ttl, ..c },
            None if shape.opaque_access_tokens => {
                return Err(OAuthError::invalid_request(
                    "this tenant's profile asks for opaque access tokens: authenticate a client with this grant",
                ));
            }
            None => ClientAuth {
                row: 0,
                client_id: format!("trust:{}", trust.name),
                secret_hashes: Vec::new(),
                grant_types: Vec::new(),
                scopes: trust.scopes.clone(),
                access_ttl_secs: ttl,
                refresh_ttl_secs: 0,
                refresh_expiry: None,
                tenants: vec![(tenant.id, name.clone())],
                disabled: false,
                keys: Default::default(),
            },
        };
        let access = self
            .issue_access(issuer, &acting, &checked.subject, (tenant.id, &name), &scopes, None, now, &shape)
            .await?;
        Ok(TokenResponse {
            access_token: access,
            token_type: "bearer",
            expires_in: ttl,
            scope: scopes.join(" "),
            refresh_token: None,
            http_status_code: None,
            tenant: Some(tenant.id),
        })
    }
}
