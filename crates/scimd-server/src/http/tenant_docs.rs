//! A tenant's own API description: `<base>/openapi.json` (the tenant's SCIM operations at
//! the base path the request arrived at, as its profile allows them, with its schemas and
//! extensions; built by [`super::openapi::tenant_document`]) and `<base>/docs` (Swagger UI
//! on it). Both are reached through `Mounts` like the rest of the tenant's API.
//!
//! The description needs the tenant's bearer token, the page does not: a base path does
//! not name a tenant (every default tenant is at `/scim/v2`, several may share a mount),
//! so only the token says whose API to describe, and answering without one would tell
//! anyone which profiles exist behind a path. The page holds nothing of any tenant: it asks
//! for the token and sends it with the description's request only (kept in the page's
//! memory, never stored).

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{AppState, Mounted, ScimRequest, openapi};

/// The base path the request arrived at.
fn base(mounted: &Option<Extension<Mounted>>) -> &str {
    mounted.as_ref().map_or(scimd_core::profile::DEFAULT_BASE_PATH, |Extension(m)| m.base.as_str())
}

/// `GET <base>/openapi.json`: the tenant's API as the tenant sees it.
pub(super) async fn document(
    State(state): State<AppState>,
    r: ScimRequest,
    mounted: Option<Extension<Mounted>>,
) -> Response {
    let profile = &r.ctx.tenancy.profile;
    let token_path = profile.token_path.as_deref().unwrap_or(&state.oauth.config.token_path);
    let bulk = state.service.bulk_max_payload().is_some();
    let doc = openapi::tenant_document(profile, &r.ctx.tenancy.registry, base(&mounted), token_path, bulk);
    let mut res = (StatusCode::OK, serde_json::to_vec(&doc).unwrap_or_default()).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

/// The documentation's headers: the policy of the server's own Swagger UI (its scripts
/// are files, none inline), and no framing.
fn docs_response(content_type: &'static str, body: String) -> Response {
    let mut res = (StatusCode::OK, body).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(super::headers::DOCS_POLICY));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}

/// `GET <base>/docs`: Swagger UI (the server's own assets, under `/docs/`) on the tenant's
/// description, once the visitor gives the tenant's token.
pub(super) async fn page(mounted: Option<Extension<Mounted>>) -> Response {
    // A base path is plain segments (letters, digits, - . _ ~), checked when the profile
    // was set: nothing in it needs escaping in HTML.
    let base = base(&mounted);
    docs_response(
        "text/html; charset=utf-8",
        format!(
            r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>SCIM API at {base}</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<form id="auth" style="font-family: sans-serif; margin: 1em;">
<label>Your tenant's bearer token (an access token or a long-lived token):
<input id="token" type="password" autocomplete="off" size="60"></label>
<button type="submit">Show the API</button>
</form>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="{base}/docs/init.js" data-spec="{base}/openapi.json"></script>
</body>
</html>
"#
        ),
    )
}

/// The page's script: on the form's submit, Swagger UI on the description named by the
/// script's `data-spec`, every request of the UI (the description's and "Try it out")
/// carrying the token.
const INIT: &str = r##"(function () {
  var spec = document.currentScript.getAttribute("data-spec");
  document.getElementById("auth").addEventListener("submit", function (e) {
    e.preventDefault();
    var token = document.getElementById("token").value.trim();
    window.ui = SwaggerUIBundle({
      url: spec,
      dom_id: "#swagger-ui",
      requestInterceptor: function (req) {
        if (token) { req.headers["Authorization"] = "Bearer " + token; }
        return req;
      }
    });
  });
})();
"##;

/// `GET <base>/docs/init.js`.
pub(super) async fn script() -> Response {
    docs_response("text/javascript; charset=utf-8", INIT.to_string())
}
