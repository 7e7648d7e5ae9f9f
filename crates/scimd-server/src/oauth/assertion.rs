//! Signed assertions (RFC 7521, RFC 7523) as client authentication: `private_key_jwt`,
//! a client proving who it is with a JWT signed by one of its keys (inline, at its
//! `jwks_uri`, or those of a federated trust it is bound to) instead of a secret. The pure
//! claim checks live here ([`check`]), shared with the JWT bearer grant (`federation`).
//!
//! A refused assertion is answered `invalid_client` without saying which check failed;
//! the log line says which (never the assertion).

use std::collections::BTreeMap;
use std::time::Duration;

use scimd_store::{ClientAuth, TenantId};
use serde_json::{Map, Value};

use super::{Assertion, ClientCredentials, OAuth, OAuthError, OResult};
use crate::jose::LEEWAY_SECONDS;
use crate::jose::jwk::{self, Key};
use crate::jose::jws::{self, Jws};

/// `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The longest a client's own assertion may live: it is made for one request.
pub(super) const CLIENT_ASSERTION_MAX_SECS: i64 = 3600;
/// The longest a token of a trusted issuer may live (identity providers' access tokens
/// live about an hour; platform workload tokens up to a day).
pub(super) const FEDERATED_MAX_SECS: i64 = 24 * 3600;
/// How long a fetched key set is used before it is fetched again.
pub(super) const KEYS_MAX_AGE: Duration = Duration::from_secs(3600);

/// What an assertion's claims must say.
pub(super) struct Expect<'a> {
    /// `iss`, exactly.
    pub(super) issuer: &'a str,
    /// `sub` is one of these (any when empty).
    pub(super) subjects: &'a [String],
    /// Claims that must equal these values (a claim holding a list must contain it).
    pub(super) claims: &'a BTreeMap<String, String>,
    /// `aud` holds one of these.
    pub(super) audiences: &'a [String],
    /// `exp` at most this far ahead.
    pub(super) max_lifetime: i64,
    /// Whether `jti` must be present.
    pub(super) jti_required: bool,
}

/// An assertion whose claims hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Checked {
    pub(super) subject: String,
    pub(super) jti: Option<String>,
    pub(super) exp: i64,
}

fn claim_matches(claims: &Map<String, Value>, name: &str, want: &str) -> bool {
    match claims.get(name) {
        Some(Value::String(s)) => s == want,
        Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(want)),
        Some(Value::Number(n)) => n.to_string() == want,
        Some(Value::Bool(b)) => b.to_string() == want,
        _ => false,
    }
}

