//! Signing in to the portal with a tenant's own identity provider: the relying-party side
//! of OpenID Connect (authorization code flow with PKCE S256), written by hand over
//! `reqwest` and `ring` (the `openidconnect` crate brings `rsa`, which has an advisory
//! without a fix).
//!
//! The flow, as the portal drives it:
//! 1. [`Relying::discover`] reads the issuer's discovery document and signing keys
//!    (cached for [`DISCOVERY_TTL`]);
//! 2. [`Relying::start`] gives the URL to send the browser to, with the `state`, `nonce`
//!    and PKCE `verifier` that the caller keeps on its side until the browser comes back;
//! 3. the caller finds that pending sign-in by the `state` the browser brings back (and
//!    turns an `error=` answer into an [`OidcError`] with [`authorization_error`]), then
//!    [`Relying::finish`] exchanges the `code` and verifies the ID token into an
//!    [`Identity`];
//! 4. [`admits`] decides whether that identity may enter, from the tenant's allowed email
//!    domains and groups.
//!
//! What is checked: issuers and endpoints are https (plain http only on loopback, and only
//! when the `Relying` was built to allow it: tests); the discovery document names exactly
//! the configured issuer; the ID token is signed with RS256 or ES256 (never `none`, never
//! a shared-secret HMAC) by a key of the provider's JWKS chosen by `kid`; its `iss` is the
//! issuer, its `aud` holds the client id (and `azp` is the client id when there are
//! several audiences), `exp`/`iat`/`nbf` hold with [`LEEWAY_SECONDS`], and its `nonce` is
//! the one sent. Claims come from the ID token alone (no userinfo call).
//!
//! Errors are written for a person on a login page ([`OidcError`]): they never carry a
//! token, a code or a secret, and they say whether the provider failed, the settings are
//! wrong, or this sign-in is refused. This module is a leaf: it knows nothing of tenants,
//! sessions or the store.

mod id_token;
mod provider;
mod token;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};

pub use provider::Provider;

/// How long a discovered provider (its document and keys) is used before it is read again.
pub const DISCOVERY_TTL: Duration = Duration::from_secs(3600);
/// How far `exp`, `iat` and `nbf` may be off, for clocks that disagree a little.
pub const LEEWAY_SECONDS: i64 = crate::jose::LEEWAY_SECONDS;
/// At most one fetch of a provider's keys for an unknown `kid` in this time: a token naming
/// keys that do not exist must not make scimd hammer the provider.
pub const KEY_REFETCH_INTERVAL: Duration = crate::jose::KEY_REFETCH_INTERVAL;
/// How long establishing a connection (and TLS) to a provider may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one whole exchange with a provider may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Providers kept at most; issuers come from tenants' settings, so this is only a bound.
const CACHE_MAX: usize = 1000;
/// The scopes asked for: the ID token then carries the email and the name.
pub const SCOPE: &str = "openid email profile";

/// Why a sign-in through an identity provider did not work. The message (`Display`) is
/// meant for the person on the login page: it names what happened and never includes a
/// token, a code or a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    /// The tenant's settings cannot work (an issuer that is not https, not a URL, or not
    /// the one the provider names): an administrator must fix them.
    #[error("{0}")]
    Settings(String),
    /// The provider could not be reached, or answered something unusable (an error status,
    /// a document without an endpoint, no usable key, a refused client): trying again
    /// later or an administrator may help, the person signing in cannot.
    #[error("{0}")]
    Provider(String),
    /// The provider answered, but this sign-in is not accepted (the person declined, the
    /// code expired, the ID token failed a check): signing in again may work.
    #[error("{0}")]
    Refused(String),
}

impl OidcError {
    /// The message for the login page (the same as `Display`).
    pub fn message(&self) -> &str {
        match self {
            OidcError::Settings(m) | OidcError::Provider(m) | OidcError::Refused(m) => m,
        }
    }
}

/// Who signed in, as the provider's ID token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// `sub`: the provider's stable id of the person (unique per issuer).
    pub subject: String,
    pub email: Option<String>,
    /// Whether the provider vouches for `email` (`email_verified`; false when absent).
    pub email_verified: bool,
    pub name: Option<String>,
    /// `groups` (names or ids, as the provider sends them; empty when absent).
    pub groups: Vec<String>,
}

/// Whether `identity` may sign in under a tenant's rules: its email's domain is one of
/// `allowed_domains` (compared without case; a leading `@` in a rule is ignored; only when
/// the provider says the email is verified; subdomains do not count), or one of its
/// groups is in `allowed_groups` (compared exactly). With both lists empty nobody is
/// admitted: a tenant must say whom its provider's users are.
pub fn admits(identity: &Identity, allowed_domains: &[String], allowed_groups: &[String]) -> bool {
    let domain = identity.email.as_deref().and_then(|e| e.rsplit_once('@')).map(|(_, d)| d.to_lowercase());
    let by_domain = identity.email_verified
        && domain.is_some_and(|d| {
            !d.is_empty() && allowed_domains.iter().any(|a| a.trim().trim_start_matches('@').to_lowercase() == d)
        });
    by_domain || identity.groups.iter().any(|g| allowed_groups.contains(g))
}

