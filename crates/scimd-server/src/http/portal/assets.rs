//! The portal's static files (stylesheets, scripts, the vendored libraries' license texts;
//! `assets/portal/`), embedded in the binary: nothing is loaded from elsewhere and building
//! needs no JavaScript tooling. Each is served under a name carrying the start of its SHA-256
//! (`/portal/static/NAME.HASH8.EXT`), so a browser may keep it for a year: a new build
//! with a changed file links to a new name, and an old name is a 404.

use std::sync::LazyLock;

use axum::body::{Body, Bytes};
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// htmx 2.0.11 (BSD-0-Clause), vendored: `assets/portal/README.md`.
pub const HTMX_JS: &str = "htmx.min.js";
/// uPlot 1.6.32 (MIT), vendored: `assets/portal/README.md`.
pub const UPLOT_JS: &str = "uPlot.iife.min.js";
/// uPlot's stylesheet.
pub const UPLOT_CSS: &str = "uPlot.min.css";
/// The portal's own stylesheet.
pub const PORTAL_CSS: &str = "portal.css";
/// The portal's own script.
pub const PORTAL_JS: &str = "portal.js";
/// htmx's license text: the vendored libraries' licenses travel with the binary.
pub const HTMX_LICENSE: &str = "htmx.LICENSE.txt";
/// uPlot's license text.
pub const UPLOT_LICENSE: &str = "uPlot.LICENSE.txt";

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

/// Name, contents, content type.
const FILES: &[(&str, &[u8], &str)] = &[
    (HTMX_JS, include_bytes!("../../../assets/portal/htmx.min.js"), JS),
    (UPLOT_JS, include_bytes!("../../../assets/portal/uPlot.iife.min.js"), JS),
    (UPLOT_CSS, include_bytes!("../../../assets/portal/uPlot.min.css"), CSS),
    (PORTAL_CSS, include_bytes!("../../../assets/portal/portal.css"), CSS),
    (PORTAL_JS, include_bytes!("../../../assets/portal/portal.js"), JS),
    (HTMX_LICENSE, include_bytes!("../../../assets/portal/htmx.LICENSE"), TEXT),
    (UPLOT_LICENSE, include_bytes!("../../../assets/portal/uPlot.LICENSE"), TEXT),
];

/// Where the hashed names are served.
const PREFIX: &str = "/portal/static/";

/// The year a browser may keep a file: its name changes with its contents.
const CACHE_FOREVER: &str = "public, max-age=31536000, immutable";

struct Asset {
    name: &'static str,
    bytes: &'static [u8],
    content_type: &'static str,
    /// `NAME.HASH8.EXT`, the last path segment of `url`.
    file: String,
    url: String,
    /// The whole SHA-256 in hex, quoted.
    etag: HeaderValue,
}

/// Hashed at first use (about a hundred kilobytes, once).
static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    FILES
        .iter()
        .map(|&(name, bytes, content_type)| {
            let hash = hex::encode(Sha256::digest(bytes));
            let file = match name.rsplit_once('.') {
                Some((stem, ext)) => format!("{stem}.{}.{ext}", &hash[..8]),
                None => format!("{name}.{}", &hash[..8]),
            };
            let url = format!("{PREFIX}{file}");
            let etag = HeaderValue::from_str(&format!("\"{hash}\"")).expect("hex is a valid header value");
            Asset { name, bytes, content_type, file, url, etag }
        })
        .collect()
});

/// The URL of the embedded file `name` (one of this module's constants), carrying its
/// hash. Panics on an unknown name: names are constants, and a test checks each one.
pub fn url(name: &str) -> &'static str {
    let assets: &'static [Asset] = &ASSETS;
    match assets.iter().find(|a| a.name == name) {
        Some(a) => &a.url,
        None => panic!("no embedded portal asset is named {name:?}"),
    }
}

/// `GET /portal/static/{file}`: the file under its current hashed name, cacheable for a
/// year; 304 when the browser already holds it; 404 for any other name (an earlier
/// build's hash too).
pub async fn serve(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.file == file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut res = if matches(&headers, &asset.etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut res = Response::new(Body::from(Bytes::from_static(asset.bytes)));
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
        res
    };
    let h = res.headers_mut();
    h.insert(header::ETAG, asset.etag.clone());
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(CACHE_FOREVER));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    res
}