/// Checks an assertion's claims (its signature already verified) at `now` (Unix seconds);
/// the error names the failed check, for the log only.
pub(super) fn check(claims: &Map<String, Value>, e: &Expect<'_>, now: i64) -> Result<Checked, &'static str> {
    if jws::text(claims, "iss").as_deref() != Some(e.issuer) {
        return Err("iss is not the expected issuer");
    }
    let subject = jws::text(claims, "sub").filter(|s| !s.is_empty()).ok_or("no sub")?;
    if !e.subjects.is_empty() && !e.subjects.contains(&subject) {
        return Err("sub is not an accepted subject");
    }
    if e.claims.iter().any(|(name, want)| !claim_matches(claims, name, want)) {
        return Err("a required claim does not have the required value");
    }
    let auds = jws::audiences(claims);
    if !e.audiences.iter().any(|a| auds.contains(&a.as_str())) {
        return Err("aud does not name this server");
    }
    let exp = jws::seconds(claims, "exp").ok_or("no exp")?;
    if now >= exp.saturating_add(LEEWAY_SECONDS) {
        return Err("expired");
    }
    if exp > now.saturating_add(e.max_lifetime).saturating_add(LEEWAY_SECONDS) {
        return Err("exp is too far ahead");
    }
    for name in ["nbf", "iat"] {
        if jws::seconds(claims, name).is_some_and(|t| t > now.saturating_add(LEEWAY_SECONDS)) {
            return Err("nbf or iat is in the future");
        }
    }
    let jti = jws::text(claims, "jti").filter(|j| !j.is_empty());
    if e.jti_required && jti.is_none() {
        return Err("no jti");
    }
    Ok(Checked { subject, jti, exp })
}

/// Logs why an assertion was refused (never the assertion) and answers `invalid_client`.
fn refuse(client_id: &str, why: &str) -> OAuthError {
    tracing::info!(client_id = %client_id.chars().take(200).collect::<String>(), reason = %why, "client assertion refused");
    OAuthError::invalid_client()
}

impl OAuth {
    /// Authenticates a client by a signed assertion (`private_key_jwt`): the client named
    /// by `client_id`, else by the assertion's `sub`, must be registered for it; its own
    /// assertions have `iss` = `sub` = its id, name this server in `aud` and a `jti` used
    /// once; a client bound to a trust presents a token of that trust's issuer instead.
    pub(super) async fn authenticate_assertion(
        &self,
        creds: &ClientCredentials,
        assertion: &Assertion,
    ) -> OResult<ClientAuth> {
        let jws = match Jws::parse(&assertion.jwt) {
            Ok(j) => j,
            Err(e) => return Err(refuse(&creds.client_id, &format!("the assertion is unreadable ({e:?})"))),
        };
        let id = match (creds.client_id.as_str(), jws::text(&jws.claims, "sub")) {
            ("", Some(sub)) => sub,
            ("", None) => return Err(refuse("", "no client_id and no sub")),
            (id, _) => id.to_string(),
        };
        let now = self.clock.now();
        let Some(client) = self.store.client_auth(&id, now).await? else {
            return Err(refuse(&id, "unknown client"));
        };
        if client.disabled {
            return Err(refuse(&id, "disabled client"));
        }
        if !client.keys.private_key_jwt() {
            return Err(refuse(&id, "the client is not registered for private_key_jwt"));
        }
        let now_s = now.timestamp();
        if let Some((tenant, name)) = client.keys.trust.clone() {
            return match self.trusted_client(&client, &jws, tenant, &name, now_s).await {
                Ok(()) => Ok(client),
                Err(why) => Err(refuse(&id, &why)),
            };
        }
        let key = match self.client_key(&client, &jws).await {
            Ok(Some(k)) => k,
            Ok(None) => return Err(refuse(&id, "no key of the client matches the assertion's alg and kid")),
            Err(why) => return Err(refuse(&id, &why)),
        };
        if !jws.verified_by(&key) {
            return Err(refuse(&id, "bad signature"));
        }
        let subjects = [client.client_id.clone()];
        let expect = Expect {
            issuer: &client.client_id,
            subjects: &subjects,
            claims: &BTreeMap::new(),
            audiences: &assertion.audiences,
            max_lifetime: CLIENT_ASSERTION_MAX_SECS,
            jti_required: true,
        };
        let checked = check(&jws.claims, &expect, now_s).map_err(|why| refuse(&id, why))?;
        let jti = checked.jti.unwrap_or_default();
        let until = chrono::DateTime::from_timestamp(checked.exp.saturating_add(LEEWAY_SECONDS), 0).unwrap_or(now);
        if !self.store.claim_jti(&client.client_id, &jti, until, now).await? {
            return Err(refuse(&id, "jti already used (replay)"));
        }
        Ok(client)
    }

    /// The client's own key for this assertion: from its inline key set or its `jwks_uri`.
    async fn client_key(&self, client: &ClientAuth, jws: &Jws<'_>) -> Result<Option<Key>, String> {
        if let Some(text) = &client.keys.jwks {
            let doc: Value = serde_json::from_str(text).map_err(|_| "the client's stored key set is not JSON")?;
            return Ok(jwk::find(&jwk::parse_set(&doc), jws.alg, jws.kid.as_deref()).cloned());
        }
        let Some(uri) = &client.keys.jwks_uri else {
            return Err("the client has no keys".into());
        };
        let keys = self.remote_keys(uri, "client's key set (jwks_uri)")?;
        keys.key_for(&self.http, jws.alg, jws.kid.as_deref(), KEYS_MAX_AGE).await.map_err(|e| e.0)
    }

    /// A client bound to a trust: its assertion is a token of the trust's issuer, checked
    /// as the trust says (the trust must be of one of the client's tenants).
    async fn trusted_client(
        &self,
        client: &ClientAuth,
        jws: &Jws<'_>,
        tenant: TenantId,
        name: &str,
        now: i64,
    ) -> Result<(), String> {
        if !client.tenants.iter().any(|(t, _)| *t == tenant) {
            return Err("the client's trust is of a tenant it does not reach".into());
        }
        let Some(trust) = self.store.trust(tenant, name).await.map_err(|e| e.to_string())? else {
            return Err(format!("the client's trust '{name}' no longer exists"));
        };
        self.verify_trusted(jws, &trust, now).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000;

    fn claims(changes: Value) -> Map<String, Value> {
        let mut c = json!({"iss": "c1", "sub": "c1", "aud": "https://scimd.example/oauth2/token",
            "exp": NOW + 60, "iat": NOW, "jti": "j1", "tid": "t-1", "roles": ["a", "b"]})
        .as_object()
        .unwrap()
        .clone();
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                c.remove(k);
            } else {
                c.insert(k.clone(), v.clone());
            }
        }
        c
    }

    fn run(changes: Value, required: &[(&str, &str)], subjects: &[&str]) -> Result<Checked, &'static str> {
        let subjects: Vec<String> = subjects.iter().map(|s| s.to_string()).collect();
        let required: BTreeMap<String, String> = required.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let audiences = ["https://scimd.example".to_string(), "https://scimd.example/oauth2/token".to_string()];
        let e = Expect {
            issuer: "c1",
            subjects: &subjects,
            claims: &required,
            audiences: &audiences,
            max_lifetime: 3600,
            jti_required: true,
        };
        check(&claims(changes), &e, NOW)
    }

    #[test]
    fn good_claims_pass() {
        let c = run(json!({}), &[("tid", "t-1"), ("roles", "b")], &["c1"]).unwrap();
        assert_eq!(c, Checked { subject: "c1".into(), jti: Some("j1".into()), exp: NOW + 60 });
        assert!(run(json!({"aud": ["x", "https://scimd.example"]}), &[], &[]).is_ok());
    }

    #[test]
    fn each_check_refuses() {
        let refused = |c: Value| run(c, &[], &["c1"]).unwrap_err();
        assert!(refused(json!({"iss": "c2"})).contains("iss"));
        assert!(refused(json!({"sub": "c2"})).contains("sub"));
        assert!(refused(json!({"sub": null})).contains("sub"));
        assert!(refused(json!({"aud": "https://other.example"})).contains("aud"));
        assert!(refused(json!({"aud": null})).contains("aud"));
        assert!(refused(json!({"exp": null})).contains("exp"));
        assert!(refused(json!({"exp": NOW - LEEWAY_SECONDS})).contains("expired"));
        assert!(refused(json!({"exp": NOW + 3600 + LEEWAY_SECONDS + 1})).contains("too far"));
        assert!(refused(json!({"iat": NOW + LEEWAY_SECONDS + 1})).contains("future"));
        assert!(refused(json!({"nbf": NOW + 600})).contains("future"));
        assert!(refused(json!({"jti": null})).contains("jti"));
        assert!(run(json!({}), &[("tid", "t-2")], &[]).unwrap_err().contains("claim"));
        assert!(run(json!({}), &[("appid", "x")], &[]).unwrap_err().contains("claim"));
        assert!(run(json!({}), &[("roles", "c")], &[]).unwrap_err().contains("claim"));
    }
}