/// The error for an authorization answer carrying `error=` instead of a code (the person
/// declined, or the provider could not sign them in). Only a plain error code is quoted.
pub fn authorization_error(error: &str) -> OidcError {
    let code = plain_code(error);
    match error {
        "server_error" | "temporarily_unavailable" => OidcError::Provider(format!(
            "The identity provider could not sign you in just now ({code}); try again later."
        )),
        _ => OidcError::Refused(format!("The identity provider did not sign you in ({code}).")),
    }
}

/// An OAuth error code as it may be shown: short and plain, else a placeholder (the text
/// comes from the provider).
fn plain_code(s: &str) -> &str {
    let plain = !s.is_empty()
        && s.len() <= 64
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if plain { s } else { "unrecognized error" }
}

/// The client scimd is at the provider (a tenant's settings).
#[derive(Clone)]
pub struct ClientCreds {
    pub id: String,
    /// Sent with HTTP Basic authentication (`client_secret_basic`) when set; without it
    /// scimd is a public client and PKCE alone binds the code.
    pub secret: Option<String>,
}

impl fmt::Debug for ClientCreds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCreds").field("id", &self.id).field("secret", &self.secret.as_ref().map(|_| "…")).finish()
    }
}

/// A sign-in begun: where to send the browser, and what to keep until it comes back.
#[derive(Clone)]
pub struct Start {
    /// The provider's authorization URL with every parameter.
    pub url: String,
    /// Comes back with the browser: finds the pending sign-in (and binds it to the browser
    /// that began it, when the caller keeps it in that browser's pre-session).
    pub state: String,
    /// Must come back inside the ID token.
    pub nonce: String,
    /// The PKCE code verifier, sent only with the code exchange.
    pub verifier: String,
}

impl fmt::Debug for Start {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Start").field("url", &self.url).finish_non_exhaustive()
    }
}

/// What [`Relying::finish`] needs from the pending sign-in and the browser's answer.
#[derive(Clone, Copy)]
pub struct Exchange<'a> {
    /// The same redirect URI as in [`Relying::start`].
    pub redirect_uri: &'a str,
    /// The `code` the browser brought back.
    pub code: &'a str,
    /// [`Start::verifier`].
    pub verifier: &'a str,
    /// [`Start::nonce`].
    pub nonce: &'a str,
}

/// The relying party: one HTTP client (no redirects followed, bounded in time) and the
/// providers discovered so far, per issuer. One per process.
pub struct Relying {
    http: reqwest::Client,
    allow_http_loopback: bool,
    providers: Mutex<HashMap<String, (Instant, Arc<Provider>)>>,
}

impl Relying {
    /// A relying party. `allow_http_loopback` lets issuers and endpoints be plain `http://`
    /// on 127.0.0.1, ::1 or localhost (tests); every other URL must be https regardless.
    pub fn new(allow_http_loopback: bool) -> Result<Relying, OidcError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("scimd/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|_| OidcError::Provider("scimd could not prepare its HTTP client.".into()))?;
        Ok(Relying { http, allow_http_loopback, providers: Mutex::new(HashMap::new()) })
    }

    /// The provider of `issuer` (exactly as configured): its discovery document and keys,
    /// from the cache when read less than [`DISCOVERY_TTL`] ago.
    pub async fn discover(&self, issuer: &str) -> Result<Arc<Provider>, OidcError> {
        if let Some((at, p)) = self.providers.lock().expect("oidc providers").get(issuer)
            && at.elapsed() < DISCOVERY_TTL
        {
            return Ok(p.clone());
        }
        let provider = Arc::new(Provider::discover(&self.http, issuer, self.allow_http_loopback).await?);
        let mut providers = self.providers.lock().expect("oidc providers");
        if providers.len() >= CACHE_MAX {
            providers.retain(|_, (at, _)| at.elapsed() < DISCOVERY_TTL);
            if providers.len() >= CACHE_MAX {
                providers.clear();
            }
        }
        providers.insert(issuer.to_string(), (Instant::now(), provider.clone()));
        Ok(provider)
    }

    /// Begins a sign-in: fresh random `state`, `nonce` and PKCE verifier (256 bits each),
    /// and the authorization URL asking for a code with [`SCOPE`] and an S256 challenge.
    pub fn start(&self, provider: &Provider, client_id: &str, redirect_uri: &str) -> Start {
        let (state, nonce, verifier) = (random(), random(), random());
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let mut url = provider.authorization_endpoint().clone();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", SCOPE)
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        Start { url: url.into(), state, nonce, verifier }
    }

