//! Which query parameters each SCIM endpoint accepts. A parameter an endpoint does not
//! know is refused with a 400 naming it, never ignored: a lookup such as
//! `GET /Users?userName=x` answered with every user would look like an answer. Lists read
//! their own parameters (`ListParams::from_query`, where a profile may let attribute names
//! act as equality filters); every other endpoint is checked here, from its method and path.
//! Also the decoding of a query string into its pairs.

use axum::http::Method;
use scimd_core::list::{LIST_QUERY, RESOURCE_QUERY};

/// The parameters the endpoint at `path` (under the SCIM base, as routed) accepts for
/// `method`; `None` for a list (checked as it is read) or a path that is no endpoint
/// (answered 404 by the router).
pub(super) fn accepted(method: &Method, path: &str) -> Option<&'static [&'static str]> {
    let path = path.strip_prefix("/scim/v2").unwrap_or(path);
    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let read = method == Method::GET || method == Method::HEAD;
    match segs.as_slice() {
        ["Users" | "Groups"] if read => None,
        ["Users" | "Groups"] => Some(RESOURCE_QUERY),
        ["Users" | "Groups", ".search"] | [".search"] | ["Bulk"] | ["openapi.json"] => Some(&[]),
        ["Users" | "Groups", _] | ["Me"] if method == Method::DELETE => Some(&[]),
        ["Users" | "Groups", _] | ["Me"] => Some(RESOURCE_QUERY),
        // Discovery: the standard names are tolerated (generic clients page every
        // endpoint alike), anything else is refused.
        ["ServiceProviderConfig" | "Schemas" | "ResourceTypes", ..] => Some(LIST_QUERY),
        _ => None,
    }
}

/// The pairs of a query string, decoded.
pub(super) fn query_pairs(q: &Option<String>) -> Vec<(String, String)> {
    q.as_deref()
        .map(|q| form_urlencoded::parse(q.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
        .unwrap_or_default()
}

pub(super) fn query_param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_endpoint_names_what_it_accepts() {
        assert_eq!(accepted(&Method::GET, "/scim/v2/Users"), None);
        assert_eq!(accepted(&Method::GET, "/Groups"), None);
        assert_eq!(accepted(&Method::POST, "/Users"), Some(RESOURCE_QUERY));
        assert_eq!(accepted(&Method::GET, "/Groups/42"), Some(RESOURCE_QUERY));
        assert_eq!(accepted(&Method::PATCH, "/Me"), Some(RESOURCE_QUERY));
        assert_eq!(accepted(&Method::DELETE, "/Users/42"), Some(&[][..]));
        assert_eq!(accepted(&Method::POST, "/Users/.search"), Some(&[][..]));
        assert_eq!(accepted(&Method::POST, "/Bulk"), Some(&[][..]));
        assert_eq!(accepted(&Method::GET, "/Schemas/urn:x"), Some(LIST_QUERY));
        assert_eq!(accepted(&Method::GET, "/Nothing"), None);
    }
}
