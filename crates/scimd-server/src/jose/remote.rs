//! What scimd fetches from others over HTTP: which URLs it accepts (https; plain http
//! only on a loopback host when allowed, for tests), JSON documents read up to
//! [`BODY_MAX`], and key sets ([`RemoteKeys`]): cached, read again when older than the
//! caller's age limit, and fetched once more for a `kid` they do not hold at most every
//! [`KEY_REFETCH_INTERVAL`].

use std::net::IpAddr;
use std::time::{Duration, Instant};

use reqwest::Url;
use reqwest::header::{ACCEPT, HeaderValue};
use serde_json::Value;

use super::KEY_REFETCH_INTERVAL;
use super::jwk::{self, Alg, Key};

/// The most of an answer read (discovery documents and key sets are a few KiB).
pub(crate) const BODY_MAX: usize = 256 * 1024;
/// How long establishing a connection (and TLS) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one whole exchange may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Why something could not be fetched: a sentence without the URL, `what` naming it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FetchError(pub(crate) String);

/// An HTTP client for fetching from others: no redirects followed, bounded in time.
pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .build()
        .unwrap_or_default()
}

/// `raw` as a URL scimd may talk to: https, or http on a loopback host when allowed; no
/// credentials and no fragment. `what` names it in the message (the error's text).
pub(crate) fn acceptable_url(raw: &str, allow_http_loopback: bool, what: &str) -> Result<Url, String> {
    let url = Url::parse(raw).map_err(|_| format!("The {what} is not a valid URL."))?;
    if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
        return Err(format!("The {what} must not carry credentials or a fragment (`#…`)."));
    }
    // `host_str` writes an IPv6 address in brackets; IPv4 hosts are already normalized.
    let loopback = url.host_str().is_some_and(|h| {
        h.eq_ignore_ascii_case("localhost")
            || h.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    });
    match url.scheme() {
        "https" if url.host().is_some() => Ok(url),
        "http" if loopback && allow_http_loopback => Ok(url),
        _ => Err(format!("The {what} must be an https URL.")),
    }
}

/// GETs a JSON object; `what` names it in the messages ("identity provider's key set").
pub(crate) async fn get_json(http: &reqwest::Client, url: &Url, what: &str) -> Result<Value, FetchError> {
    let response = http
        .get(url.clone())
        .header(ACCEPT, HeaderValue::from_static("application/json"))
        .send()
        .await
        .map_err(|e| unreachable(&e, what))?;
    let status = response.status();
    if !status.is_success() {
        return Err(FetchError(format!("The {what} could not be read (HTTP {}).", status.as_u16())));
    }
    read_json(response, what).await
}

/// The answer's body as a JSON object, read up to [`BODY_MAX`].
pub(crate) async fn read_json(mut response: reqwest::Response, what: &str) -> Result<Value, FetchError> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) if body.len() + chunk.len() <= BODY_MAX => body.extend_from_slice(&chunk),
            Ok(Some(_)) => return Err(FetchError(format!("The {what} is too large."))),
            Ok(None) => break,
            Err(e) => return Err(unreachable(&e, what)),
        }
    }
    match serde_json::from_slice::<Value>(&body) {
        Ok(v) if v.is_object() => Ok(v),
        _ => Err(FetchError(format!("The {what} is not a JSON object."))),
    }
}

/// The error for a party that did not answer (without the URL: messages are shown).
pub(crate) fn unreachable(e: &reqwest::Error, what: &str) -> FetchError {
    let why = if e.is_timeout() {
        "it did not answer in time"
    } else if e.is_connect() {
        "no connection could be made"
    } else {
        "the exchange failed"
    };
    FetchError(format!("The {what} could not be reached: {why}."))
}

/// The usable keys of the key set at `uri`; none usable is an error.
pub(crate) async fn fetch_keys(http: &reqwest::Client, uri: &Url, what: &str) -> Result<Vec<Key>, FetchError> {
    let doc = get_json(http, uri, what).await?;
    let keys = jwk::parse_set(&doc);
    if keys.is_empty() {
        return Err(FetchError(format!("The {what} holds no RS256 or ES256 signing key.")));
    }
    Ok(keys)
}

/// A key set published at a URL, as last fetched.
#[derive(Debug)]
pub(crate) struct RemoteKeys {
    uri: Url,
    /// Names the set in messages.
    what: String,
    state: tokio::sync::Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    keys: Vec<Key>,
    /// When the keys were fetched (`None`: never).
    fetched: Option<Instant>,
    /// When the keys were last fetched for an unknown `kid`.
    refetched: Option<Instant>,
}

impl RemoteKeys {
    /// A set not fetched yet (fetched at its first use).
    pub(crate) fn new(uri: Url, what: &str) -> RemoteKeys {
        RemoteKeys { uri, what: what.to_string(), state: tokio::sync::Mutex::new(State::default()) }
    }

    /// A set just fetched with these keys.
    pub(crate) fn fetched(uri: Url, what: &str, keys: Vec<Key>) -> RemoteKeys {
        let state = State { keys, fetched: Some(Instant::now()), refetched: None };
        RemoteKeys { uri, what: what.to_string(), state: tokio::sync::Mutex::new(state) }
    }

    /// The key that verifies a token signed with `alg` by `kid` (or by the only key for
    /// `alg` when the token names none); `None` if the set has none. The set is fetched
    /// when never fetched or older than `max_age` (a failed fetch then keeps the keys
    /// held, if any: the publisher may be down a moment); a `kid` not held makes one more
    /// fetch at most every [`KEY_REFETCH_INTERVAL`] (publishers rotate keys; a token
    /// naming a key that does not exist must not make scimd fetch on every attempt).
    pub(crate) async fn key_for(
        &self,
        http: &reqwest::Client,
        alg: Alg,
        kid: Option<&str>,
        max_age: Duration,
    ) -> Result<Option<Key>, FetchError> {
        let mut set = self.state.lock().await;
        let mut fresh = false;
        if set.fetched.is_none_or(|t| t.elapsed() >= max_age) {
            match fetch_keys(http, &self.uri, &self.what).await {
                Ok(keys) => {
                    set.keys = keys;
                    set.fetched = Some(Instant::now());
                    fresh = true;
                }
                Err(e) if set.keys.is_empty() => return Err(e),
                Err(e) => tracing::warn!(error = %e.0, "refreshing a key set failed; the keys held stay in use"),
            }
        }
        if let Some(k) = jwk::find(&set.keys, alg, kid) {
            return Ok(Some(k.clone()));
        }
        if !fresh && set.refetched.is_none_or(|t| t.elapsed() >= KEY_REFETCH_INTERVAL) {
            set.refetched = Some(Instant::now());
            set.keys = fetch_keys(http, &self.uri, &self.what).await?;
            set.fetched = Some(Instant::now());
            return Ok(jwk::find(&set.keys, alg, kid).cloned());
        }
        Ok(None)
    }
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