    /// Ends a sign-in: exchanges the code at the token endpoint, then verifies the ID
    /// token (signature, issuer, audience, times against `now`, nonce) into an
    /// [`Identity`]. Whether that identity may enter is [`admits`]'s question.
    pub async fn finish(
        &self,
        provider: &Provider,
        client: &ClientCreds,
        exchange: &Exchange<'_>,
        now: DateTime<Utc>,
    ) -> Result<Identity, OidcError> {
        let raw = token::exchange(&self.http, provider, client, exchange).await?;
        let parsed = id_token::parse(&raw)?;
        let key = provider.key_for(&self.http, parsed.alg, parsed.kid.as_deref()).await?;
        id_token::verify_signature(&parsed, &key)?;
        let expect = id_token::Expect { issuer: provider.issuer(), client_id: &client.id, nonce: exchange.nonce };
        id_token::check_claims(&parsed.claims, &expect, now.timestamp())
    }
}

/// 256 random bits, base64url (43 characters: also a valid PKCE verifier).
fn random() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(email: Option<&str>, verified: bool, groups: &[&str]) -> Identity {
        Identity {
            subject: "u1".into(),
            email: email.map(Into::into),
            email_verified: verified,
            name: None,
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }
    }

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn admits_by_verified_domain_without_case() {
        let domains = list(&["Example.COM", "@other.org"]);
        assert!(admits(&person(Some("Ann@EXAMPLE.com"), true, &[]), &domains, &[]));
        assert!(admits(&person(Some("bo@other.org"), true, &[]), &domains, &[]));
        // Unverified emails, subdomains, look-alikes and missing emails do not count.
        assert!(!admits(&person(Some("ann@example.com"), false, &[]), &domains, &[]));
        assert!(!admits(&person(Some("ann@eu.example.com"), true, &[]), &domains, &[]));
        assert!(!admits(&person(Some("ann@example.com.evil"), true, &[]), &domains, &[]));
        assert!(!admits(&person(Some("example.com"), true, &[]), &domains, &[]));
        assert!(!admits(&person(None, true, &[]), &domains, &[]));
        // The last `@` splits: a quoted local part cannot smuggle a domain in.
        assert!(!admits(&person(Some("\"a@example.com\"@evil.org"), true, &[]), &domains, &[]));
    }

    #[test]
    fn admits_by_group_exactly() {
        let groups = list(&["portal-admins"]);
        assert!(admits(&person(None, false, &["staff", "portal-admins"]), &[], &groups));
        assert!(!admits(&person(None, false, &["Portal-Admins"]), &[], &groups));
        assert!(!admits(&person(Some("a@example.com"), true, &["staff"]), &[], &groups));
    }

    #[test]
    fn empty_rules_admit_nobody() {
        assert!(!admits(&person(Some("a@example.com"), true, &["g"]), &[], &[]));
        assert!(!admits(&person(Some("a@"), true, &[]), &list(&[""]), &[]));
    }

    #[test]
    fn authorization_errors_quote_only_plain_codes() {
        assert_eq!(
            authorization_error("access_denied"),
            OidcError::Refused("The identity provider did not sign you in (access_denied).".into())
        );
        assert!(matches!(authorization_error("temporarily_unavailable"), OidcError::Provider(_)));
        assert!(!authorization_error("<script>alert(1)</script>").message().contains("script"));
    }

    /// The portal's handlers run on a multi-threaded runtime and share one `Relying`.
    #[test]
    fn futures_are_send() {
        fn send<T: Send>(_: T) {}
        let rp = Relying::new(false).unwrap();
        let p = Provider::for_tests("https://idp.example.com", "https://idp.example.com/authorize");
        let client = ClientCreds { id: "portal".into(), secret: None };
        let exchange = Exchange { redirect_uri: "https://x/cb", code: "c", verifier: "v", nonce: "n" };
        send(rp.discover("https://idp.example.com"));
        send(rp.finish(&p, &client, &exchange, Utc::now()));
        fn shared<T: Send + Sync>() {}
        shared::<Relying>();
        shared::<Provider>();
    }

    #[test]
    fn start_sends_fresh_secrets_and_an_s256_challenge() {
        let p = Provider::for_tests("https://idp.example.com", "https://idp.example.com/authorize?tenant=a");
        let rp = Relying::new(false).unwrap();
        let s = rp.start(&p, "portal", "https://scimd.example.com/portal/sso/callback");
        let t = rp.start(&p, "portal", "https://scimd.example.com/portal/sso/callback");
        assert_ne!((&s.state, &s.nonce, &s.verifier), (&t.state, &t.nonce, &t.verifier));
        assert_eq!(s.verifier.len(), 43);
        let url = reqwest::Url::parse(&s.url).unwrap();
        let q: HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["tenant"], "a", "the endpoint's own parameters are kept");
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["scope"], SCOPE);
        assert_eq!(q["state"], s.state);
        assert_eq!(q["nonce"], s.nonce);
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["code_challenge"], URL_SAFE_NO_PAD.encode(Sha256::digest(s.verifier.as_bytes())));
        assert!(!s.url.contains(&s.verifier));
        assert!(!format!("{s:?}").contains(&s.verifier));
    }
}
