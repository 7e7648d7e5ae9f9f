//! A provider as discovered: the discovery document (OpenID Connect Discovery 1.0, §4)
//! checked against the configured issuer, and the provider's signing keys (JWKS), fetched
//! again once for a `kid` they do not hold, at most every `KEY_REFETCH_INTERVAL`; the URLs
//! accepted and the fetching itself are `jose::remote`'s.

use std::time::Duration;

use reqwest::Url;
use serde_json::Value;

use super::OidcError;
use crate::jose::jwk::{Alg, Key};
use crate::jose::remote::{self, FetchError, RemoteKeys};

/// How the provider's key set is named in messages.
const KEY_SET: &str = "identity provider's key set (JWKS)";

impl From<FetchError> for OidcError {
    fn from(e: FetchError) -> Self {
        OidcError::Provider(e.0)
    }
}

/// An identity provider, as its discovery document describes it, with its keys.
#[derive(Debug)]
pub struct Provider {
    issuer: String,
    authorization_endpoint: Url,
    token_endpoint: Url,
    keys: RemoteKeys,
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
        let doc = remote::get_json(http, &url, "identity provider's discovery document").await?;
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
        let keys = remote::fetch_keys(http, &jwks_uri, KEY_SET).await?;
        Ok(Provider {
            issuer: issuer.to_string(),
            authorization_endpoint,
            token_endpoint,
            keys: RemoteKeys::fetched(jwks_uri, KEY_SET, keys),
        })
    }

    /// The key that verifies a token signed with `alg` by `kid` (or by the only key for
    /// `alg` when the token names none). A key not held makes one fetch of the key set, at
    /// most every `KEY_REFETCH_INTERVAL` (providers rotate keys; a token naming a key
    /// that does not exist must not make scimd fetch on every attempt).
    pub(super) async fn key_for(&self, http: &reqwest::Client, alg: Alg, kid: Option<&str>) -> Result<Key, OidcError> {
        // The keys are as old as the discovery, which is read again after DISCOVERY_TTL.
        match self.keys.key_for(http, alg, kid, Duration::MAX).await? {
            Some(k) => Ok(k),
            None => Err(OidcError::Refused(
                "The sign-in was signed with a key the identity provider does not publish.".into(),
            )),
        }
    }

    #[cfg(test)]
    pub(super) fn for_tests(issuer: &str, authorization_endpoint: &str) -> Provider {
        let url = |s: &str| Url::parse(s).unwrap();
        Provider {
            issuer: issuer.into(),
            authorization_endpoint: url(authorization_endpoint),
            token_endpoint: url(&format!("{issuer}/token")),
            keys: RemoteKeys::new(url(&format!("{issuer}/jwks")), KEY_SET),
        }
    }
}

/// `raw` as a URL scimd may talk to (see `jose::remote`); `what` names it in the message.
pub(super) fn acceptable_url(raw: &str, allow_http_loopback: bool, what: &str) -> Result<Url, OidcError> {
    remote::acceptable_url(raw, allow_http_loopback, what).map_err(OidcError::Settings)
}

/// The answer's body as a JSON object (see `jose::remote`).
pub(super) async fn read_json(response: reqwest::Response, what: &str) -> Result<Value, OidcError> {
    Ok(remote::read_json(response, &format!("identity provider's {what}")).await?)
}

/// The error for a provider that did not answer (without the URL: the message is shown).
pub(super) fn unreachable(e: &reqwest::Error) -> OidcError {
    remote::unreachable(e, "identity provider").into()
}
