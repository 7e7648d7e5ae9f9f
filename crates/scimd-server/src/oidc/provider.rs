//! A provider as discovered: which URLs scimd accepts (https; plain http only on loopback
//! when allowed), the discovery document (OpenID Connect Discovery 1.0, §4) checked against
//! the configured issuer, and the provider's signing keys (JWKS), fetched again once for a
//! `kid` they do not hold, at most every [`KEY_REFETCH_INTERVAL`].

use std::net::IpAddr;
use std::time::Instant;

use reqwest::Url;
use reqwest::header::{ACCEPT, HeaderValue};
use serde_json::Value;

use super::jwks::{self, Alg, Key};
use super::{KEY_REFETCH_INTERVAL, OidcError};

/// The most of a provider's answer read (discovery documents and key sets are a few KiB).
const BODY_MAX: usize = 256 * 1024;

/// An identity provider, as its discovery document describes it, with its keys.
#[derive(Debug)]
pub struct Provider {
    issuer: String,
    authorization_endpoint: Url,
    token_endpoint: Url,
    jwks_uri: Url,
    keys: tokio::sync::Mutex<KeySet>,
}

#[derive(Debug)]
struct KeySet {
    keys: Vec<Key>,
    /// When the keys were last fetched for an unknown `kid`.
    refetched: Option<Instant>,
}

impl Provider {
    /// The issuer, exactly as configured (and as the provider names itself).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Where the browser is sent to sign in.
    pub fn authorization_endpoint(&self) -> &Url {
        &self.authorization_endpoint
    }

    pub(super) fn token_endpoint(&self) -> &Url {
        &self.token_endpoint
    }

    /// Reads `issuer`'s discovery document and keys.
    pub(super) async fn discover(
        http: &reqwest::Client,
        issuer: &str,
        allow_http_loopback: bool,
    ) -> Result<Provider, OidcError> {
        let base = acceptable_url(issuer, allow_http_loopback, "issuer")?;
        if base.query().is_some() {
            return Err(OidcError::Settings("The issuer must not have a query (`?…`).".into()));
        }
        let url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
        let url = acceptable_url(&url, allow_http_loopback, "issuer")?;
        let doc = get_json(http, &url, "discovery document").await?;
        let named = doc.get("issuer").and_then(Value::as_str).unwrap_or_default();
        if named != issuer {
            return Err(OidcError::Settings(format!(
                "The identity provider names its issuer {}, not {issuer} as configured; the two must be identical.",
                if named.is_empty() { "nothing".to_string() } else { named.chars().take(200).collect() }
            )));
        }
        let endpoint = |name: &str| -> Result<Url, OidcError> {
            let raw = doc.get(name).and_then(Value::as_str).ok_or_else(|| {
                OidcError::Provider(format!("The identity provider's discovery document has no {name}."))
            })?;
            acceptable_url(raw, allow_http_loopback, name)
        };
        let (authorization_endpoint, token_endpoint, jwks_uri) =
            (endpoint("authorization_endpoint")?, endpoint("token_endpoint")?, endpoint("jwks_uri")?);
        let lacks = |field: &str, wanted: &[&str]| {
            doc.get(field)
                .and_then(Value::as_array)
                .is_some_and(|have| !have.iter().any(|v| v.as_str().is_some_and(|v| wanted.contains(&v))))
        };
        if lacks("code_challenge_methods_supported", &["S256"]) {
            return Err(OidcError::Provider("The identity provider does not offer PKCE with S256.".into()));
        }
        if lacks("response_types_supported", &["code"]) {
            return Err(OidcError::Provider(
                "The identity provider does not offer the authorization code flow.".into(),
            ));
        }
        if lacks("id_token_signing_alg_values_supported", &["RS256", "ES256"]) {
            return Err(OidcError::Provider(
                "The identity provider signs ID tokens with neither RS256 nor ES256.".into(),
            ));
        }
        let keys = fetch_keys(http, &jwks_uri).await?;
        Ok(Provider {
            issuer: issuer.to_string(),
            authorization_endpoint,
            token_endpoint,
            jwks_uri,
            keys: tokio::sync::Mutex::new(KeySet { keys, refetched: None }),
        })
    }

    /// The key that verifies a token signed with `alg` by `kid` (or by the only key for
    /// `alg` when the token names none). A key not held makes one fetch of the key set, at
    /// most every [`KEY_REFETCH_INTERVAL`] (providers rotate keys; a token naming a key
    /// that does not exist must not make scimd fetch on every attempt).
    pub(super) async fn key_for(&self, http: &reqwest::Client, alg: Alg, kid: Option<&str>) -> Result<Key, OidcError> {
        let mut set = self.keys.lock().await;
        if let Some(k) = jwks::find(&set.keys, alg, kid) {
            return Ok(k.clone());
        }
        if set.refetched.is_none_or(|t| t.elapsed() >= KEY_REFETCH_INTERVAL) {
            set.refetched = Some(Instant::now());
            set.keys = fetch_keys(http, &self.jwks_uri).await?;
            if let Some(k) = jwks::find(&set.keys, alg, kid) {
                return Ok(k.clone());
            }
        }
        Err(OidcError::Refused("The sign-in was signed with a key the identity provider does not publish.".into()))
    }

