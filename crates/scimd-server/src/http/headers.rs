//! What every response says about how a browser or a cache may handle it:
//! `X-Content-Type-Options: nosniff` on all; `Cache-Control: no-store` on every response
//! whose handler did not choose (resources, lists, `/Me`, tenants' settings, credentials:
//! nothing a shared cache should keep); and on the API documentation (`/docs`), a
//! Content-Security-Policy that lets the Swagger UI run from its own files and nothing
//! else, and that no other site may frame.

use axum::http::{HeaderValue, header};
use axum::response::Response;

/// The API documentation's policy: the Swagger UI's scripts, styles and images are its own
/// files (`index.html` has no inline script); its styles set inline `style` attributes and
/// its stylesheet embeds `data:` images; it fetches `/openapi.json`, and "Try it out" calls
/// the API, both on this origin. Nothing may frame it.
pub const DOCS_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                               img-src 'self' data:; font-src 'self' data:; connect-src 'self'; \
                               base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Whether a path is the API documentation's (the Swagger UI and its files).
pub fn is_docs(path: &str) -> bool {
    path == "/docs" || path.starts_with("/docs/")
}

/// Adds the headers every response carries (see the module's documentation); `docs`: the
/// response is the API documentation's.
pub fn secure(res: &mut Response, docs: bool) {
    let h = res.headers_mut();
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if docs {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(DOCS_POLICY));
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
}

/// [`secure`] as a layer, for a router without the request log (the metrics address).
pub async fn secure_layer(res: Response) -> Response {
    let mut res = res;
    secure(&mut res, false);
    res
}