/// Whether `If-None-Match` names `etag` (or is `*`); the weak comparison RFC 9110 asks for.
fn matches(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let ours = etag.as_bytes();
    headers.get_all(header::IF_NONE_MATCH).iter().filter_map(|v| v.to_str().ok()).any(|v| {
        v.split(',').map(str::trim).any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag).as_bytes() == ours)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: [&str; 7] = [HTMX_JS, UPLOT_JS, UPLOT_CSS, PORTAL_CSS, PORTAL_JS, HTMX_LICENSE, UPLOT_LICENSE];

    async fn get(file: &str, if_none_match: Option<&str>) -> Response {
        let mut headers = HeaderMap::new();
        if let Some(tag) = if_none_match {
            headers.insert(header::IF_NONE_MATCH, HeaderValue::from_str(tag).unwrap());
        }
        serve(Path(file.to_owned()), headers).await
    }

    fn file_of(name: &str) -> &'static str {
        url(name).strip_prefix(PREFIX).unwrap()
    }

    fn header(res: &Response, name: header::HeaderName) -> &str {
        res.headers().get(&name).unwrap_or_else(|| panic!("no {name}")).to_str().unwrap()
    }

    #[test]
    fn every_asset_has_a_hashed_url() {
        assert_eq!(NAMES.len(), FILES.len(), "a constant per embedded file");
        for name in NAMES {
            let url = url(name);
            let hash = hex::encode(Sha256::digest(FILES.iter().find(|f| f.0 == name).unwrap().1));
            let (stem, ext) = name.rsplit_once('.').unwrap();
            assert_eq!(url, format!("/portal/static/{stem}.{}.{ext}", &hash[..8]));
        }
        assert_eq!(url(PORTAL_CSS).rsplit('.').next(), Some("css"));
    }

    /// The vendored files are byte for byte those the README names (its SHA-256 column), so
    /// an edit to one, or an update that forgets the README, fails here.
    #[test]
    fn the_vendored_files_are_those_the_readme_names() {
        let readme = include_str!("../../../assets/portal/README.md");
        let vendored: [(&str, &[u8]); 5] = [
            ("htmx.min.js", include_bytes!("../../../assets/portal/htmx.min.js")),
            ("htmx.LICENSE", include_bytes!("../../../assets/portal/htmx.LICENSE")),
            ("uPlot.iife.min.js", include_bytes!("../../../assets/portal/uPlot.iife.min.js")),
            ("uPlot.min.css", include_bytes!("../../../assets/portal/uPlot.min.css")),
            ("uPlot.LICENSE", include_bytes!("../../../assets/portal/uPlot.LICENSE")),
        ];
        for (file, bytes) in vendored {
            let row = format!("| `{file}` |");
            let hash = format!("`{}`", hex::encode(Sha256::digest(bytes)));
            let named = readme.lines().any(|l| l.starts_with(&row) && l.contains(&hash));
            assert!(named, "{file}: the README has no row naming its SHA-256 {hash}");
        }
    }

    /// What the portal's policy (`script-src 'self'; style-src 'self'`) would refuse, or
    /// what would need `unsafe-eval`, never enters our own script.
    #[test]
    fn our_script_needs_nothing_the_policy_refuses() {
        let js = std::str::from_utf8(FILES.iter().find(|f| f.0 == PORTAL_JS).unwrap().1).unwrap();
        for refused in
            ["eval(", "new Function", "innerHTML", "setAttribute(\"style\"", ".style.", "cssText", "javascript:"]
        {
            assert!(!js.contains(refused), "portal.js contains {refused:?}");
        }
    }

    #[test]
    #[should_panic(expected = "no embedded portal asset")]
    fn an_unknown_name_panics() {
        url("nope.js");
    }

    #[tokio::test]
    async fn a_hashed_url_serves_the_file_with_caching_headers() {
        for (name, bytes, content_type) in FILES {
            let res = get(file_of(name), None).await;
            assert_eq!(res.status(), StatusCode::OK, "{name}");
            assert_eq!(header(&res, header::CONTENT_TYPE), *content_type);
            assert_eq!(header(&res, header::CACHE_CONTROL), "public, max-age=31536000, immutable");
            assert_eq!(header(&res, header::X_CONTENT_TYPE_OPTIONS), "nosniff");
            let etag = header(&res, header::ETAG).to_owned();
            assert_eq!(etag, format!("\"{}\"", hex::encode(Sha256::digest(bytes))));
            let body = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
            assert_eq!(&body[..], *bytes, "{name}");
        }
        let js = get(file_of(PORTAL_JS), None).await;
        assert_eq!(header(&js, header::CONTENT_TYPE), "text/javascript; charset=utf-8");
        let css = get(file_of(PORTAL_CSS), None).await;
        assert_eq!(header(&css, header::CONTENT_TYPE), "text/css; charset=utf-8");
    }

    #[tokio::test]
    async fn another_name_or_an_old_hash_is_not_found() {
        let current = file_of(PORTAL_JS);
        let old = current.replace(&current["portal.".len().."portal.".len() + 8], "00000000");
        assert_ne!(old, current);
        for file in [old.as_str(), "portal.js", "portal", "", "../Cargo.toml", "htmx.min.js.gz"] {
            assert_eq!(get(file, None).await.status(), StatusCode::NOT_FOUND, "{file:?}");
        }
    }

    #[tokio::test]
    async fn if_none_match_with_the_etag_is_not_modified() {
        let file = file_of(HTMX_JS);
        let etag = header(&get(file, None).await, header::ETAG).to_owned();
        for tag in [etag.clone(), format!("W/{etag}"), format!("\"other\", {etag}"), "*".to_owned()] {
            let res = get(file, Some(&tag)).await;
            assert_eq!(res.status(), StatusCode::NOT_MODIFIED, "{tag}");
            assert_eq!(header(&res, header::ETAG), etag);
            assert_eq!(header(&res, header::CACHE_CONTROL), "public, max-age=31536000, immutable");
            assert!(res.headers().get(header::CONTENT_TYPE).is_none());
            assert!(axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap().is_empty());
        }
        let stale = get(file, Some("\"0000\"")).await;
        assert_eq!(stale.status(), StatusCode::OK);
    }
}