    #[cfg(test)]
    pub(super) fn for_tests(issuer: &str, authorization_endpoint: &str) -> Provider {
        let url = |s: &str| Url::parse(s).unwrap();
        Provider {
            issuer: issuer.into(),
            authorization_endpoint: url(authorization_endpoint),
            token_endpoint: url(&format!("{issuer}/token")),
            jwks_uri: url(&format!("{issuer}/jwks")),
            keys: tokio::sync::Mutex::new(KeySet { keys: Vec::new(), refetched: None }),
        }
    }
}

/// `raw` as a URL scimd may talk to: https, or http on a loopback host when allowed; no
/// credentials and no fragment. `what` names it in the message.
pub(super) fn acceptable_url(raw: &str, allow_http_loopback: bool, what: &str) -> Result<Url, OidcError> {
    let url = Url::parse(raw).map_err(|_| OidcError::Settings(format!("The {what} is not a valid URL.")))?;
    if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
        return Err(OidcError::Settings(format!("The {what} must not carry credentials or a fragment (`#…`).")));
    }
    // `host_str` writes an IPv6 address in brackets; IPv4 hosts are already normalized.
    let loopback = url.host_str().is_some_and(|h| {
        h.eq_ignore_ascii_case("localhost")
            || h.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    });
    match url.scheme() {
        "https" if url.host().is_some() => Ok(url),
        "http" if loopback && allow_http_loopback => Ok(url),
        _ => Err(OidcError::Settings(format!("The {what} must be an https URL."))),
    }
}

/// The provider's key set, with the keys scimd can use.
async fn fetch_keys(http: &reqwest::Client, jwks_uri: &Url) -> Result<Vec<Key>, OidcError> {
    let doc = get_json(http, jwks_uri, "key set (JWKS)").await?;
    let keys = jwks::parse_set(&doc);
    if keys.is_empty() {
        return Err(OidcError::Provider("The identity provider publishes no RS256 or ES256 signing key.".into()));
    }
    Ok(keys)
}

/// GETs a JSON object from the provider; `what` names it in the messages.
async fn get_json(http: &reqwest::Client, url: &Url, what: &str) -> Result<Value, OidcError> {
    let response = http
        .get(url.clone())
        .header(ACCEPT, HeaderValue::from_static("application/json"))
        .send()
        .await
        .map_err(|e| unreachable(&e))?;
    let status = response.status();
    if !status.is_success() {
        return Err(OidcError::Provider(format!(
            "The identity provider's {what} could not be read (HTTP {}).",
            status.as_u16()
        )));
    }
    read_json(response, what).await
}

/// The answer's body as a JSON object, read up to [`BODY_MAX`].
pub(super) async fn read_json(mut response: reqwest::Response, what: &str) -> Result<Value, OidcError> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) if body.len() + chunk.len() <= BODY_MAX => body.extend_from_slice(&chunk),
            Ok(Some(_)) => {
                return Err(OidcError::Provider(format!("The identity provider's {what} is too large.")));
            }
            Ok(None) => break,
            Err(e) => return Err(unreachable(&e)),
        }
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(v) if v.is_object() => Ok(v),
        _ => Err(OidcError::Provider(format!("The identity provider's {what} is not a JSON object."))),
    }
}

/// The error for a provider that did not answer (without the URL: the message is shown).
pub(super) fn unreachable(e: &reqwest::Error) -> OidcError {
    let why = if e.is_timeout() {
        "it did not answer in time"
    } else if e.is_connect() {
        "no connection could be made"
    } else {
        "the exchange failed"
    };
    OidcError::Provider(format!("The identity provider could not be reached: {why}."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str, allow: bool) -> bool {
        acceptable_url(raw, allow, "issuer").is_ok()
    }

    #[test]
    fn https_everywhere_http_only_on_loopback_when_allowed() {
        assert!(ok("https://login.example.com/tenant", false));
        assert!(ok("https://127.0.0.1:8443", false));
        for loopback in ["http://127.0.0.1:9000", "http://[::1]:9000", "http://localhost:9000", "http://LOCALHOST"] {
            assert!(ok(loopback, true), "{loopback}");
            assert!(!ok(loopback, false), "{loopback}");
        }
        for bad in [
            "http://login.example.com",
            "http://10.0.0.1",
            "http://localhost.example.com",
            "http://127.0.0.1.example.com",
            "ftp://127.0.0.1",
            "https://user:pw@login.example.com",
            "https://login.example.com/#x",
            "login.example.com",
            "",
        ] {
            assert!(!ok(bad, true), "{bad}");
        }
    }
}
