//! Where the server is, as its clients reach it — the origin of `meta.location`,
//! `Location`, the OAuth issuer and the metadata's endpoints. The configured public URL
//! when there is one: then nothing is taken from the request. Otherwise the request's
//! `Host` (only when it is a plain host and port, never reflected as sent), with
//! `X-Forwarded-Proto` only when the operator says a proxy in front sets it (otherwise
//! any client could choose the scheme). What is derived from a request must not be kept
//! by a shared cache: [`Origin::derived`] tells the handlers.

use axum::http::{HeaderMap, header};

use super::HttpConfig;

/// The server's public root (`https://scim.example.com`, or a prefix a proxy mounts it
/// under), without a trailing `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub root: String,
    /// Taken from the request's headers, not from configuration.
    pub derived: bool,
}

/// Whether a `Host` value is a host and an optional port, and nothing else.
fn plain_host(h: &str) -> bool {
    !h.is_empty() && h.len() <= 255 && h.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b))
}

/// The public root for a request: `public_url` (less its `/scim/v2`), else derived from
/// `Host` and, when trusted, `X-Forwarded-Proto`.
pub fn origin(cfg: &HttpConfig, headers: &HeaderMap) -> Origin {
    if let Some(u) = &cfg.public_url {
        return Origin { root: scimd_core::profile::public_root(u).to_string(), derived: false };
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).filter(|h| plain_host(h)).unwrap_or("localhost");
    let forwarded = cfg
        .trust_forwarded_headers
        .then(|| headers.get("x-forwarded-proto").and_then(|h| h.to_str().ok()))
        .flatten()
        // A proxy's list (`https, http`): the first is the client's.
        .and_then(|p| p.split(',').next())
        .map(|p| p.trim().to_ascii_lowercase())
        .filter(|p| p == "http" || p == "https");
    let proto = forwarded.as_deref().unwrap_or("http");
    Origin { root: format!("{proto}://{host}"), derived: true }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        h
    }

    #[test]
    fn configured_public_url_wins_over_every_header() {
        let cfg = HttpConfig {
            public_url: Some("https://scim.example.com/scim/v2/".into()),
            trust_forwarded_headers: true,
            ..HttpConfig::default()
        };
        let o = origin(&cfg, &headers(&[("host", "evil.example"), ("x-forwarded-proto", "http")]));
        assert_eq!(o, Origin { root: "https://scim.example.com".into(), derived: false });
    }

    #[test]
    fn forwarded_proto_only_when_trusted_and_hosts_only_when_plain() {
        let h = headers(&[("host", "scim.internal:8080"), ("x-forwarded-proto", "HTTPS, http")]);
        assert_eq!(origin(&HttpConfig::default(), &h).root, "http://scim.internal:8080");
        let trusting = HttpConfig { trust_forwarded_headers: true, ..HttpConfig::default() };
        assert_eq!(origin(&trusting, &h), Origin { root: "https://scim.internal:8080".into(), derived: true });
        let odd = headers(&[("host", "evil.example/x?y="), ("x-forwarded-proto", "javascript")]);
        assert_eq!(origin(&trusting, &odd).root, "http://localhost");
    }
}
